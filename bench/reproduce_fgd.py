#!/usr/bin/env python3
"""Reproduce the FGD study's table (USENIX ATC'23, Fig. 9 / §6): median over seeds of the
unallocated GPU % at 100% arrived demand, 7 openb traces x 6 policies, and plot the default
trace's unallocated % vs arrived %.

    .venv/bin/python bench/reproduce_fgd.py [--data ../shared/data/openb] [--seeds 42-51]
        [--traces default,gpushare40,...] [--table docs/reproduction_table.md]
        [--plot docs/img/fgd_default_unallocated.png]

Prints a markdown table (ours / study / difference) and writes it to --table when given.
"""
import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

import gpushare.sim as sim

# The study's medians over seeds 42..51 of its per-seed results (hkust-adsl/kubernetes-scheduler-simulator,
# experiments/analysis/expected_results/analysis_allo_discrete.csv: 100 minus the allocation at 100%),
# kept to the half-hundredth a median of two 2-decimal values can end in.
STUDY = {
    "default": [13.75, 9.445, 8.42, 8.195, 7.09, 4.77],
    "gpushare40": [15.04, 10.665, 10.18, 10.195, 8.53, 6.045],
    "gpushare80": [19.355, 15.89, 15.455, 15.28, 13.265, 10.91],
    "multigpu30": [13.43, 6.985, 5.455, 5.23, 5.47, 3.61],
    "multigpu50": [18.61, 5.245, 4.355, 3.93, 4.425, 2.905],
    "cpu100": [12.56, 8.22, 7.46, 7.445, 6.72, 4.79],
    "cpu250": [20.06, 16.22, 12.48, 11.92, 8.705, 6.80],
}


def fmt(v):
    """A median to 3 decimals, or 2 when the third is 0 (medians of 2-decimal values)."""
    text = f"{v:.3f}"
    return text[:-1] if text.endswith("0") else text


def seeds_arg(text):
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data", "openb"))
    ap.add_argument("--seeds", type=seeds_arg, default=list(range(42, 52)))
    ap.add_argument("--traces", default=",".join(STUDY))
    ap.add_argument("--table", default="")
    ap.add_argument("--plot", default="")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    nodes = sim.load_openb(os.path.join(args.data, "openb_node_list_gpu_node.csv"),
                           os.path.join(args.data, "openb_pod_list_default.csv"))[0]
    lines = ["| trace | " + " | ".join(sim.POLICIES) + " |", "|---|" + "---:|" * len(sim.POLICIES)]
    worst = 0.0
    t0 = time.perf_counter()
    default_frames = []
    for trace in args.traces.split(","):
        pods = sim.load_openb(os.path.join(args.data, "openb_node_list_gpu_node.csv"),
                              os.path.join(args.data, f"openb_pod_list_{trace}.csv"))[1]
        with ThreadPoolExecutor(max_workers=args.jobs) as ex:  # replays release the GIL
            frames = list(ex.map(lambda p: sim.replay(nodes, pods, policy=p, seeds=args.seeds), sim.POLICIES))
        if trace == "default":
            default_frames = frames
        cells = []
        for i, (pol, df) in enumerate(zip(sim.POLICIES, frames)):
            ours = df[df.arrived_pct == 100].unallocated_pct.median()
            want = STUDY[trace][i]
            worst = max(worst, abs(ours - want))
            cells.append(f"{fmt(ours)} / {fmt(want)} ({round(ours - want, 3) + 0.0:+.3f})")
        lines.append(f"| {trace} | " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    secs = time.perf_counter() - t0
    table = "\n".join(lines)
    footer = (f"\nCells: ours / study (difference), unallocated GPU % at 100% arrived demand, median over seeds "
              f"{args.seeds[0]}..{args.seeds[-1]}. Largest |difference|: {worst:.2f} points. "
              f"{len(args.traces.split(',')) * len(sim.POLICIES) * len(args.seeds)} replays in {secs:.1f} s.\n")
    print(table + "\n" + footer)
    if args.table:
        with open(args.table, "w") as f:
            f.write(table + "\n" + footer)
    if args.plot and default_frames:
        os.makedirs(os.path.dirname(os.path.abspath(args.plot)), exist_ok=True)
        sim.plot(pd.concat(default_frames), args.plot,
                 title=f"openb default, 1213 nodes, median over {len(args.seeds)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())

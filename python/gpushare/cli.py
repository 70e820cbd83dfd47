"""The ``gpushare`` command line.

Subcommands
-----------
topo FILE [--k K --free ..]
    Show a GPU topology (``nvidia-smi topo -m`` text or JSON) and the best set of K GPUs.
inspect --url URL | --file FILE [--json] [--html OUT]
    Print an extender's allocation state per node and GPU, like ``kubectl inspect gpushare``.
    ``--html OUT`` writes the cluster view page (what the extender serves at ``/``) with the
    document embedded instead: one self-contained file, e.g. of a replay's end state
    (``replay --snapshot``).
conform FILE...
    Run conformance suite files (format: ``shared/data/conformance/README.md``).  Prints one
    line per failed case (id, expected, got) and closes with ``N passed, M failed``.  Exit
    status 1 if any case failed or a file's suite is not supported by this build, 2 if a file
    cannot be read.
replay --nodes CSV --pods CSV --policy NAME[,NAME..] [--seeds 42-51] [--inflation 1.3] [--at 100] [--plot PNG]
       [--snapshot JSON]
    Replay an openb trace with the FGD study's protocol and print the medians over seeds of
    allocated, unallocated and fragmented GPU % at the given arrived-demand step (default 100),
    and, when FGD is among the policies, each one's unallocated GPUs relative to FGD's.
    ``--policy all`` runs the six policies of the study; ``all,best`` adds the project's own.
    ``--snapshot F.json`` writes the end state of the first seed as an inspect document (with
    several policies the name must contain ``{policy}``: one file each). Exit status 2 on
    unreadable input.
compare --nodes CSV --pods CSV [--policies A,B|all] [--seeds 42-44] [--size N] [--scale K] [--workers N]
        [--scheduler ADDRESS|local] [--at 100] [--csv F] [--json F] [--plot PNG]
    Replay one trace under several policies x seeds (``gpushare.sweep``) and print, per policy,
    the medians and the min..max over seeds of unallocated GPU % at the given step.  ``--scale K``
    repeats the node list K times; the replays run on N threads (``--workers``) or on a dask
    cluster (``--scheduler tcp://HOST:8786``, or ``local`` for a LocalCluster of N workers).
size (--pods CSV | --mix JSON) --node-type NAME:MODEL:GPUS:CPU_MILLI:MEMORY_MIB:PRICE ... [--policy FGD]
     [--max-unplaced 1] [--max-stranded PCT] [--seeds 42-44] [--csv F] [--json F] [--plot PNG]
    Find the cheapest cluster of one node type meeting the target (``gpushare.size_cluster``);
    prints every configuration tried and the answer. Exit status 1 if no type meets the target.

variants list | make --pods CSV --nodes CSV --set DIM=LEVEL ... --out-pods CSV --out-nodes CSV [--seed S]
         | grid --pods CSV --nodes CSV --out DIR [--seed S] [--small]
         | compare --dir DIR [--policies FGD,best] [--seeds 42-51]
    Workload variants of an openb trace (``gpushare.sim.variants``, docs/VARIANTS.md): list the
    dimensions, write one variant, write the standard grid (or the small CI grid) with a
    manifest, or replay two policies on every variant of a grid directory and print, per
    variant, the medians at 100% arrived and the worst gap over 80..100%. Exit status 2 on
    bad input (unknown dimension, level out of range, unreadable file).

Long runs draw a progress bar on stderr when it is a terminal (``--quiet`` turns it off).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import List, Optional, Sequence

from . import _core


def _cmd_conform(args: argparse.Namespace) -> int:
    passed = failed = 0
    status = 0
    for path in args.files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            report = _core.run_conformance(text, os.path.dirname(os.path.abspath(path)))
        except (OSError, _core.GpushareError) as e:
            print(f"{path}: error: {e}", file=sys.stderr)
            return 2
        if not report.supported:
            known = ", ".join(_core.supported_suites()) or "none yet"
            print(f"{path}: suite '{report.suite}' is not supported by this build (supported: {known})")
            status = 1
            continue
        for fail in report.failures:
            print(f"FAIL {report.suite} {fail.id}: expected {fail.expected} got {fail.got}")
        if args.verbose:
            print(f"{path}: {report.suite}: {report.passed} passed, {report.failed} failed")
        passed += report.passed
        failed += report.failed
    if failed:
        status = 1
    print(f"{passed} passed, {failed} failed")
    return status


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect import fetch_inspect, format_inspect

    try:
        if args.url:
            doc = fetch_inspect(args.url)
        else:
            with open(args.file, encoding="utf-8") as f:
                doc = json.load(f)
        if args.html:
            from .inspect import write_html

            write_html(doc, args.html)
            print(f"cluster view written to {args.html} ({len(doc['nodes'])} nodes)")
            return 0
        text = json.dumps(doc, indent=2) if args.json else format_inspect(doc)
    except (OSError, ValueError, _core.GpushareError) as e:
        print(f"gpushare inspect: {args.url or args.file}: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0


def _parse_gpu_list(text: str) -> List[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected GPU indices like 0,1,5, got '{text}'") from None


def _cmd_topo(args: argparse.Namespace) -> int:
    try:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
        smi = args.smi or not text.lstrip().startswith("{")
        topo = _core.Topology.from_nvidia_smi(text) if smi else _core.Topology.from_json(text)
    except (OSError, _core.GpushareError) as e:
        print(f"gpushare topo: {args.file}: {e}", file=sys.stderr)
        return 2
    n = topo.size
    out = {"gpus": n, "nvswitch": topo.nvswitch, "pcie": topo.pcie_labels, "nvlink": topo.nvlink.tolist(),
           "numa": topo.numa.tolist()}
    if args.k is not None:
        free = args.free if args.free is not None else list(range(n))
        try:
            best = _core.best_gpu_set(topo, free, args.k, args.required, leave_best_for_later=args.leave_best)
        except _core.GpushareError as e:
            print(f"gpushare topo: {e}", file=sys.stderr)
            return 2
        out["best_set"] = best
        out["best_set_score"] = _core.topology_set_score(topo, best)
    if args.json:
        print(json.dumps(out))
        return 0
    width = max(4, max((len(x) for row in topo.pcie_labels for x in row), default=1) + 4)
    header = "      " + "".join(f"{'GPU' + str(j):>{width}}" for j in range(n)) + "  NUMA"
    print(header)
    for i in range(n):
        cells = []
        for j in range(n):
            if i == j:
                cells.append(f"{'X':>{width}}")
            else:
                nv = int(topo.nvlink[i][j])
                label = f"NV{nv}" if nv else topo.pcie_labels[i][j]
                cells.append(f"{label:>{width}}")
        print(f"GPU{i:<3}" + "".join(cells) + f"  {int(topo.numa[i]):>4}")
    if topo.nvswitch:
        print("NVSwitch: yes")
    if args.k is not None:
        print(f"best set of {args.k}: {out['best_set']} (score {out['best_set_score']})")
    return 0


def _parse_seeds(text: str) -> List[int]:
    seeds: List[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            if int(hi) < int(lo):
                raise argparse.ArgumentTypeError(f"seed range '{part}' is empty")
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    if not seeds:
        raise argparse.ArgumentTypeError("no seeds given")
    return seeds


def _non_negative(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    return v


def _sim_policy_names() -> List[str]:
    """Every name and alias the simulator accepts, from the policy catalogue."""
    from . import sim

    return sim.accepted_names()


def _policy_help(simulator: bool) -> str:
    """The --policy help: the catalogue's names (aliases in parentheses)."""
    rows = [r for r in _core.policies() if (r["simulator"] is not None if simulator else r["live"])]
    return "; ".join(r["name"] + (f" ({', '.join(r['aliases'])})" if r["aliases"] else "") for r in rows)


def _load_trace_and_policies(node_csv: str, pod_csv: str, requested: List[str]):
    """The openb trace and the policy names ('all' = the study's six), or None after printing
    the error."""
    from . import sim

    try:
        nodes, pods = sim.load_openb(node_csv, pod_csv)
    except (OSError, _core.GpushareError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    names: List[str] = []
    for r in requested:
        for n in (list(sim.POLICIES) if r == "all" else [r]):
            if n not in names:
                names.append(n)
    known = _sim_policy_names()
    for n in names:
        if n not in known:
            print(f"error: unknown policy '{n}' (known: {_policy_help(True)})", file=sys.stderr)
            return None
    return nodes, pods, names


def _cmd_replay(args: argparse.Namespace) -> int:
    from . import sim

    loaded = _load_trace_and_policies(args.nodes, args.pods, [p.strip() for p in args.policy.split(",") if p.strip()])
    if loaded is None:
        return 2
    nodes, pods, names = loaded
    if args.snapshot and len(names) > 1 and "{policy}" not in args.snapshot:
        print(f"error: --snapshot {args.snapshot}: with several policies the file name needs {{policy}}, "
              f"e.g. end_{{policy}}.json", file=sys.stderr)
        return 2
    seeds = args.seeds
    print(f"{len(nodes)} nodes, {len(pods)} pods, seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), "
          f"inflation {args.inflation}; medians at {args.at}% arrived")
    # FGD first when present, so every row can be set against it as it is printed.
    order = (["FGD"] + [n for n in names if n != "FGD"]) if "FGD" in names else names
    results = {}  # pandas is imported only for --plot/--csv: it would cost more than a 1x replay
    for n in order:
        t0 = time.perf_counter()
        cols = sim.replay_columns(nodes, pods, policy=n, seeds=seeds, inflation=args.inflation, timed=args.timed,
                                  threads=args.threads)
        results[n] = (cols, time.perf_counter() - t0)
    fgd = sim.medians_at(results["FGD"][0], args.at)["unallocated_pct"] if "FGD" in results else None
    vs = f" {'vs FGD':>8}" if fgd is not None else ""
    print(f"{'policy':<16} {'allocated%':>11} {'unallocated%':>13} {'fragmented%':>12}{vs} {'seconds':>8}")
    for n in names:
        cols, secs = results[n]
        row = sim.medians_at(cols, args.at)
        rel = ""
        if fgd is not None:
            rel = f" {100.0 * (row['unallocated_pct'] - fgd) / fgd:>+7.1f}%" if fgd > 0 else f" {'-':>8}"
        print(f"{n:<16} {row['allocated_pct']:>11.2f} {row['unallocated_pct']:>13.2f} {row['fragmentation_pct']:>12.2f}{rel}"
              f" {secs:>8.2f}", flush=True)
    if fgd is not None:
        print("vs FGD: change of unallocated GPU % relative to FGD's (negative = fewer GPUs left unallocated)")
    if args.snapshot:
        for n in names:
            path = args.snapshot.replace("{policy}", n)
            doc = sim.snapshot(nodes, pods, policy=n, seed=seeds[0], inflation=args.inflation, timed=args.timed,
                               title=f"{n}, seed {seeds[0]}, end of replay ({os.path.basename(args.pods)})")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            print(f"end state of {n} (seed {seeds[0]}) written to {path}")
    if args.plot or args.csv:
        import pandas as pd

        frames = []
        for n in names:
            df = pd.DataFrame(results[n][0])
            df.insert(0, "policy", n)
            frames.append(df)
        if args.plot:
            sim.plot(pd.concat(frames), args.plot,
                     title=f"{os.path.basename(args.pods)}, median over {len(seeds)} seeds")
            print(f"plot written to {args.plot}")
        if args.csv:
            pd.concat(frames).to_csv(args.csv, index=False)
            print(f"per-step metrics written to {args.csv}")
    return 0


class _Progress:
    """A one-line stderr progress bar, drawn only when stderr is a terminal and not quiet."""

    def __init__(self, label: str, quiet: bool = False, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.on = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label = label

    def __call__(self, done: int, total: int) -> None:
        if not self.on:
            return
        width = 30
        fill = int(width * done / max(1, total))
        self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        if self.on:
            self.stream.write(f"\r\033[K{self.label}: {message}")
            self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _write_outputs(df, args: argparse.Namespace, what: str) -> None:
    if getattr(args, "csv", ""):
        df.to_csv(args.csv, index=False)
        print(f"{what} written to {args.csv}")
    if getattr(args, "json", ""):
        df.to_json(args.json, orient="records", indent=1)
        print(f"{what} written to {args.json}")


def _cmd_compare(args: argparse.Namespace) -> int:
    from .sweeps import dask_executor, repeat_nodes, sweep

    loaded = _load_trace_and_policies(args.nodes, args.pods, [p.strip() for p in args.policies.split(",") if p.strip()])
    if loaded is None:
        return 2
    nodes, pods, names = loaded
    if args.scale < 1:
        print(f"error: --scale {args.scale} must be at least 1", file=sys.stderr)
        return 2
    if args.workers < 1:
        print(f"error: --workers {args.workers} must be at least 1", file=sys.stderr)
        return 2
    nodes = repeat_nodes(nodes, args.scale)
    size = args.size or len(nodes)
    if not 1 <= size <= len(nodes):
        print(f"error: --size {size} outside 1..{len(nodes)}", file=sys.stderr)
        return 2
    bar = _Progress("compare", args.quiet)
    run = dict(policies=names, seeds=args.seeds, cluster_sizes=[size], inflation=args.inflation, progress=bar)
    traces = {os.path.basename(args.pods): (nodes, pods)}
    if args.scheduler:
        try:
            with dask_executor(None if args.scheduler == "local" else args.scheduler, workers=args.workers) as ex:
                df = sweep(traces, executor=ex, **run)
        except ImportError as e:
            print(f"error: --scheduler needs dask.distributed (Debian: python3-distributed): {e}", file=sys.stderr)
            return 2
    elif args.workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(args.workers) as ex:
            df = sweep(traces, executor=ex, **run)
    else:
        df = sweep(traces, **run)
    at = df[df.arrived_pct == args.at]
    g = at.groupby("policy", sort=False)
    table = g[["allocated_pct", "unallocated_pct", "fragmentation_pct"]].median()
    table["unallocated_min"] = g.unallocated_pct.min()
    table["unallocated_max"] = g.unallocated_pct.max()
    table = table.reindex(names)  # the order asked for (the sweep sorts by name)
    print(f"{size} nodes, {len(pods)} pods, {len(args.seeds)} seeds; medians at {args.at}% arrived")
    print(f"{'policy':<14} {'allocated%':>11} {'unallocated%':>13} {'(min..max)':>16} {'fragmented%':>12}")
    for pol, r in table.iterrows():
        span = f"{r.unallocated_min:.2f}..{r.unallocated_max:.2f}"
        print(f"{pol:<14} {r.allocated_pct:>11.2f} {r.unallocated_pct:>13.2f} {span:>16} {r.fragmentation_pct:>12.2f}")
    _write_outputs(df, args, "per-step metrics")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from . import plots

        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        plots.unallocated_vs_arrived(df, ax=axes[0])
        plots.fragmentation_over_time(df, ax=axes[1])
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        plt.close(fig)
        print(f"plot written to {args.plot}")
    return 0


def _node_type(text: str):
    from .sizing import NodeType

    parts = text.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError(f"node type '{text}': expected NAME:MODEL:GPUS:CPU_MILLI:MEMORY_MIB:PRICE")
    try:
        return NodeType(parts[0], parts[1], int(parts[2]), int(parts[3]), int(parts[4]), float(parts[5]))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"node type '{text}': {e}")


def _load_mix(path: str):
    """A mix file: {"hours": H, "seed": S, "shapes": [{"cpu_milli", "memory_mib", "num_gpu", "gpu_milli",
    "rate", "duration_h"?, "gpu_spec"?}, ...]}."""
    from .sizing import TaskShape, workload_from_mix

    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    shapes = []
    for k, s in enumerate(doc.get("shapes", [])):
        try:
            shapes.append(TaskShape(int(s["cpu_milli"]), int(s["memory_mib"]), int(s["num_gpu"]), int(s["gpu_milli"]),
                                    float(s["rate"]), float(s.get("duration_h", 1.0)), tuple(s.get("gpu_spec", ()))))
        except KeyError as e:
            raise ValueError(f"{path}: shapes[{k}] lacks field {e}")
    if "hours" not in doc:
        raise ValueError(f"{path}: missing field 'hours'")
    return workload_from_mix(shapes, float(doc["hours"]), int(doc.get("seed", 0)))


def _cmd_size(args: argparse.Namespace) -> int:
    from . import sim
    from .sizing import size_cluster

    try:
        pods = _core.sim_load_openb_pods(args.pods) if args.pods else _load_mix(args.mix)
    except (OSError, ValueError, _core.GpushareError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.policy not in _sim_policy_names():
        print(f"error: unknown policy '{args.policy}' (known: {_policy_help(True)})", file=sys.stderr)
        return 2
    bar = _Progress("size", args.quiet)
    try:
        df = size_cluster(pods, args.node_type, args.policy, max_unplaced_pct=args.max_unplaced,
                          max_stranded_pct=args.max_stranded, seeds=args.seeds, max_nodes=args.max_nodes,
                          progress=bar.note)
    except (ValueError, _core.GpushareError) as e:
        bar.close()
        print(f"error: {e}", file=sys.stderr)
        return 2
    bar.close()
    target = f"unplaced <= {args.max_unplaced}%" + (
        f", stranded <= {args.max_stranded}%" if args.max_stranded is not None else "")
    print(f"{len(pods)} tasks, policy {args.policy}, target {target}, {len(args.seeds)} seeds")
    print(f"{'node type':<14} {'nodes':>6} {'GPUs':>6} {'cost/h':>10} {'unplaced%':>10} {'stranded%':>10} {'ok':>3}")
    for _, r in df.iterrows():
        mark = " <- cheapest" if r.best else ""
        print(f"{r.node_type:<14} {r.nodes:>6} {r.gpus:>6} {r.cost_per_hour:>10.2f} {r.unplaced_pct:>10.2f} "
              f"{r.stranded_pct:>10.2f} {'yes' if r.meets_target else 'no':>3}{mark}")
    _write_outputs(df, args, "explored configurations")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from . import plots

        ax = plots.sizing_frontier(df)
        ax.figure.tight_layout()
        ax.figure.savefig(args.plot, dpi=110)
        plt.close(ax.figure)
        print(f"plot written to {args.plot}")
    best = df[df.best]
    if not len(best):
        print("no node type meets the target")
        return 1
    b = best.iloc[0]
    print(f"answer: {b.nodes} x {b.node_type} ({b.gpus} GPUs), {b.cost_per_hour:.2f} per hour")
    return 0


def _parse_level(text: str):
    dim, sep, level = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set: expected DIMENSION=LEVEL, got {text!r}")
    try:
        return dim.strip(), float(level)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--set {dim}: level {level!r} is not a number") from None


def _cmd_variants(args: argparse.Namespace) -> int:
    from .sim import variants as V

    try:
        if args.action == "list":
            for name, (what, cols, _) in V.DIMENSIONS.items():
                print(f"{name:<14} {what}  [changes: {', '.join(cols)}]")
            return 0
        if not args.pods or not args.nodes:
            print(f"gpushare variants {args.action}: --pods and --nodes are required", file=sys.stderr)
            return 2
        if args.action in ("make", "grid"):
            pods, nodes = V.read_pods(args.pods), V.read_nodes(args.nodes)
        if args.action == "make":
            if not args.out_pods or not args.out_nodes:
                print("gpushare variants make: --out-pods and --out-nodes are required", file=sys.stderr)
                return 2
            variant = dict(args.set or [])
            p2, n2 = V.make_variant(pods, nodes, variant, args.seed)
            V.write_pods(p2, args.out_pods)
            V.write_nodes(n2, args.out_nodes)
            d = V.describe(p2, n2)
            print(f"{V.variant_name(variant)}: " + ", ".join(f"{k} {v:.4g}" for k, v in d.items()))
            return 0
        if args.action == "grid":
            if not args.out:
                print("gpushare variants grid: --out is required", file=sys.stderr)
                return 2
            m = V.write_grid(pods, nodes, args.out, V.SMALL_GRID if args.small else V.GRID, args.seed)
            print(f"{len(m)} variants written to {args.out} (manifest.json)")
            return 0
    except (V.VariantError, OSError) as e:
        print(f"gpushare variants {args.action}: {e}", file=sys.stderr)
        return 2
    return 2


def _cmd_variants_compare(args: argparse.Namespace) -> int:
    from . import sim
    from .sim import variants as V

    try:
        with open(os.path.join(args.dir, "manifest.json")) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        print(f"gpushare variants compare: {args.dir}/manifest.json: {e}", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.policies.split(",") if n.strip()]
    if len(names) != 2:
        print(f"gpushare variants compare: --policies needs two names, got {args.policies!r}", file=sys.stderr)
        return 2
    print(f"{'variant':<44} {names[0]:>8} {names[1]:>8} {'diff':>7} {'worst gap 80..100%':>19}")
    behind = 0
    for e in manifest:
        nodes, pods = sim.load_openb(e["nodes"], e["pods"])
        r = V.compare(nodes, pods, names[0], names[1], args.seeds)
        behind += r["diff100"] > 0 or r["worst_gap"] > 0.05
        print(f"{e['name']:<44} {r['a100']:8.2f} {r['b100']:8.2f} {r['diff100']:+7.2f} "
              f"{r['worst_gap']:+8.2f} (at {r['worst_at']}%)", flush=True)
    print(f"{names[1]} behind {names[0]} (at 100%, or by more than 0.05 over 80..100%) on {behind} of {len(manifest)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpushare", description="GPU-sharing placement, simulation and conformance tools.")
    p.add_argument("--version", action="version", version=f"gpushare {_core.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    c = sub.add_parser("conform", help="run conformance suite files and print 'N passed, M failed'")
    c.add_argument("files", nargs="+", metavar="FILE", help="suite JSON files")
    c.add_argument("-v", "--verbose", action="store_true", help="also print a summary line per file")
    c.set_defaults(func=_cmd_conform)
    i = sub.add_parser("inspect", help="print per node and GPU allocated/total memory and compute (like kubectl inspect gpushare)")
    src = i.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="an extender's inspect URL, e.g. http://127.0.0.1:39999/inspect")
    src.add_argument("--file", help="an inspect JSON document")
    i.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    i.add_argument("--html", default="", metavar="OUT",
                   help="write the cluster view page with the document embedded (self-contained HTML)")
    i.set_defaults(func=_cmd_inspect)
    r = sub.add_parser("replay", help="replay an openb trace (FGD study protocol) and print medians over seeds")
    r.add_argument("--nodes", required=True, metavar="CSV", help="openb node list")
    r.add_argument("--pods", required=True, metavar="CSV", help="openb pod list")
    r.add_argument("--policy", default="FGD", metavar="NAME[,NAME]",
                   help="policy names or aliases, comma-separated; 'all' = the study's six (e.g. all,best): "
                   + _policy_help(True))
    r.add_argument("--seeds", type=_parse_seeds, default=list(range(42, 52)), metavar="A-B",
                   help="seeds, e.g. 42-51 or 1,2,5 (default 42-51)")
    r.add_argument("--inflation", type=float, default=1.3, help="arrived demand target x GPU capacity (1.3)")
    r.add_argument("--at", type=int, default=100, metavar="PCT", help="arrived-demand step to report (100)")
    r.add_argument("--timed", action="store_true", help="honour creation/deletion times instead of the protocol")
    r.add_argument("--threads", type=_non_negative, default=0, metavar="N",
                   help="replay the seeds on N threads (0 = one per CPU, the default); same result as 1")
    r.add_argument("--plot", default="", metavar="PNG", help="also write a plot of unallocated %% vs arrived %%")
    r.add_argument("--csv", default="", metavar="CSV", help="also write every seed's per-step metrics")
    r.add_argument("--snapshot", default="", metavar="JSON",
                   help="also write the first seed's end state as an inspect document (see inspect --html); "
                        "with several policies the name must contain {policy}")
    r.set_defaults(func=_cmd_replay)
    cp = sub.add_parser("compare", help="compare policies x seeds on one openb trace (table, CSV/JSON, plot)")
    cp.add_argument("--nodes", required=True, metavar="CSV", help="openb node list")
    cp.add_argument("--pods", required=True, metavar="CSV", help="openb pod list")
    cp.add_argument("--policies", default="all", metavar="A,B",
                    help="comma-separated policy names or 'all' (default): " + _policy_help(True))
    cp.add_argument("--seeds", type=_parse_seeds, default=list(range(42, 45)), metavar="A-B",
                    help="seeds, e.g. 42-44 (default) or 1,2,5")
    cp.add_argument("--size", type=int, default=0, metavar="N", help="replay on N nodes spread over the node list")
    cp.add_argument("--scale", type=int, default=1, metavar="K",
                    help="repeat the node list K times (copies named NAME-rC) before --size applies (default 1)")
    cp.add_argument("--workers", type=int, default=1, metavar="N",
                    help="replay on N threads, or N LocalCluster workers with --scheduler local (default 1)")
    cp.add_argument("--scheduler", default="", metavar="ADDRESS",
                    help="run the replays on the dask cluster at ADDRESS (tcp://HOST:8786), or 'local' for a "
                         "LocalCluster of --workers processes")
    cp.add_argument("--inflation", type=float, default=1.3, help="arrived demand target x GPU capacity (1.3)")
    cp.add_argument("--at", type=int, default=100, metavar="PCT", help="arrived-demand step to report (100)")
    cp.add_argument("--csv", default="", metavar="FILE", help="write every seed's per-step metrics as CSV")
    cp.add_argument("--json", default="", metavar="FILE", help="write every seed's per-step metrics as JSON records")
    cp.add_argument("--plot", default="", metavar="PNG", help="plot unallocated and fragmented %% vs arrived %%")
    cp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    cp.set_defaults(func=_cmd_compare)
    tp = sub.add_parser("topo", help="show a GPU topology (nvidia-smi topo -m text or JSON) and its best k-GPU set")
    tp.add_argument("file", help="`nvidia-smi topo -m` output or a topology JSON file")
    tp.add_argument("--smi", action="store_true", help="force reading the file as nvidia-smi text")
    tp.add_argument("--k", type=int, default=None, help="also choose the best set of K GPUs")
    tp.add_argument("--free", type=_parse_gpu_list, default=None, metavar="0,1,..", help="free GPUs (default: all)")
    tp.add_argument("--required", type=_parse_gpu_list, default=[], metavar="0,..", help="GPUs the set must contain")
    tp.add_argument("--leave-best", action="store_true", help="on ties, keep the best-connected free GPUs for later")
    tp.add_argument("--json", action="store_true", help="print JSON instead of the matrix")
    tp.set_defaults(func=_cmd_topo)
    sz = sub.add_parser("size", help="cheapest cluster of one node type meeting an unplaced/stranded target")
    wl = sz.add_mutually_exclusive_group(required=True)
    wl.add_argument("--pods", metavar="CSV", help="workload: an openb pod list")
    wl.add_argument("--mix", metavar="JSON",
                    help='workload: {"hours": H, "seed": S, "shapes": [{"cpu_milli", "memory_mib", "num_gpu", '
                         '"gpu_milli", "rate" (per hour), "duration_h", "gpu_spec"}]}')
    sz.add_argument("--node-type", type=_node_type, action="append", required=True,
                    metavar="NAME:MODEL:GPUS:CPU_MILLI:MEMORY_MIB:PRICE", help="a candidate node type (repeat)")
    sz.add_argument("--policy", default="FGD", metavar="NAME", help="simulator policy (FGD): " + _policy_help(True))
    sz.add_argument("--max-unplaced", type=float, default=1.0, metavar="PCT",
                    help="target: at most PCT%% of GPU demand unplaced (1)")
    sz.add_argument("--max-stranded", type=float, default=None, metavar="PCT",
                    help="target: at most PCT%% of GPU capacity stranded (fragmented)")
    sz.add_argument("--seeds", type=_parse_seeds, default=[42, 43, 44], metavar="A-B", help="seeds (42-44)")
    sz.add_argument("--max-nodes", type=int, default=10000, metavar="N", help="largest cluster tried per type")
    sz.add_argument("--csv", default="", metavar="FILE", help="write the explored configurations as CSV")
    sz.add_argument("--json", default="", metavar="FILE", help="write the explored configurations as JSON")
    sz.add_argument("--plot", default="", metavar="PNG", help="plot cost against unplaced %%")
    sz.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    sz.set_defaults(func=_cmd_size)
    v = sub.add_parser("variants", help="workload variants of an openb trace (docs/VARIANTS.md)")
    v.add_argument("action", choices=["list", "make", "grid", "compare"])
    v.add_argument("--pods", metavar="CSV", help="openb pod list (make, grid)")
    v.add_argument("--nodes", metavar="CSV", help="openb node list (make, grid)")
    v.add_argument("--set", type=_parse_level, action="append", metavar="DIM=LEVEL", help="a dimension's level (make)")
    v.add_argument("--seed", type=int, default=0, help="variant seed (0)")
    v.add_argument("--out-pods", metavar="CSV", help="where make writes the pods")
    v.add_argument("--out-nodes", metavar="CSV", help="where make writes the nodes")
    v.add_argument("--out", metavar="DIR", help="where grid writes the variants and manifest.json")
    v.add_argument("--small", action="store_true", help="grid: the small CI grid instead of the standard one")
    v.add_argument("--dir", metavar="DIR", help="compare: a grid directory")
    v.add_argument("--policies", default="FGD,best", metavar="A,B", help="compare: two policies (FGD,best)")
    v.add_argument("--seeds", type=_parse_seeds, default=list(range(42, 52)), metavar="A-B", help="compare: seeds")
    v.set_defaults(func=lambda a: _cmd_variants_compare(a) if a.action == "compare" else _cmd_variants(a))
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


__all__: List[str] = ["main", "build_parser"]

"""Many replays: a sweep of seeds x policies on the openb node list repeated K times, run
serially, on a thread pool and on a dask LocalCluster, with the speed-ups and a check that the
three DataFrames are identical.

    .venv/bin/python bench/sweep_scale.py                      # 10x, 10 seeds x 4 policies, 2 workers
    .venv/bin/python bench/sweep_scale.py --scale 1 --seeds 42-43 --skip-serial

Point it at an existing dask cluster with ``--scheduler tcp://HOST:8786`` (then the "dask" row is
that cluster). Data: ../shared/data (or GPUSHARE_DATA_DIR).
"""
from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import gpushare as gs
from gpushare import sim
from gpushare.sweeps import dask_executor, repeat_nodes


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.environ.get("GPUSHARE_DATA_DIR", os.path.join(here, "..", "..", "shared", "data"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--seeds", default="42-51")
    ap.add_argument("--policies", default="FGD,BestFit,best,DotProd")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default="", help="an existing dask scheduler (default: a LocalCluster)")
    ap.add_argument("--skip-serial", action="store_true")
    args = ap.parse_args()
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b or a) + 1))
    policies = [p for p in args.policies.split(",") if p]
    nodes, pods = sim.load_openb(os.path.join(data, "openb", "openb_node_list_gpu_node.csv"),
                                 os.path.join(data, "openb", "openb_pod_list_default.csv"))
    traces = {"default": (repeat_nodes(nodes, args.scale), pods)}
    n = len(seeds) * len(policies)
    print(f"{args.scale}x cluster ({len(traces['default'][0])} nodes), {len(seeds)} seeds x {len(policies)} policies "
          f"= {n} replays, {args.workers} workers")
    times, frames = {}, {}
    if not args.skip_serial:
        t0 = time.perf_counter()
        frames["serial"] = gs.sweep(traces, policies=policies, seeds=seeds)
        times["serial"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as ex:
        frames["threads"] = gs.sweep(traces, policies=policies, seeds=seeds, executor=ex)
    times["threads"] = time.perf_counter() - t0
    with dask_executor(args.scheduler or None, workers=args.workers) as ex:
        t0 = time.perf_counter()  # cluster start-up excluded; the first tasks ship the trace
        frames["dask"] = gs.sweep(traces, policies=policies, seeds=seeds, executor=ex)
        times["dask"] = time.perf_counter() - t0
    ref = frames.get("serial", frames["threads"])
    for k, df in frames.items():
        assert df.equals(ref), f"{k} differs from the serial sweep"
    base = times.get("serial")
    print("| run | wall time | per replay | speed-up vs serial |")
    print("|---|---:|---:|---:|")
    for k, t in times.items():
        up = f"{base / t:.2f}x" if base else "n/a"
        print(f"| {k} | {t:.1f} s | {t / n:.2f} s | {up} |")
    print("results identical: yes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

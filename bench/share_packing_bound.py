#!/usr/bin/env python3
"""How much GPU any placement policy must leave idle on an openb trace because of its
GPU-sharing tasks alone (docs/BEST_POLICY.md, "How far can a policy go?").

For each trace: the sharing tasks (one GPU, gpu_milli < 1000) are packed offline onto whole
GPUs with the minimum-bin-slack heuristic (each GPU takes the largest task left plus the set of
remaining tasks that fills it most, found by a bounded subset-sum), ignoring CPU, memory and
arrival order. Its waste is what a clairvoyant packer of these tasks leaves idle, in % of the
cluster's GPUs. The proven bound next to it only counts the leftovers of the tasks above 500
milli that the smaller tasks cannot fill even fractionally.

    /usr/bin/python3 bench/share_packing_bound.py ../shared/data/openb default gpushare40
"""
import collections
import csv
import os
import sys


def min_bin_slack(counts, capacity=1000):
    counts = dict(counts)
    waste = 0
    while any(counts.values()):
        big = max(s for s, c in counts.items() if c)
        counts[big] -= 1
        room = capacity - big
        reach = {0: ()}  # total -> multiset reaching it
        for size in sorted(counts):
            for _ in range(min(counts[size], room // size)):
                nxt = dict(reach)
                for total, items in reach.items():
                    if total + size <= room and total + size not in nxt:
                        nxt[total + size] = items + (size,)
                reach = nxt
        best = max(reach)
        for size in reach[best]:
            counts[size] -= 1
        waste += room - best
    return waste


def proven_bound(counts, capacity=1000):
    """Tasks above half a GPU each need a GPU of their own, whose leftover only smaller tasks
    can use. Even if the other tasks filled those leftovers fractionally (smallest leftover
    first, largest task that fits first: optimal for nested sizes), this much stays idle."""
    gaps = sorted((capacity - s, c) for s, c in counts.items() if s > capacity // 2)
    supply = {s: c * s for s, c in counts.items() if s <= capacity // 2}  # milli per task size
    waste = 0
    for gap, n in gaps:
        room = gap * n
        for s in sorted((s for s in supply if s <= gap), reverse=True):
            use = min(room, supply[s])
            supply[s] -= use
            room -= use
        waste += room
    return waste


def main():
    data = sys.argv[1]
    traces = sys.argv[2:] or ["default"]
    with open(os.path.join(data, "openb_node_list_gpu_node.csv")) as f:
        cap = sum(int(r["gpu"]) for r in csv.DictReader(f)) * 1000
    print("| trace | sharing tasks | GPU demand, % of cluster | min-bin-slack waste, % | proven bound, % |")
    print("|---|---:|---:|---:|---:|")
    for t in traces:
        with open(os.path.join(data, f"openb_pod_list_{t}.csv")) as f:
            pods = list(csv.DictReader(f))
        demand = sum(int(p["num_gpu"]) * int(p["gpu_milli"]) for p in pods)
        shares = collections.Counter(int(p["gpu_milli"]) for p in pods
                                     if int(p["num_gpu"]) == 1 and 0 < int(p["gpu_milli"]) < 1000)
        n = sum(shares.values())
        print(f"| {t} | {n} | {100 * demand / cap:.1f} | {100 * min_bin_slack(shares) / cap:.2f} "
              f"| {100 * proven_bound(shares) / cap:.2f} |")


if __name__ == "__main__":
    main()

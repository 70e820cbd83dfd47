#!/usr/bin/env python3
"""A proven lower bound on the unallocated GPU share at 100% arrived demand that no placement
policy, online or offline, can beat on an openb trace and seed (docs/BEST_POLICY.md, "A proven
limit"), and a feasible offline packing above it.

The pods: those the FGD study's protocol submits for the seed until the arrived GPU demand
leaves the replay's 100% bin (bench/arrived_pods.cpp; the replay's step-100 value averages
rows over that bin, and each row's unallocated share is at least the bound of the longest
prefix, since more pods can only allow more allocation).

The bound: the most GPU milli any assignment of those pods to the cluster can allocate, relaxed
to node classes (nodes with the same CPU, memory, GPU count and model) and solved as a mixed
integer program with HiGHS (scipy.optimize.milp):
  - y[s,c]: pods of shape s (CPU, memory, GPU count, milli per GPU, model constraint) on class
    c; only where an empty node of c can host one; sum over c <= the shape's arrived count;
  - per class, CPU, memory and GPUs summed over its nodes; shapes that need more than half a
    node's GPUs, CPU or memory at most one per node;
  - the GPU-sharing pods of a class packed onto its GPUs by an arc-flow over 0..1000 milli
    (Valerio de Carvalho's bin-packing model: a GPU is a path of item arcs and idle arcs),
    whose flow is the GPUs the class gives to sharing.
Every real schedule gives a feasible point (count its pods per class; each GPU's sharing pods,
largest first, are a path), so the optimum, and the solver's dual bound when it stops early,
bound every policy. The bound reported is C - (dual bound), with the solver's status.

The packing: the solver's point says how many pods of each shape to place (rounded down). Those
pods are submitted once through the simulator in arrival order, then the ones it left out
(bench/arrived_pods --once, policy best), and also packed best-fit-decreasing on the real nodes
(packing()); the better of the two is reported. Every placement checks CPU, memory, GPUs and
model, so what it allocates is achievable offline and C minus it is at least the optimum. It
ignores arrival order and the protocol's rule that a pod that fits is placed.

    /usr/bin/python3 bench/lp_bound.py ../shared/data/openb default --seeds 42-51
"""
import argparse
import collections
import csv
import math
import os
import statistics
import subprocess
import sys

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

HERE = os.path.dirname(os.path.abspath(__file__))


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def arrived(build, node_csv, pod_csv, seed):
    out = subprocess.run([os.path.join(build, "bench", "arrived_pods"), node_csv, pod_csv, str(seed)],
                         check=True, capture_output=True, text=True).stdout
    return [r["name"] for r in csv.DictReader(out.splitlines())]


def pod_shape(p):
    spec = tuple(sorted(m for m in (p.get("gpu_spec") or "").split("|") if m))
    return (int(p["cpu_milli"]), int(p["memory_mib"]), int(p["num_gpu"]), int(p["gpu_milli"]), spec)


def node_class(n):
    return (int(n["cpu_milli"]), int(n["memory_mib"]), int(n["gpu"]), n["model"] or "")


def can_host(c, s):
    cpu, mem, gpus, model = c
    scpu, smem, num, milli, spec = s
    if scpu > cpu or smem > mem or num > gpus:
        return False
    return num == 0 or not spec or model in spec


class Model:
    """The MILP: variables appended with their objective, bounds and integrality."""

    def __init__(self):
        self.c, self.lo, self.hi, self.integ = [], [], [], []
        self.rows, self.cols, self.vals, self.rlo, self.rhi = [], [], [], [], []
        self.nrow = 0

    def var(self, obj, hi=np.inf, integer=True):
        self.c.append(obj)
        self.lo.append(0.0)
        self.hi.append(hi)
        self.integ.append(1 if integer else 0)
        return len(self.c) - 1

    def row(self, terms, lo, hi):
        for j, v in terms:
            self.rows.append(self.nrow)
            self.cols.append(j)
            self.vals.append(v)
        self.rlo.append(lo)
        self.rhi.append(hi)
        self.nrow += 1

    def solve(self, time_limit):
        a = coo_matrix((self.vals, (self.rows, self.cols)), shape=(self.nrow, len(self.c))).tocsr()
        return milp(c=np.array(self.c), constraints=LinearConstraint(a, self.rlo, self.rhi),
                    bounds=Bounds(self.lo, self.hi), integrality=np.array(self.integ),
                    options={"time_limit": time_limit, "disp": False, "mip_rel_gap": 1e-6})


def bound(nodes, pods, time_limit=120.0, must_place=True, gpu_only=False, place_large=False):
    """(capacity, bound on the GPU milli allocated, solver result) for the pods on the nodes.

    With must_place, a shape may keep pods unplaced (binary u[s] = 1) only if, at the end, no
    node could take one: per class, the nodes blocked for it by CPU (each has used more than
    its capacity minus the pod's CPU, so used CPU >= blocked x (capacity - request + 1)) or
    by memory, and on all other nodes no GPU with enough room (sharing pods: idle GPU rests
    and unused GPUs; whole-GPU pods: fewer than n fully free GPUs per node). Valid for every
    schedule of the protocol: it only places, so a pod that found no room at its arrival finds
    none at the end. Everything but u is continuous (a relaxation).

    gpu_only: no node counts as blocked by CPU or memory (a pod left unplaced means no GPU
    room for it anywhere). Not a proof for every policy: it assumes CPU and memory never
    decide a failure, which is an assumption about the schedule, not a fact of the trace.

    place_large: every sharing pod above 500 milli is placed (an assumption, not a proof: a
    schedule may leave some out; it gives the conditional bound of docs/BEST_POLICY.md)."""
    classes = collections.Counter(node_class(n) for n in nodes)
    shapes = collections.Counter(pod_shape(p) for p in pods)
    cap = sum(int(n["gpu"]) for n in nodes) * 1000
    share_sizes = sorted({s[3] for s in shapes if s[2] == 1 and s[3] < 1000})
    g = 1000
    for v in share_sizes:
        g = math.gcd(g, v)
    top = 1000 // g
    m = Model()
    y = {}
    for s, cnt in shapes.items():
        for c in classes:
            if can_host(c, s):
                y[s, c] = m.var(-float(s[2] * s[3]), hi=cnt, integer=False)
    u = {}
    for s, cnt in shapes.items():
        terms = [(y[s, c], 1.0) for c in classes if (s, c) in y]
        if not terms:
            continue
        if place_large and s[2] == 1 and 500 < s[3] < 1000:
            m.row(terms, cnt, cnt)
        if must_place:
            u[s] = m.var(0.0, hi=1)
            m.row(terms + [(u[s], float(cnt))], cnt, np.inf)  # unplaced <= cnt x u
        m.row(terms, 0, cnt)
    for c, n in classes.items():
        cpu, mem, gpus, model = c
        on = [s for s in shapes if (s, c) in y]
        cpu_used = [(y[s, c], float(s[0])) for s in on]
        mem_used = [(y[s, c], float(s[1])) for s in on]
        m.row(cpu_used, 0, float(n * cpu))
        m.row(mem_used, 0, float(n * mem))
        big = [s for s in on if s[2] * 2 > gpus or s[0] * 2 > cpu or s[1] * 2 > mem]
        if big:
            m.row([(y[s, c], 1.0) for s in big], 0, float(n))
        sh = [s for s in on if s[2] == 1 and s[3] < 1000]
        whole = [(y[s, c], float(s[2])) for s in on if s[2] > 0 and not (s[2] == 1 and s[3] < 1000)]
        flow = m.var(0.0, hi=n * gpus, integer=False) if gpus and sh else None
        if gpus:
            m.row(whole + ([(flow, 1.0)] if flow is not None else []), 0, float(n * gpus))
        idle = {}
        if flow is not None:
            sizes = sorted({s[3] // g for s in sh}, reverse=True)
            # Arc-flow, items in non-increasing order along a path: an arc of size v starts at 0
            # or where an arc of size >= v ends (a GPU's pods, largest first, are such a path).
            arcs = {}
            start = collections.defaultdict(set)
            start[0] = set(sizes)
            frontier, seen = [0], {0}
            while frontier:
                i = frontier.pop()
                for v in sorted(start[i]):
                    j = i + v
                    if j > top:
                        continue
                    arcs[v, i] = m.var(0.0, integer=False)
                    start[j].update(w for w in sizes if w <= v)
                    if j not in seen:
                        seen.add(j)
                        frontier.append(j)
            pts = sorted(seen | {top})
            for i in pts:
                if i < top:
                    idle[i] = m.var(0.0, integer=False)  # i -> top: the GPU's idle rest
            out_of, into = collections.defaultdict(list), collections.defaultdict(list)
            for (v, i), j in arcs.items():
                out_of[i].append(j)
                into[i + v].append(j)
            for i, j in idle.items():
                out_of[i].append(j)
                into[top].append(j)
            for i in pts:
                terms = [(j, 1.0) for j in out_of[i]] + [(j, -1.0) for j in into[i]]
                if i == 0:
                    terms.append((flow, -1.0))
                elif i == top:
                    terms.append((flow, 1.0))
                m.row(terms, 0, 0)
            for v in sizes:
                terms = [(j, 1.0) for (vv, i), j in arcs.items() if vv == v]
                terms += [(y[s, c], -1.0) for s in sh if s[3] // g == v]
                m.row(terms, 0, 0)
        if not must_place:
            continue
        # Unused GPUs of the class: N x gpus - whole-GPU pods' GPUs - GPUs given to sharing.
        unused = [(j, -w) for j, w in whole] + ([(flow, -1.0)] if flow is not None else [])
        unused_const = float(n * gpus)
        for s in on:
            if s not in u:
                continue
            blocked = []
            if s[0] > 0 and not gpu_only:
                b = m.var(0.0, hi=n, integer=False)
                m.row(cpu_used + [(b, -float(cpu - s[0] + 1))], 0, np.inf)
                blocked.append(b)
            if s[1] > 0 and not gpu_only:
                b = m.var(0.0, hi=n, integer=False)
                m.row(mem_used + [(b, -float(mem - s[1] + 1))], 0, np.inf)
                blocked.append(b)
            big_m = float(n * max(gpus, 1)) * 2
            if s[2] == 0:
                # every node of the class blocked: sum(blocked) >= n u
                if blocked:
                    m.row([(b, 1.0) for b in blocked] + [(u[s], -float(n))], 0, np.inf)
                else:
                    m.row([(u[s], 1.0)], 0, 0)
                continue
            if s[2] == 1 and s[3] < 1000:
                room = [(idle[i], 1.0) for i in idle if top - i >= s[3] // g]
                # room GPUs + unused GPUs - gpus x blocked <= M (1 - u)
                terms = room + unused + [(b, -float(gpus)) for b in blocked] + [(u[s], big_m)]
                m.row(terms, -np.inf, big_m - unused_const)
            else:
                k = s[2]
                free = unused + ([(idle[0], 1.0)] if 0 in idle else [])
                # fully free GPUs <= (k-1) n + (gpus - k + 1) blocked + M (1 - u)
                terms = free + [(b, -float(gpus - k + 1)) for b in blocked] + [(u[s], big_m)]
                m.row(terms, -np.inf, big_m + float((k - 1) * n) - unused_const)
    res = m.solve(time_limit)
    dual = getattr(res, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        dual = res.fun
    if dual is None:
        raise RuntimeError(f"lp_bound: the solver returned no bound ({res.message})")
    return cap, -float(dual), res, y


def lp_selection(pods, res, y):
    """The pods the solver's point places (its count per shape, rounded down), and the rest."""
    counts = collections.Counter()
    for (s, c), j in y.items():
        counts[s] += res.x[j]
    take = {s: int(math.floor(v + 1e-6)) for s, v in counts.items()}
    chosen, rest = [], []
    for p in pods:
        s = pod_shape(p)
        if take.get(s, 0) > 0:
            take[s] -= 1
            chosen.append(p)
        else:
            rest.append(p)
    return chosen, rest


def replayed_packing(build, node_csv, pods, rest, policies=("best",)):
    """The solver's selection submitted once through the simulator, in arrival order, then the
    rest of the pods (bench/arrived_pods --once): the most GPU milli any of `policies` allocates.
    Every placement is the simulator's, so the packing is feasible."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "pods.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
                        "creation_time", "deletion_time", "scheduled_time"])
            for k, p in enumerate(list(pods) + list(rest)):
                w.writerow([f"p{k:09d}", p["cpu_milli"], p["memory_mib"], p["num_gpu"], p["gpu_milli"],
                            p.get("gpu_spec") or "", "LS", "Running", "", "", ""])
        out = subprocess.run([os.path.join(build, "bench", "arrived_pods"), node_csv, path, "--once", *policies],
                             check=True, capture_output=True, text=True).stdout
    return max(int(r["allocated_milli"]) for r in csv.DictReader(out.splitlines()))


def packing(pods, rest=(), nodes=()):
    """A feasible offline packing of the pods on the real nodes (best fit decreasing): whole-GPU
    pods first, most GPUs first, each on the node with the fewest free GPUs that can take it;
    then the sharing pods, largest first, each on the GPU with the least room that fits it (CPU,
    memory and model checked on its node); CPU-only pods last. Returns the GPU milli allocated:
    achievable by an offline scheduler that may order the pods, so C minus it is at least the
    offline optimum (it is not the protocol's arrival order). The pods of `rest` are tried after
    all of `pods`, in the same order."""
    gpus = np.array([int(n["gpu"]) for n in nodes])
    cpu = np.array([int(n["cpu_milli"]) for n in nodes], dtype=np.int64)
    mem = np.array([int(n["memory_mib"]) for n in nodes], dtype=np.int64)
    model = np.array([n["model"] or "" for n in nodes])
    room = np.zeros((len(nodes), 8), dtype=np.int64)
    for i, k in enumerate(gpus):
        room[i, :k] = 1000
    alive = np.arange(8)[None, :] < gpus[:, None]
    placed = 0
    allp = list(pods) + list(rest)
    shaped = [pod_shape(p) for p in allp]

    def key(k):
        return (k >= len(pods), shaped[k][2] == 0,
                -(shaped[k][2] * shaped[k][3] if not (shaped[k][2] == 1 and shaped[k][3] < 1000) else 0),
                -shaped[k][3])
    order = sorted(range(len(allp)), key=key)
    for k in order:
        scpu, smem, num, milli, spec = shaped[k]
        ok = (cpu >= scpu) & (mem >= smem)
        if spec:
            ok &= np.isin(model, spec)
        if num == 0:
            idx = np.flatnonzero(ok)
            if len(idx):
                i = idx[np.argmin(cpu[idx])]
                cpu[i] -= scpu
                mem[i] -= smem
            continue
        if num == 1 and milli < 1000:
            r = np.where(alive & (room >= milli) & ok[:, None], room, 10**9)
            flat = int(np.argmin(r))
            if r.flat[flat] >= 10**9:
                continue
            i, gg = divmod(flat, 8)
            room[i, gg] -= milli
        else:
            free = ((room == 1000) & alive).sum(axis=1)
            cand = np.flatnonzero(ok & (free >= num))
            if not len(cand):
                continue
            i = cand[np.argmin(free[cand])]
            taken = np.flatnonzero((room[i] == 1000) & alive[i])[:num]
            room[i, taken] = 0
        cpu[i] -= scpu
        mem[i] -= smem
        placed += num * milli
    return placed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("traces", nargs="+", help="trace names (openb_pod_list_NAME.csv) or pod CSV paths")
    ap.add_argument("--nodes", default="openb_node_list_gpu_node.csv")
    ap.add_argument("--seeds", default="42-51")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--time-limit", type=float, default=120.0)
    a = ap.parse_args()
    lo, _, hi = a.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    node_csv = a.nodes if os.path.isabs(a.nodes) else os.path.join(a.data, a.nodes)
    nodes = read_csv(node_csv)
    print("| trace | seeds | proven lower bound, % (median) | per seed | solver status | offline packing, % (median) |")
    print("|---|---:|---:|---|---|---:|")
    for t in a.traces:
        pod_csv = t if t.endswith(".csv") else os.path.join(a.data, f"openb_pod_list_{t}.csv")
        by_name = {p["name"]: p for p in read_csv(pod_csv)}
        vals, packs, stats = [], [], collections.Counter()
        for s in seeds:
            pods = [by_name[n] for n in arrived(a.build, node_csv, pod_csv, s)]
            cap, best, res, y = bound(nodes, pods, a.time_limit, must_place=False)
            chosen, rest = lp_selection(pods, res, y)
            packs.append(100 * (cap - max(packing(chosen, rest, nodes=nodes),
                                          replayed_packing(a.build, node_csv, chosen, rest))) / cap)
            # Floor to the replay's 2 decimals so the bound is never above a reported value.
            vals.append(math.floor(100 * 100 * (cap - best) / cap) / 100)
            stats[res.message.split(".")[0]] += 1
        print(f"| {os.path.basename(t)} | {len(seeds)} | {statistics.median(vals):.2f} | "
              f"{' '.join(f'{v:.2f}' for v in vals)} | {dict(stats)} | {statistics.median(packs):.2f} |", flush=True)


if __name__ == "__main__":
    main()

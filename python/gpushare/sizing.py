"""Capacity planning: the cheapest cluster of one candidate node type that meets a target.

A *workload* is a list of :class:`gpushare.SimPod` (a trace from
:func:`gpushare.sim.load_openb`, or :func:`workload_from_mix` for a task-shape mix with rates).
A *candidate* is a :class:`NodeType` (GPU model, GPUs per node, CPU, memory, price per hour).
For a cluster of ``n`` nodes of one type the workload is replayed with the FGD study's protocol
(shuffled per seed, submitted in that order, no departures, a task that fits nowhere stays
unplaced) and measured once everything has arrived:

``unplaced_pct``
    GPU demand that found no node, % of the workload's GPU demand.
``stranded_pct``
    Fragmented GPU capacity (idle GPU milli no task of the workload's typical shapes can use),
    % of the cluster's GPU capacity, after the last arrival.

Search method
-------------
For each node type, separately:

0. Floor: if the tasks that fit no empty node of the type (too many GPUs, CPU or memory for
   one node, or a ``gpu_spec`` without the type's model; :func:`unfit_pct`) already exceed the
   unplaced target, the type is infeasible: it is evaluated once, at ``n_lo``, and skipped.
1. Lower bound: ``n_lo`` = the fewest nodes whose GPU, CPU and memory capacity each cover
   ``(1 - max_unplaced_pct/100)`` of the workload's demand (no cluster smaller can meet the
   unplaced target).
2. Bracket: evaluate ``n_lo, 2 n_lo, 4 n_lo, ...`` until a size meets the target (or
   ``max_nodes`` is passed: the type is reported infeasible).
3. Bisection between the last failing and the first passing size, down to one node.

A size *meets the target* when the median over seeds of ``unplaced_pct`` is at most
``max_unplaced_pct`` and, if given, the median ``stranded_pct`` is at most
``max_stranded_pct``.  Bisection assumes the predicate is monotone in ``n`` (more nodes never
hurt).  Unplaced demand is close to monotone for the study's policies, stranded capacity less
so; the returned size is the smallest *passing* size the search saw, and every evaluated size
is in the returned table, so a non-monotone region is visible there.  The answer is the passing
configuration of lowest ``nodes x price_per_hour`` over all types (ties: fewer nodes, then
input order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

from ._core import SimNode, SimPod


@dataclass(frozen=True)
class NodeType:
    """A candidate node type.

    Parameters
    ----------
    name : str
        Label used in results (e.g. ``"8xV100"``).
    gpu_model : str
        GPU model as it appears in the trace's ``gpu_spec`` (e.g. ``"V100M32"``, ``"T4"``); a
        task that asks for other models cannot run on it.
    gpus : int
        GPUs per node (0 for a CPU-only node).
    cpu_milli : int
        CPU per node, milli-cores.
    memory_mib : int
        Host memory per node, MiB.
    price_per_hour : float
        Cost of one node for one hour (any currency).
    """

    name: str
    gpu_model: str
    gpus: int
    cpu_milli: int
    memory_mib: int
    price_per_hour: float

    def __post_init__(self) -> None:
        if self.gpus < 0 or self.cpu_milli <= 0 or self.memory_mib <= 0:
            raise ValueError(f"NodeType '{self.name}': gpus must be >= 0, cpu_milli and memory_mib > 0")
        if not self.price_per_hour >= 0:
            raise ValueError(f"NodeType '{self.name}': price_per_hour must be >= 0")

    def nodes(self, count: int) -> List[SimNode]:
        """``count`` simulator nodes of this type, named ``<name>-0`` ... ``<name>-<count-1>``."""
        return [SimNode(f"{self.name}-{i}", self.cpu_milli, self.memory_mib, self.gpus, self.gpu_model)
                for i in range(count)]


@dataclass(frozen=True)
class TaskShape:
    """One task shape of a workload mix.

    Parameters
    ----------
    cpu_milli, memory_mib : int
        Per task.
    num_gpu : int
        GPUs per task (0 = CPU only).
    gpu_milli : int
        Milli-GPU per GPU (1000 = a whole GPU; < 1000 only with ``num_gpu == 1``).
    rate : float
        Arrivals per hour of this shape.
    duration_h : float
        Mean run time in hours (used for creation/deletion times; the sizing protocol ignores
        departures).
    gpu_spec : tuple of str
        GPU models the task accepts (empty = any).
    """

    cpu_milli: int
    memory_mib: int
    num_gpu: int
    gpu_milli: int
    rate: float
    duration_h: float = 1.0
    gpu_spec: tuple = field(default_factory=tuple)


def workload_from_mix(shapes: Sequence[TaskShape], hours: float, seed: int = 0) -> List[SimPod]:
    """Generate a deterministic workload from a task-shape mix.

    Arrivals of each shape are a Poisson process at ``rate`` per hour over ``hours``; run times
    are exponential with mean ``duration_h``.  Times are in seconds.

    Parameters
    ----------
    shapes : sequence of TaskShape
    hours : float
        Length of the arrival window.
    seed : int
        The same seed gives the same pods.

    Returns
    -------
    list of SimPod, sorted by creation time.
    """
    import numpy as np

    if not shapes:
        raise ValueError("workload_from_mix: no shapes")
    rng = np.random.default_rng(seed)
    out = []
    for k, s in enumerate(shapes):
        if s.rate < 0 or s.duration_h <= 0:
            raise ValueError(f"workload_from_mix: shape {k} needs rate >= 0 and duration_h > 0")
        count = int(rng.poisson(s.rate * hours))
        starts = np.sort(rng.uniform(0.0, hours * 3600.0, size=count))
        runs = rng.exponential(s.duration_h * 3600.0, size=count)
        for i in range(count):
            t0 = int(starts[i])
            out.append((t0, k, i, s, t0 + max(1, int(runs[i]))))
    out.sort(key=lambda r: (r[0], r[1], r[2]))
    return [SimPod(f"task-{k}-{i}", s.cpu_milli, s.memory_mib, s.num_gpu, s.gpu_milli, list(s.gpu_spec), t0, t1)
            for (t0, k, i, s, t1) in out]


def demand(pods: Iterable[SimPod]) -> Dict[str, int]:
    """Total ``gpu_milli``, ``cpu_milli`` and ``memory_mib`` requested by ``pods``."""
    g = c = m = 0
    for p in pods:
        g += p.num_gpu * p.gpu_milli
        c += p.cpu_milli
        m += p.memory_mib
    return {"gpu_milli": g, "cpu_milli": c, "memory_mib": m}


def unfit_pct(pods: Iterable[SimPod], node_type: NodeType) -> float:
    """GPU demand of the tasks no empty node of ``node_type`` can host, % of all GPU demand.

    A task does not fit when it asks for more GPUs, CPU or memory than one node has, or for GPU
    models (``gpu_spec``) other than the type's.  No number of such nodes places it, so this is
    a floor under ``unplaced_pct``.
    """
    total = bad = 0
    for p in pods:
        d = p.num_gpu * p.gpu_milli
        total += d
        if (p.num_gpu > node_type.gpus or p.cpu_milli > node_type.cpu_milli or p.memory_mib > node_type.memory_mib
                or (p.num_gpu > 0 and p.gpu_spec and node_type.gpu_model not in p.gpu_spec)):
            bad += d
    return 100.0 * bad / total if total else 0.0


def evaluate(node_type: NodeType, count: int, pods: Sequence[SimPod], policy: str = "FGD",
             seeds: Iterable[int] = (42, 43, 44)) -> Dict[str, float]:
    """Replay ``pods`` on ``count`` nodes of ``node_type`` and measure it after the last arrival.

    Each seed submits every task of the workload exactly once, in a shuffled order (protocol
    mode without resampling).

    Returns
    -------
    dict
        ``unplaced_pct`` and ``stranded_pct`` (medians over seeds, see the module docstring),
        ``pods_failed_pct`` (median share of tasks left unplaced), ``cost_per_hour``.
    """
    import numpy as np

    from . import sim

    d = demand(pods)
    gpu_cap = count * node_type.gpus * 1000
    if d["gpu_milli"] <= 0 or gpu_cap <= 0:
        raise ValueError("evaluate: the workload and the node type must both have GPUs")
    df = sim.final_state(node_type.nodes(count), pods, policy=policy, seeds=list(seeds), resample=False)
    unplaced = 100.0 * (df.arrived_milli - df.allocated_milli) / df.arrived_milli
    stranded = 100.0 * df.fragmentation_milli / gpu_cap
    failed = 100.0 * df.pods_failed / df.pods_submitted.clip(lower=1)
    return {"unplaced_pct": float(np.median(unplaced)), "stranded_pct": float(np.median(stranded)),
            "pods_failed_pct": float(np.median(failed)), "cost_per_hour": count * node_type.price_per_hour}


def size_cluster(pods: Sequence[SimPod], node_types: Sequence[NodeType], policy: str = "FGD", *,
                 max_unplaced_pct: float = 1.0, max_stranded_pct: Optional[float] = None,
                 seeds: Iterable[int] = (42, 43, 44), max_nodes: int = 10000, progress=None):
    """Find the cheapest cluster of one node type meeting the target (search: module docstring).

    Parameters
    ----------
    pods : sequence of SimPod
        The workload.
    node_types : sequence of NodeType
        Candidates.
    policy : str
        Simulator policy (:func:`gpushare.sim.policies`).
    max_unplaced_pct : float
        Target: at most this % of GPU demand left unplaced.
    max_stranded_pct : float, optional
        Target: at most this % of the cluster's GPU capacity stranded (fragmented).
    seeds : iterable of int
        Replays per evaluated size (medians are compared with the targets).
    max_nodes : int
        Largest size tried per type.
    progress : callable(str), optional
        Called with a short message after each evaluation.

    Returns
    -------
    pandas.DataFrame
        One row per evaluated (node type, size): ``node_type``, ``gpu_model``, ``nodes``,
        ``gpus``, ``cost_per_hour``, ``unplaced_pct``, ``stranded_pct``, ``pods_failed_pct``,
        ``meets_target``, ``best`` (True on the answer's row only; no row is best when no
        type can meet the target).  ``df[df.best]`` is the answer.
    """
    import pandas as pd

    if not node_types:
        raise ValueError("size_cluster: no node types")
    if not 0 <= max_unplaced_pct <= 100:
        raise ValueError("size_cluster: max_unplaced_pct outside 0..100")
    seeds = [int(s) for s in seeds]
    d = demand(pods)
    if d["gpu_milli"] <= 0:
        raise ValueError("size_cluster: the workload requests no GPU")
    rows = []
    keep = 1.0 - max_unplaced_pct / 100.0
    for t_index, nt in enumerate(node_types):
        if nt.gpus <= 0:
            raise ValueError(f"size_cluster: node type '{nt.name}' has no GPU")
        n_lo = max(1, math.ceil(keep * d["gpu_milli"] / (nt.gpus * 1000)),
                   math.ceil(keep * d["cpu_milli"] / nt.cpu_milli), math.ceil(keep * d["memory_mib"] / nt.memory_mib))
        seen: Dict[int, bool] = {}

        def check(n: int) -> bool:
            if n not in seen:
                m = evaluate(nt, n, pods, policy, seeds)
                ok = m["unplaced_pct"] <= max_unplaced_pct and (
                    max_stranded_pct is None or m["stranded_pct"] <= max_stranded_pct)
                seen[n] = ok
                rows.append({"node_type": nt.name, "gpu_model": nt.gpu_model, "nodes": n, "gpus": n * nt.gpus,
                             **m, "meets_target": ok, "_order": t_index})
                if progress:
                    progress(f"{nt.name} x {n}: unplaced {m['unplaced_pct']:.2f}%, stranded {m['stranded_pct']:.2f}%")
            return seen[n]

        if unfit_pct(pods, nt) > max_unplaced_pct:
            check(n_lo)  # more nodes cannot help: one row shows the verdict
            continue
        lo_fail, hi = n_lo - 1, n_lo
        while hi <= max_nodes and not check(hi):
            lo_fail, hi = hi, hi * 2
        if hi > max_nodes:
            if lo_fail < max_nodes and check(max_nodes):
                hi = max_nodes
            else:
                continue
        while hi - lo_fail > 1:
            mid = (lo_fail + hi) // 2
            if check(mid):
                hi = mid
            else:
                lo_fail = mid
    df = pd.DataFrame(rows, columns=["node_type", "gpu_model", "nodes", "gpus", "unplaced_pct", "stranded_pct",
                                     "pods_failed_pct", "cost_per_hour", "meets_target", "_order"])
    df["best"] = False
    ok = df[df.meets_target]
    if len(ok):
        best = ok.sort_values(["cost_per_hour", "nodes", "_order"], kind="mergesort").index[0]
        df.loc[best, "best"] = True
    df = df.sort_values(["_order", "nodes"], kind="mergesort").drop(columns="_order").reset_index(drop=True)
    df["meets_target"] = df["meets_target"].astype(bool)
    return df


__all__ = ["NodeType", "TaskShape", "demand", "evaluate", "size_cluster", "unfit_pct", "workload_from_mix"]

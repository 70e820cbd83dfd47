"""Parameter sweeps of the trace simulator: policies x seeds x traces x cluster sizes.

Every (trace, cluster size, policy, seed) combination is one independent task, a call of
:func:`gpushare.sim.replay` with a single seed.  Tasks run on any
:class:`concurrent.futures.Executor` (``ThreadPoolExecutor``, ``ProcessPoolExecutor``, a
``dask.distributed.Client``'s ``get_executor()``...) or serially when ``executor`` is None.  A
replay depends only on its inputs and its seed, so the result is the same whichever executor
runs it; rows come back sorted by (trace, nodes, policy, seed, arrived_pct) in every case.

Examples
--------
>>> from concurrent.futures import ThreadPoolExecutor                    # doctest: +SKIP
>>> import gpushare as gs                                               # doctest: +SKIP
>>> trace = gs.sim.load_openb("openb_node_list_gpu_node.csv",
...                           "openb_pod_list_default.csv")             # doctest: +SKIP
>>> with ThreadPoolExecutor(2) as ex:                                   # doctest: +SKIP
...     df = gs.sweep({"default": trace}, policies=["BestFit", "FGD"],
...                   seeds=range(42, 45), cluster_sizes=[400, 1213], executor=ex)

On a dask cluster (``python3-distributed``): ``with dask_executor("tcp://10.0.0.5:8786") as ex:``
(an existing scheduler) or ``with dask_executor(workers=2) as ex:`` (a LocalCluster on this
machine), then ``sweep(..., executor=ex)``.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ._core import SimNode, SimPod

Trace = Tuple[Sequence[SimNode], Sequence[SimPod]]

#: Columns that identify one sweep task (the result is sorted by these, then ``arrived_pct``).
KEYS: Tuple[str, ...] = ("trace", "nodes", "policy", "seed")


def subsample_nodes(nodes: Sequence[SimNode], count: int) -> List[SimNode]:
    """Pick ``count`` nodes evenly spread over ``nodes`` (keeps the GPU model mix).

    Node ``i`` of the result is ``nodes[floor(i * len(nodes) / count)]``; deterministic, no
    randomness, so every worker of a sweep builds the same cluster.

    Parameters
    ----------
    nodes : sequence of SimNode
    count : int
        1 <= count <= len(nodes).

    Returns
    -------
    list of SimNode

    Raises
    ------
    ValueError
        If ``count`` is outside 1..len(nodes).
    """
    n = len(nodes)
    if not 1 <= count <= n:
        raise ValueError(f"cluster size {count} outside 1..{n} (the trace has {n} nodes)")
    return [nodes[(i * n) // count] for i in range(count)]


def repeat_nodes(nodes: Sequence[SimNode], times: int) -> List[SimNode]:
    """The node list repeated ``times`` times: a cluster ``times`` x as large with the same mix.

    Copy 0 keeps the original names (so ``times=1`` is the list itself); copy ``c`` > 0 names
    its nodes ``<name>-r<c>``, so every name stays unique (the replay breaks score ties by a
    per-seed order of the names).

    Parameters
    ----------
    nodes : sequence of SimNode
    times : int
        At least 1.

    Returns
    -------
    list of SimNode

    Raises
    ------
    ValueError
        If ``times`` is below 1.
    """
    if int(times) < 1:
        raise ValueError(f"repeat_nodes: times must be >= 1, got {times}")
    out: List[SimNode] = list(nodes)
    for c in range(1, int(times)):
        out.extend(SimNode(f"{n.name}-r{c}", n.cpu_milli, n.memory_mib, n.gpus, n.model) for n in nodes)
    return out


class dask_executor:
    """A context manager giving a ``concurrent.futures``-style executor on a dask cluster.

    Parameters
    ----------
    address : str, optional
        The scheduler of an existing dask cluster (``tcp://HOST:8786``).  None starts a
        ``LocalCluster`` of ``workers`` single-threaded worker processes on this machine
        (closed on exit).
    workers : int
        Worker processes of the LocalCluster (ignored with ``address``).

    Raises
    ------
    ImportError
        If ``dask.distributed`` is not installed (Debian: ``python3-distributed``).
    """

    def __init__(self, address: Optional[str] = None, workers: int = 2) -> None:
        self.address = address
        self.workers = int(workers)
        self._cluster = None
        self._client = None

    def __enter__(self):
        from dask.distributed import Client, LocalCluster

        if self.address:
            self._client = Client(self.address)
        else:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, host="127.0.0.1")
            self._client = Client(self._cluster)
        return self._client.get_executor()

    def __exit__(self, *exc) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _run_one(trace_name: str, nodes: Sequence[SimNode], pods: Sequence[SimPod], size: int, policy: str, seed: int,
             inflation: float, max_pct: int, timed: bool):
    from . import sim

    cluster = subsample_nodes(nodes, size)
    df = sim.replay(cluster, pods, policy=policy, seeds=[seed], inflation=inflation, timed=timed, max_pct=max_pct)
    df.insert(0, "nodes", size)
    df.insert(0, "trace", trace_name)
    return df


def sweep(traces: Mapping[str, Trace], policies: Iterable[str] = ("BestFit", "FGD"),
          seeds: Iterable[int] = range(42, 45), cluster_sizes: Optional[Iterable[int]] = None, *,
          executor: Optional[Executor] = None, inflation: float = 1.3, max_pct: int = 130, timed: bool = False,
          progress: Optional[Callable[[int, int], Any]] = None):
    """Replay every combination of trace, cluster size, policy and seed.

    Parameters
    ----------
    traces : mapping of str to (nodes, pods)
        Named traces, e.g. ``{"default": gpushare.sim.load_openb(node_csv, pod_csv)}``.
    policies : iterable of str
        Simulator policy names (:func:`gpushare.sim.policies`).
    seeds : iterable of int
        One replay per seed.
    cluster_sizes : iterable of int, optional
        Node counts; each cluster is :func:`subsample_nodes` of the trace's node list.  None
        means the whole node list of each trace.
    executor : concurrent.futures.Executor, optional
        Runs the tasks (anything with ``submit`` returning a future).  None runs them serially in
        this thread.  With a process pool the traces are pickled per task.
    inflation, max_pct, timed
        As in :func:`gpushare.sim.replay`.
    progress : callable(done, total), optional
        Called after each finished task (e.g. to draw a progress bar).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`gpushare.sim.replay` preceded by ``trace`` and ``nodes``; sorted by
        ``trace, nodes, policy, seed, arrived_pct`` with a fresh index, so a serial and a parallel
        run compare equal with ``DataFrame.equals``.

    Raises
    ------
    ValueError
        On an empty sweep or a cluster size larger than a trace's node list.
    gpushare.NotFoundError
        On an unknown policy (raised before any replay runs).
    """
    import pandas as pd

    from . import sim

    pols = [str(p) for p in policies]
    seed_list = [int(s) for s in seeds]
    known = set(sim.accepted_names())  # labels, catalogue names and aliases ("best", "fgd")
    for p in pols:
        if p not in known:
            from ._core import NotFoundError

            raise NotFoundError(f"sweep: unknown policy '{p}' (known: {', '.join(sim.policies())})")
    tasks: List[Tuple[Any, ...]] = []
    for name, (nodes, pods) in traces.items():
        sizes = [len(nodes)] if cluster_sizes is None else [int(s) for s in cluster_sizes]
        for size in sizes:
            subsample_nodes(nodes, size)  # validate before submitting anything
            for p in pols:
                for s in seed_list:
                    tasks.append((str(name), list(nodes), list(pods), size, p, s, float(inflation), int(max_pct),
                                  bool(timed)))
    if not tasks:
        raise ValueError("sweep: nothing to run (no traces, policies or seeds)")
    total = len(tasks)
    frames = []
    if executor is None:
        for k, t in enumerate(tasks):
            frames.append(_run_one(*t))
            if progress:
                progress(k + 1, total)
    else:
        futures = [executor.submit(_run_one, *t) for t in tasks]
        for k, f in enumerate(futures):
            frames.append(f.result())
            if progress:
                progress(k + 1, total)
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(list(KEYS) + ["arrived_pct"], kind="mergesort").reset_index(drop=True)


__all__ = ["KEYS", "dask_executor", "repeat_nodes", "subsample_nodes", "sweep"]

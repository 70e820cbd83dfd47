"""Trace simulator: replay Alibaba's openb GPU traces under the FGD study's policies.

Reproduces the protocol of Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing
Workloads with Fragmentation Gradient Descent" (USENIX ATC '23): shuffle the trace, resample it
with replacement until the arrived GPU demand reaches ``inflation`` x the cluster's GPU
capacity, submit in that order (arrivals only; a pod that fits nowhere stays unallocated) and
report allocation and fragmentation at every 1% of arrived demand. The random numbers are Go's
math/rand, drawn where the study's simulator draws them, so a seed replays the study's run with
that seed: DotProd, GpuClustering, GpuPacking, BestFit and FGD give its published per-seed numbers.

Examples
--------
>>> import gpushare.sim as sim                                        # doctest: +SKIP
>>> nodes, pods = sim.load_openb("openb_node_list_gpu_node.csv",
...                              "openb_pod_list_default.csv")        # doctest: +SKIP
>>> df = sim.replay(nodes, pods, policy="FGD", seeds=range(42, 52))   # doctest: +SKIP
>>> df[df.arrived_pct == 100].unallocated_pct.median()                # doctest: +SKIP
4.77
"""

from __future__ import annotations

from typing import Iterable, List, Sequence, Tuple

from . import _core
from ._core import SimNode, SimPod

#: The study's six policies, in the study's order.
POLICIES: Tuple[str, ...] = ("Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD")


def policies() -> List[str]:
    """Names of every registered simulator policy (the study's six first).

    Returns
    -------
    list of str
    """
    return list(_core.sim_policy_names())


def load_openb(node_csv: str, pod_csv: str) -> Tuple[List[SimNode], List[SimPod]]:
    """Load an openb node list and pod list (11-column or 5-column variants).

    Parameters
    ----------
    node_csv, pod_csv : str
        Paths of ``openb_node_list_*.csv`` and ``openb_pod_list_*.csv``.

    Returns
    -------
    (nodes, pods) : tuple of lists of SimNode and SimPod

    Raises
    ------
    gpushare.ParseError
        On a malformed row, unknown GPU model or negative size; the message names the file,
        the line and the column. Nothing is returned half-loaded.
    """
    return _core.sim_load_openb_nodes(str(node_csv)), _core.sim_load_openb_pods(str(pod_csv))


def replay(nodes: Sequence[SimNode], pods: Sequence[SimPod], policy: str = "FGD",
           seeds: Iterable[int] = range(42, 52), inflation: float = 1.3, *, timed: bool = False,
           shuffle: bool = True, max_pct: int = 130):
    """Replay a trace once per seed and return the metrics per 1% of arrived GPU demand.

    Parameters
    ----------
    nodes, pods : sequences of SimNode / SimPod
        As returned by :func:`load_openb`.
    policy : str
        One of :func:`policies` (``Random``, ``DotProd``, ``GpuClustering``, ``GpuPacking``,
        ``BestFit``, ``FGD``).
    seeds : iterable of int
        One replay per seed; the seed fixes the shuffle, the resampling, the node tie-break
        order and Random's draws.
    inflation : float
        Resample until arrived GPU demand reaches this multiple of cluster GPU capacity.
    timed : bool
        Honour creation/deletion times (departures) instead of the protocol; no shuffle or
        resampling.
    shuffle : bool
        Shuffle the trace before submitting (protocol mode).
    max_pct : int
        Last arrived-demand step reported.

    Returns
    -------
    pandas.DataFrame
        One row per seed and step with columns ``seed``, ``arrived_pct`` (0..max_pct),
        ``allocated_pct``, ``unallocated_pct``, ``fragmentation_pct`` (all % of cluster GPU
        capacity), ``frag_ratio_pct`` (% of idle GPU), ``samples``, ``pods_submitted``,
        ``pods_placed``, ``pods_failed``. The GIL is released while replaying.
    """
    import pandas as pd

    cols = _core.sim_replay(list(nodes), list(pods), str(policy), [int(s) for s in seeds], float(inflation),
                            bool(shuffle), bool(timed), int(max_pct), False)
    df = pd.DataFrame(cols)
    df.insert(0, "policy", str(policy))
    return df


def final_state(nodes: Sequence[SimNode], pods: Sequence[SimPod], policy: str = "FGD",
                seeds: Iterable[int] = range(42, 52), inflation: float = 1.3, *, timed: bool = False,
                shuffle: bool = True, resample: bool = True):
    """Replay once per seed (as :func:`replay`) and return each run's state after the last event.

    Parameters
    ----------
    nodes, pods, policy, seeds, inflation, timed, shuffle
        As in :func:`replay`.
    resample : bool
        Protocol mode only: resample (or trim) the trace to ``inflation`` x the cluster's GPU
        capacity, as :func:`replay` does.  False submits every pod exactly once (in the seed's
        shuffled order) and ignores ``inflation``.

    Returns
    -------
    pandas.DataFrame
        One row per seed: ``policy``, ``seed``, ``cluster_gpu_milli``, ``arrived_milli`` (GPU
        demand submitted), ``allocated_milli`` (in use at the end), ``fragmentation_milli``,
        ``pods_submitted``, ``pods_placed``, ``pods_failed`` and ``node_used_milli`` (a list:
        GPU milli in use per node, in the order of ``nodes``). The GIL is released while
        replaying.
    """
    import pandas as pd

    nodes = list(nodes)
    rows = _core.sim_replay_final(nodes, list(pods), str(policy), [int(s) for s in seeds], float(inflation),
                                  bool(shuffle), bool(timed), bool(resample))
    df = pd.DataFrame(rows, columns=["seed", "arrived_milli", "allocated_milli", "fragmentation_milli",
                                     "pods_submitted", "pods_placed", "pods_failed", "node_used_milli"])
    df.insert(0, "policy", str(policy))
    df.insert(2, "cluster_gpu_milli", sum(n.gpus for n in nodes) * 1000)
    return df


def summary_at(df, arrived_pct: int = 100):
    """Median over seeds of each metric at one arrived-demand step, per policy.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`replay` (several policies may be concatenated).
    arrived_pct : int
        The step.

    Returns
    -------
    pandas.DataFrame indexed by policy.
    """
    sel = df[df.arrived_pct == arrived_pct]
    return sel.groupby("policy", sort=False)[["allocated_pct", "unallocated_pct", "fragmentation_pct"]].median()


def plot(df, path: str, title: str = "") -> None:
    """Plot median unallocated GPU % vs arrived % per policy and save a PNG.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`replay`, several policies concatenated.
    path : str
        PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for pol, g in df.groupby("policy", sort=False):
        med = g.groupby("arrived_pct")["unallocated_pct"].median()
        med = med[med.index >= 60]  # below ~88% every policy allocates all that arrived
        ax.plot(med.index, med.values, label=pol)
    ax.set_xlabel("arrived GPU demand (% of cluster GPU capacity)")
    ax.set_ylabel("unallocated GPU (% of cluster capacity), median over seeds")
    ax.set_xlim(60, int(df.arrived_pct.max()))
    ax.axvline(100, color="grey", lw=0.8, ls=":")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


__all__ = ["POLICIES", "SimNode", "SimPod", "final_state", "load_openb", "plot", "policies", "replay", "summary_at"]

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

from typing import Iterable, List, Optional, Sequence, Tuple

from .. import _core
from .._core import SimNode, SimPod

#: The study's six policies, in the study's order.
POLICIES: Tuple[str, ...] = ("Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD")


def policies() -> List[str]:
    """Labels of the simulator's policies (the study's six first); every name and alias of
    ``gpushare.policies()`` with a simulator policy is accepted too ("fgd" = "FGD", "best" =
    "HostReservingFGD").

    Returns
    -------
    list of str
    """
    return list(_core.sim_policy_names())


def accepted_names() -> List[str]:
    """Every name and alias the simulator accepts (``policies()`` labels, the catalogue's
    kebab-case names and their aliases), from the policy catalogue.

    Returns
    -------
    list of str
    """
    out: List[str] = []
    for row in _core.policies():
        if row["simulator"] is not None:
            out += [row["name"], *row["aliases"]]
    return out


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
           shuffle: bool = True, max_pct: int = 130, threads: int = 1):
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
    threads : int
        Replay the seeds on up to this many threads (0 = one per CPU). The result is identical,
        bit for bit, to the serial run.

    Returns
    -------
    pandas.DataFrame
        One row per seed and step with columns ``seed``, ``arrived_pct`` (0..max_pct),
        ``allocated_pct``, ``unallocated_pct``, ``fragmentation_pct`` (all % of cluster GPU
        capacity), ``frag_ratio_pct`` (% of idle GPU), ``samples``, ``pods_submitted``,
        ``pods_placed``, ``pods_failed``. The GIL is released while replaying.
    """
    import pandas as pd

    df = pd.DataFrame(replay_columns(nodes, pods, policy, seeds, inflation, timed=timed, shuffle=shuffle,
                                     max_pct=max_pct, threads=threads))
    df.insert(0, "policy", str(policy))
    return df


def replay_columns(nodes: Sequence[SimNode], pods: Sequence[SimPod], policy: str = "FGD",
                   seeds: Iterable[int] = range(42, 52), inflation: float = 1.3, *, timed: bool = False,
                   shuffle: bool = True, max_pct: int = 130, threads: int = 1):
    """:func:`replay` without pandas: the same columns as a dict of lists (no ``policy`` column).

    For callers that want to skip importing pandas (the ``gpushare replay`` command does, unless
    it writes a CSV or a plot); ``pandas.DataFrame(replay_columns(...))`` is :func:`replay`'s
    frame without its ``policy`` column.

    Returns
    -------
    dict of str to list
        ``seed``, ``arrived_pct``, ``allocated_pct``, ``unallocated_pct``, ``fragmentation_pct``,
        ``frag_ratio_pct``, ``samples``, ``pods_submitted``, ``pods_placed``, ``pods_failed``: one
        entry per seed and step, seeds in the given order.
    """
    return _core.sim_replay(list(nodes), list(pods), str(policy), [int(s) for s in seeds], float(inflation),
                            bool(shuffle), bool(timed), int(max_pct), False, _threads(threads))


def medians_at(cols, arrived_pct: int = 100):
    """:func:`summary_at` for one policy's :func:`replay_columns`, without pandas.

    Returns
    -------
    dict
        ``allocated_pct``, ``unallocated_pct``, ``fragmentation_pct``: the median over seeds at
        the step (NaN values skipped, as pandas does; NaN when no seed has data there).
    """
    import math

    rows = [i for i, a in enumerate(cols["arrived_pct"]) if a == arrived_pct]
    out = {}
    for k in ("allocated_pct", "unallocated_pct", "fragmentation_pct"):
        vals = sorted(cols[k][i] for i in rows if not math.isnan(cols[k][i]))
        m = len(vals) // 2
        out[k] = float("nan") if not vals else vals[m] if len(vals) % 2 else (vals[m - 1] + vals[m]) / 2
    return out


def _threads(threads: int) -> int:
    t = int(threads)
    if t < 0:
        raise _core.InvalidArgumentError(f"replay: threads must be >= 0 (0 = one per CPU), got {threads}")
    return t


def final_state(nodes: Sequence[SimNode], pods: Sequence[SimPod], policy: str = "FGD",
                seeds: Iterable[int] = range(42, 52), inflation: float = 1.3, *, timed: bool = False,
                shuffle: bool = True, resample: bool = True, threads: int = 1):
    """Replay once per seed (as :func:`replay`) and return each run's state after the last event.

    Parameters
    ----------
    nodes, pods, policy, seeds, inflation, timed, shuffle, threads
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
                                  bool(shuffle), bool(timed), bool(resample), _threads(threads))
    df = pd.DataFrame(rows, columns=["seed", "arrived_milli", "allocated_milli", "fragmentation_milli",
                                     "pods_submitted", "pods_placed", "pods_failed", "node_used_milli"])
    df.insert(0, "policy", str(policy))
    df.insert(2, "cluster_gpu_milli", sum(n.gpus for n in nodes) * 1000)
    return df


def snapshot(nodes: Sequence[SimNode], pods: Sequence[SimPod], policy: str = "FGD", seed: int = 42,
             inflation: float = 1.3, *, timed: bool = False, shuffle: bool = True, resample: bool = True,
             title: str = ""):
    """Replay once (as :func:`replay` with one seed) and return the end state as an inspect document.

    The document has the schema of the extender's ``GET /inspect`` (``gpushare/k8s/inspect.hpp``):
    per node its GPUs (``milli_used``/``milli_total``; the openb traces have no GPU memory, so
    the MiB fields are 0), ``frag_milli`` (FGD fragmentation under the trace's target workload)
    and ``idle_milli``; ``unschedulable`` lists the pods that found no node, one entry per shape
    (``attempts`` = how many) with why no node can take that shape at the end; ``snapshot``
    names the policy, seed and pod counts.  Draw it with ``gpushare inspect --file F --html OUT``
    or :func:`gpushare.inspect.write_html`.

    Parameters
    ----------
    nodes, pods, policy, inflation, timed, shuffle, resample
        As in :func:`final_state`.
    seed : int
        The one seed replayed.
    title : str
        Shown by the cluster view (default "POLICY, seed SEED").

    Returns
    -------
    dict
    """
    import json

    return json.loads(_core.sim_replay_snapshot(list(nodes), list(pods), str(policy), int(seed), float(inflation),
                                                bool(shuffle), bool(timed), bool(resample), str(title)))


def tenant_quota(nodes: Sequence[SimNode], tenants, *, any_model: bool = False, cohort: bool = True,
                 borrowing_limit_milli: Optional[int] = None, capacity_share: float = 1.0):
    """A quota with one queue per tenant, each GPU model's capacity split by the tenants' weights.

    Parameters
    ----------
    nodes : sequence of SimNode
        The cluster; flavors are its GPU models, most GPUs first.
    tenants : dict of str to float, or sequence of (name, weight)
        Tenants and their weights.
    any_model : bool
        One flavor ``any`` (all models pooled) instead of one per model.
    cohort : bool
        Queues share a cohort ``cluster`` and may borrow each other's unused quota.
    borrowing_limit_milli : int, optional
        Per queue and flavor (needs ``cohort``); None = unlimited.
    capacity_share : float
        Part of each model's capacity handed out as nominal quota.

    Returns
    -------
    QuotaTree
        Nominal quota of tenant i on model m: ``floor(capacity_m x capacity_share x w_i / sum w)``
        milli-GPU.
    """
    return _core.sim_tenant_quota_from_shares(list(nodes), _tenant_pairs(tenants), bool(any_model), bool(cohort),
                                              borrowing_limit_milli, float(capacity_share))


def _tenant_pairs(tenants) -> List[Tuple[str, float]]:
    items = tenants.items() if isinstance(tenants, dict) else tenants
    return [(str(name), float(weight)) for name, weight in items]


def replay_tenants(nodes: Sequence[SimNode], pods: Sequence[SimPod], tenants, quota=None, policy: str = "FGD",
                   seeds: Iterable[int] = (42,), inflation: float = 1.3, *, timed: bool = False,
                   shuffle: bool = True, assignment_seed: int = 0, by_flavor: bool = False):
    """Replay a trace with tenants: each GPU pod passes its tenant's quota, then the policy places it.

    Pods go to tenants by a seeded hash of the pod name, in proportion to the weights (the same
    pod always gets the same tenant for a given ``assignment_seed``).  A pod's flavor is a GPU
    model it may use (or ``any``), tried in the queue's order; when the admitted model has no
    room, the next admissible flavor.  A pod the quota refuses waits; in timed mode waiting pods
    are retried, in arrival order, whenever a pod holding quota finishes.  The replay never
    evicts: queue preemption settings are ignored.  See docs/QUOTA.md.

    Parameters
    ----------
    nodes, pods : sequences of SimNode / SimPod
        As returned by :func:`load_openb`.
    tenants : dict of str to float, or sequence of (name, weight)
        Tenants and their weights; each must be a queue of ``quota``.
    quota : QuotaTree, KueueConfig or None
        The quota (for example ``gpushare.load_kueue(path)``); None = :func:`tenant_quota` of
        the nodes and tenants.
    policy, seeds, inflation, timed, shuffle
        As in :func:`replay`.
    assignment_seed : int
        Seed of the tenant assignment (kept fixed across replay seeds).
    by_flavor : bool
        Return one row per tenant and flavor instead of one per tenant.

    Returns
    -------
    pandas.DataFrame
        Per tenant (and seed): ``pods_submitted``, ``submitted_milli``, ``admitted_milli`` (GPU
        demand admitted and placed), ``waiting_milli`` (never admitted and placed;
        ``admitted_milli + waiting_milli == submitted_milli``), ``pods_placed``, ``pods_failed``
        (quota admitted, no node of an admitted model had room), ``pods_waiting`` (refused by
        the quota), ``pods_retried``, ``pods_borrowing``, ``peak_borrowed_milli``.  With
        ``by_flavor``: ``tenant``, ``flavor``, ``nominal_milli``, ``borrowing_limit_milli``,
        ``pods_admitted``, ``admitted_milli``, ``peak_usage_milli``.  The GIL is released while
        replaying.
    """
    import pandas as pd

    nodes = list(nodes)
    pairs = _tenant_pairs(tenants)
    if quota is None:
        quota = tenant_quota(nodes, dict(pairs))
    elif hasattr(quota, "tree") and callable(quota.tree):
        quota = quota.tree()
    tenant_rows, flavor_rows = _core.sim_replay_tenants(nodes, list(pods), pairs, quota, str(policy),
                                                        [int(s) for s in seeds], float(inflation), bool(shuffle),
                                                        bool(timed), int(assignment_seed))
    df = pd.DataFrame(flavor_rows if by_flavor else tenant_rows)
    df.insert(0, "policy", str(policy))
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
    """Plot median unallocated GPU % vs arrived % per policy and save a PNG (policies other than
    the study's six, such as ``best``, in a thick black line).

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
        # the study's policies thin, any other (the project's `best`) thick and black
        style = {} if pol in POLICIES else {"lw": 2.4, "color": "black"}
        ax.plot(med.index, med.values, label=pol, **style)
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


__all__ = ["POLICIES", "SimNode", "SimPod", "accepted_names", "final_state", "load_openb", "medians_at", "plot", "policies", "replay",
           "replay_columns", "replay_tenants", "snapshot", "summary_at", "tenant_quota"]

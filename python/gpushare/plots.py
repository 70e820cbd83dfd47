"""Matplotlib plots of replays, sweeps and sizing results.

Each function draws on ``ax`` (a new figure when None) and returns the Axes, so it works in a
notebook and in scripts (``ax.figure.savefig("x.png")``).  Matplotlib is imported on first use.

Examples
--------
>>> import gpushare as gs                                                   # doctest: +SKIP
>>> df = gs.sim.replay(nodes, pods, policy="FGD", seeds=range(3))           # doctest: +SKIP
>>> gs.plots.unallocated_vs_arrived(df).figure.savefig("unalloc.png")      # doctest: +SKIP
"""

from __future__ import annotations

from typing import Optional, Sequence


def _axes(ax, figsize=(7, 4.5)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def _by_policy(df, metric: str, ax, ylabel: str, xmin: int):
    hue = "policy"
    for key, g in df.groupby(hue, sort=False):
        med = g.groupby("arrived_pct")[metric].median()
        med = med[med.index >= xmin]
        ax.plot(med.index, med.values, label=str(key))
    ax.set_xlabel("arrived GPU demand (% of cluster GPU capacity)")
    ax.set_ylabel(ylabel)
    ax.axvline(100, color="grey", lw=0.8, ls=":")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def unallocated_vs_arrived(df, ax=None, xmin: int = 60):
    """Median over seeds of unallocated GPU % against arrived demand %, one line per policy.

    Parameters
    ----------
    df : pandas.DataFrame
        :func:`gpushare.sim.replay` output (several policies concatenated) or a
        :func:`gpushare.sweep` result filtered to one trace and size.
    ax : matplotlib.axes.Axes, optional
    xmin : int
        First arrived % shown (below ~88% every policy places all that arrived).

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _by_policy(df, "unallocated_pct", _axes(ax), "unallocated GPU (% of capacity), median", xmin)


def fragmentation_over_time(df, ax=None, xmin: int = 0):
    """Median fragmented GPU % of capacity as demand arrives (the replay's clock), per policy.

    Parameters and return value as :func:`unallocated_vs_arrived`.
    """
    return _by_policy(df, "fragmentation_pct", _axes(ax), "fragmented GPU (% of capacity), median", xmin)


def occupancy_heatmap(final, nodes: Sequence, ax=None, max_nodes: int = 200):
    """Per-node GPU occupancy at the end of a replay, one row per seed/policy, one column per node.

    Parameters
    ----------
    final : pandas.DataFrame
        :func:`gpushare.sim.final_state` output (several policies may be concatenated).
    nodes : sequence of SimNode
        The replayed nodes (same order), for each node's GPU count.
    ax : matplotlib.axes.Axes, optional
    max_nodes : int
        Show at most this many nodes (the first ones), to keep the image readable.

    Returns
    -------
    matplotlib.axes.Axes
        Colour = used GPU milli / (GPUs x 1000) of the node; nodes without GPU are blank.
    """
    import numpy as np

    ax = _axes(ax, figsize=(9, 1.2 + 0.35 * len(final)))
    caps = np.array([n.gpus * 1000 for n in nodes][:max_nodes], dtype=float)
    rows, labels = [], []
    for _, r in final.iterrows():
        used = np.array(r.node_used_milli[:max_nodes], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rows.append(np.where(caps > 0, used / caps, np.nan))
        labels.append(f"{r.policy} seed {r.seed}")
    im = ax.imshow(np.vstack(rows), aspect="auto", vmin=0, vmax=1, cmap="viridis", interpolation="nearest")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.set_xlabel("node (input order)")
    ax.figure.colorbar(im, ax=ax, label="GPU occupancy")
    return ax


def sizing_frontier(sizing, ax=None, waste: str = "unplaced_pct"):
    """Cost per hour against waste for every configuration :func:`gpushare.size_cluster` tried.

    Parameters
    ----------
    sizing : pandas.DataFrame
        :func:`gpushare.sizing.size_cluster` output.
    ax : matplotlib.axes.Axes, optional
    waste : str
        ``"unplaced_pct"`` or ``"stranded_pct"``.

    Returns
    -------
    matplotlib.axes.Axes
        One marker series per node type; the answer (``best``) is circled.
    """
    ax = _axes(ax)
    for name, g in sizing.groupby("node_type", sort=False):
        g = g.sort_values("cost_per_hour")
        ax.plot(g.cost_per_hour, g[waste], marker="o", ls="-", lw=0.8, label=str(name))
    best = sizing[sizing.best]
    if len(best):
        ax.scatter(best.cost_per_hour, best[waste], s=220, facecolors="none", edgecolors="red", label="cheapest meeting target")
    ax.set_xlabel("cost per hour")
    ax.set_ylabel(waste.replace("_pct", " %"))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


__all__ = ["fragmentation_over_time", "occupancy_heatmap", "sizing_frontier", "unallocated_vs_arrived"]

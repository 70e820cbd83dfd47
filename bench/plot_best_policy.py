#!/usr/bin/env python3
"""Plot HostReservingFGD ("best") against FGD and BestFit from the curves CSV written by
examples/best_policy_table: median unallocated GPU % vs arrived GPU demand %.

    ./build/examples/best_policy_table ../shared/data/openb 42 10 /tmp/curves.csv
    /usr/bin/python3 bench/plot_best_policy.py /tmp/curves.csv docs/img/best_policy.png
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def main():
    src, out = sys.argv[1], sys.argv[2]
    df = pd.read_csv(src)
    traces = ["default", "gpushare40", "multigpu50", "cpu250"]
    traces = [t for t in traces if t in set(df.trace)]
    fig, axes = plt.subplots(1, len(traces), figsize=(4.2 * len(traces), 3.6), squeeze=False)
    style = {"BestFit": ("tab:orange", "--"), "FGD": ("tab:blue", "-."), "best": ("tab:green", "-")}
    for ax, trace in zip(axes[0], traces):
        d = df[(df.trace == trace) & (df.arrived_pct >= 80) & (df.arrived_pct <= 130)]
        for pol, (color, ls) in style.items():
            c = d[d.policy == pol]
            label = "HostReservingFGD (best)" if pol == "best" else pol
            ax.plot(c.arrived_pct, c.median_unallocated_pct, ls, color=color, label=label)
        ax.axvline(100, color="grey", lw=0.6)
        ax.set_title(f"openb {trace}")
        ax.set_xlabel("arrived GPU demand, % of capacity")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("unallocated GPU %, median of seeds 42..51")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()

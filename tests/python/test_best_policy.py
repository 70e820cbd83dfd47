"""HostReservingFGD ("best") through the Python API: registered, and on the default trace's seed 42
it leaves less GPU unallocated than FGD at 100% arrived demand."""
import os

import pytest

import gpushare
import gpushare.sim as sim

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "openb")


def test_best_is_registered():
    names = sim.policies()  # the simulator's labels
    assert "HostReservingFGD" in names and "StrandAwareFGD" in names
    best = [r for r in gpushare.policies() if r["name"] == "best"][0]  # "best" is its catalogue name
    assert best["simulator"] == "HostReservingFGD" and best["live"]


@pytest.mark.skipif(not os.path.isdir(DATA), reason="openb data not found")
def test_best_beats_fgd_on_default_seed_42():
    nodes, pods = sim.load_openb(os.path.join(DATA, "openb_node_list_gpu_node.csv"),
                                 os.path.join(DATA, "openb_pod_list_default.csv"))
    un = {}
    for pol in ("FGD", "best"):
        df = sim.replay(nodes, pods, policy=pol, seeds=[42])
        un[pol] = float(sim.summary_at(df, 100)["unallocated_pct"].iloc[0])
    assert un["best"] < un["FGD"] - 0.3

"""The policy catalogue through Python: gs.policies(), gs.make_policy(name) for every live row,
gs.schedule(cluster, request, gs.make_policy("best")), learning from observed requests, aliases,
and the CLI's --policy help and name checks reading the same table."""
import os

import pytest

import gpushare as gs
from gpushare import cli

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("GPUSHARE_DATA_DIR", os.path.join(HERE, "..", "..", "..", "shared", "data"))
NODES = os.path.join(DATA, "openb", "openb_node_list_gpu_node.csv")
PODS = os.path.join(DATA, "openb", "openb_pod_list_default.csv")


def _cluster():
    return gs.Cluster([gs.Node(f"n{i}", cpu_milli=64000, host_mib=262144,
                               gpus=[gs.Gpu(g, "T4", mib_total=16384) for g in range(4)]) for i in range(3)])


def test_catalogue_lists_every_policy_once_with_aliases():
    rows = gs.policies()
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))
    for n in ("best-fit", "binpack", "spread", "first-fit", "random", "fgd", "best", "dot-prod", "gpu-clustering",
              "gpu-packing", "paper-best-fit", "aliyun-binpack", "tencent", "nvidia", "topology-aware"):
        assert n in names
    by = {r["name"]: r for r in rows}
    assert "FGD" in by["fgd"]["aliases"] and by["fgd"]["simulator"] == "FGD" and by["fgd"]["live"]
    assert "BestFit" in by["paper-best-fit"]["aliases"] and not by["paper-best-fit"]["live"]
    assert by["best-fit"]["simulator"] is None
    assert "HostReservingFGD" in by["best"]["aliases"]
    assert gs.policy_names() == [r["name"] for r in rows if r["live"]]


def test_schedule_with_make_policy_best_learns_and_places():
    c = _cluster()
    best = gs.make_policy("best")
    assert best.name == "best" and best.observed == 0
    for k in range(6):
        r = gs.Request(f"p{k}", cpu_milli=4000, gpu_count=1, gpu_milli=500, gpu_mib=1024)
        best.observe(c, r)
        res = gs.schedule(c, r, best)
        assert res, res.explain()
        c.allocate(res.placement)
    assert best.observed == 6
    # FGD-style packing: six half-GPU pods fill three GPUs, never six
    used = sum(1 for n in range(3) for g in range(4) if c.free_milli(n, g) < 1000)
    assert used == 3


def test_every_live_policy_schedules_and_aliases_resolve():
    for name in gs.policy_names():
        c = _cluster()
        res = gs.schedule(c, gs.Request("r", cpu_milli=1000, gpu_count=1, gpu_milli=1000, gpu_mib=1024),
                          gs.make_policy(name))
        assert res, name
    assert gs.make_policy("FGD").name == "fgd"
    assert gs.make_policy("gpu-admission").name == "tencent"
    with pytest.raises(gs.InvalidArgumentError, match="simulator only"):
        gs.make_policy("BestFit")
    with pytest.raises(gs.InvalidArgumentError, match="unknown name 'nope'"):
        gs.make_policy("nope")


@pytest.mark.skipif(not os.path.exists(PODS), reason="openb data not found")
def test_simulator_accepts_catalogue_names_and_old_labels():
    nodes, pods = gs.sim.load_openb(NODES, PODS)
    new = gs.sim.replay(nodes[:200], pods, policy="fgd", seeds=[3], max_pct=60)
    old = gs.sim.replay(nodes[:200], pods, policy="FGD", seeds=[3], max_pct=60)
    assert list(new.unallocated_pct) == list(old.unallocated_pct)
    assert cli.main(["replay", "--nodes", NODES, "--pods", PODS, "--policy", "nope", "--seeds", "1"]) == 2


def test_cli_policy_help_comes_from_the_catalogue(capsys):
    with pytest.raises(SystemExit):
        cli.main(["replay", "--help"])
    out = capsys.readouterr().out
    for n in ("fgd (FGD)", "best (HostReservingFGD", "paper-best-fit (BestFit)"):
        assert n.replace(" ", "") in "".join(out.split())  # argparse wraps lines, also at hyphens

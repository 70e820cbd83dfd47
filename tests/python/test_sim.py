"""gpushare.sim: loader, replay DataFrame, CLI."""
import os
import subprocess
import sys

import pytest

import gpushare
import gpushare.sim as sim
from gpushare import cli

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("GPUSHARE_DATA_DIR", os.path.join(HERE, "..", "..", "..", "shared", "data"))
OPENB = os.path.join(DATA, "openb")
NODES = os.path.join(OPENB, "openb_node_list_gpu_node.csv")
PODS = os.path.join(OPENB, "openb_pod_list_default.csv")

pytestmark = pytest.mark.skipif(not os.path.exists(NODES), reason="openb data not found")


def test_policies_listed_in_study_order():
    assert sim.policies()[:6] == ["Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD"]


def test_load_and_replay_dataframe():
    nodes, pods = sim.load_openb(NODES, PODS)
    assert len(nodes) == 1213 and len(pods) == 8152
    assert "SimNode(" in repr(nodes[0]) and "SimPod(" in repr(pods[0])
    df = sim.replay(nodes, pods, policy="FGD", seeds=[42, 43])
    for col in ("seed", "arrived_pct", "allocated_pct", "unallocated_pct", "fragmentation_pct"):
        assert col in df.columns
    assert len(df) == 2 * 131
    assert sorted(df.arrived_pct.unique()) == list(range(131))
    at100 = df[df.arrived_pct == 100]
    assert ((at100.unallocated_pct + at100.allocated_pct - 100).abs() < 1e-9).all()
    assert at100.unallocated_pct.median() == pytest.approx(4.77, abs=0.5)


def test_same_seed_same_result_and_unknown_policy():
    nodes, pods = sim.load_openb(NODES, PODS)
    a = sim.replay(nodes, pods, policy="BestFit", seeds=[7])
    b = sim.replay(nodes, pods, policy="BestFit", seeds=[7])
    assert a.equals(b)
    with pytest.raises(gpushare.NotFoundError):
        sim.replay(nodes, pods, policy="Nope", seeds=[1])


def test_parse_error_names_file_line_column(tmp_path):
    p = tmp_path / "nodes.csv"
    p.write_text("sn,cpu_milli,memory_mib,gpu,model\nn1,1000,10,2,G2\nn2,1000,10,2,B200\n")
    with pytest.raises(gpushare.ParseError, match=r"nodes.csv:3: column 'model'"):
        sim.load_openb(str(p), PODS)


def test_cli_replay_prints_medians(capsys):
    rc = cli.main(["replay", "--nodes", NODES, "--pods", PODS, "--policy", "BestFit", "--seeds", "42-43"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "BestFit" in out and "unallocated%" in out


def test_timed_mode_replays_in_creation_order_with_departures():
    nodes, pods = sim.load_openb(NODES, PODS)
    df = sim.replay(nodes, pods, policy="FGD", seeds=[1], timed=True)
    assert (df.pods_submitted == len(pods)).all()
    assert (df.pods_placed + df.pods_failed == len(pods)).all()
    # without resampling the arrived demand stops at 98% of capacity; step 99 borrows step 98's
    # samples (an empty step averages its neighbours, as the study's scripts do), 100 has none
    assert df[df.samples > 0].arrived_pct.max() == 99
    assert df[df.arrived_pct == 100].allocated_pct.isna().all()


def test_cli_replay_sets_policies_against_fgd(capsys, tmp_path):
    rc = cli.main(["replay", "--nodes", NODES, "--pods", PODS, "--policy", "BestFit,FGD,best", "--seeds", "42"])
    out = capsys.readouterr().out
    assert rc == 0
    nodes, pods = sim.load_openb(NODES, PODS)
    at = {p: sim.summary_at(sim.replay(nodes, pods, policy=p, seeds=[42]), 100).iloc[0].unallocated_pct
          for p in ("BestFit", "FGD", "best")}
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split() and line.split()[0] in at}
    assert list(rows) == ["BestFit", "FGD", "best"]  # the order asked for
    for p, cols in rows.items():
        assert float(cols[2]) == pytest.approx(at[p], abs=0.005)
        assert cols[4] == f"{100.0 * (at[p] - at['FGD']) / at['FGD']:+.1f}%"
    # several policies and one snapshot file: refused before any replay, nothing written
    snap = tmp_path / "end.json"
    assert cli.main(["replay", "--nodes", NODES, "--pods", PODS, "--policy", "all,best", "--seeds", "42",
                     "--snapshot", str(snap)]) == 2
    assert "{policy}" in capsys.readouterr().err and not snap.exists()
    # 'all' expands to the study's six, in the study's order, then best
    assert cli.main(["replay", "--nodes", NODES, "--pods", PODS, "--policy", "all,best", "--seeds", "42",
                     "--snapshot", str(tmp_path / "end_{policy}.json")]) == 0
    written = [line.split()[3] for line in capsys.readouterr().out.splitlines() if line.startswith("end state of")]
    assert written == list(sim.POLICIES) + ["best"]
    assert sorted(os.listdir(tmp_path)) == sorted(f"end_{p}.json" for p in list(sim.POLICIES) + ["best"])

"""Tenant replay from Python: per-tenant frames, invariants, the Kueue example as quota, and the
unlimited-quota equivalence with the plain replay."""
import os

import pytest

import gpushare as gs
import gpushare.sim as sim

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("GPUSHARE_DATA_DIR", os.path.join(HERE, "..", "..", "..", "shared", "data"))
NODES = os.path.join(DATA, "openb", "openb_node_list_gpu_node.csv")
PODS = os.path.join(DATA, "openb", "openb_pod_list_default.csv")
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "kueue", "cluster_queues.json")

pytestmark = pytest.mark.skipif(not os.path.exists(NODES), reason="openb data not found")


@pytest.fixture(scope="module")
def trace():
    nodes, pods = sim.load_openb(NODES, PODS)
    return nodes[::8], pods[::4]


def test_replay_tenants_frames_and_invariants(trace):
    nodes, pods = trace
    tenants = {"prod": 3, "dev": 2, "research": 1}
    df = sim.replay_tenants(nodes, pods, tenants, policy="FGD", seeds=[42, 43])
    assert list(df.tenant.unique()) == ["prod", "dev", "research"] and len(df) == 6
    assert (df.admitted_milli + df.waiting_milli == df.submitted_milli).all()
    assert (df.pods_placed + df.pods_failed + df.pods_waiting == df.pods_submitted).all()
    # 1.3x the cluster's capacity arrives: somebody waits or fails
    assert df.waiting_milli.sum() > 0
    again = sim.replay_tenants(nodes, pods, tenants, policy="FGD", seeds=[42, 43])
    assert again.equals(df)
    fl = sim.replay_tenants(nodes, pods, tenants, policy="FGD", seeds=[42], by_flavor=True)
    assert {"tenant", "flavor", "nominal_milli", "peak_usage_milli"} <= set(fl.columns)
    first = df[df.seed == 42].set_index("tenant")
    assert fl.groupby("tenant").admitted_milli.sum().to_dict() == first.admitted_milli.to_dict()


def test_unlimited_quota_equals_plain_replay(trace):
    nodes, pods = trace
    q = sim.tenant_quota(nodes, {"a": 1, "b": 1}, any_model=True, capacity_share=1000.0)
    df = sim.replay_tenants(nodes, pods, {"a": 1, "b": 1}, quota=q, policy="BestFit", seeds=[5])
    plain = sim.final_state(nodes, pods, policy="BestFit", seeds=[5])
    assert int(df.admitted_milli.sum()) == int(plain.allocated_milli[0])
    assert int(df.pods_placed.sum()) == int(plain.pods_placed[0])
    assert int(df.pods_waiting.sum()) == 0


def test_replay_tenants_with_the_kueue_example_in_timed_mode(trace):
    nodes, pods = trace
    cfg = gs.load_kueue(EXAMPLE)
    tenants = {"team-a": 2, "team-b": 1, "batch": 1}
    df = sim.replay_tenants(nodes, pods, tenants, quota=cfg, policy="FGD", timed=True)
    assert (df.admitted_milli + df.waiting_milli == df.submitted_milli).all()
    fl = sim.replay_tenants(nodes, pods, tenants, quota=cfg, policy="FGD", timed=True, by_flavor=True)
    a_g2 = fl[(fl.tenant == "team-a") & (fl.flavor == "G2")].iloc[0]
    assert a_g2.nominal_milli == 16000 and a_g2.borrowing_limit_milli == 8000
    assert a_g2.peak_usage_milli <= 24000
    b_t4 = fl[(fl.tenant == "team-b") & (fl.flavor == "T4")].iloc[0]
    assert b_t4.peak_usage_milli <= 2500 + 4000 + 8000  # own + team-a's + the org pool


def test_replay_tenants_errors(trace):
    nodes, pods = trace
    with pytest.raises(gs.NotFoundError, match="nobody"):
        sim.replay_tenants(nodes, pods, {"nobody": 1}, quota=gs.load_kueue(EXAMPLE))
    with pytest.raises(gs.InvalidArgumentError, match="weight"):
        sim.replay_tenants(nodes, pods, {"a": 0})

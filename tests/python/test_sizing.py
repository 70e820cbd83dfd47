"""gpushare.sizing: workload generation, evaluation and the cheapest-cluster search."""
import pytest

import gpushare as gs
from gpushare.sizing import NodeType, TaskShape, demand, evaluate, size_cluster, workload_from_mix

MIX = [
    TaskShape(cpu_milli=4000, memory_mib=16384, num_gpu=1, gpu_milli=500, rate=40, duration_h=2),
    TaskShape(cpu_milli=8000, memory_mib=32768, num_gpu=1, gpu_milli=1000, rate=20, duration_h=3),
    TaskShape(cpu_milli=16000, memory_mib=65536, num_gpu=4, gpu_milli=1000, rate=3, duration_h=6),
]
V100 = NodeType("8xV100", "V100M32", 8, 96000, 786432, 24.0)
T4 = NodeType("2xT4", "T4", 2, 32000, 131072, 1.6)
A10 = NodeType("4xA10", "A10", 4, 64000, 262144, 9.0)


def test_workload_from_mix_is_deterministic_and_follows_rates():
    a = workload_from_mix(MIX, hours=2, seed=5)
    b = workload_from_mix(MIX, hours=2, seed=5)
    c = workload_from_mix(MIX, hours=2, seed=6)
    assert a == b and a != c
    assert [p.creation_time for p in a] == sorted(p.creation_time for p in a)
    assert all(p.deletion_time > p.creation_time for p in a)
    n_half = sum(1 for p in a if p.gpu_milli == 500)
    assert 50 <= n_half <= 110  # Poisson(80)
    with pytest.raises(ValueError):
        workload_from_mix([], hours=1)


def test_node_type_validates_and_builds_nodes():
    ns = V100.nodes(3)
    assert [n.name for n in ns] == ["8xV100-0", "8xV100-1", "8xV100-2"] and ns[0].gpus == 8
    with pytest.raises(ValueError, match="gpus"):
        NodeType("bad", "T4", -1, 1000, 1000, 1.0)


def test_evaluate_all_placed_when_capacity_is_ample():
    pods = workload_from_mix(MIX, hours=1, seed=1)
    need = demand(pods)["gpu_milli"]
    big = evaluate(V100, -(-need // 8000) * 3, pods, "BestFit", seeds=[1])
    assert big["unplaced_pct"] == 0 and big["pods_failed_pct"] == 0
    small = evaluate(V100, max(1, need // 8000 // 2), pods, "BestFit", seeds=[1])
    assert small["unplaced_pct"] >= 40  # half the capacity: at least ~half the demand is left out


def test_evaluate_submits_every_task_exactly_once():
    pods = workload_from_mix(MIX, hours=1, seed=4)
    need = demand(pods)["gpu_milli"]
    for nt in (V100, A10):
        for n in range(3, 40, 3):
            fin = gs.sim.final_state(nt.nodes(n), pods, "FGD", seeds=[1, 2], resample=False)
            assert (fin.arrived_milli == need).all() and (fin.pods_submitted == len(pods)).all()


def brute_force_min(pods, nt, policy, target, seeds):
    n = 1
    while evaluate(nt, n, pods, policy, seeds)["unplaced_pct"] > target:
        n += 1
    return n


def test_search_matches_brute_force_and_picks_cheapest():
    pods = workload_from_mix(MIX, hours=1, seed=3)
    df = size_cluster(pods, [V100, A10], "FGD", max_unplaced_pct=2.0, seeds=[1, 2, 3])
    assert set(df.columns) >= {"node_type", "nodes", "cost_per_hour", "unplaced_pct", "stranded_pct",
                               "meets_target", "best"}
    assert df.best.sum() == 1
    for nt in (V100, A10):
        sub = df[df.node_type == nt.name]
        smallest_ok = sub[sub.meets_target].nodes.min()
        assert smallest_ok == brute_force_min(pods, nt, "FGD", 2.0, [1, 2, 3])
    best = df[df.best].iloc[0]
    cheapest = min(df[(df.node_type == t.name) & df.meets_target].nodes.min() * t.price_per_hour for t in (V100, A10))
    assert best.cost_per_hour == pytest.approx(cheapest)


def test_incompatible_model_is_infeasible_and_stranded_target():
    pods = [gs.sim.SimPod(f"p{i}", 1000, 1024, 1, 1000, ["V100M32"]) for i in range(20)]
    df = size_cluster(pods, [T4], "BestFit", max_unplaced_pct=0.0, seeds=[1], max_nodes=64)
    assert not df.meets_target.any() and not df.best.any()
    assert len(df) == 1 and df.unplaced_pct[0] == 100.0  # the floor skips the search
    assert gs.sizing.unfit_pct(pods, T4) == 100.0 and gs.sizing.unfit_pct(pods, V100) == 0.0
    mixed = pods + [gs.sim.SimPod("big", 1000, 1024, 4, 1000)]
    assert gs.sizing.unfit_pct(mixed, T4) == 100.0 and gs.sizing.unfit_pct(mixed[-1:], A10) == 0.0
    assert gs.sizing.unfit_pct(mixed[-1:] + pods[:4], A10) == 50.0
    assert gs.sizing.unfit_pct([gs.sim.SimPod("c", 200000, 1, 1, 1000)], A10) == 100.0
    strict = size_cluster(workload_from_mix(MIX, 1, seed=3), [A10], "FGD", max_unplaced_pct=5.0,
                          max_stranded_pct=0.0, seeds=[1], max_nodes=200)
    ok = strict[strict.meets_target]
    assert (ok.stranded_pct <= 0.0).all() and (ok.unplaced_pct <= 5.0).all()

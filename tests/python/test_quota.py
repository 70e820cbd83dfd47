"""Quota objects, admission with preemption, the pandas usage view, Kueue configuration loading and the
gpu-admission quota mode."""

import json
import os

import pytest

import gpushare as gs


def make_state():
    t = gs.QuotaTree()
    t.add_cohort("org")
    for name, nominal in (("team-a", 4), ("team-b", 4)):
        t.add_queue(
            gs.QueueSpec(
                name,
                cohort="org",
                flavors=[gs.FlavorQuota("H100", {"gpu": gs.ResourceQuota(nominal)}),
                         gs.FlavorQuota("A100", {"gpu": gs.ResourceQuota(2, borrowing_limit=0)})],
                within_queue=gs.WithinQueuePolicy.lower_priority,
                reclaim_within_cohort=gs.ReclaimPolicy.any,
            )
        )
    return gs.QuotaState(t)


def test_admit_borrow_reclaim_and_usage_frame():
    st = make_state()
    # team-b borrows all of team-a's H100 quota.
    w = gs.QuotaWorkload("b-big", "team-b", priority=0, requests={"gpu": 8}, creation=1)
    d = gs.admit(st, w)
    assert d.admit and d.flavor == "H100" and d.borrows and d.preempted == []
    gs.commit(st, w, d)
    df = gs.usage_frame(st)
    assert int(df.loc[("team-b", "H100", "gpu"), "usage"]) == 8
    assert int(df.loc[("team-b", "H100", "gpu"), "borrowed"]) == 4
    assert int(df.loc[("team-a", "H100", "gpu"), "available"]) == 0
    # team-a reclaims its nominal quota: the borrower is the victim.
    a = gs.QuotaWorkload("a-1", "team-a", priority=0, requests={"gpu": 3}, creation=2)
    d = gs.admit(st, a)
    assert d.admit and d.flavor == "H100" and d.preempted == ["b-big"]
    assert d.mode == gs.FlavorMode.reclaim
    assert "b-big" in repr(d)
    assert len(st) == 1  # admit does not change the state
    gs.commit(st, a, d)
    assert not st.is_admitted("b-big") and st.is_admitted("a-1")
    for w in st.admitted():
        st.finish(w.name)
    assert int(gs.usage_frame(st)["usage"].sum()) == 0


def test_refusal_names_queue_flavor_and_limit():
    st = make_state()
    d = gs.admit(st, gs.QuotaWorkload("huge", "team-a", requests={"gpu": 20}))
    assert not d
    assert "team-a" in d.reason and "H100" in d.reason
    try:
        st.finish("nope")
    except gs.NotFoundError:
        pass
    else:
        raise AssertionError("finish of an unknown workload must raise")


def test_schedule_with_quota_places_on_admitted_model():
    c = gs.Cluster([
        gs.Node("n-h100", cpu_milli=8000, host_mib=65536, gpus=[gs.Gpu(i, "H100", mib_total=81920) for i in range(2)]),
        gs.Node("n-a100", cpu_milli=8000, host_mib=65536, gpus=[gs.Gpu(i, "A100", mib_total=81920) for i in range(2)]),
    ])
    t = gs.QuotaTree()
    t.add_queue(gs.QueueSpec("team", flavors=[gs.FlavorQuota("A100", {"gpu": gs.ResourceQuota(1000)}),
                                              gs.FlavorQuota("H100", {"gpu": gs.ResourceQuota(1000)})]))
    q = gs.QuotaState(t)
    placed = []
    for name in ("j1", "j2"):
        r = gs.Request(name, gpu_count=1, gpu_milli=1000, gpu_mib=1024)
        r.tenant = "team"
        res = gs.schedule_with_quota(c, r, gs.BestFit(), q)
        assert res.placed()
        placed.append((res.decision.flavor, res.schedule.placement.node))
    assert placed == [("A100", "n-a100"), ("H100", "n-h100")]
    r = gs.Request("j3", gpu_count=1, gpu_milli=1000, gpu_mib=1024)
    r.tenant = "team"
    res = gs.schedule_with_quota(c, r, gs.BestFit(), q)
    assert not res and "team" in res.explain()
    assert len(q) == 2


EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "kueue", "cluster_queues.json")


def test_load_kueue_example_round_trip_and_admission():
    cfg = gs.load_kueue(EXAMPLE)
    assert cfg.resource_flavors == ["G2", "T4", "P100"]
    assert [(c.name, c.parent) for c in cfg.cohorts] == [("org", ""), ("research", "org")]
    a, b, batch = cfg.queues
    assert (a.name, a.cohort) == ("team-a", "research")
    assert [f.name for f in a.flavors] == ["G2", "T4"]
    g2 = a.flavors[0].resources
    assert g2["gpu"].nominal == 16000 and g2["gpu"].borrowing_limit == 8000 and g2["cpu"].nominal == 256000
    assert a.within_queue == gs.WithinQueuePolicy.lower_priority and a.reclaim_within_cohort == gs.ReclaimPolicy.any
    assert b.flavors[0].resources["gpu"].lending_limit == 8000 and not b.stop_when_can_borrow
    assert batch.borrow_within_cohort and batch.max_priority_threshold == 100
    tree = cfg.tree()
    assert tree.cohorts() == {"org": "", "research": "org"}
    assert [q.name for q in tree.queues()] == ["team-a", "team-b", "batch"]
    st = gs.QuotaState(tree)
    w = gs.QuotaWorkload("a-20", "team-a", requests={"gpu": 20000})
    d = gs.admit(st, w)
    assert d.admit and d.flavor == "G2" and d.borrows
    gs.commit(st, w, d)
    assert int(gs.usage_frame(st).loc[("team-a", "G2", "gpu"), "borrowed"]) == 4000
    assert not gs.admit(st, gs.QuotaWorkload("a-25", "team-a", requests={"gpu": 25000}))


def test_load_kueue_from_python_objects_and_errors():
    cq = {"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "ClusterQueue", "metadata": {"name": "q"},
          "spec": {"resourceGroups": [{"coveredResources": ["nvidia.com/gpu"],
                                       "flavors": [{"name": "T4", "resources": [{"name": "nvidia.com/gpu",
                                                                                 "nominalQuota": "1500m"}]}]}]}}
    assert gs.load_kueue(cq).queues[0].flavors[0].resources["gpu"].nominal == 1500
    assert gs.load_kueue([cq]).queues[0].name == "q"
    assert gs.load_kueue(cq, gpu_resources=[]).queues[0].flavors[0].resources["nvidia.com/gpu"].nominal == 2
    bad = json.loads(json.dumps(cq))
    bad["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0]["lendingLimit"] = 1
    with pytest.raises(gs.InvalidArgumentError, match=r"ClusterQueue q.*resources\[0\]\.lendingLimit.*spec\.cohort is empty"):
        gs.load_kueue(bad)
    bad = json.loads(json.dumps(cq))
    bad["spec"]["cohortName"] = "x"
    with pytest.raises(gs.ParseError, match=r"spec\.cohortName: unknown field"):
        gs.load_kueue(bad)
    with pytest.raises(gs.NotFoundError):
        gs.load_kueue("/nonexistent/cq.json")


def test_schedule_with_quota_reports_flavors_without_room():
    c = gs.Cluster([
        gs.Node("n-a100", cpu_milli=8000, host_mib=65536, gpus=[gs.Gpu(0, "A100", mib_total=81920)]),
        gs.Node("n-h100", cpu_milli=8000, host_mib=65536, gpus=[gs.Gpu(0, "H100", mib_total=81920)]),
    ])
    c.allocate(gs.schedule(c, gs.Request("outside", gpu_count=1, gpu_milli=1000, gpu_mib=1024), gs.BestFit()).placement)
    assert c.free_milli(0, 0) == 0  # the A100 node (index 0) is full
    t = gs.QuotaTree()
    t.add_queue(gs.QueueSpec("team", flavors=[gs.FlavorQuota("A100", {"gpu": gs.ResourceQuota(1000)}),
                                              gs.FlavorQuota("H100", {"gpu": gs.ResourceQuota(1000)})]))
    q = gs.QuotaState(t)
    r = gs.Request("j", gpu_count=1, gpu_milli=1000, gpu_mib=1024)
    r.tenant = "team"
    res = gs.schedule_with_quota(c, r, gs.BestFit(), q)
    assert res.placed() and res.decision.flavor == "H100"
    assert res.flavors_without_room == ["A100"]


def test_gpu_admission_filter_binding():
    cfg = {"team": gs.GpuAdmissionNamespaceQuota({"A100": 2, "T4": 1}, pools=["public"])}
    nodes = [gs.GpuAdmissionNode("a1", "A100", "public"), gs.GpuAdmissionNode("a2", "A100", "private"),
             gs.GpuAdmissionNode("t1", "T4", "public"), gs.GpuAdmissionNode("cpu")]
    pods = [gs.GpuAdmissionPod("p1", "team", node="t1", vcuda_core=100),
            gs.GpuAdmissionPod("p2", "team", node="a1", vcuda_core=100, phase="Succeeded")]
    r = gs.gpu_admission_filter(cfg, nodes, pods, gs.GpuAdmissionRequest("new", "team", vcuda_core=100))
    assert r.gpu_pod and r.quota_applies
    assert r.allowed_models == ["A100"]  # T4 is full (1 GPU used), the finished pod does not count
    assert r.passed == ["a1"]
    assert r.failed == {"a2": "ExceedsGPUQuota", "cpu": "ExceedsGPUQuota", "t1": "ExceedsGPUQuota"}
    r = gs.gpu_admission_filter(cfg, nodes, pods, gs.GpuAdmissionRequest("big", "team", vcuda_core=300))
    assert r.allowed_models == [] and r.passed == []
    # No ConfigMap, or a namespace without an entry: not limited.
    assert gs.gpu_admission_filter(None, nodes, pods, gs.GpuAdmissionRequest("x", "team", vcuda_core=100)).passed == [
        "a1", "a2", "cpu", "t1"]
    other = gs.gpu_admission_filter(cfg, nodes, pods, gs.GpuAdmissionRequest("x", "other", vcuda_core=100))
    assert not other.quota_applies and other.allowed_models is None
    assert "GpuAdmissionResult" in repr(r)

"""Quota objects, admission with preemption, and the pandas usage view."""

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

"""The Foundation scenarios through Python: placement, oracle, invariants and errors."""

import itertools
import pickle
import random

import pytest

import gpushare as gs


def make_cluster():
    t4 = gs.Node("n1", cpu_milli=8000, host_mib=32768, gpus=[gs.Gpu(i, "T4", mib_total=16384) for i in range(2)])
    return gs.Cluster([t4])


def test_installed_package_imports_from_site_packages():
    assert "site-packages" in gs.__file__ or "dist-packages" in gs.__file__
    assert gs.__version__.count(".") == 2


def test_schedule_allocate_release_roundtrip():
    c = make_cluster()
    empty = c.snapshot()
    r = gs.schedule(c, gs.Request("job", cpu_milli=1000, gpu_count=1, gpu_milli=500, gpu_mib=4096), gs.BestFit())
    assert r and r.placement.node == "n1" and r.placement.gpus == [0]
    c.allocate(r.placement)
    assert c.free_milli(0, 0) == 500 and c.free_mib(0, 0) == 12288 and c.free_cpu_milli(0) == 7000
    assert c.release("job") == r.placement
    assert c.snapshot() == empty


def test_fragmentation_explained():
    c = make_cluster()
    c.allocate(gs.Placement("a", "n1", 0, [0], 100, 10240))
    c.allocate(gs.Placement("b", "n1", 0, [1], 100, 10240))
    r = gs.schedule(c, gs.Request("big", gpu_count=1, gpu_milli=100, gpu_mib=8192), "best-fit")
    assert not r and r.placement is None
    assert r.rejections[0].reason == gs.RejectReason.gpu_fragmented
    assert r.rejections[0].message == (
        "node n1: no single GPU has 8192 MiB free (largest free 6144 MiB); total free 12288 MiB")
    assert "fits on no node" in r.explain()


def test_errors_are_typed_and_change_nothing():
    c = make_cluster()
    c.allocate(gs.Placement("job", "n1", 0, [0], 500, 4096, 1000, 1024))
    before = c.snapshot()
    with pytest.raises(gs.InvalidArgumentError, match="gpu.milli must be in"):
        gs.schedule(c, gs.Request("x", gpu_count=1, gpu_milli=1001), gs.BestFit())
    with pytest.raises(ValueError, match="cpu_milli"):
        gs.schedule(c, gs.Request("x", cpu_milli=-1), gs.BestFit())
    with pytest.raises(gs.CapacityError, match="has 500 milli-GPU free, needs 600"):
        c.allocate(gs.Placement("x", "n1", 0, [0], 600))
    with pytest.raises(gs.NotFoundError, match="has no GPU 5"):
        c.allocate(gs.Placement("x", "n1", 0, [5], 100))
    with pytest.raises(gs.NotFoundError, match="'n9' is not node 0"):
        c.allocate(gs.Placement("x", "n9", 0, [0], 100))
    with pytest.raises(gs.ConflictError):
        c.allocate(gs.Placement("job", "n1", 0, [1], 100))
    with pytest.raises(LookupError, match="no allocation named 'nope'"):
        c.release("nope")
    assert c.snapshot() == before
    c.release("job")
    with pytest.raises(gs.NotFoundError, match="released already"):
        c.release("job")
    with pytest.raises(gs.InvalidArgumentError, match="unknown name 'bestfit'"):
        gs.schedule(c, gs.Request("x"), "bestfit")
    wide = gs.schedule(c, gs.Request("wide", gpu_count=4, gpu_milli=1000), gs.BinPack())
    assert not wide and wide.rejections[0].reason == gs.RejectReason.gpu_count
    assert isinstance(gs.CapacityError("x"), gs.GpushareError)


def _oracle_best_fit(c, req):
    """Brute force: every node, every GPU subset; least (remaining milli, remaining MiB), then lowest node, then GPUs."""
    best = None
    for i, node in enumerate(c.nodes):
        if c.free_cpu_milli(i) < req.cpu_milli or c.free_host_mib(i) < req.host_mib:
            continue
        fits = [g.index for g in node.gpus if g.healthy and req.accepts_model(g.model)
                and c.free_milli(i, g.index) >= req.gpu_milli and c.free_mib(i, g.index) >= req.gpu_mib]
        for combo in itertools.combinations(fits, req.gpu_count):
            if req.gpu_count == 0:
                key = (c.free_cpu_milli(i) - req.cpu_milli, c.free_host_mib(i) - req.host_mib)
            else:
                key = (sum(c.free_milli(i, g) - req.gpu_milli for g in combo),
                       sum(c.free_mib(i, g) - req.gpu_mib for g in combo))
            cand = (key, i, list(combo))
            if best is None or cand < best:
                best = cand
    return None if best is None else (best[1], best[2])


def _random_cluster(rng):
    nodes = []
    for i in range(rng.randint(1, 4)):
        mib = rng.choice([4096, 8192, 16384])
        nodes.append(gs.Node(f"n{i}", cpu_milli=rng.randint(1, 8) * 4000, host_mib=rng.randint(1, 8) * 16384,
                             gpus=[gs.Gpu(g, rng.choice(["T4", "A100"]), mib_total=mib) for g in range(rng.randint(0, 6))]))
    c = gs.Cluster(nodes)
    for k in range(rng.randint(0, 12)):
        r = _random_request(rng, f"fill{k}")
        res = gs.schedule(c, r, gs.FirstFit(), explain=False)
        if res:
            c.allocate(res.placement)
    return c


def _random_request(rng, name):
    count = rng.randint(0, 3)
    milli = rng.choice([1000, rng.randint(1, 10) * 100]) if count else 0
    mib = rng.randint(0, 4) * 1024 if count else 0
    if count and milli == 0 and mib == 0:
        mib = 1024
    allowed = ["T4"] if rng.random() < 0.1 else []
    return gs.Request(name, cpu_milli=rng.randint(0, 4) * 2000, host_mib=rng.randint(0, 4) * 8192,
                      gpu_count=count, gpu_milli=milli, gpu_mib=mib, allowed_models=allowed)


def test_best_fit_matches_brute_force_oracle():
    rng = random.Random(5)
    placed = 0
    for t in range(1500):
        c = _random_cluster(rng)
        req = _random_request(rng, "probe")
        got = gs.schedule(c, req, gs.BestFit())
        want = _oracle_best_fit(c, req)
        assert (got.placement is None) == (want is None), (t, req)
        if want:
            placed += 1
            assert (got.placement.node_index, got.placement.gpus) == want, (t, req)
    assert placed > 300


def test_random_allocate_release_sequences_keep_invariants():
    rng = random.Random(8)
    for trial in range(40):
        c = _random_cluster(rng)
        for p in c.allocations():
            c.release(p)
        empty = c.snapshot()
        for step in range(60):
            before = c.snapshot()
            if rng.random() < 0.6:
                res = gs.schedule(c, _random_request(rng, f"r{step}"), rng.choice([gs.BestFit(), gs.Spread(), gs.BinPack()]))
                if res:
                    c.allocate(res.placement)
            elif c.allocation_count:
                c.release(rng.choice(c.allocations()))
            else:
                with pytest.raises(gs.NotFoundError):
                    c.release("absent")
                assert c.snapshot() == before
            s = c.snapshot()
            totals_milli = [g.milli_total for n in c.nodes for g in n.gpus]
            totals_mib = [g.mib_total for n in c.nodes for g in n.gpus]
            assert all(0 <= f <= t for f, t in zip(s.gpu_free_milli, totals_milli))
            assert all(0 <= f <= t for f, t in zip(s.gpu_free_mib, totals_mib))
            assert (s.node_free_cpu_milli >= 0).all() and (s.node_free_host_mib >= 0).all()
        for p in c.allocations():
            c.release(p)
        assert c.snapshot() == empty


def test_random_policy_is_seeded():
    c = gs.Cluster([gs.Node(f"n{i}", gpus=[gs.Gpu(0, "T4", mib_total=1)]) for i in range(6)])
    req = gs.Request("p", gpu_count=1, gpu_milli=100)
    a, b = gs.Random(3), gs.Random(3)
    seq_a = [gs.schedule(c, req, a).placement.node for _ in range(30)]
    seq_b = [gs.schedule(c, req, b).placement.node for _ in range(30)]
    assert seq_a == seq_b and len(set(seq_a)) > 1


def test_value_types_repr_and_pickle():
    c = make_cluster()
    res = gs.schedule(c, gs.Request("job", gpu_count=1, gpu_milli=300), gs.BestFit())
    c.allocate(res.placement)
    for obj in (c.nodes[0], c.nodes[0].gpus[0], gs.Request("r", gpu_count=2, gpu_milli=1000, tenant="t"), res.placement):
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert type(obj).__name__ in repr(obj)
    c2 = pickle.loads(pickle.dumps(c))
    assert c2.snapshot() == c.snapshot() and c2.allocations() == c.allocations()
    assert "Cluster(nodes=1" in repr(c)
    assert gs.choose_gpus(c, 0, gs.Request("q", gpu_count=2, gpu_milli=500), gs.GpuFit.best) == [0, 1]
    assert gs.diagnose(c, 0, gs.Request("q", gpu_count=3, gpu_milli=500)).reason == gs.RejectReason.gpu_count


def test_pickle_keeps_work_on_a_gpu_that_turned_unhealthy():
    # Regression: unpickling re-allocated through allocate(), which refuses unhealthy GPUs.
    c = make_cluster()
    c.allocate(gs.Placement("job", "n1", 0, [0], 300))
    c.set_gpu_healthy(0, 0, False)
    c2 = pickle.loads(pickle.dumps(c))
    assert c2.snapshot() == c.snapshot()
    assert not c2.nodes[0].gpus[0].healthy
    assert c2.allocations() == c.allocations()

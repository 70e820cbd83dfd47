"""Property tests with hypothesis: the Python side keeps the library's promises.

- ``Cluster``: random operation sequences (add node, schedule + allocate with every policy,
  arbitrary well-formed placements, release, GPU health flips with work on the GPU) checked
  after every step against a reference model kept here in plain Python.
- ``schedule``: a request is placed exactly when a brute-force search finds a node it fits on,
  and the placement it returns fits.
- quota: ``admit`` never changes the state; admitting then finishing everything returns usage
  to zero; admitted usage never exceeds nominal + borrowing limit.
- simulator: the same inputs and seed give the same DataFrame, serially or on threads.
- parsers: arbitrary text/JSON gives a result or a ``GpushareError``, nothing else.
"""

from __future__ import annotations

import json

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule  # noqa: E402

import gpushare as gs  # noqa: E402

MODELS = ["T4", "A10", "V100"]
POLICIES = ["first-fit", "best-fit", "binpack", "spread", "random"]


@st.composite
def nodes(draw, name: str):
    count = draw(st.integers(0, 4))
    model = draw(st.sampled_from(MODELS))
    mib = draw(st.sampled_from([8192, 16384, 24576]))
    gpus = [gs.Gpu(i, model, milli_total=1000, mib_total=mib) for i in range(count)]
    return gs.Node(name, cpu_milli=draw(st.integers(0, 32)) * 1000, host_mib=draw(st.integers(0, 8)) * 16384,
                   gpus=gpus)


@st.composite
def requests(draw, name: str):
    count = draw(st.integers(0, 3))
    milli = draw(st.sampled_from([0, 100, 250, 500, 810, 1000])) if count else 0
    if count and milli == 0:
        milli = 1000
    return gs.Request(name, cpu_milli=draw(st.integers(0, 8)) * 1000, host_mib=draw(st.integers(0, 4)) * 8192,
                      gpu_count=count, gpu_milli=milli, gpu_mib=draw(st.sampled_from([0, 1024, 4096, 12000])) if count else 0,
                      allowed_models=draw(st.sampled_from([[], ["T4"], ["A10", "V100"]])))


def fits(node: gs.Node, free_milli, free_mib, free_cpu, free_host, healthy, req: gs.Request) -> bool:
    """Brute force: can `req` run on this node in its current state?"""
    if free_cpu < req.cpu_milli or free_host < req.host_mib:
        return False
    if req.gpu_count == 0:
        return True
    usable = [g for g in range(len(node.gpus))
              if healthy[g] and req.accepts_model(node.gpus[g].model)
              and free_milli[g] >= req.gpu_milli and free_mib[g] >= req.gpu_mib]
    return len(usable) >= req.gpu_count


class ClusterMachine(RuleBasedStateMachine):
    """Reference model: node specs, live placements by name, health flags."""

    def __init__(self):
        super().__init__()
        self.cluster = gs.Cluster()
        self.specs: list[gs.Node] = []
        self.healthy: list[list[bool]] = []
        self.live: dict[str, gs.Placement] = {}
        self.counter = 0

    def _name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _free(self, i: int):
        n = self.specs[i]
        milli = [g.milli_total for g in n.gpus]
        mib = [g.mib_total for g in n.gpus]
        cpu, host = n.cpu_milli, n.host_mib
        for p in self.live.values():
            if p.node_index != i:
                continue
            cpu -= p.cpu_milli
            host -= p.host_mib
            for g in p.gpus:
                milli[g] -= p.milli_per_gpu
                mib[g] -= p.mib_per_gpu
        return milli, mib, cpu, host

    def _state(self):
        snap = self.cluster.snapshot()
        return (list(snap.gpu_free_milli), list(snap.gpu_free_mib), list(snap.node_free_cpu_milli),
                list(snap.node_free_host_mib), self.cluster.allocation_count, self.cluster.free_gpu_milli)

    @initialize(data=st.data())
    def start(self, data):
        for _ in range(data.draw(st.integers(1, 3))):
            self.add_node(data)

    @rule(data=st.data())
    def add_node(self, data):
        node = data.draw(nodes(self._name("n")))
        self.cluster.add_node(node)
        self.specs.append(node)
        self.healthy.append([True] * len(node.gpus))

    @rule(data=st.data(), policy=st.sampled_from(POLICIES))
    def schedule_and_allocate(self, data, policy):
        req = data.draw(requests(self._name("r")))
        res = gs.schedule(self.cluster, req, policy)
        feasible = [i for i in range(len(self.specs)) if fits(self.specs[i], *self._free(i), self.healthy[i], req)]
        assert bool(res) == bool(feasible), res.explain()
        if res:
            p = res.placement
            assert p.node_index in feasible
            assert len(set(p.gpus)) == req.gpu_count
            self.cluster.allocate(p)
            self.live[p.request] = p

    @rule(data=st.data())
    def allocate_arbitrary(self, data):
        i = data.draw(st.integers(0, len(self.specs) - 1))
        n = self.specs[i]
        gpus = data.draw(st.lists(st.integers(0, len(n.gpus) - 1), unique=True, max_size=len(n.gpus))) if n.gpus else []
        shuffled = list(gpus)
        gpus.sort()  # a well-formed placement lists its GPUs ascending
        p = gs.Placement(self._name("a"), n.name, i, gpus, milli_per_gpu=data.draw(st.integers(1, 1000)) if gpus else 0,
                         mib_per_gpu=data.draw(st.integers(0, 20000)) if gpus else 0,
                         cpu_milli=data.draw(st.integers(0, 20000)), host_mib=data.draw(st.integers(0, 65536)))
        milli, mib, cpu, host = self._free(i)
        ok = (cpu >= p.cpu_milli and host >= p.host_mib
              and all(self.healthy[i][g] and milli[g] >= p.milli_per_gpu and mib[g] >= p.mib_per_gpu for g in gpus))
        before = self._state()
        try:
            self.cluster.allocate(p)
        except gs.GpushareError:
            assert not ok, "a placement that fits was refused"
            assert self._state() == before, "a failed allocate changed the cluster"
            return
        assert ok, "a placement that does not fit was accepted"
        self.live[p.request] = p
        if shuffled != gpus:  # the same GPUs out of order: refused, nothing changes
            q = gs.Placement(self._name("u"), n.name, i, shuffled, milli_per_gpu=0, cpu_milli=0)
            before = self._state()
            with pytest.raises(gs.InvalidArgumentError, match="ascending"):
                self.cluster.allocate(q)
            assert self._state() == before

    @rule(data=st.data())
    def release(self, data):
        if not self.live:
            with pytest.raises(gs.NotFoundError):
                self.cluster.release("nobody")
            return
        name = data.draw(st.sampled_from(sorted(self.live)))
        got = self.cluster.release(name)
        assert got == self.live.pop(name)

    @rule(data=st.data())
    def flip_health(self, data):
        i = data.draw(st.integers(0, len(self.specs) - 1))
        if not self.specs[i].gpus:
            return
        g = data.draw(st.integers(0, len(self.specs[i].gpus) - 1))
        self.healthy[i][g] = not self.healthy[i][g]
        self.cluster.set_gpu_healthy(i, g, self.healthy[i][g])

    @invariant()
    def matches_reference(self):
        total_free = 0
        for i, n in enumerate(self.specs):
            milli, mib, cpu, host = self._free(i)
            assert self.cluster.free_cpu_milli(i) == cpu >= 0
            assert self.cluster.free_host_mib(i) == host >= 0
            for g in range(len(n.gpus)):
                assert self.cluster.free_milli(i, g) == milli[g] >= 0
                assert self.cluster.free_mib(i, g) == mib[g] >= 0
                total_free += milli[g]
        assert self.cluster.free_gpu_milli == total_free
        assert self.cluster.allocation_count == len(self.live)


TestClusterMachine = ClusterMachine.TestCase
TestClusterMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])


# --- quota ---------------------------------------------------------------------------------

@st.composite
def quota_setups(draw):
    tree = gs.QuotaTree()
    tree.add_cohort("root")
    queues = []
    for q in range(draw(st.integers(1, 4))):
        flavors = []
        for f in draw(st.lists(st.sampled_from(["a100", "v100", "t4"]), min_size=1, max_size=3, unique=True)):
            nominal = draw(st.integers(0, 12))
            borrow = draw(st.one_of(st.none(), st.integers(0, 8)))
            lend = draw(st.one_of(st.none(), st.integers(0, nominal)))
            flavors.append(gs.FlavorQuota(f, {"gpu": gs.ResourceQuota(nominal, borrow, lend)}))
        spec = gs.QueueSpec(f"q{q}", cohort="root", flavors=flavors,
                            within_queue=draw(st.sampled_from(list(gs.WithinQueuePolicy.__members__.values()))),
                            reclaim_within_cohort=draw(st.sampled_from(list(gs.ReclaimPolicy.__members__.values()))))
        tree.add_queue(spec)
        queues.append(spec)
    tree.finalize()
    workloads = [gs.QuotaWorkload(f"w{k}", f"q{draw(st.integers(0, len(queues) - 1))}", priority=draw(st.integers(0, 3)),
                                  requests={"gpu": draw(st.integers(1, 10))}, creation=k)
                 for k in range(draw(st.integers(1, 25)))]
    return tree, queues, workloads


def _limits(queues):
    out = {}
    for q in queues:
        for f in q.flavors:
            r = f.resources["gpu"]
            out[(q.name, f.name)] = (r.nominal, r.borrowing_limit)
    return out


@settings(max_examples=200, deadline=None)
@given(quota_setups())
def test_quota_admit_is_pure_and_usage_returns_to_zero(setup):
    tree, queues, workloads = setup
    state = gs.QuotaState(tree)
    limits = _limits(queues)
    for w in workloads:
        before = state.usage_rows()
        d = gs.admit(state, w)
        assert state.usage_rows() == before, "admit changed the state"
        if not d:
            assert d.reason, "a refusal must say why"
            continue
        gs.commit(state, w, d)
        for victim in d.preempted:
            assert not state.is_admitted(victim)
        for row in state.usage_rows():
            key = (row["queue"], row["flavor"])
            if key in limits and row["resource"] == "gpu":
                nominal, borrow = limits[key]
                if borrow is not None:
                    assert row["usage"] <= nominal + borrow
    for w in list(state.admitted()):
        state.finish(w.name)
    assert len(state) == 0
    assert all(row["usage"] == 0 for row in state.usage_rows())


# --- simulator -----------------------------------------------------------------------------

@st.composite
def small_traces(draw):
    sim_nodes = [gs.sim.SimNode(f"node-{i:03d}", cpu_milli=draw(st.sampled_from([32000, 64000, 96000])),
                                memory_mib=262144, gpus=draw(st.integers(0, 8)), model=draw(st.sampled_from(["T4", "V100M32"])))
                 for i in range(draw(st.integers(2, 12)))]
    if not any(n.gpus for n in sim_nodes):
        sim_nodes[0] = gs.sim.SimNode("node-000", cpu_milli=64000, memory_mib=262144, gpus=4, model="T4")
    pods = []
    for k in range(draw(st.integers(1, 40))):
        num = draw(st.integers(0, 2))
        pods.append(gs.sim.SimPod(f"pod-{k:04d}", cpu_milli=draw(st.integers(1, 16)) * 1000, memory_mib=1024,
                                  num_gpu=num, gpu_milli=draw(st.sampled_from([100, 500, 810, 1000])) if num == 1 else (1000 if num else 0)))
    if not any(p.num_gpu for p in pods):  # protocol mode needs GPU demand (see the test below)
        pods.append(gs.sim.SimPod("pod-9999", cpu_milli=1000, memory_mib=1024, num_gpu=1, gpu_milli=500))
    return sim_nodes, pods


@settings(max_examples=40, deadline=None)
@given(small_traces(), st.sampled_from(["Random", "BestFit", "FGD", "best"]), st.integers(0, 2**32))
def test_replay_deterministic_serial_and_threaded(trace, policy, seed):
    sim_nodes, pods = trace
    seeds = [seed, seed + 1, seed]
    a = gs.sim.replay(sim_nodes, pods, policy=policy, seeds=seeds, max_pct=130)
    b = gs.sim.replay(sim_nodes, pods, policy=policy, seeds=seeds, max_pct=130, threads=3)
    assert a.equals(b)
    first = a[a.seed == seed].reset_index(drop=True)
    assert first.iloc[: len(first) // 2].equals(first.iloc[len(first) // 2:].reset_index(drop=True))
    assert (a.allocated_pct.dropna() <= 100.0 + 1e-9).all()


def test_replay_refuses_a_trace_without_gpu_demand():
    # Found by the test above: resampling such a trace to 1.3x GPU capacity never ended.
    sim_nodes = [gs.sim.SimNode("n", 32000, 65536, 2, "T4")]
    pods = [gs.sim.SimPod("p", 1000, 1024, 0, 0)]
    with pytest.raises(gs.InvalidArgumentError, match="asks for a GPU"):
        gs.sim.replay(sim_nodes, pods, policy="FGD", seeds=[1])
    assert gs.sim.replay(sim_nodes, pods, policy="FGD", seeds=[1], timed=True).pods_placed.iloc[0] == 1


def test_replay_threads_must_not_be_negative():
    sim_nodes = [gs.sim.SimNode("n", 32000, 65536, 2, "T4")]
    pods = [gs.sim.SimPod("p", 1000, 1024, 1, 500)]
    with pytest.raises(gs.InvalidArgumentError, match="threads"):
        gs.sim.replay(sim_nodes, pods, threads=-1)


# --- parsers -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=20)


@st.composite
def pod_like(draw):
    """Pod-shaped JSON with random resource names and quantities in every dialect's spelling."""
    names = ["aliyun.com/gpu-mem", "aliyun.com/gpu-count", "tencent.com/vcuda-core", "tencent.com/vcuda-memory",
             "nvidia.com/gpu", "nvidia.com/gpumem", "nvidia.com/gpucores", "cpu", "memory"]
    limits = draw(st.dictionaries(st.sampled_from(names),
                                  st.one_of(st.text(max_size=8), st.integers(-5, 10**6), json_values), max_size=4))
    return {"metadata": draw(st.one_of(st.just({"name": "p", "namespace": "ns"}), json_values)),
            "spec": {"containers": [{"name": "c", "resources": {"limits": limits}}]}}


@settings(max_examples=300, deadline=None)
@given(st.one_of(pod_like(), json_values), st.sampled_from(["aliyun", "tencent", "hami", "nvidia"]))
def test_pod_request_accepts_or_raises_gpushare_error(obj, dialect):
    try:
        r = gs.k8s.pod_request(obj, dialect)
    except gs.GpushareError:
        return
    req = r.request if hasattr(r, "request") else r
    assert req.gpu_count >= 0 and req.gpu_milli >= 0 and req.gpu_mib >= 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_topology_json_accepts_or_raises_gpushare_error(text):
    try:
        topo = gs.Topology.from_json(text)
    except gs.GpushareError:
        return
    again = gs.Topology.from_json(topo.to_json())
    assert again.to_json() == topo.to_json()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(st.text(max_size=6), st.integers(-10, 10**6).map(str)), min_size=1, max_size=8),
                max_size=6))
def test_openb_pod_loader_accepts_or_raises_parse_error(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("openb") / "pods.csv"
    header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time"
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    try:
        pods = gs.sim._core.sim_load_openb_pods(str(path))
    except gs.GpushareError as e:
        assert "pods.csv" in str(e)
        return
    for p in pods:
        assert p.num_gpu >= 0 and 0 <= p.gpu_milli <= 1000 and p.cpu_milli >= 0


def test_json_values_strategy_is_json():
    # The strategy above must only produce JSON-serialisable values (a broken strategy would make
    # the parser tests vacuous).
    @settings(max_examples=50)
    @given(json_values)
    def check(v):
        json.dumps(v)

    check()

"""gpushare-extender in a real cluster: the real kube-scheduler v1.20.2 calls the real extender,
which watches nodes and pods through the real kube-apiserver and binds through it, as the
ServiceAccount of deploy/extender/rbac.yaml (RBAC checked).

Every test checks that no GPU is over-allocated, from the pods' own bind annotations (the API
server's truth), not only from the extender's /inspect.
"""
from __future__ import annotations

import http.client
import http.server
import json
import re
import socketserver
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict

import pytest

from conftest import build_dir
from kubecluster import REPO, free_port

PODS = "/api/v1/namespaces/default/pods"
GIB = 1024


# ------------------------------------------------------------------ objects
def aliyun_node(name, count, gib_each):
    alloc = {"cpu": "64", "memory": "256Gi", "pods": "200", "aliyun.com/gpu-count": str(count),
             "aliyun.com/gpu-mem": str(count * gib_each)}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "aliyun.accelerator/nvidia_name": "Tesla-T4"}},
            "status": {"capacity": dict(alloc), "allocatable": dict(alloc)}}


def tencent_node(name, count, gib_each):
    alloc = {"cpu": "64", "memory": "256Gi", "pods": "200", "tencent.com/vcuda-core": str(100 * count),
             "tencent.com/vcuda-memory": str(count * gib_each * 4)}  # 256 MiB units
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"capacity": dict(alloc), "allocatable": dict(alloc)}}


def hami_node(name, count, mib_each):
    devs = [{"id": f"GPU-{name}-{i}", "count": 10, "devmem": mib_each, "devcore": 100, "type": "NVIDIA-Tesla T4",
             "numa": 0, "health": True, "index": i, "mode": "hami-core"} for i in range(count)]
    alloc = {"cpu": "64", "memory": "256Gi", "pods": "200", "nvidia.com/gpu": str(10 * count)}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name},
                         "annotations": {"hami.io/node-nvidia-register": json.dumps(devs)}},
            "status": {"capacity": dict(alloc), "allocatable": dict(alloc)}}


def pod(name, limits):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "main", "image": "registry.invalid/none",
                                     "resources": {"limits": dict(limits)}}]}}


def aliyun_pod(name, gib):
    return pod(name, {"aliyun.com/gpu-mem": str(gib)})


MANAGED = {
    "aliyun": [{"name": "aliyun.com/gpu-mem", "ignoredByScheduler": False}],
    "tencent": [{"name": "tencent.com/vcuda-core", "ignoredByScheduler": False},
                {"name": "tencent.com/vcuda-memory", "ignoredByScheduler": False}],
    "hami": [{"name": r, "ignoredByScheduler": True} for r in ("nvidia.com/gpu", "nvidia.com/gpumem", "nvidia.com/gpucores")],
}


# ------------------------------------------------------------------ processes
def extender_kubeconfig(kube):
    """The extender's identity: the ServiceAccount and RBAC of deploy/extender/rbac.yaml."""
    kube.ensure_file(REPO / "deploy" / "extender" / "rbac.yaml")
    return kube.service_account_kubeconfig("kube-system", "gpushare-scheduler-extender")


_serial = iter(range(1, 1000000))


class Extender:
    def __init__(self, kube, dialect="aliyun", name=None, args=(), port=None):
        # a name of its own: the process log (what the tests read) is per name
        name = name or f"gpushare-extender-{next(_serial)}"
        self.kube, self.port, self.name = kube, port or free_port(), name
        self.proc = kube.spawn(name, [build_dir() / "examples" / "gpushare-extender", "--kubeconfig",
                                      extender_kubeconfig(kube), "--dialect", dialect, "--port", str(self.port),
                                      "-v", "2", *args])
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read().decode()

    def status(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    def wait_ready(self, timeout=60):
        self.kube.wait_for(lambda: self.status("/readyz") == 200, timeout=timeout, what=f"{self.name} ready", proc=self.proc)
        return self

    def inspect(self):
        return json.loads(self.get("/inspect"))

    def log(self):
        return self.proc.log_text()


def extender_entry(port, dialect="aliyun", bind=True):
    e = {"urlPrefix": f"http://127.0.0.1:{port}/gpushare-scheduler", "filterVerb": "filter",
         "prioritizeVerb": "prioritize", "weight": 1, "enableHTTPS": False, "nodeCacheCapable": True,
         "ignorable": False, "managedResources": MANAGED[dialect], "httpTimeout": "10s"}
    if bind:
        e["bindVerb"] = "bind"
    return e


def start_scheduler(kube, port, dialect="aliyun", name=None):
    # a name of its own per start: the harness appends to <name>.log and waits on its content
    s = kube.start_scheduler(extenders=[extender_entry(port, dialect)], name=name or f"kube-scheduler-{next(_serial)}")
    kube.wait_scheduler_ready(s)
    return s


# ------------------------------------------------------------------ checks
def pod_obj(kube, name):
    return kube.get(f"{PODS}/{name}")


def wait_bound(kube, name, proc=None, timeout=60):
    return kube.wait_for(lambda: pod_obj(kube, name)["spec"].get("nodeName"), timeout=timeout, what=f"{name} bound", proc=proc)


def wait_settled(kube, names, proc=None, timeout=120):
    """Every pod bound, or Pending with a FailedScheduling event naming why."""
    def settled():
        out = {}
        for n in names:
            p = pod_obj(kube, n)
            if p["spec"].get("nodeName"):
                out[n] = ("bound", p["spec"]["nodeName"])
            else:
                ev = [e for e in kube.events_for("default", n) if e["reason"] == "FailedScheduling"]
                if not ev:
                    return None
                out[n] = ("pending", ev[-1]["message"])
        return out
    return kube.wait_for(settled, timeout=timeout, interval=0.5, what="every pod bound or Pending with a reason", proc=proc)


def aliyun_usage(kube):
    """GiB per (node, GPU) from the bound pods' Aliyun annotations; asserts the annotations are whole."""
    use = defaultdict(int)
    for p in kube.pods():
        node = p["spec"].get("nodeName")
        a = p["metadata"].get("annotations") or {}
        if not node:
            continue
        assert a.get("ALIYUN_COM_GPU_MEM_IDX") is not None, p["metadata"]["name"]
        use[(node, int(a["ALIYUN_COM_GPU_MEM_IDX"]))] += int(a["ALIYUN_COM_GPU_MEM_POD"])
    return use


def assert_no_overcommit(kube, gib_per_gpu):
    use = aliyun_usage(kube)
    over = {k: v for k, v in use.items() if v > gib_per_gpu[k[0]]}
    assert not over, f"over-allocated GPUs: {over}"
    return use


def inspect_used(ext):
    return {(n["name"], g["index"]): g["mib_used"] // GIB for n in ext.inspect()["nodes"] for g in n["gpus"] if g["mib_used"]}


# ------------------------------------------------------------------ tests
def test_aliyun_pod_bound_with_annotations_then_freed(kube):
    kube.create_node(aliyun_node("n16", 2, 16))
    kube.create_node(aliyun_node("n8", 4, 8))
    ext = Extender(kube).wait_ready()
    sched = start_scheduler(kube, ext.port)
    kube.create(PODS, aliyun_pod("p12", 12))
    assert wait_bound(kube, "p12", sched) == "n16"
    a = pod_obj(kube, "p12")["metadata"]["annotations"]
    assert a["ALIYUN_COM_GPU_MEM_POD"] == "12" and a["ALIYUN_COM_GPU_MEM_DEV"] == "16"
    assert a["ALIYUN_COM_GPU_MEM_IDX"] in ("0", "1") and a["ALIYUN_COM_GPU_MEM_ASSIGNED"] == "false"
    kube.wait_for(lambda: inspect_used(ext) == {("n16", int(a["ALIYUN_COM_GPU_MEM_IDX"])): 12}, what="/inspect counts p12")
    # The extender logged one line per request with the decision.
    assert re.search(r"bind pod=default/p12 nodes_in=1 nodes_out=1 decision=\"bound to n16\" ms=[0-9.]+", ext.log())
    # Deleted: its GPU memory is free again.  A pod that finished (Succeeded) frees it too.
    kube.delete(f"{PODS}/p12")
    kube.wait_for(lambda: inspect_used(ext) == {}, what="p12's memory freed")
    kube.create(PODS, aliyun_pod("done", 8))
    wait_bound(kube, "done", sched)
    kube.wait_for(lambda: sum(inspect_used(ext).values()) == 8, what="done counted")
    kube.set_pod_phase("default", "done", "Succeeded")
    kube.wait_for(lambda: inspect_used(ext) == {}, what="Succeeded pod freed")
    metrics = ext.get("/metrics")
    assert 'gpushare_extender_binds_total{outcome="ok"} 2' in metrics
    assert 'gpushare_gpu_memory_total_mib{node="n16"} 32768' in metrics


def test_node_added_after_start_is_used(kube):
    kube.create_node(aliyun_node("n8", 4, 8))
    ext = Extender(kube).wait_ready()
    sched = start_scheduler(kube, ext.port)
    kube.create(PODS, aliyun_pod("big", 12))
    ev = kube.wait_for(lambda: [e for e in kube.events_for("default", "big") if e["reason"] == "FailedScheduling"],
                       timeout=60, what="big FailedScheduling", proc=sched)
    assert "n8" in ev[-1]["message"] or "0/1 nodes" in ev[-1]["message"]
    kube.create_node(aliyun_node("n16", 2, 16))
    assert wait_bound(kube, "big", sched) == "n16"
    # A node removed is gone from the extender's state.
    kube.delete("/api/v1/nodes/n8")
    kube.wait_for(lambda: [n["name"] for n in ext.inspect()["nodes"]] == ["n16"], what="n8 removed")


@pytest.mark.parametrize("journal", [False, True])
def test_restart_does_not_overcommit(kube, tmp_path, journal):
    kube.create_node(aliyun_node("n16", 2, 16))
    args = ["--state", str(tmp_path / "state.jsonl")] if journal else []
    ext = Extender(kube, args=args).wait_ready()
    sched = start_scheduler(kube, ext.port)
    kube.create(PODS, aliyun_pod("a", 16))
    wait_bound(kube, "a", sched)
    ext.proc.kill()  # kill -9
    ext2 = Extender(kube, args=args, port=ext.port).wait_ready()
    assert inspect_used(ext2) == aliyun_usage(kube)  # rebuilt from the API server
    kube.create(PODS, aliyun_pod("b", 16))
    kube.create(PODS, aliyun_pod("c", 16))
    res = wait_settled(kube, ["b", "c"], sched)
    assert sorted(r[0] for r in res.values()) == ["bound", "pending"], res
    use = assert_no_overcommit(kube, {"n16": 16})
    assert use == {("n16", 0): 16, ("n16", 1): 16}


def replay_offline(tmp_path, nodes, binds, dialect="aliyun"):
    """The library's own decision for the same nodes and the same bind sequence: an offline
    extender (no API server) given each pod and the node the scheduler chose; returns the GPU
    each pod got."""
    import subprocess
    nf = tmp_path / "nodes.json"
    nf.write_text(json.dumps({"kind": "NodeList", "items": nodes}))
    port = free_port()
    p = subprocess.Popen([str(build_dir() / "examples" / "gpushare-extender"), "--nodes", str(nf), "--dialect", dialect,
                          "--port", str(port), "--binds", str(tmp_path / "offline-binds.jsonl"), "--in-cluster=false"],
                         stderr=subprocess.DEVNULL)
    try:
        conn = None
        deadline = time.monotonic() + 30
        while conn is None:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                c.request("GET", "/healthz")
                c.getresponse().read()
                conn = c
            except OSError:
                assert time.monotonic() < deadline, "offline extender did not start"
                time.sleep(0.05)
        for pod_json, node in binds:
            for verb, body in (("filter", {"Pod": pod_json, "NodeNames": [node]}),
                               ("bind", {"PodName": pod_json["metadata"]["name"], "PodNamespace": "default",
                                         "PodUID": pod_json["metadata"]["uid"], "Node": node})):
                conn.request("POST", f"/gpushare-scheduler/{verb}", json.dumps(body), {"Content-Type": "application/json"})
                r = json.loads(conn.getresponse().read())
                assert not r.get("Error"), (verb, r)
        out = {}
        for line in (tmp_path / "offline-binds.jsonl").read_text().splitlines():
            b = json.loads(line)
            out[b["name"]] = (b["node"], b["annotations"].get("ALIYUN_COM_GPU_MEM_IDX"))
        return out
    finally:
        p.kill()
        p.wait()


def test_100_pods_at_once_no_overcommit_and_same_as_library(kube, tmp_path):
    nodes = [aliyun_node(f"n{i}", 2, 16) for i in range(4)]
    for n in nodes:
        kube.create_node(n)
    journal = tmp_path / "state.jsonl"
    ext = Extender(kube, args=["--state", str(journal)]).wait_ready()
    sched = start_scheduler(kube, ext.port)
    sizes = [4, 8, 2, 6] * 25
    names = [f"p{i:03d}" for i in range(100)]
    for n, g in zip(names, sizes):
        kube.create(PODS, aliyun_pod(n, g))
    res = wait_settled(kube, names, sched, timeout=240)
    bound = [n for n, r in res.items() if r[0] == "bound"]
    pending = {n: r[1] for n, r in res.items() if r[0] == "pending"}
    assert bound and pending
    assert all(msg for msg in pending.values())
    use = assert_no_overcommit(kube, {f"n{i}": 16 for i in range(4)})
    # The cluster is full: no pending pod would fit on any GPU's free memory.
    free = [16 - use.get((f"n{i}", g), 0) for i in range(4) for g in range(2)]
    assert all(sizes[names.index(n)] > max(free) for n in pending)
    kube.wait_for(lambda: inspect_used(ext) == dict(use), what="/inspect equals the annotations")
    # Every GPU chosen equals the library's decision for the same node and bind order.  The
    # scheduler binds concurrently; the journal has the order the binds were committed in (a
    # failed bind's allocate is followed by its release, under the same lock).
    order = []
    for line in journal.read_text().splitlines():
        op = json.loads(line)
        if op["op"] in ("allocate", "reallocate"):
            pod_name = op["placement"]["request"].split("/")[1]
            order = [o for o in order if o[0] != pod_name] + [(pod_name, op["placement"]["node"])]
        elif op["op"] == "release":
            order = [o for o in order if o[0] != op["request"].split("/")[1]]
    assert sorted(p for p, _ in order) == sorted(bound)
    live = {p["metadata"]["name"]: p for p in kube.pods()}
    lib = replay_offline(tmp_path, nodes, [(live[p], n) for p, n in order])
    for p, _ in order:
        a = live[p]["metadata"]["annotations"]
        assert lib[p] == (live[p]["spec"]["nodeName"], a["ALIYUN_COM_GPU_MEM_IDX"]), p


def test_kill_9_during_binds_and_scheduler_restart(kube):
    for i in range(2):
        kube.create_node(aliyun_node(f"n{i}", 2, 16))
    ext = Extender(kube).wait_ready()
    sched = start_scheduler(kube, ext.port)
    names = [f"k{i:02d}" for i in range(24)]
    for n in names:
        kube.create(PODS, aliyun_pod(n, 4))
    kube.wait_for(lambda: ext.log().count("decision=\"bound to") >= 3, what="some binds", proc=sched)
    ext.proc.kill()  # kill -9 while the scheduler is binding
    sched.kill()
    ext2 = Extender(kube, port=ext.port).wait_ready()
    sched2 = start_scheduler(kube, ext2.port)
    res = wait_settled(kube, names, sched2, timeout=180)
    use = assert_no_overcommit(kube, {"n0": 16, "n1": 16})
    assert sum(1 for r in res.values() if r[0] == "bound") == 16  # 4 GPUs x 4 pods of 4 GiB
    assert sum(use.values()) == 64
    kube.wait_for(lambda: inspect_used(ext2) == dict(use), what="/inspect equals the annotations")


class LeaderProxy:
    """What a Service in front of the extender Deployment does: sends each request to a
    backend whose readiness probe (/readyz) passes."""

    def __init__(self, backends):
        self.backends, self.port = backends, free_port()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                for b in outer.backends:
                    if b.status("/readyz") != 200:
                        continue
                    try:
                        c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=30)
                        c.request("POST", self.path, body, {"Content-Type": "application/json"})
                        r = c.getresponse()
                        data, code = r.read(), r.status
                        break
                    except OSError:
                        continue
                else:
                    data, code = b'{"Error":"no ready extender"}', 503
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_leader_failover_two_extenders(kube):
    for i in range(2):
        kube.create_node(aliyun_node(f"n{i}", 2, 16))
    lease = ["--leader-elect", "--lease-namespace", "kube-system", "--lease-name", "gpushare-e2e",
             "--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "1s"]
    exts = [Extender(kube, args=lease) for _ in "ab"]
    kube.wait_for(lambda: sorted(e.status("/readyz") for e in exts) == [200, 503], timeout=60, what="one leader")
    time.sleep(2)
    assert sorted(e.status("/readyz") for e in exts) == [200, 503], "exactly one leader"
    leader = next(e for e in exts if e.status("/readyz") == 200)
    follower = next(e for e in exts if e is not leader)
    assert follower.status("/healthz") == 200 and follower.status("/inspect") == 503
    proxy = LeaderProxy(exts)
    try:
        sched = start_scheduler(kube, proxy.port)
        for i in range(4):
            kube.create(PODS, aliyun_pod(f"before{i}", 8))
        wait_settled(kube, [f"before{i}" for i in range(4)], sched)
        leader.proc.kill()  # kill -9: the lease is not released
        t0 = time.monotonic()
        kube.wait_for(lambda: follower.status("/readyz") == 200, timeout=30, what="the follower takes over", proc=follower.proc)
        assert time.monotonic() - t0 < 15
        assert inspect_used(follower) == aliyun_usage(kube)  # nothing lost: rebuilt from the API server
        names = [f"after{i}" for i in range(6)]
        for n in names:
            kube.create(PODS, aliyun_pod(n, 8))
        res = wait_settled(kube, names, sched)
        assert sum(1 for r in res.values() if r[0] == "bound") == 4  # 8 slots of 8 GiB, 4 used before
        use = assert_no_overcommit(kube, {"n0": 16, "n1": 16})
        assert sum(use.values()) == 64
    finally:
        proxy.close()


def test_tencent_dialect_bound_with_annotations(kube):
    kube.create_node(tencent_node("t1", 2, 16))
    ext = Extender(kube, dialect="tencent").wait_ready()
    sched = start_scheduler(kube, ext.port, dialect="tencent")
    kube.create(PODS, pod("tp", {"tencent.com/vcuda-core": "50", "tencent.com/vcuda-memory": "16"}))  # half a GPU, 4 GiB
    assert wait_bound(kube, "tp", sched) == "t1"
    a = pod_obj(kube, "tp")["metadata"]["annotations"]
    assert a["tencent.com/predicate-gpu-idx-0"] in ("0", "1")
    assert a["tencent.com/predicate-node"] == "t1"
    kube.wait_for(lambda: sum(inspect_used(ext).values()) == 4, what="/inspect counts tp")
    kube.delete(f"{PODS}/tp")
    kube.wait_for(lambda: inspect_used(ext) == {}, what="tp freed")


def test_hami_dialect_bound_with_annotations(kube):
    kube.create_node(hami_node("h1", 2, 16384))
    ext = Extender(kube, dialect="hami").wait_ready()
    sched = start_scheduler(kube, ext.port, dialect="hami")
    kube.create(PODS, pod("hp", {"nvidia.com/gpu": "1", "nvidia.com/gpumem": "4096", "nvidia.com/gpucores": "30"}))
    assert wait_bound(kube, "hp", sched) == "h1"
    a = pod_obj(kube, "hp")["metadata"]["annotations"]
    assert a["hami.io/vgpu-node"] == "h1"
    assert a["hami.io/bind-phase"] == "allocating"
    assert "GPU-h1-" in a["hami.io/vgpu-devices-allocated"]
    kube.wait_for(lambda: sum(inspect_used(ext).values()) == 4, what="/inspect counts hp")


def post(ext, verb, body):
    req = urllib.request.Request(f"{ext.url}/gpushare-scheduler/{verb}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_bind_checks_uid_and_a_retried_bind_does_not_double_allocate(kube):
    kube.create_node(aliyun_node("n16", 2, 16))
    ext = Extender(kube).wait_ready()
    p = kube.create(PODS, aliyun_pod("u", 8))
    assert post(ext, "filter", {"Pod": p, "NodeNames": ["n16"]})["NodeNames"] == ["n16"]
    # The pod was deleted and created again under the same name: the old UID is not bound.
    r = post(ext, "bind", {"PodName": "u", "PodNamespace": "default", "PodUID": "not-" + p["metadata"]["uid"], "Node": "n16"})
    assert "UID" in r["Error"] and "not bound" in r["Error"]
    assert not pod_obj(kube, "u")["spec"].get("nodeName")
    assert inspect_used(ext) == {}
    post(ext, "filter", {"Pod": p, "NodeNames": ["n16"]})
    ok = {"PodName": "u", "PodNamespace": "default", "PodUID": p["metadata"]["uid"], "Node": "n16"}
    assert post(ext, "bind", ok).get("Error", "") == ""
    assert pod_obj(kube, "u")["spec"]["nodeName"] == "n16"
    kube.wait_for(lambda: sum(inspect_used(ext).values()) == 8, what="u counted")
    # The scheduler retries (its call timed out): refused, and still counted once.
    post(ext, "filter", {"Pod": p, "NodeNames": ["n16"]})
    r = post(ext, "bind", ok)
    assert "already bound to node n16" in r["Error"]
    time.sleep(0.5)
    assert sum(inspect_used(ext).values()) == 8
    # A pod that does not exist: the API server's 404 comes back in Error, naming the call.
    ghost = aliyun_pod("ghost", 4)
    ghost["metadata"]["uid"] = "g"
    post(ext, "filter", {"Pod": ghost, "NodeNames": ["n16"]})
    r = post(ext, "bind", {"PodName": "ghost", "PodNamespace": "default", "PodUID": "g", "Node": "n16"})
    assert "GET /api/v1/namespaces/default/pods/ghost: 404 NotFound" in r["Error"]
    assert sum(inspect_used(ext).values()) == 8


def test_kubeconfig_client_certificate_inline_and_errors_name_the_call(kube):
    kube.create_node(aliyun_node("n16", 2, 16))
    port = free_port()
    ok = kube.spawn("extender-cert", [build_dir() / "examples" / "gpushare-extender", "--kubeconfig",
                                      kube.kubeconfig("admin-inline", inline=True), "--port", str(port)])
    kube.wait_for(lambda: "serving" in ok.log_text(), what="extender with an inline client certificate", proc=ok)
    bad = kube.spawn("extender-badtoken", [build_dir() / "examples" / "gpushare-extender", "--kubeconfig",
                                           kube.kubeconfig("nobody", token="not-a-token"), "--port", str(free_port())])
    line = kube.wait_for(lambda: re.search(r".*401.*", bad.log_text()), what="401 in the log", proc=bad).group(0)
    assert kube.server + ": GET /api/v1/" in line and "401 Unauthorized" in line
    bad_file = kube.dir / "broken-kubeconfig.yaml"
    bad_file.write_text("clusters: [\n")
    import subprocess
    r = subprocess.run([str(build_dir() / "examples" / "gpushare-extender"), "--kubeconfig", str(bad_file)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and str(bad_file) in r.stderr and "not YAML" in r.stderr


def test_tencent_decided_at_filter_bound_by_the_default_binder(kube):
    """tkestack gpu-admission's timing: the extender decides and annotates at filter and passes
    one node; kube-scheduler's own binder binds (no bindVerb)."""
    kube.create_node(tencent_node("t1", 2, 16))
    kube.create_node(tencent_node("t2", 2, 16))
    ext = Extender(kube, dialect="tencent", args=["--decide-at", "filter"]).wait_ready()
    sched = kube.start_scheduler(extenders=[extender_entry(ext.port, "tencent", bind=False)], name=f"kube-scheduler-{next(_serial)}")
    kube.wait_scheduler_ready(sched)
    names = [f"tf{i}" for i in range(5)]
    for n in names:
        kube.create(PODS, pod(n, {"tencent.com/vcuda-core": "100", "tencent.com/vcuda-memory": "64"}))  # a whole GPU
    res = wait_settled(kube, names, sched)
    assert sum(1 for r in res.values() if r[0] == "bound") == 4  # 4 GPUs
    used = set()
    for n, (state, node) in res.items():
        if state != "bound":
            continue
        a = pod_obj(kube, n)["metadata"]["annotations"]
        assert a["tencent.com/predicate-node"] == node  # the node decided at filter is the one bound
        gpu = (node, a["tencent.com/predicate-gpu-idx-0"])
        assert gpu not in used, f"GPU {gpu} given twice"
        used.add(gpu)
    assert "bind pod=" not in ext.log()
    kube.wait_for(lambda: sum(inspect_used(ext).values()) == 64, what="/inspect counts the 4 whole GPUs once")

"""End to end: the gpushare-extender binary on loopback, driven like kube-scheduler drives it.

Covers filter/prioritize/bind with the aliyun dialect, the annotations written on bind, the
inspect endpoint, recovery after a kill, and a bind that loses a race for the same GPU memory.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "build", "examples", "gpushare-extender")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node(name, count, gib_each):
    return {"metadata": {"name": name, "labels": {"aliyun.accelerator/nvidia_name": "Tesla-T4"}},
            "status": {"capacity": {"cpu": "32", "memory": "128Gi", "aliyun.com/gpu-count": str(count),
                                    "aliyun.com/gpu-mem": str(count * gib_each)},
                       "allocatable": {"cpu": "32", "memory": "128Gi", "aliyun.com/gpu-count": str(count),
                                       "aliyun.com/gpu-mem": str(count * gib_each)}}}


def pod(name, gib):
    return {"metadata": {"name": name, "namespace": "ns", "uid": "uid-" + name},
            "spec": {"containers": [{"name": "c", "resources": {"limits": {"aliyun.com/gpu-mem": str(gib)}}}]}}


class Extender:
    def __init__(self, tmp_path):
        self.port = free_port()
        self.state = str(tmp_path / "state.jsonl")
        self.binds = str(tmp_path / "binds.jsonl")
        self.nodes = str(tmp_path / "nodes.json")
        with open(self.nodes, "w") as f:
            json.dump({"items": [node("a", 2, 16), node("b", 1, 16)]}, f)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([BINARY, "--dialect", "aliyun", "--policy", "best-fit", "--port", str(self.port),
                                      "--state", self.state, "--binds", self.binds, "--nodes", self.nodes],
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("extender did not start")

    def post(self, verb, body):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/gpushare-scheduler/{verb}",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def inspect(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/inspect", timeout=5) as r:
            return json.loads(r.read())

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def extender(tmp_path):
    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is not built (run make build)")
    e = Extender(tmp_path)
    e.start()
    yield e
    if e.proc and e.proc.poll() is None:
        e.kill()


def test_help_lists_flags():
    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is not built")
    out = subprocess.run([BINARY, "--help"], capture_output=True, text=True)
    for flag in ("--dialect", "--policy", "--address", "--port", "--url-prefix", "--state"):
        assert flag in out.stdout
    bad = subprocess.run([BINARY, "--dialect", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown dialect 'nope'" in bad.stderr


def test_filter_prioritize_bind_inspect_and_recover(extender):
    args = {"Pod": pod("p1", 10), "NodeNames": ["a", "b"]}
    f = extender.post("filter", args)
    assert f["NodeNames"] == ["a", "b"] and f["Error"] == ""
    # lower-case field names are accepted, as Go's decoder does
    assert extender.post("filter", {"pod": pod("p1", 10), "nodenames": ["a"]})["NodeNames"] == ["a"]
    pr = extender.post("prioritize", args)
    assert {h["Host"] for h in pr} == {"a", "b"} and all(0 <= h["Score"] <= 10 for h in pr)
    b = extender.post("bind", {"PodName": "p1", "PodNamespace": "ns", "PodUID": "uid-p1", "Node": "b"})
    assert b == {"Error": ""}
    with open(extender.binds) as fh:
        rec = json.loads(fh.readline())
    assert rec["node"] == "b" and rec["annotations"]["ALIYUN_COM_GPU_MEM_IDX"] == "0"
    assert rec["annotations"]["ALIYUN_COM_GPU_MEM_POD"] == "10" and rec["annotations"]["ALIYUN_COM_GPU_MEM_DEV"] == "16"
    # b has 6 GiB left: a 8 GiB pod fails there with gpushare's explanation
    f2 = extender.post("filter", {"Pod": pod("p2", 8), "NodeNames": ["a", "b"]})
    assert f2["NodeNames"] == ["a"]
    assert "no single GPU has 8192 MiB free (largest free 6144 MiB)" in f2["FailedNodes"]["b"]
    before = extender.inspect()
    assert before["total"]["mib_used"] == 10 * 1024 and before["pending_pods"] == ["ns/p2"]
    # Kill -9 and restart: the journal restores the allocation, nothing lost or duplicated.
    extender.kill()
    extender.start()
    after = extender.inspect()
    assert after["total"] == before["total"]
    assert after["nodes"] == before["nodes"]


def test_bind_rechecks_capacity(extender):
    for name in ("x", "y"):
        assert extender.post("filter", {"Pod": pod(name, 12), "NodeNames": ["b"]})["NodeNames"] == ["b"]
    assert extender.post("bind", {"PodName": "x", "PodNamespace": "ns", "Node": "b"}) == {"Error": ""}
    lost = extender.post("bind", {"PodName": "y", "PodNamespace": "ns", "Node": "b"})
    assert "no single GPU has 12288 MiB free" in lost["Error"]
    assert extender.inspect()["total"]["mib_used"] == 12 * 1024


def test_malformed_and_slow_requests(extender):
    req = urllib.request.Request(f"http://127.0.0.1:{extender.port}/gpushare-scheduler/filter", data=b"{nope")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 400 and "not JSON" in json.loads(e.value.read())["Error"]
    # A client that sends half a request and stalls does not block others.
    stalled = socket.create_connection(("127.0.0.1", extender.port))
    stalled.sendall(b"POST /gpushare-scheduler/filter HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
    f = extender.post("filter", {"Pod": pod("q", 1), "NodeNames": ["a"]})
    assert f["NodeNames"] == ["a"]
    stalled.close()


def test_recovers_from_pod_annotations(tmp_path):
    """--pods: allocations are rebuilt from the bind annotations in a pod list."""
    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is not built")
    e = Extender(tmp_path)
    bound = pod("old", 4)
    bound["metadata"]["annotations"] = {"ALIYUN_COM_GPU_MEM_IDX": "1", "ALIYUN_COM_GPU_MEM_POD": "4",
                                        "ALIYUN_COM_GPU_MEM_DEV": "16", "ALIYUN_COM_GPU_MEM_ASSIGNED": "true"}
    bound["spec"]["nodeName"] = "a"
    bound["status"] = {"phase": "Running"}
    broken = pod("broken", 4)
    broken["metadata"]["annotations"] = {"ALIYUN_COM_GPU_MEM_IDX": "7", "ALIYUN_COM_GPU_MEM_POD": "4"}
    broken["spec"]["nodeName"] = "a"
    broken["status"] = {"phase": "Running"}
    pods_file = tmp_path / "pods.json"
    pods_file.write_text(json.dumps({"items": [bound, broken]}))
    port = e.port
    e.proc = subprocess.Popen([BINARY, "--dialect", "aliyun", "--port", str(port), "--state", e.state,
                               "--binds", e.binds, "--nodes", e.nodes, "--pods", str(pods_file)],
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while True:
            try:
                doc = e.inspect()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        a = doc["nodes"][0]
        assert a["name"] == "a" and a["gpus"][1]["mib_used"] == 4096 and a["gpus"][0]["mib_used"] == 0
    finally:
        e.kill()
    err = e.proc.stderr.read()
    assert "1 allocations recovered from pod annotations" in err
    assert "not recovered: " in err and "GPU 7" in err

"""End to end: the gpushare-extender binary on loopback, driven like kube-scheduler drives it.

Covers filter/prioritize/bind with the aliyun dialect, the annotations written on bind, the
inspect endpoint, recovery after a kill, and a bind that loses a race for the same GPU memory.
"""

import http.client
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

    def start(self, *extra):
        self.proc = subprocess.Popen([BINARY, "--dialect", "aliyun", "--policy", "best-fit", "--port", str(self.port),
                                      "--state", self.state, "--binds", self.binds, "--nodes", self.nodes, *extra],
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


def test_kill_and_restart_mid_replay_loses_and_duplicates_nothing(tmp_path):
    """Four clients schedule 90 pods (filter, prioritize, bind) while the extender is killed with
    SIGKILL six times and restarted from its journal. A client whose connection breaks retries the
    pod from filter once the extender is back. At the end every acknowledged bind is allocated,
    nothing else is, no pod holds two allocations, no GPU is over-allocated, and the state read
    back from the journal after one more kill is the same."""
    import random
    import threading

    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is not built (run make build)")
    e = Extender(tmp_path)
    names = [f"n{i}" for i in range(6)]
    with open(e.nodes, "w") as f:
        json.dump({"items": [node(n, 4, 16) for n in names]}, f)
    rng = random.Random(7)
    sizes = {f"p{k:03d}": rng.choice([2, 3, 4, 6, 8, 12]) for k in range(90)}  # GiB; ~1.2x capacity
    todo = sorted(sizes)
    lock = threading.Lock()
    acked, refused, retries = {}, set(), [0]
    up = threading.Event()
    e.start()
    up.set()

    def schedule_one(name):
        while True:
            up.wait()
            try:
                f = e.post("filter", {"Pod": pod(name, sizes[name]), "NodeNames": names})
                if not f["NodeNames"]:
                    return None
                pr = e.post("prioritize", {"Pod": pod(name, sizes[name]), "NodeNames": f["NodeNames"]})
                best = max(pr, key=lambda h: (h["Score"], h["Host"]))["Host"]
                b = e.post("bind", {"PodName": name, "PodNamespace": "ns", "PodUID": "uid-" + name, "Node": best})
                if b["Error"] == "":
                    return best
                # Lost a race for the capacity (or the pod was forgotten by a restart): try again.
            except (OSError, ValueError, http.client.HTTPException):  # connection cut by the kill
                with lock:
                    retries[0] += 1
                time.sleep(0.01)

    errors = []

    def client():
        while True:
            with lock:
                if not todo:
                    return
                name = todo.pop()
            try:
                where = schedule_one(name)
            except Exception as ex:  # a client must never die: that would hide a pod
                errors.append(f"{name}: {ex!r}")
                return
            with lock:
                if where is None:
                    refused.add(name)
                else:
                    acked[name] = where

    workers = [threading.Thread(target=client) for _ in range(4)]
    for w in workers:
        w.start()
    kills = 0
    try:
        # Kill after every ~10 acknowledged binds, while the other clients are mid-request.
        while any(w.is_alive() for w in workers) and kills < 6:
            with lock:
                progress = len(acked) + len(refused)
            if progress < 10 * (kills + 1):
                time.sleep(0.001)
                continue
            up.clear()
            e.kill()
            kills += 1
            e.start()
            up.set()
        for w in workers:
            w.join(timeout=60)
        assert not any(w.is_alive() for w in workers), "a client never finished"
        state = e.inspect()
        e.kill()
        e.start()
        again = e.inspect()
    finally:
        if e.proc and e.proc.poll() is None:
            e.kill()

    assert not errors
    assert kills == 6 and retries[0] > 0, (kills, retries)
    print(f"{kills} kills, {retries[0]} interrupted requests retried, {len(acked)} bound, {len(refused)} refused")
    assert set(acked) | refused == set(sizes) and not set(acked) & refused
    held = {}
    for n in state["nodes"]:
        for p in n["pods"]:
            pod_name = p if isinstance(p, str) else p.get("name", p.get("pod"))
            pod_name = pod_name.split("/")[-1]
            assert pod_name not in held, f"{pod_name} holds two allocations"
            held[pod_name] = n["name"]
        for g in n["gpus"]:
            assert g["mib_used"] <= g["mib_total"]
    assert held == acked, "allocations differ from the acknowledged binds"
    assert state["total"]["mib_used"] == sum(sizes[p] for p in acked) * 1024
    assert again["nodes"] == state["nodes"] and again["total"] == state["total"]
    # Every refused pod really fitted nowhere when refused: at the end none of them fits either.
    free = {(n["name"], g["index"] if "index" in g else k): g["mib_total"] - g["mib_used"]
            for n in state["nodes"] for k, g in enumerate(n["gpus"])}
    for p in refused:
        assert all(v < sizes[p] * 1024 for v in free.values())


def test_truncated_requests_time_out(tmp_path):
    """With --read-timeout 1, connections that send half a request (or nothing) are closed by the
    server (answered 400 or just closed), while a well-behaved client keeps being served. The
    15 s socket timeout only detects a connection held open for good; no timing is asserted."""
    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is not built")
    e = Extender(tmp_path)
    e.start("--read-timeout", "1")
    try:
        half = socket.create_connection(("127.0.0.1", e.port))
        half.sendall(b"POST /gpushare-scheduler/bind HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"Pod")
        silent = socket.create_connection(("127.0.0.1", e.port))
        assert e.post("filter", {"Pod": pod("ok", 1), "NodeNames": ["a"]})["NodeNames"] == ["a"]
        for s in (half, silent):
            s.settimeout(15)
            try:
                data = s.recv(4096)  # the server's answer (if any) then EOF
                while data:
                    data = s.recv(4096)
            except ConnectionResetError:
                pass
            s.close()
        assert e.inspect()["total"]["mib_used"] == 0  # the half bind changed nothing
    finally:
        e.kill()

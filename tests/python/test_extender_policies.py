"""gpushare-extender with catalogue policies, end to end on loopback: --policy best decides and
survives a kill (the learned workload is rebuilt from the journal), --dialect aliyun --policy
aliyun-binpack decides as the Aliyun extender, --help lists the catalogue, a bad --topology file
is refused with a clear error."""
import json
import os
import subprocess

import pytest

from test_extender_service import BINARY, Extender, pod


@pytest.fixture
def ext(tmp_path):
    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is not built (run make build)")
    e = Extender(tmp_path)
    yield e
    if e.proc and e.proc.poll() is None:
        e.kill()


def test_help_lists_the_catalogue():
    out = subprocess.run([BINARY, "--help"], capture_output=True, text=True).stdout
    for name in ("best-fit", "fgd (FGD)", "best (HostReservingFGD", "aliyun-binpack (aliyun)", "nvidia",
                 "topology-aware", "--topology"):
        assert name in out
    assert "paper-best-fit" not in out  # simulator only


def test_policy_best_decides_and_restarts(ext):
    ext.start("--policy", "best")
    for k in range(3):
        name = f"p{k}"
        f = ext.post("filter", {"Pod": pod(name, 4), "NodeNames": ["a", "b"]})
        assert f["Error"] == "" and f["NodeNames"]
        pr = ext.post("prioritize", {"Pod": pod(name, 4), "NodeNames": f["NodeNames"]})
        best = max(pr, key=lambda h: h["Score"])["Host"]
        assert ext.post("bind", {"PodName": name, "PodNamespace": "ns", "PodUID": "u", "Node": best}) == {"Error": ""}
    before = ext.inspect()
    assert before["total"]["mib_used"] == 3 * 4 * 1024
    ext.kill()
    ext.start("--policy", "best")
    assert ext.inspect()["total"] == before["total"]
    assert "policy best" in ext.proc.stderr.readline()


def test_aliyun_binpack_takes_the_least_free_gpu_that_fits(ext):
    ext.start("--policy", "aliyun-binpack")
    assert ext.post("filter", {"Pod": pod("x", 10), "NodeNames": ["a"]})["NodeNames"] == ["a"]
    assert ext.post("bind", {"PodName": "x", "PodNamespace": "ns", "Node": "a"}) == {"Error": ""}
    # a: GPU0 has 6 GiB free, GPU1 16; b: 16. A 5 GiB pod ranks a first and binds on a's GPU0.
    pr = ext.post("prioritize", {"Pod": pod("y", 5), "NodeNames": ["a", "b"]})
    scores = {h["Host"]: h["Score"] for h in pr}
    assert scores["a"] > scores["b"]
    assert ext.post("bind", {"PodName": "y", "PodNamespace": "ns", "Node": "a"}) == {"Error": ""}
    with open(ext.binds) as fh:
        recs = [json.loads(line) for line in fh]
    assert recs[-1]["annotations"]["ALIYUN_COM_GPU_MEM_IDX"] == recs[0]["annotations"]["ALIYUN_COM_GPU_MEM_IDX"]


def test_bad_topology_file_is_refused(tmp_path):
    bad = tmp_path / "topo.json"
    bad.write_text(json.dumps({"a": {"gpus": "two"}}))
    r = subprocess.run([BINARY, "--policy", "nvidia", "--topology", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "node 'a'" in r.stderr and "gpus" in r.stderr
    r = subprocess.run([BINARY, "--policy", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown name 'nope'" in r.stderr

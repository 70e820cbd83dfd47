"""gpushare.k8s: pod parsing per dialect and recover_cluster from Python."""
import json

import pytest

import gpushare as gs
from gpushare import k8s


def _pod(name, limits, annotations=None, node=None):
    pod = {
        "metadata": {"name": name, "namespace": "ns", "annotations": annotations or {}},
        "spec": {"containers": [{"name": f"c{i}", "resources": {"limits": l}} for i, l in enumerate(limits)]},
    }
    if node:
        pod["spec"]["nodeName"] = node
    return pod


def test_pod_request_dialects():
    pr = k8s.pod_request(_pod("p", [{"aliyun.com/gpu-mem": "3"}, {"aliyun.com/gpu-mem": 4}]), dialect="aliyun")
    assert pr.request.gpu_mib == 7 * 1024
    assert [c["gpu_mib"] for c in pr.containers] == [3072, 4096]
    assert k8s.pod_request(_pod("p", [{"aliyun.com/gpu-mem": "3"}]), "aliyun", aliyun_unit="MiB").request.gpu_mib == 3
    t = k8s.pod_request(_pod("p", [{"tencent.com/vcuda-core": "50", "tencent.com/vcuda-memory": "4"}]), dialect="tencent")
    assert (t.request.gpu_count, t.request.gpu_milli, t.request.gpu_mib) == (1, 500, 1024)
    h = k8s.pod_request(json.dumps(_pod("p", [{"nvidia.com/gpu": "2", "nvidia.com/gpumem": "1e3"}])), dialect="hami")
    assert (h.request.gpu_count, h.request.gpu_mib) == (2, 1000)
    assert "PodRequest(" in repr(h)


def test_bad_pod_names_object_and_field():
    with pytest.raises(gs.InvalidArgumentError, match=r"ns/p.*aliyun.com/gpu-mem"):
        k8s.pod_request(_pod("p", [{"aliyun.com/gpu-mem": "-1"}]), dialect="aliyun")
    with pytest.raises(gs.ParseError, match="metadata"):
        k8s.pod_request({"spec": {}}, dialect="aliyun")
    with pytest.raises(gs.InvalidArgumentError, match="dialect"):
        k8s.pod_request(_pod("p", []), dialect="amd")


def test_recover_cluster_reports_unplaced():
    nodes = [{"metadata": {"name": "n0"},
              "status": {"capacity": {"aliyun.com/gpu-mem": "32", "aliyun.com/gpu-count": "2"}}}]
    ok = _pod("ok", [{"aliyun.com/gpu-mem": "4"}], {"ALIYUN_COM_GPU_MEM_IDX": "1", "ALIYUN_COM_GPU_MEM_POD": "4"}, "n0")
    bad = _pod("bad", [{"aliyun.com/gpu-mem": "4"}], {"ALIYUN_COM_GPU_MEM_IDX": "5", "ALIYUN_COM_GPU_MEM_POD": "4"}, "n0")
    r = k8s.recover_cluster(nodes, {"items": [ok, bad]}, dialect="aliyun")
    assert len(r.placements) == 1 and r.placements[0].gpus == [1]
    assert r.cluster.free_mib(0, 1) == 16 * 1024 - 4 * 1024
    assert r.unplaced[0][0] == "ns/bad" and "GPU 5" in r.unplaced[0][1]
    assert "RecoverResult(" in repr(r)

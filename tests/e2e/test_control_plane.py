"""The harness itself: the real control plane answers, enforces RBAC, and the real scheduler
binds a pod with its default binder. If these fail, every other end-to-end result is moot."""
import pytest

from kubecluster import ApiError


def node(name, cpu="8", memory="32Gi", extra=None):
    alloc = {"cpu": cpu, "memory": memory, "pods": "110", **(extra or {})}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"capacity": dict(alloc), "allocatable": dict(alloc)}}


def pod(name, requests=None, annotations=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
            "spec": {"containers": [{"name": "main", "image": "registry.invalid/none",
                                     "resources": {"limits": dict(requests or {})}}]}}


def test_api_server_version_and_rbac(kube):
    v = kube.get("/version")
    assert v["gitVersion"] == "v1.20.2"
    # A token the API server does not know is refused; the scheduler's token may list nodes
    # (bootstrap RBAC) but not create them.
    with pytest.raises(ApiError) as e:
        kube.request("GET", "/api/v1/nodes", token="not-a-token")
    assert e.value.status == 401
    with pytest.raises(ApiError) as e:
        kube.request("POST", "/api/v1/nodes", node("x"), token=kube.tokens["system:kube-scheduler"])
    assert e.value.status == 403


def test_node_status_written_like_a_kubelet(kube):
    n = kube.create_node(node("n1", extra={"aliyun.com/gpu-mem": "32", "aliyun.com/gpu-count": "2"}))
    assert n["status"]["allocatable"]["aliyun.com/gpu-mem"] == "32"
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])


def test_default_scheduler_binds_a_pod(kube):
    kube.create_node(node("n1"))
    sched = kube.start_scheduler()
    kube.create("/api/v1/namespaces/default/pods", pod("p1", {"cpu": "1"}))
    bound = kube.wait_for(lambda: kube.get("/api/v1/namespaces/default/pods/p1")["spec"].get("nodeName"),
                          timeout=60, what="p1 bound", proc=sched)
    assert bound == "n1"
    # Too big for any node: stays Pending with the scheduler's reason in an event.
    kube.create("/api/v1/namespaces/default/pods", pod("p2", {"cpu": "64"}))
    ev = kube.wait_for(lambda: [e for e in kube.events_for("default", "p2") if e["reason"] == "FailedScheduling"],
                       timeout=60, what="p2 FailedScheduling event", proc=sched)
    assert "Insufficient cpu" in ev[0]["message"]
    assert not kube.get("/api/v1/namespaces/default/pods/p2")["spec"].get("nodeName")

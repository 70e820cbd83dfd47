"""docs/DEPLOY.md followed on the real control plane: the extender runs with the arguments of
deploy/extender/deployment.yaml under the ServiceAccount of deploy/extender/rbac.yaml (its RBAC,
not an admin's), kube-scheduler runs with deploy/scheduler/kube-scheduler-config-v1beta1.yaml,
and a GPU pod ends up bound to the right node with the Aliyun annotations."""
import urllib.request

from conftest import build_dir
from kubecluster import REPO, free_port, load_manifest

DEPLOY = REPO / "deploy"
GIB = 1024


def extender_bin():
    p = build_dir() / "examples" / "gpushare-extender"
    assert p.is_file(), f"{p} is missing: make build"
    return p


def aliyun_node(name, gpus, gib_each):
    alloc = {"cpu": "32", "memory": "128Gi", "pods": "110", "aliyun.com/gpu-mem": str(gpus * gib_each),
             "aliyun.com/gpu-count": str(gpus)}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"capacity": dict(alloc), "allocatable": dict(alloc)}}


def gpu_pod(name, gib):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "main", "image": "registry.invalid/none",
                                     "resources": {"limits": {"aliyun.com/gpu-mem": str(gib)}}}]}}


def deployment_args():
    dep = [o for o in load_manifest(DEPLOY / "extender" / "deployment.yaml") if o["kind"] == "Deployment"][0]
    return dep["spec"]["template"]["spec"]["containers"][0]["args"]


def test_deploy_walkthrough_binds_a_gpu_pod(kube):
    kube.ensure_file(DEPLOY / "extender" / "rbac.yaml")
    kube.ensure_file(DEPLOY / "extender" / "deployment.yaml")
    kc = kube.service_account_kubeconfig("kube-system", "gpushare-scheduler-extender")
    port = free_port()
    # The Deployment's own arguments; only where it listens changes (loopback, a free port), and
    # the ServiceAccount's kubeconfig stands in for the pod's mounted token.
    args = [a for a in deployment_args() if not a.startswith(("--address", "--port"))]
    ext = kube.spawn("gpushare-extender", [extender_bin(), *args, "--address=127.0.0.1", f"--port={port}",
                                           "--kubeconfig", kc])
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    kube.wait_for(ready, timeout=60, what="extender ready (leader, synced)", proc=ext)
    lease = kube.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases")["items"]
    assert any(l["spec"].get("holderIdentity") for l in lease), lease

    text = (DEPLOY / "scheduler" / "kube-scheduler-config-v1beta1.yaml").read_text()
    text = text.replace("/etc/kubernetes/scheduler.conf", str(kube.kubeconfig("scheduler", token=kube.tokens["system:kube-scheduler"])))
    text = text.replace("http://gpushare-scheduler-extender.kube-system.svc:39999", base)
    text += f"healthzBindAddress: 127.0.0.1:{free_port()}\nmetricsBindAddress: 127.0.0.1:{free_port()}\n"
    cfg = kube.dir / "walkthrough-scheduler.yaml"
    cfg.write_text(text)
    sched = kube.spawn("kube-scheduler-walkthrough", [kube.bin_dir / "kube-scheduler", "--config", cfg, "--port", "0",
                                                      "--secure-port", free_port(), "--bind-address", "127.0.0.1",
                                                      "--authentication-skip-lookup", "--leader-elect=false", "--v", "2"])
    kube.create_node(aliyun_node("n16", 2, 16))
    kube.create_node(aliyun_node("n8", 4, 8))
    kube.create("/api/v1/namespaces/default/pods", gpu_pod("p12", 12))
    node = kube.wait_for(lambda: kube.get("/api/v1/namespaces/default/pods/p12")["spec"].get("nodeName"),
                         timeout=90, what="p12 bound", proc=sched)
    assert node == "n16"
    ann = kube.get("/api/v1/namespaces/default/pods/p12")["metadata"]["annotations"]
    assert ann["ALIYUN_COM_GPU_MEM_POD"] == "12" and ann["ALIYUN_COM_GPU_MEM_DEV"] == "16"
    assert ann["ALIYUN_COM_GPU_MEM_IDX"] in ("0", "1") and ann["ALIYUN_COM_GPU_MEM_ASSIGNED"] == "false"
    # Too big for any single GPU: Pending, with the extender's reason in the scheduler's event.
    kube.create("/api/v1/namespaces/default/pods", gpu_pod("p20", 20))
    ev = kube.wait_for(lambda: [e for e in kube.events_for("default", "p20") if e["reason"] == "FailedScheduling"],
                       timeout=60, what="p20 FailedScheduling", proc=sched)
    assert "GPU" in ev[-1]["message"], ev[-1]["message"]
    assert not kube.get("/api/v1/namespaces/default/pods/p20")["spec"].get("nodeName")
    ext_log = ext.log_text()
    assert "p12" in ext_log  # -v=2: one line per request

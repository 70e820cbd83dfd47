"""gpushare-device-plugin against the real kube-apiserver: deploy/device-plugin is accepted and its
ServiceAccount may do exactly what the plugin does; three pods on one node, two of the same size,
annotated as the extender binds them (aliyun dialect) and bound through the Binding API; the test
kubelet (tests/device_plugin/test_kubelet.hpp, C++ gRPC) admits them in another order than they
were bound and every container gets the GPU its pod was bound to, the plugin patching each pod
through the API server as its ServiceAccount."""
import os
import subprocess
import time
from pathlib import Path


from conftest import build_dir
from kubecluster import REPO, load_manifest

DEPLOY = REPO / "deploy" / "device-plugin"


def _apply(kube):
    for f in sorted(DEPLOY.glob("*.yaml")):
        kube.ensure_file(f)


def test_manifests_accepted_and_rbac_is_exact(kube):
    _apply(kube)
    ds = kube.get("/apis/apps/v1/namespaces/kube-system/daemonsets/gpushare-device-plugin")
    spec = ds["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "gpushare-device-plugin"
    assert spec["nodeSelector"] == {"gpushare.io/device-plugin": "aliyun"}
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    token = kube.service_account_token("kube-system", "gpushare-device-plugin", 600)
    for verb in ("get", "list", "watch", "patch"):
        assert kube.allowed(token, verb, "pods", namespace="default"), verb
    assert not kube.allowed(token, "delete", "pods", namespace="default")
    assert not kube.allowed(token, "update", "pods", namespace="default")
    assert not kube.allowed(token, "create", "pods", subresource="binding", namespace="default")
    assert not kube.allowed(token, "patch", "nodes", namespace="")


def _gpu_pod(name, units):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"schedulerName": "gpushare-none", "containers": [{
                "name": "main", "image": "busybox",
                "resources": {"limits": {"aliyun.com/gpu-mem": str(units)}}}]}}


def _bind_as_extender(kube, name, node, gpu, units, per_gpu):
    """What gpushare-extender's aliyun dialect writes on bind (k8s/annotations.hpp
    aliyun_bind_annotations), then the Binding."""
    kube.patch(f"/api/v1/namespaces/default/pods/{name}", {"metadata": {"annotations": {
        "ALIYUN_COM_GPU_MEM_IDX": str(gpu), "ALIYUN_COM_GPU_MEM_POD": str(units),
        "ALIYUN_COM_GPU_MEM_DEV": str(per_gpu), "ALIYUN_COM_GPU_MEM_ASSIGNED": "false",
        "ALIYUN_COM_GPU_MEM_ASSUME_TIME": str(time.time_ns())}}})
    kube.create(f"/api/v1/namespaces/default/pods/{name}/binding",
                {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                 "target": {"apiVersion": "v1", "kind": "Node", "name": node}})


def _run_test_kubelet(kube, node, plan):
    """The C++ test kubelet (test_device_plugin_grpc "[e2e]") with gpushare-device-plugin as its
    ServiceAccount; `plan` is [(pod, units, gpu)] in the order the kubelet admits the pods."""
    kc = kube.service_account_kubeconfig("kube-system", "gpushare-device-plugin")
    exe = build_dir() / "tests" / "test_device_plugin_grpc"
    assert exe.exists(), f"{exe} missing: build the test_device_plugin_grpc target first"
    env = dict(os.environ, GPUSHARE_E2E_KUBECONFIG=str(kc), GPUSHARE_E2E_NODE=node,
               GPUSHARE_E2E_PLAN=",".join(f"{p}:{u}:{g}" for p, u, g in plan))
    r = subprocess.run([str(exe), "-w", "NoTests", "[e2e]"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]


def _check_patched_in_order(kube, order):
    ann = {p["metadata"]["name"]: p["metadata"]["annotations"] for p in kube.pods()}
    for n in order:
        assert ann[n]["ALIYUN_COM_GPU_MEM_ASSIGNED"] == "true", n
    t = [int(ann[n]["ALIYUN_COM_GPU_MEM_ASSIGN_TIME"]) for n in order]
    assert t == sorted(t), "patched in the kubelet's admission order"
    return ann


def test_three_pods_allocate_in_another_order_than_binding(kube):
    """Annotations written through the API as the extender's aliyun dialect writes them."""
    _apply(kube)
    kube.create_node({"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": "gpu-node-1", "labels": {"gpushare.io/device-plugin": "aliyun"}},
                      "status": {"capacity": {"aliyun.com/gpu-mem": "6", "aliyun.com/gpu-count": "2",
                                              "cpu": "8", "memory": "32Gi", "pods": "110"},
                                 "allocatable": {"aliyun.com/gpu-mem": "6", "aliyun.com/gpu-count": "2",
                                                 "cpu": "8", "memory": "32Gi", "pods": "110"}}})
    # Another node's pod with the same size must never be taken.
    kube.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-node-2"},
                      "status": {"capacity": {"aliyun.com/gpu-mem": "6"}, "allocatable": {"aliyun.com/gpu-mem": "6"}}})
    for name, units in (("a", 1), ("b", 1), ("c", 2), ("other", 1)):
        kube.create("/api/v1/namespaces/default/pods", _gpu_pod(name, units))
    _bind_as_extender(kube, "other", "gpu-node-2", 0, 1, 3)
    for name, gpu, units in (("a", 0, 1), ("b", 1, 1), ("c", 1, 2)):
        _bind_as_extender(kube, name, "gpu-node-1", gpu, units, 3)
    _run_test_kubelet(kube, "gpu-node-1", [("b", 1, 1), ("c", 2, 1), ("a", 1, 0)])
    _check_patched_in_order(kube, ["b", "c", "a"])
    other = {p["metadata"]["name"]: p for p in kube.pods()}["other"]["metadata"]["annotations"]
    assert other["ALIYUN_COM_GPU_MEM_ASSIGNED"] == "false"
    assert "ALIYUN_COM_GPU_MEM_ASSIGN_TIME" not in other


def test_extender_binds_then_device_plugin_allocates_out_of_order(kube):
    """The whole chain: the real kube-scheduler calls the real gpushare-extender (aliyun, best-fit),
    which binds three pods to one node through the API server; the test kubelet admits them in
    another order and the plugin gives each container the GPU the extender wrote on its pod."""
    from test_extender_cluster import Extender, aliyun_node, aliyun_pod, start_scheduler, wait_bound

    _apply(kube)
    kube.create_node(aliyun_node("gpu-node-1", 2, 3))
    ext = Extender(kube, args=("--policy", "best-fit")).wait_ready()
    sched = start_scheduler(kube, ext.port)
    units = {"a": 2, "b": 2, "c": 1}
    for name in ("a", "b", "c"):  # bound one after the other: a, b, c
        kube.create("/api/v1/namespaces/default/pods", aliyun_pod(name, units[name]))
        assert wait_bound(kube, name, sched) == "gpu-node-1"
    gpu = {p["metadata"]["name"]: int(p["metadata"]["annotations"]["ALIYUN_COM_GPU_MEM_IDX"]) for p in kube.pods()}
    assert gpu["a"] != gpu["b"], f"the two 2 GiB pods should be on different GPUs: {gpu}"
    order = ["b", "c", "a"]
    _run_test_kubelet(kube, "gpu-node-1", [(n, units[n], gpu[n]) for n in order])
    _check_patched_in_order(kube, order)


def test_gpu_operator_binding_grants_the_operators_service_account(kube):
    """deploy/device-plugin/gpu-operator/rbac-gpu-operator.yaml gives the gpu-operator's device-plugin
    ServiceAccount exactly gpushare's rights (the ClusterPolicy patch itself needs the operator's
    CRD, which is not installed here)."""
    _apply(kube)
    for obj in ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpu-operator"}},
                {"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": {"name": "nvidia-device-plugin", "namespace": "gpu-operator"}}):
        kube.ensure_object(obj, namespace="gpu-operator")
    kube.ensure_file(DEPLOY / "gpu-operator" / "rbac-gpu-operator.yaml")
    token = kube.service_account_token("gpu-operator", "nvidia-device-plugin", 600)
    for verb in ("get", "list", "watch", "patch"):
        assert kube.allowed(token, verb, "pods", namespace="default"), verb
    assert not kube.allowed(token, "delete", "pods", namespace="default")


def test_node_found_from_own_pod_when_node_name_is_unset(kube, tmp_path):
    """As in gpu-operator's DaemonSet (no fieldRef in its env): the plugin reads its own pod
    ($HOSTNAME in $POD_NAMESPACE) as its ServiceAccount and takes spec.nodeName."""
    _apply(kube)
    kube.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-node-7"},
                      "status": {"capacity": {"aliyun.com/gpu-mem": "6"}, "allocatable": {"aliyun.com/gpu-mem": "6"}}})
    kube.create("/api/v1/namespaces/default/pods", _gpu_pod("plugin-pod-x", 1))
    kube.create("/api/v1/namespaces/default/pods/plugin-pod-x/binding",
                {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "plugin-pod-x"},
                 "target": {"apiVersion": "v1", "kind": "Node", "name": "gpu-node-7"}})
    gpus = tmp_path / "gpus.json"
    gpus.write_text('{"gpus": [{"uuid": "GPU-1", "memory_mib": 4096}]}')
    kc = kube.service_account_kubeconfig("kube-system", "gpushare-device-plugin")
    env = {k: v for k, v in os.environ.items() if k != "NODE_NAME"}
    env.update(HOSTNAME="plugin-pod-x", POD_NAMESPACE="default")
    proc = kube.spawn("gpushare-device-plugin", [str(build_dir() / "examples" / "gpushare-device-plugin"),
                                                 "--dialect", "aliyun", "--kubeconfig", str(kc), "--fake-gpus", str(gpus),
                                                 "--device-plugin-dir", str(tmp_path), "--pod-resources-socket", ""], env=env)
    kube.wait_for(lambda: "node gpu-node-7 (from pod default/plugin-pod-x)" in proc.log_tail(), timeout=30,
                  what="the plugin's node from its own pod", proc=proc)


# The gpu-operator's device-plugin DaemonSet (assets/state-device-plugin/0500_daemonset.yaml) runs
# its container with command ["/bin/sh", "-c"] (earlier releases ["/bin/bash", "-c"]) and args
# ["/bin/entrypoint.sh"]; the operator's TransformDevicePlugin replaces only the args with
# spec.devicePlugin.args. So the patch's args are one shell command line, not the plugin's argv.
OPERATOR_COMMANDS = (["/bin/sh", "-c"], ["/bin/bash", "-c"])


def test_gpu_operator_patch_args_start_the_plugin_under_the_operators_command(tmp_path):
    """The ClusterPolicy patch's args, placed after the operator's fixed command as the operator
    does, start gpushare-device-plugin with --dialect aliyun (a stand-in binary on PATH records
    its argv)."""
    patch = load_manifest(DEPLOY / "gpu-operator" / "clusterpolicy-patch.yaml")[0]
    args = patch["spec"]["devicePlugin"]["args"]
    argv_file = tmp_path / "argv"
    stub = tmp_path / "gpushare-device-plugin"
    stub.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + str(argv_file) + "'\n")
    stub.chmod(0o755)
    ran = 0
    for cmd in OPERATOR_COMMANDS:
        if not Path(cmd[0]).exists():
            continue
        if argv_file.exists():
            argv_file.unlink()
        r = subprocess.run(cmd + list(args), env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"{cmd + list(args)}: {r.stderr}"
        assert argv_file.read_text().split() == ["--dialect", "aliyun"], cmd
        ran += 1
    assert ran > 0

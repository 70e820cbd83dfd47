"""deploy/ is applied to the real API server: every object is accepted, and the extender's
ServiceAccount may do exactly what the extender does (RBAC checked by the API server itself);
the scheduler configurations that v1.20 can read are read by the real kube-scheduler."""
import json
import re

import pytest

from kubecluster import REPO, free_port, load_manifest

DEPLOY = REPO / "deploy"


@pytest.fixture
def applied(kube):
    """deploy/extender applied once per session's control plane (re-applying reports 409)."""
    for f in sorted((DEPLOY / "extender").glob("*.yaml")):
        kube.ensure_file(f)
    return kube


def test_every_manifest_is_accepted(applied):
    kube = applied
    kube.ensure_file(DEPLOY / "scheduler" / "secondary-scheduler.yaml")
    dep = kube.get("/apis/apps/v1/namespaces/kube-system/deployments/gpushare-scheduler-extender")
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == "gpushare-scheduler-extender"
    assert kube.get("/api/v1/namespaces/kube-system/services/gpushare-scheduler-extender")["spec"]["ports"][0]["port"] == 39999


def test_extender_service_account_has_exactly_what_it_needs(applied):
    kube = applied
    tok = kube.service_account_token("kube-system", "gpushare-scheduler-extender", 600)
    for verb in ("get", "list", "watch"):
        assert kube.allowed(tok, verb, "nodes")
        assert kube.allowed(tok, verb, "pods", "team-a")
    assert kube.allowed(tok, "patch", "pods", "team-a")
    assert kube.allowed(tok, "create", "pods", "team-a", subresource="binding")
    assert kube.allowed(tok, "create", "leases", "kube-system", group="coordination.k8s.io")
    assert kube.allowed(tok, "update", "leases", "kube-system", group="coordination.k8s.io")
    # and no more: no writes to nodes, no deleting pods, no leases outside kube-system, no secrets
    assert not kube.allowed(tok, "patch", "nodes")
    assert not kube.allowed(tok, "delete", "pods", "team-a")
    assert not kube.allowed(tok, "create", "leases", "default", group="coordination.k8s.io")
    assert not kube.allowed(tok, "get", "secrets", "kube-system")
    # the token really works for a list (the informers' first call)
    kube.request("GET", "/api/v1/pods?limit=1", token=tok)


def _start_with_config(kube, cfg_text, name):
    path = kube.dir / f"{name}.yaml"
    path.write_text(cfg_text)
    return path


def test_v1beta1_scheduler_config_is_read_by_kube_scheduler_1_20(kube):
    text = (DEPLOY / "scheduler" / "kube-scheduler-config-v1beta1.yaml").read_text()
    kc = kube.kubeconfig("scheduler", token=kube.tokens["system:kube-scheduler"])
    text = text.replace("/etc/kubernetes/scheduler.conf", str(kc))
    text += f"healthzBindAddress: 127.0.0.1:{free_port()}\nmetricsBindAddress: 127.0.0.1:{free_port()}\n"
    cfg = _start_with_config(kube, text, "deploy-v1beta1")
    p = kube.spawn("kube-scheduler-deploy-v1beta1", [kube.bin_dir / "kube-scheduler", "--config", cfg, "--port", "0",
                                                     "--secure-port", free_port(), "--bind-address", "127.0.0.1",
                                                     "--authentication-skip-lookup", "--leader-elect=false", "--v", "2"])
    kube.wait_for(lambda: "extender" in p.log_text() or not p.alive(), timeout=30,
                  what="scheduler start")
    kube.wait_scheduler_ready(p)
    log = p.log_text()
    assert p.alive(), log[-2000:]
    # the scheduler logs its effective configuration at -v=2: the extender entry is in it
    assert "gpushare-scheduler" in log and "aliyun.com/gpu-mem" in log


def test_openshift_policy_is_read_by_kube_scheduler_1_20(kube):
    """The legacy Policy of openshift/scheduler-policy-configmap.yaml, read by --policy-config-file
    (the same decoder OpenShift 4.1-4.9 uses for the ConfigMap)."""
    cm = load_manifest(DEPLOY / "openshift" / "scheduler-policy-configmap.yaml")[0]
    policy = json.loads(cm["data"]["policy.cfg"])
    assert policy["extenders"][0]["managedResources"][0]["name"] == "aliyun.com/gpu-mem"
    pol = _start_with_config(kube, cm["data"]["policy.cfg"], "deploy-policy")
    kc = kube.kubeconfig("scheduler", token=kube.tokens["system:kube-scheduler"])
    p = kube.spawn("kube-scheduler-deploy-policy", [kube.bin_dir / "kube-scheduler", "--kubeconfig", kc,
                                                    "--policy-config-file", pol, "--port", "0",
                                                    "--secure-port", free_port(), "--bind-address", "127.0.0.1",
                                                    "--authentication-skip-lookup", "--leader-elect=false", "--v", "2"])
    kube.wait_scheduler_ready(p)
    assert p.alive(), p.log_tail()
    assert re.search(r"gpushare-scheduler", p.log_text())

"""A real Kubernetes control plane on loopback for gpushare's end-to-end tests.

Starts etcd (Debian's ``etcd-server``) and kube-apiserver v1.20.2 (built once by
``tests/e2e/build-kube.sh``), and on demand kube-scheduler configured with a scheduler extender.
Everything listens on 127.0.0.1 on free ports, in one temporary folder, and is stopped by
``stop()`` (the pytest fixtures in ``conftest.py`` do that).

What is real and what is not:

- real: etcd, kube-apiserver (TLS with its own CA, token and client-certificate authentication,
  RBAC authorization, admission), kube-scheduler (informers, scheduling cycle, extender calls,
  the default binder or the extender's bind);
- not running: kube-controller-manager and kubelets. Nodes are Node objects created through the
  API (their status written through the ``status`` subresource, as a kubelet would, and the
  not-ready taint taken off as the node lifecycle controller would); bound pods
  stay ``Pending`` with ``spec.nodeName`` set, and a test that needs a pod to finish writes its
  ``status.phase`` as a kubelet would. The ServiceAccount admission plugin is off (it needs the
  controller manager's token controller), and service-account tokens come from the TokenRequest
  API, which the API server serves itself.

Identities (all RBAC-checked): ``admin`` (group system:masters, a client certificate),
``system:kube-scheduler`` (a token; the API server's bootstrap roles give it what it needs), and
any ServiceAccount through :meth:`KubeCluster.service_account_kubeconfig`.

Example::

    cp = KubeCluster.start(bin_dir)
    cp.create_node(node_json)
    sched = cp.start_scheduler(extenders=[{...}])
    pod = cp.create("/api/v1/namespaces/default/pods", pod_json)
    cp.wait_for(lambda: cp.get(pod_path)["spec"].get("nodeName"))
    cp.stop()
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

KUBE_VERSION = "1.20.2"
REPO = Path(__file__).resolve().parents[2]


def default_bin_dir() -> Path:
    """Where build-kube.sh puts the binaries (GPUSHARE_KUBE_BIN overrides)."""
    if os.environ.get("GPUSHARE_KUBE_BIN"):
        return Path(os.environ["GPUSHARE_KUBE_BIN"])
    cache = os.environ.get("GPUSHARE_KUBE_CACHE")
    if not cache:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        cache = os.path.join(base, "gpushare", f"kubernetes-{KUBE_VERSION}")
    return Path(cache) / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiError(Exception):
    """An API request failed; ``status`` is the HTTP status, ``body`` the decoded reply."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.method, self.path, self.status, self.body = method, path, status, body
        msg = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {path}: HTTP {status}: {msg}")


def _run(cmd: List[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Process:
    """A child process with its log file; ``stop()`` sends SIGTERM, then SIGKILL."""

    def __init__(self, name: str, cmd: List[str], log: Path, env: Optional[Dict[str, str]] = None):
        self.name, self.cmd, self.log_path = name, cmd, log
        # A process started again under the same name appends to the same file: what this one
        # wrote starts at `log_offset` (log_text), so an earlier run's lines never count.
        self.log_offset = log.stat().st_size if log.exists() else 0
        self._log = open(log, "ab")
        self.popen = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def stop(self, timeout: float = 10) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log_text(self) -> str:
        """What this process wrote to its log (not an earlier process of the same name)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


class KubeCluster:
    """etcd + kube-apiserver on loopback, a small JSON client, and scheduler start-up."""

    def __init__(self, bin_dir: Path, workdir: Path):
        self.bin_dir, self.dir = Path(bin_dir), Path(workdir)
        self.procs: List[Process] = []
        self.port = 0
        self.server = ""
        self.tokens: Dict[str, str] = {}

    # ---------------------------------------------------------------- start / stop
    @classmethod
    def start(cls, bin_dir: Optional[Path] = None, workdir: Optional[Path] = None) -> "KubeCluster":
        """Starts etcd and kube-apiserver and waits until the API answers (about 5-10 s)."""
        bin_dir = Path(bin_dir or default_bin_dir())
        for b in ("kube-apiserver", "kube-scheduler"):
            if not (bin_dir / b).is_file():
                raise FileNotFoundError(f"{bin_dir / b} is missing: run tests/e2e/build-kube.sh")
        if not shutil.which("etcd"):
            raise FileNotFoundError("etcd is missing: apt-get install etcd-server")
        cp = cls(bin_dir, Path(workdir or tempfile.mkdtemp(prefix="gpushare-e2e-")))
        try:
            cp._make_pki()
            cp._start_etcd()
            cp._start_apiserver()
        except BaseException:
            cp.stop()
            raise
        return cp

    def stop(self) -> None:
        """Stops every process this cluster started, newest first."""
        for p in reversed(self.procs):
            p.stop()
        self.procs.clear()

    def spawn(self, name: str, cmd: List[str], env: Optional[Dict[str, str]] = None) -> Process:
        """Starts a process whose lifetime this cluster owns (stopped by ``stop()``)."""
        p = Process(name, [str(c) for c in cmd], self.dir / f"{name}.log", env)
        self.procs.append(p)
        return p

    def _make_pki(self) -> None:
        d = self.dir / "pki"
        d.mkdir(parents=True, exist_ok=True)
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
              "-days", "2", "-subj", "/CN=gpushare-e2e-ca"], d)
        (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
                                   "extendedKeyUsage=serverAuth\n")
        self._sign(d, "apiserver", "/CN=kube-apiserver", ext="san.cnf")
        (d / "client.cnf").write_text("extendedKeyUsage=clientAuth\n")
        self._sign(d, "admin", "/O=system:masters/CN=admin", ext="client.cnf")
        _run(["openssl", "genrsa", "-out", "sa.key", "2048"], d)
        _run(["openssl", "rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], d)
        self.tokens = {"system:kube-scheduler": os.urandom(16).hex(), "gpushare-e2e-admin": os.urandom(16).hex()}
        (d / "tokens.csv").write_text(
            f'{self.tokens["system:kube-scheduler"]},system:kube-scheduler,uid-sched\n'
            f'{self.tokens["gpushare-e2e-admin"]},gpushare-e2e-admin,uid-admin,"system:masters"\n')
        self.pki = d

    @staticmethod
    def _sign(d: Path, name: str, subj: str, ext: str) -> None:
        _run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
              "-subj", subj], d)
        _run(["openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
              "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", ext], d)

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        p = self.spawn("etcd", ["etcd", "--name", "e2e", "--data-dir", self.dir / "etcd",
                                "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
                                "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                                "--initial-cluster", f"e2e=http://127.0.0.1:{peer}",
                                "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}"])
        self.wait_for(lambda: self._http_ok(self.etcd_url + "/health"), timeout=30, what="etcd", proc=p)

    def _start_apiserver(self) -> None:
        self.port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        k = self.pki
        p = self.spawn("kube-apiserver", [
            self.bin_dir / "kube-apiserver",
            "--etcd-servers", self.etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", self.port,
            "--insecure-port", "0",
            "--tls-cert-file", k / "apiserver.crt", "--tls-private-key-file", k / "apiserver.key",
            "--client-ca-file", k / "ca.crt", "--token-auth-file", k / "tokens.csv",
            "--service-account-key-file", k / "sa.pub", "--service-account-signing-key-file", k / "sa.key",
            "--service-account-issuer", "https://kubernetes.default.svc", "--api-audiences",
            "https://kubernetes.default.svc",
            "--authorization-mode", "Node,RBAC",
            "--disable-admission-plugins", "ServiceAccount",
            "--service-cluster-ip-range", "10.254.0.0/24",
            "--cert-dir", self.dir / "apiserver-certs",
            "--profiling=false", "--logtostderr", "--v", "1",
        ])
        self.wait_for(lambda: self._ready(), timeout=90, what="kube-apiserver", proc=p)
        # The bootstrap RBAC policy is in place once the API answers a scheduler request.
        self.wait_for(lambda: self._can_list_as_scheduler(), timeout=60, what="RBAC bootstrap", proc=p)

    def _ready(self) -> bool:
        try:
            return self.request("GET", "/readyz") == "ok"
        except (ApiError, OSError):
            return False

    def _can_list_as_scheduler(self) -> bool:
        try:
            self.request("GET", "/api/v1/nodes", token=self.tokens["system:kube-scheduler"])
            return True
        except (ApiError, OSError):
            return False

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    # ---------------------------------------------------------------- kubeconfigs
    def kubeconfig(self, name: str = "admin", token: Optional[str] = None, cert: Optional[str] = None,
                   inline: bool = False) -> Path:
        """Writes a YAML kubeconfig for the admin client certificate (default), a token, or the
        client certificate `cert` (a name signed by the cluster CA); returns its path."""
        k = self.pki
        if inline:
            import base64
            b64 = lambda p: base64.b64encode(Path(p).read_bytes()).decode()  # noqa: E731
            ca_line = f"    certificate-authority-data: {b64(k / 'ca.crt')}"
        else:
            ca_line = f"    certificate-authority: {k / 'ca.crt'}"
        if token is not None:
            user = f"    token: {token}"
        else:
            c = cert or "admin"
            if inline:
                user = (f"    client-certificate-data: {b64(k / (c + '.crt'))}\n"
                        f"    client-key-data: {b64(k / (c + '.key'))}")
            else:
                user = f"    client-certificate: {k / (c + '.crt')}\n    client-key: {k / (c + '.key')}"
        text = f"""apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: {self.server}
{ca_line}
users:
- name: {name}
  user:
{user}
contexts:
- name: {name}@e2e
  context:
    cluster: e2e
    user: {name}
    namespace: default
current-context: {name}@e2e
"""
        path = self.dir / f"kubeconfig-{name}.yaml"
        path.write_text(text)
        return path

    def service_account_token(self, namespace: str, name: str, seconds: int = 3600) -> str:
        """A TokenRequest token of ServiceAccount namespace/name (which must exist)."""
        tr = self.create(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": seconds}})
        return tr["status"]["token"]

    def service_account_kubeconfig(self, namespace: str, name: str, seconds: int = 3600) -> Path:
        """A kubeconfig with a TokenRequest token of ServiceAccount namespace/name (which must
        exist): the identity the deploy/ manifests give the extender, RBAC included."""
        return self.kubeconfig(f"sa-{namespace}-{name}", token=self.service_account_token(namespace, name, seconds))

    def allowed(self, token: str, verb: str, resource: str, namespace: str = "", group: str = "",
                subresource: str = "") -> bool:
        """Asks the API server (SelfSubjectAccessReview, as the holder of `token`) whether it may."""
        attrs = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attrs["namespace"] = namespace
        if subresource:
            attrs["subresource"] = subresource
        r = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                         {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                          "spec": {"resourceAttributes": attrs}}, token=token)
        return r["status"]["allowed"]

    # ---------------------------------------------------------------- client
    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                token: Optional[str] = None, timeout: float = 30) -> Any:
        """One API request as admin (or with `token`); returns decoded JSON (or text)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.server + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        ctx = self._ssl()
        if token is not None:
            ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=timeout) as r:
                raw = r.read().decode()
        except urllib.error.HTTPError as e:
            raw = e.read().decode(errors="replace")
            try:
                detail = json.loads(raw)
            except ValueError:
                detail = raw
            raise ApiError(method, path, e.code, detail) from None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def create(self, path: str, obj: Any) -> Any:
        return self.request("POST", path, obj)

    def delete(self, path: str, grace_seconds: Optional[int] = 0) -> Any:
        q = "" if grace_seconds is None else f"?gracePeriodSeconds={grace_seconds}"
        return self.request("DELETE", path + q)

    def patch(self, path: str, patch: Any, kind: str = "merge") -> Any:
        ct = {"merge": "application/merge-patch+json", "strategic": "application/strategic-merge-patch+json",
              "json": "application/json-patch+json"}[kind]
        return self.request("PATCH", path, patch, content_type=ct)

    def apply_file(self, path: Path, namespace: str = "default") -> List[Any]:
        """Creates every object of a JSON or YAML manifest (kinds this client knows)."""
        return [self.create_object(o, namespace) for o in load_manifest(path)]

    def create_object(self, obj: Dict[str, Any], namespace: str = "default") -> Any:
        """Creates one object at the REST path its apiVersion/kind name."""
        return self.create(collection_path(obj, namespace), obj)

    def ensure_object(self, obj: Dict[str, Any], namespace: str = "default") -> None:
        """Creates one object unless it exists already (409), as ``kubectl create`` run twice."""
        try:
            self.create_object(obj, namespace)
        except ApiError as e:
            if e.status != 409:
                raise

    def ensure_file(self, path: Path, namespace: str = "default") -> None:
        """ensure_object for every object of a manifest file."""
        for obj in load_manifest(path):
            self.ensure_object(obj, namespace)

    # ---------------------------------------------------------------- nodes and pods
    def create_node(self, node: Dict[str, Any]) -> Any:
        """Creates a Node and writes its status (capacity, allocatable, Ready) as a kubelet would."""
        status = node.get("status", {})
        created = self.create("/api/v1/nodes", {k: v for k, v in node.items() if k != "status"})
        name = created["metadata"]["name"]
        st = dict(status)
        st.setdefault("conditions", [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                      "message": "gpushare e2e stand-in node"}])
        self.patch(f"/api/v1/nodes/{name}/status", {"status": st}, kind="strategic")
        # The API server's TaintNodesByCondition admission puts node.kubernetes.io/not-ready on a
        # new node; the node lifecycle controller (kube-controller-manager, not run here) takes it
        # off once the node reports Ready. Do what it would do.
        taints = [t for t in self.get(f"/api/v1/nodes/{name}")["spec"].get("taints", [])
                  if t.get("key") != "node.kubernetes.io/not-ready"]
        self.patch(f"/api/v1/nodes/{name}", {"spec": {"taints": taints or None}})
        return self.get(f"/api/v1/nodes/{name}")

    def pods(self, namespace: str = "default") -> List[Dict[str, Any]]:
        return self.get(f"/api/v1/namespaces/{namespace}/pods")["items"]

    def set_pod_phase(self, namespace: str, name: str, phase: str) -> Any:
        """Writes status.phase as the kubelet would when a pod's containers end."""
        return self.patch(f"/api/v1/namespaces/{namespace}/pods/{name}/status", {"status": {"phase": phase}})

    def delete_all(self, namespace: str = "default") -> None:
        """Deletes every pod of the namespace and every node, at once (no kubelet to wait for)."""
        for p in self.pods(namespace):
            try:
                self.delete(f"/api/v1/namespaces/{namespace}/pods/{p['metadata']['name']}")
            except ApiError as e:
                if e.status != 404:
                    raise
        for n in self.get("/api/v1/nodes")["items"]:
            try:
                self.delete(f"/api/v1/nodes/{n['metadata']['name']}")
            except ApiError as e:
                if e.status != 404:
                    raise

    def events_for(self, namespace: str, name: str) -> List[Dict[str, Any]]:
        sel = urllib.parse.quote(f"involvedObject.name={name}")
        return self.get(f"/api/v1/namespaces/{namespace}/events?fieldSelector={sel}")["items"]

    # ---------------------------------------------------------------- scheduler
    def start_scheduler(self, extenders: Iterable[Dict[str, Any]] = (), name: str = "kube-scheduler",
                        leader_elect: bool = False, extra_args: Iterable[str] = ()) -> Process:
        """Starts kube-scheduler (v1beta1 KubeSchedulerConfiguration) as system:kube-scheduler,
        with the given extender entries (the KubeSchedulerConfiguration `extenders` list)."""
        kc = self.kubeconfig("scheduler", token=self.tokens["system:kube-scheduler"])
        cfg = {
            "apiVersion": "kubescheduler.config.k8s.io/v1beta1",
            "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(kc)},
            "leaderElection": {"leaderElect": leader_elect},
            # the insecure health/metrics port (10251 by default) on a free loopback port, so that
            # several schedulers (and other test runs) never collide
            "healthzBindAddress": f"127.0.0.1:{free_port()}",
            "metricsBindAddress": f"127.0.0.1:{free_port()}",
            "extenders": list(extenders),
        }
        path = self.dir / f"{name}-config.yaml"
        path.write_text(json.dumps(cfg, indent=1))  # JSON is YAML
        return self.spawn(name, [self.bin_dir / "kube-scheduler", "--config", path, "--port", "0",
                                 "--secure-port", free_port(), "--bind-address", "127.0.0.1",
                                 "--authentication-skip-lookup", "--logtostderr", "--v", "2", *extra_args])

    def wait_scheduler_ready(self, proc: Process, timeout: float = 60) -> None:
        """Waits until the scheduler has synced its caches (its log says so)."""
        def synced() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
            text = proc.log_text()
            return "Caches are synced" in text or "caches populated" in text or "Starting Kubernetes Scheduler" in text
        self.wait_for(synced, timeout=timeout, what=f"{proc.name} start")

    # ---------------------------------------------------------------- waiting
    @staticmethod
    def wait_for(cond: Callable[[], Any], timeout: float = 30, interval: float = 0.1, what: str = "condition",
                 proc: Optional[Process] = None) -> Any:
        """Polls `cond` until it returns something truthy (returned) or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            v = cond()
            if v:
                return v
            if proc is not None and not proc.alive():
                raise RuntimeError(f"{proc.name} exited while waiting for {what}:\n{proc.log_tail()}")
            if time.monotonic() > deadline:
                tail = f"\n{proc.name} log:\n{proc.log_tail()}" if proc else ""
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}{tail}")
            time.sleep(interval)


# ------------------------------------------------------------------------------- manifests
_CORE = {"Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "Service": "services",
         "ConfigMap": "configmaps", "Secret": "secrets", "Pod": "pods", "Node": "nodes"}
_CLUSTER_SCOPED = {"Namespace", "Node", "ClusterRole", "ClusterRoleBinding", "PriorityClass"}
_GROUP_RESOURCES = {"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "Role": "roles",
                    "RoleBinding": "rolebindings", "Deployment": "deployments", "DaemonSet": "daemonsets",
                    "Lease": "leases", "PriorityClass": "priorityclasses"}


def collection_path(obj: Dict[str, Any], namespace: str = "default") -> str:
    """The REST collection path of an object (the kinds gpushare's manifests use)."""
    api, kind = obj["apiVersion"], obj["kind"]
    ns = obj.get("metadata", {}).get("namespace", namespace)
    base = f"/api/{api}" if "/" not in api else f"/apis/{api}"
    res = _CORE.get(kind) if "/" not in api else _GROUP_RESOURCES.get(kind)
    if res is None:
        raise ValueError(f"{api} {kind}: kind not known to the e2e client")
    return f"{base}/{res}" if kind in _CLUSTER_SCOPED else f"{base}/namespaces/{ns}/{res}"


def load_manifest(path: Path) -> List[Dict[str, Any]]:
    """Objects of a manifest: JSON (object, array or List) or YAML (``---``-separated documents;
    Debian's python3-yaml is used when installed)."""
    text = Path(path).read_text()
    if text.lstrip().startswith(("{", "[")):
        data = json.loads(text)
        docs = data if isinstance(data, list) else [data]
    else:
        import yaml  # python3-yaml
        docs = [d for d in yaml.safe_load_all(text) if d]
    out: List[Dict[str, Any]] = []
    for d in docs:
        out.extend(d["items"] if d.get("kind", "").endswith("List") and "items" in d else [d])
    return out

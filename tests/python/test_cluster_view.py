"""The cluster view in a real browser: gpushare-extender on loopback serves the page at ``/``,
Debian's headless chromium loads it, the page polls ``/inspect`` and draws it; the rendered DOM
is checked against ``/inspect`` (every GPU's numbers, each node's fragmentation, the pending
pods' reasons) and a screenshot must come out.  The same page with an embedded document
(``gpushare inspect --html``, a replay's end state) is checked the same way.
"""

import html.parser
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "build", "examples", "gpushare-extender")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


def chromium(url, *, screenshot=None, budget_ms=8000, size="1400,1000"):
    """Run headless chromium on ``url``; returns the DOM after ``budget_ms`` of virtual time."""
    profile = tempfile.mkdtemp(prefix="gpushare-chromium-")
    try:
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", f"--window-size={size}"]
        args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        out = subprocess.run(args + [url], capture_output=True, text=True, timeout=120, cwd=profile)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Dom(html.parser.HTMLParser):
    """Collects the data-* attributes of GPU rows, nodes, pending/unschedulable rows and the text
    of reason cells."""

    def __init__(self):
        super().__init__()
        self.gpus, self.nodes, self.pending, self.unsched, self.body = {}, {}, {}, {}, {}
        self._row = None
        self._reason = False
        self._text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if "data-gpu" in a:
            self.gpus[(a["data-node"], int(a["data-gpu"]))] = {
                k: int(a["data-" + k.replace("_", "-")]) for k in ("milli_used", "milli_total", "mib_used", "mib_total")}
        elif "data-node" in a and "data-frag-milli" in a:
            self.nodes[a["data-node"]] = a["data-frag-milli"]
        if tag == "tr" and ("data-pending" in a or "data-unschedulable" in a):
            self._row = ("pending", a["data-pending"]) if "data-pending" in a else ("unsched", a["data-unschedulable"])
        if tag == "td" and "reason" in (a.get("class") or "").split() and self._row:
            self._reason, self._text = True, []
        if tag in ("details", "summary") and self._reason:  # the reason text ends where the details start
            self._finish()

    def _finish(self):
        kind, pod = self._row
        (self.pending if kind == "pending" else self.unsched)[pod] = "".join(self._text).strip()
        self._reason = False

    def handle_endtag(self, tag):
        if tag == "td" and self._reason:
            self._finish()

    def handle_data(self, data):
        if self._reason:
            self._text.append(data)


def parse(dom_text):
    d = Dom()
    d.feed(dom_text)
    return d


def check_dom_matches(d, doc):
    assert d.body.get("data-rendered"), "the page never rendered"
    want = {(n["name"], g["index"]): {k: g[k] for k in ("milli_used", "milli_total", "mib_used", "mib_total")}
            for n in doc["nodes"] for g in n["gpus"]}
    assert d.gpus == want
    for n in doc["nodes"]:
        assert float(d.nodes[n["name"]]) == pytest.approx(n["frag_milli"]), n["name"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tencent_node(name, gpus):
    # tencent.com/vcuda-core: 100 per GPU; vcuda-memory: 256 MiB units (64 = 16 GiB per GPU).
    cap = {"cpu": "32", "memory": "128Gi", "tencent.com/vcuda-core": str(100 * gpus),
           "tencent.com/vcuda-memory": str(64 * gpus)}
    return {"metadata": {"name": name}, "status": {"capacity": cap, "allocatable": cap}}


def tencent_pod(name, cores, mem_units, cpu="1"):
    lim = {"cpu": cpu, "tencent.com/vcuda-core": str(cores), "tencent.com/vcuda-memory": str(mem_units)}
    return {"metadata": {"name": name, "namespace": "team", "uid": "uid-" + name},
            "spec": {"containers": [{"name": "c", "resources": {"limits": lim, "requests": lim}}]}}


@pytest.fixture
def extender(tmp_path):
    if not os.path.exists(BINARY):
        pytest.fail(f"{BINARY} not built (make build)")
    port = free_port()
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps({"items": [tencent_node("gpu-a", 4), tencent_node("gpu-b", 2), tencent_node("gpu-c", 1)]}))
    proc = subprocess.Popen([BINARY, "--dialect", "tencent", "--policy", "best-fit", "--port", str(port),
                             "--state", str(tmp_path / "state.jsonl"), "--nodes", str(nodes)],
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 10
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def post(base, verb, body):
    req = urllib.request.Request(f"{base}/gpushare-scheduler/{verb}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def schedule(base, pod, nodes):
    f = post(base, "filter", {"Pod": pod, "NodeNames": nodes})
    fit = f.get("NodeNames") or []
    if fit:
        pr = post(base, "prioritize", {"Pod": pod, "NodeNames": fit})
        best = max(pr, key=lambda h: h["Score"])["Host"]
        assert post(base, "bind", {"PodName": pod["metadata"]["name"], "PodNamespace": "team",
                                   "PodUID": pod["metadata"]["uid"], "Node": best})["Error"] == ""
    return f


def test_live_page_in_chromium_matches_inspect(extender, tmp_path):
    names = ["gpu-a", "gpu-b", "gpu-c"]
    # Shares of various sizes, then two pods that cannot be placed: a whole-node job asking for
    # 8 GPUs, and a 90% share that fits no GPU any more; and one that fits but is not bound yet.
    for i, (cores, mem) in enumerate([(50, 16), (30, 8), (70, 32), (60, 16), (100, 64), (40, 8), (20, 4), (80, 40)]):
        schedule(extender, tencent_pod(f"share-{i}", cores, mem), names)
    big = post(extender, "filter", {"Pod": tencent_pod("train-8gpu", 800, 512), "NodeNames": names})
    assert big["NodeNames"] == []
    tight = post(extender, "filter", {"Pod": tencent_pod("wide-90", 90, 8), "NodeNames": names})
    waiting = post(extender, "filter", {"Pod": tencent_pod("waits-10", 10, 1), "NodeNames": names})
    assert waiting["NodeNames"]
    doc = get_json(extender + "/inspect")
    assert {u["pod"] for u in doc["unschedulable"]} >= {"team/train-8gpu"}
    assert any(n["frag_milli"] > 0 for n in doc["nodes"]), "the workload should leave some fragmentation"

    d = parse(chromium(extender + "/"))
    check_dom_matches(d, doc)
    assert int(d.body["data-rendered"]) >= 2, "the page polls /inspect (every 2 s) and redraws"
    assert d.pending == {p["pod"]: p["reason"] for p in doc["pending"]}
    assert "team/waits-10" in d.pending and "waiting for bind" in d.pending["team/waits-10"]
    assert d.unsched == {u["pod"]: u["reason"] for u in doc["unschedulable"]}
    assert d.unsched["team/train-8gpu"].startswith("no node fits (3 candidates): 3 gpu_count")
    if not tight["NodeNames"]:
        assert "team/wide-90" in d.unsched

    shot = tmp_path / "cluster.png"
    chromium(extender + "/", screenshot=str(shot))
    with open(shot, "rb") as f:
        head = f.read(8)
    assert head == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    keep = os.environ.get("GPUSHARE_VIEW_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


def test_page_is_self_contained(extender):
    with urllib.request.urlopen(extender + "/", timeout=5) as r:
        assert r.headers["Content-Type"].startswith("text/html")
        page = r.read().decode("utf-8")
    for external in ("http://", "https://", "<link", " src=", "@import", "url("):
        assert external not in page, external


def test_embedded_snapshot_renders_in_chromium(tmp_path):
    import gpushare as gs
    from gpushare.inspect import inspect, write_html

    c = gs.Cluster([gs.Node("n1", gpus=[gs.Gpu(0, "T4", mib_total=16384), gs.Gpu(1, "T4", mib_total=16384)]),
                    gs.Node("n<2>", gpus=[gs.Gpu(0, "A10", mib_total=24576)])])
    c.allocate(gs.Placement("ns/p", "n1", 0, [0], 500, 4096))
    doc = inspect(c, ["ns/</script><b>x"])
    page = tmp_path / "view.html"
    write_html(doc, str(page))
    d = parse(chromium(page.as_uri()))
    check_dom_matches(d, doc)
    assert list(d.pending) == ["ns/</script><b>x"]  # drawn as text, not markup


@pytest.mark.skipif(not os.path.isdir(os.path.join(DATA, "openb")), reason="openb data not found")
def test_replay_end_state_renders_in_chromium(tmp_path):
    from gpushare import sim
    from gpushare.cli import main

    nodes, pods = sim.load_openb(os.path.join(DATA, "openb", "openb_node_list_gpu_node.csv"),
                                 os.path.join(DATA, "openb", "openb_pod_list_default.csv"))
    snap = tmp_path / "best.json"
    assert main(["replay", "--nodes", os.path.join(DATA, "openb", "openb_node_list_gpu_node.csv"),
                 "--pods", os.path.join(DATA, "openb", "openb_pod_list_default.csv"), "--policy", "best",
                 "--seeds", "42", "--snapshot", str(snap)]) == 0
    doc = json.loads(snap.read_text())
    final = sim.final_state(nodes, pods, policy="best", seeds=[42]).iloc[0]
    assert [sum(g["milli_used"] for g in n["gpus"]) for n in doc["nodes"]] == list(final.node_used_milli)
    assert sum(n["frag_milli"] for n in doc["nodes"]) == pytest.approx(final.fragmentation_milli)
    assert sum(u["attempts"] for u in doc["unschedulable"]) == final.pods_failed
    assert doc["snapshot"]["pods_failed"] == final.pods_failed
    html_path = tmp_path / "best.html"
    assert main(["inspect", "--file", str(snap), "--html", str(html_path)]) == 0
    d = parse(chromium(html_path.as_uri(), budget_ms=20000))
    check_dom_matches(d, doc)
    assert d.unsched == {u["pod"]: u["reason"] for u in doc["unschedulable"]}


def test_send_pods_example_fills_the_demo_cluster(tmp_path):
    """README step 3: the demo NodeList and examples/extender/send_pods.py, as written there."""
    if not os.path.exists(BINARY):
        pytest.fail(f"{BINARY} not built (make build)")
    port = free_port()
    nodes = os.path.join(ROOT, "examples", "extender", "demo_nodes.json")
    proc = subprocess.Popen([BINARY, "--dialect", "tencent", "--policy", "best-fit", "--port", str(port), "--nodes", nodes,
                             "--state", str(tmp_path / "state.jsonl")], stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples", "extender", "send_pods.py"), "--url", base,
                              "--pods", "40"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) == 40
        bound = [line.split()[0] for line in lines if " -> " in line and ":" not in line.split(" -> ")[1]]
        pending = [line.split()[0] for line in lines if ": pending;" in line]
        assert len(bound) + len(pending) == 40 and bound and pending
        doc = get_json(base + "/inspect")
        assert sorted(p for n in doc["nodes"] for p in n["pods"]) == sorted("demo/" + b for b in bound)
        assert sorted(p["pod"] for p in doc["pending"]) == sorted("demo/" + p for p in pending)
        assert all(p["reason"].startswith("no node fits (6 candidates)") for p in doc["pending"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)

"""How fast the cluster view draws a large cluster in headless chromium.

Starts gpushare-extender (tencent dialect) on loopback with N nodes of 8 GPUs, places shares of
random sizes through filter/prioritize/bind (so the bars and the fragmentation colours differ),
leaves a few pods unschedulable, then loads ``/`` in Debian's chromium R times and reports the
page's own timings: ``data-first-render-ms`` (navigation start to the end of the first draw,
including the fetch of /inspect) and ``data-render-ms`` (building and laying out the node grid).
Chromium runs headless in real time (no virtual time budget): the script drives it over the
DevTools protocol on loopback (tornado's websocket client, from Debian's python3-tornado) and
reads the attributes once the page has set them.

    .venv/bin/python bench/cluster_view_render.py --nodes 1000 --pods 3000 --runs 5

Needs build/examples/gpushare-extender (make build) and /usr/bin/chromium.
"""
import argparse
import asyncio
import html.parser
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BINARY = os.path.join(ROOT, "build", "examples", "gpushare-extender")


class Body(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs = {}
        self.gpus = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.attrs = a
        if "data-gpu" in a:
            self.gpus += 1


def post(base, verb, body):
    req = urllib.request.Request(f"{base}/gpushare-scheduler/{verb}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def measure(chromium, url, work):
    """Load `url` in a fresh headless chromium driven over the DevTools protocol; return the
    page's timings once it has drawn."""
    from tornado.websocket import websocket_connect

    profile = tempfile.mkdtemp(prefix="gpushare-chromium-", dir=work)
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             f"--user-data-dir={profile}", "--window-size=1400,1000", "--remote-debugging-address=127.0.0.1",
                             "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        for _ in range(600):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.loads(r.read()) if t["type"] == "page")

        async def drive():
            ws = await websocket_connect(page["webSocketDebuggerUrl"], max_message_size=64 << 20)
            ids = iter(range(1, 1 << 30))

            async def call(method, **params):
                i = next(ids)
                ws.write_message(json.dumps({"id": i, "method": method, "params": params}))
                while True:
                    msg = json.loads(await ws.read_message())
                    if msg.get("id") == i:
                        return msg.get("result", {})

            await call("Page.navigate", url=url)
            js = ("(function(){var b=document.body;if(!b||!b.hasAttribute('data-first-render-ms'))return null;"
                  "return JSON.stringify({first:+b.getAttribute('data-first-render-ms'),"
                  "script:+b.getAttribute('data-script-ms'),fetched:+b.getAttribute('data-fetched-ms'),"
                  "grid:+b.getAttribute('data-render-ms'),gpus:document.querySelectorAll('[data-gpu]').length});})()")
            deadline = time.time() + 60
            while time.time() < deadline:
                r = await call("Runtime.evaluate", expression=js, returnByValue=True)
                v = r.get("result", {}).get("value")
                if v:
                    ws.close()
                    return json.loads(v)
                await asyncio.sleep(0.05)
            raise SystemExit("the page did not draw within 60 s")

        return asyncio.run(drive())
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--screenshot", default="", help="also write a screenshot of the page")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="gpushare-view-bench-")
    cap = {"cpu": "96", "memory": "768Gi", "tencent.com/vcuda-core": "800", "tencent.com/vcuda-memory": "512"}
    names = [f"node-{i:04d}" for i in range(args.nodes)]
    with open(os.path.join(work, "nodes.json"), "w") as f:
        json.dump({"items": [{"metadata": {"name": n}, "status": {"capacity": cap, "allocatable": cap}} for n in names]}, f)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([BINARY, "--dialect", "tencent", "--policy", "best-fit", "--port", str(port), "--nodes",
                             os.path.join(work, "nodes.json"), "--binds", os.path.join(work, "binds.jsonl")],
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        rng = random.Random(1)
        placed = 0
        t0 = time.perf_counter()
        for k in range(args.pods):
            cores = rng.choice([10, 20, 25, 30, 50, 60, 75, 100, 200])
            mem = max(1, cores * 64 // 100 if cores <= 100 else 64 * cores // 100)
            lim = {"cpu": "1", "tencent.com/vcuda-core": str(cores), "tencent.com/vcuda-memory": str(mem)}
            pod = {"metadata": {"name": f"p{k}", "namespace": "bench", "uid": f"u{k}"},
                   "spec": {"containers": [{"name": "c", "resources": {"limits": lim}}]}}
            cand = rng.sample(names, min(20, len(names)))
            f = post(base, "filter", {"Pod": pod, "NodeNames": cand})
            if f.get("NodeNames"):
                r = post(base, "bind", {"PodName": f"p{k}", "PodNamespace": "bench", "PodUID": f"u{k}",
                                        "Node": f["NodeNames"][0]})
                placed += r.get("Error", "") == ""
        for k in range(10):  # unschedulable: 16 GPUs on 8-GPU nodes
            lim = {"tencent.com/vcuda-core": "1600", "tencent.com/vcuda-memory": "1024"}
            post(base, "filter", {"Pod": {"metadata": {"name": f"big{k}", "namespace": "bench", "uid": f"b{k}"},
                                          "spec": {"containers": [{"name": "c", "resources": {"limits": lim}}]}},
                                  "NodeNames": names[:50]})
        fill = time.perf_counter() - t0
        inspect_s = []
        for _ in range(3):
            t = time.perf_counter()
            with urllib.request.urlopen(base + "/inspect", timeout=30) as r:
                size = len(r.read())
            inspect_s.append(time.perf_counter() - t)
        print(f"{args.nodes} nodes x 8 GPUs, {placed} pods placed ({fill:.1f} s through the extender), "
              f"/inspect {size / 1e6:.2f} MB in {1000 * statistics.median(inspect_s):.0f} ms (median of 3, urllib); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        first, grid, wall, script, fetched = [], [], [], [], []
        for run in range(args.runs):
            t = time.perf_counter()
            got = measure(args.chromium, base + "/?interval=0", work)
            wall.append(time.perf_counter() - t)
            assert got["gpus"] == 8 * args.nodes, got
            first.append(got["first"])
            script.append(got["script"])
            fetched.append(got["fetched"])
            grid.append(got["grid"])
        print(f"first draw (navigation start -> grid laid out), ms: median {statistics.median(first):.0f}, "
              f"max {max(first):.0f}  {[round(x) for x in first]}")
        print(f"  of which: page loaded and script started at median {statistics.median(script):.0f}, "
              f"/inspect fetched and parsed at median {statistics.median(fetched):.0f}")
        print(f"grid build + layout, ms: median {statistics.median(grid):.0f}, max {max(grid):.0f}")
        print(f"chromium wall time per run (start-up included), s: median {statistics.median(wall):.1f}")
        if args.screenshot:
            profile = tempfile.mkdtemp(prefix="gpushare-chromium-", dir=work)
            subprocess.run([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", f"--user-data-dir={profile}", "--window-size=1400,1000",
                            "--virtual-time-budget=5000", f"--screenshot={os.path.abspath(args.screenshot)}",
                            base + "/?interval=0"], capture_output=True, timeout=120)
            print(f"screenshot: {args.screenshot}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

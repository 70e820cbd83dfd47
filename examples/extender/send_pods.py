"""Send pods to a running gpushare-extender the way kube-scheduler does (filter, prioritize,
bind), so its cluster view (GET /) has something to show.  Tencent dialect pods
(tencent.com/vcuda-core: 100 = one GPU; tencent.com/vcuda-memory: 256 MiB units, per GPU for
whole-GPU pods); standard library only.

    build/examples/gpushare-extender --dialect tencent --nodes examples/extender/demo_nodes.json &
    .venv/bin/python examples/extender/send_pods.py --url http://127.0.0.1:39999 --pods 40

Each pod is offered every node in the NodeList; it is bound to the node with the best score.
A pod no node can take stays pending, and the extender shows why.  Prints one line per pod.
"""
import argparse
import json
import random
import urllib.request


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:39999", help="the extender (default %(default)s)")
    ap.add_argument("--prefix", default="/gpushare-scheduler", help="its --url-prefix (default %(default)s)")
    ap.add_argument("--nodes", default="examples/extender/demo_nodes.json", help="the NodeList it was started with")
    ap.add_argument("--pods", type=int, default=40, help="how many pods (default %(default)s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--namespace", default="demo")
    args = ap.parse_args()
    with open(args.nodes) as f:
        names = [n["metadata"]["name"] for n in json.load(f)["items"]]
    rng = random.Random(args.seed)
    # Mostly GPU shares, some whole GPUs, a few multi-GPU jobs (one too big for any node).
    shapes = [(10, 4)] * 4 + [(25, 8)] * 4 + [(50, 16)] * 4 + [(75, 32)] * 2 + [(100, 64)] * 3 + [(200, 64), (400, 64), (1600, 64)]
    base = args.url.rstrip("/") + args.prefix
    for k in range(args.pods):
        cores, mem = rng.choice(shapes)
        name = f"pod-{k:03d}"
        lim = {"cpu": "2", "memory": "8Gi", "tencent.com/vcuda-core": str(cores), "tencent.com/vcuda-memory": str(mem)}
        pod = {"metadata": {"name": name, "namespace": args.namespace, "uid": f"uid-{args.seed}-{k}"},
               "spec": {"containers": [{"name": "main", "resources": {"limits": lim, "requests": lim}}]}}
        f = post(base + "/filter", {"Pod": pod, "NodeNames": names})
        fit = f.get("NodeNames") or []
        if f.get("Error"):
            print(f"{name}: error: {f['Error']}")
            continue
        if not fit:
            print(f"{name} ({cores} vcuda-core): pending; " + "; ".join(sorted(set(f["FailedNodes"].values())))[:160])
            continue
        scores = post(base + "/prioritize", {"Pod": pod, "NodeNames": fit})
        node = max(scores, key=lambda h: h["Score"])["Host"]
        b = post(base + "/bind", {"PodName": name, "PodNamespace": args.namespace, "PodUID": pod["metadata"]["uid"],
                                  "Node": node})
        print(f"{name} ({cores} vcuda-core) -> {node}" + (f": {b['Error']}" if b.get("Error") else ""))


if __name__ == "__main__":
    main()

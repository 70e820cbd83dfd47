"""Workload variants of an openb trace: new pod and node lists that move one dimension of the
workload at a time, or several together, seeded and reproducible (docs/VARIANTS.md).

A variant is a mapping ``{dimension: level}``.  Each dimension changes only the columns it names
(see :data:`DIMENSIONS` and docs/VARIANTS.md); names, QoS, phase and timestamps are kept.  The
same trace, variant and seed always give the same files: every dimension draws from its own
``random.Random`` seeded with ``"<seed>:<dimension>"``.

Examples
--------
>>> from gpushare.sim import variants as V                            # doctest: +SKIP
>>> pods, nodes = V.read_pods("openb_pod_list_default.csv"), V.read_nodes("openb_node_list_gpu_node.csv")
>>> p2, n2 = V.make_variant(pods, nodes, {"share": 0.8, "cpu_per_gpu": 2.0}, seed=1)   # doctest: +SKIP
>>> V.write_pods(p2, "/tmp/v.csv"); V.write_nodes(n2, "/tmp/n.csv")   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

#: Columns of the 11-column openb pod list (the 5-column files are read with defaults for the rest).
POD_COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
               "creation_time", "deletion_time", "scheduled_time")
#: Columns of the openb node list.
NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")
#: The columns that say what a pod asks for (a dimension that swaps pods copies these).
RESOURCE_COLUMNS = ("cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec")

Pod = Dict[str, object]
Node = Dict[str, object]


class VariantError(ValueError):
    """A variant that cannot be built (unknown dimension, level out of range, nothing to copy)."""


# --- reading and writing -----------------------------------------------------------------------

def _int(row: Mapping[str, str], col: str, path: str, line: int) -> int:
    try:
        return int(row[col])
    except (TypeError, ValueError):
        raise VariantError(f"{path}:{line}: column '{col}': {row.get(col)!r} is not an integer") from None


def read_pods(path: str) -> List[Pod]:
    """Read an openb pod list (11 or 5 columns); integers parsed, ``gpu_spec`` a list of models."""
    out: List[Pod] = []
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        missing = [c for c in POD_COLUMNS[:5] if c not in (r.fieldnames or [])]
        if missing:
            raise VariantError(f"{path}:1: header lacks column(s) {', '.join(missing)}")
        for i, row in enumerate(r, start=2):
            p: Pod = {"name": row["name"]}
            for c in ("cpu_milli", "memory_mib", "num_gpu", "gpu_milli"):
                p[c] = _int(row, c, path, i)
            spec = row.get("gpu_spec") or ""
            p["gpu_spec"] = [m for m in spec.split("|") if m]
            p["qos"] = row.get("qos") or "LS"
            p["pod_phase"] = row.get("pod_phase") or "Running"
            for c in ("creation_time", "deletion_time", "scheduled_time"):
                p[c] = row.get(c) or ""
            out.append(p)
    return out


def read_nodes(path: str) -> List[Node]:
    """Read an openb node list; integers parsed."""
    out: List[Node] = []
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        missing = [c for c in NODE_COLUMNS if c not in (r.fieldnames or [])]
        if missing:
            raise VariantError(f"{path}:1: header lacks column(s) {', '.join(missing)}")
        for i, row in enumerate(r, start=2):
            out.append({"sn": row["sn"], "cpu_milli": _int(row, "cpu_milli", path, i),
                        "memory_mib": _int(row, "memory_mib", path, i), "gpu": _int(row, "gpu", path, i),
                        "model": row["model"] or ""})
    return out


def write_pods(pods: Sequence[Pod], path: str) -> None:
    """Write an 11-column openb pod list that ``gpushare.sim.load_openb`` reads."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(POD_COLUMNS)
        for p in pods:
            w.writerow([p["name"], p["cpu_milli"], p["memory_mib"], p["num_gpu"], p["gpu_milli"],
                        "|".join(p["gpu_spec"]), p["qos"], p["pod_phase"], p["creation_time"], p["deletion_time"],
                        p["scheduled_time"]])


def write_nodes(nodes: Sequence[Node], path: str) -> None:
    """Write an openb node list."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(NODE_COLUMNS)
        for n in nodes:
            w.writerow([n["sn"], n["cpu_milli"], n["memory_mib"], n["gpu"], n["model"]])


# --- pod classes -------------------------------------------------------------------------------

def is_gpu(p: Pod) -> bool:
    return int(p["num_gpu"]) > 0


def is_share(p: Pod) -> bool:
    """A GPU-sharing pod: one GPU, less than all of it."""
    return int(p["num_gpu"]) == 1 and int(p["gpu_milli"]) < 1000


def is_multi(p: Pod) -> bool:
    return int(p["num_gpu"]) >= 2


def is_whole(p: Pod) -> bool:
    """A GPU pod that takes whole GPUs (one or several)."""
    return is_gpu(p) and not is_share(p)


def _copy_resources(dst: Pod, src: Pod) -> None:
    for c in RESOURCE_COLUMNS:
        dst[c] = list(src[c]) if c == "gpu_spec" else src[c]


def _set_share(pods: List[Pod], universe: Callable[[Pod], bool], inside: Callable[[Pod], bool], frac: float,
               rng: random.Random, what: str) -> None:
    """Make round(frac x |universe|) of the universe pods `inside`: pods moved in or out take the
    resources of a random pod (of the original trace) of the class they join."""
    if not 0.0 <= frac <= 1.0:
        raise VariantError(f"{what}: level must be in [0, 1], got {frac}")
    uni = [i for i, p in enumerate(pods) if universe(p)]
    ins = [i for i in uni if inside(pods[i])]
    outs = [i for i in uni if not inside(pods[i])]
    want = round(frac * len(uni))
    if want > len(ins):
        if not ins:
            raise VariantError(f"{what}: the trace has no pod of that class to copy")
        donors = [dict(pods[i]) for i in ins]
        for i in sorted(rng.sample(outs, want - len(ins))):
            _copy_resources(pods[i], rng.choice(donors))
    elif want < len(ins):
        if not outs:
            raise VariantError(f"{what}: the trace has no pod outside that class to copy")
        donors = [dict(pods[i]) for i in outs]
        for i in sorted(rng.sample(ins, len(ins) - want)):
            _copy_resources(pods[i], rng.choice(donors))


def _hosts(nodes: Sequence[Node], p: Pod, cpu: Optional[int] = None, mem: Optional[int] = None,
           num: Optional[int] = None) -> List[Node]:
    """GPU nodes that could host the pod's GPU request when empty (GPU count, and CPU/memory
    when given)."""
    n_gpu = int(p["num_gpu"]) if num is None else num
    return [n for n in nodes if int(n["gpu"]) >= n_gpu and int(n["gpu"]) > 0 and
            (cpu is None or int(n["cpu_milli"]) >= cpu) and (mem is None or int(n["memory_mib"]) >= mem)]


def _scale_column(pods: List[Pod], nodes: Sequence[Node], col: str, k: float, what: str) -> None:
    """Multiply `col` of every GPU pod by k, capped at the largest value among the nodes that can
    host its GPU request (and its model constraint), so the pod still fits an empty node."""
    if not (k > 0 and math.isfinite(k)):
        raise VariantError(f"{what}: level must be a positive factor, got {k}")
    cap_cache: Dict[Tuple[int, Tuple[str, ...]], int] = {}
    for p in pods:
        if not is_gpu(p):
            continue
        key = (int(p["num_gpu"]), tuple(p["gpu_spec"]))
        if key not in cap_cache:
            hs = [n for n in _hosts(nodes, p) if not p["gpu_spec"] or n["model"] in p["gpu_spec"]]
            cap_cache[key] = max((int(n[col]) for n in hs), default=int(p[col]))
        p[col] = min(int(round(int(p[col]) * k)), max(cap_cache[key], int(p[col])))


# --- dimensions --------------------------------------------------------------------------------

def _dim_share(pods, nodes, level, rng):
    _set_share(pods, is_gpu, is_share, level, rng, "share")


def _dim_multi(pods, nodes, level, rng):
    _set_share(pods, is_whole, is_multi, level, rng, "multi")


def _dim_cpu_only(pods, nodes, level, rng):
    _set_share(pods, lambda p: True, lambda p: not is_gpu(p), level, rng, "cpu_only")


def _share_sizes(pods: Sequence[Pod]) -> Dict[int, int]:
    c: Dict[int, int] = {}
    for p in pods:
        if is_share(p):
            c[int(p["gpu_milli"])] = c.get(int(p["gpu_milli"]), 0) + 1
    return c


def _dim_share_tilt(pods, nodes, level, rng):
    if not math.isfinite(level) or abs(level) > 10:
        raise VariantError(f"share_tilt: level must be in [-10, 10], got {level}")
    sizes = sorted(_share_sizes(pods).items())
    if not sizes or level == 0:
        return
    vals = [v for v, _ in sizes]
    w = [c * math.exp(level * (v - 500) / 500.0) for v, c in sizes]
    for p in pods:
        if is_share(p):
            p["gpu_milli"] = rng.choices(vals, weights=w)[0]


def _dim_share_uniform(pods, nodes, level, rng):
    if not 0.0 <= level <= 1.0:
        raise VariantError(f"share_uniform: level must be in [0, 1], got {level}")
    idx = [i for i, p in enumerate(pods) if is_share(p)]
    for i in sorted(rng.sample(idx, round(level * len(idx)))):
        pods[i]["gpu_milli"] = rng.randrange(50, 951, 10)


def _dim_multi_tilt(pods, nodes, level, rng):
    if not math.isfinite(level) or abs(level) > 10:
        raise VariantError(f"multi_tilt: level must be in [-10, 10], got {level}")
    counts: Dict[int, int] = {}
    for p in pods:
        if is_multi(p):
            counts[int(p["num_gpu"])] = counts.get(int(p["num_gpu"]), 0) + 1
    if not counts or level == 0:
        return
    vals = sorted(counts)
    w = [counts[n] * float(n) ** level for n in vals]
    for p in pods:
        if not is_multi(p):
            continue
        old, new = int(p["num_gpu"]), rng.choices(vals, weights=w)[0]
        if new == old:
            continue
        # CPU and memory per GPU are kept (capped by the largest host of the new request).
        hs = [n for n in _hosts(nodes, p, num=new) if not p["gpu_spec"] or n["model"] in p["gpu_spec"]]
        if not hs:
            continue
        p["num_gpu"] = new
        p["cpu_milli"] = min(int(p["cpu_milli"]) * new // old, max(int(n["cpu_milli"]) for n in hs))
        p["memory_mib"] = min(int(p["memory_mib"]) * new // old, max(int(n["memory_mib"]) for n in hs))


def _dim_cpu_per_gpu(pods, nodes, level, rng):
    _scale_column(pods, nodes, "cpu_milli", level, "cpu_per_gpu")


def _dim_mem_per_gpu(pods, nodes, level, rng):
    _scale_column(pods, nodes, "memory_mib", level, "mem_per_gpu")


def _model_gpus(nodes: Sequence[Node]) -> Dict[str, int]:
    g: Dict[str, int] = {}
    for n in nodes:
        if int(n["gpu"]) > 0:
            g[str(n["model"])] = g.get(str(n["model"]), 0) + int(n["gpu"])
    return g


def _pick_model(p: Pod, nodes: Sequence[Node], rng: random.Random, tilt: float, cache: Dict) -> Optional[str]:
    """A model whose nodes can host the pod when empty, weighted by the model's GPUs ** tilt."""
    if "gpus" not in cache:
        cache["gpus"] = _model_gpus(nodes)
    gpus = cache["gpus"]
    key = (int(p["num_gpu"]), int(p["cpu_milli"]), int(p["memory_mib"]))
    if key not in cache:
        cache[key] = sorted({str(n["model"]) for n in _hosts(nodes, p, cpu=key[1], mem=key[2])})
    ok = cache[key]
    if not ok:
        return None
    return rng.choices(ok, weights=[float(gpus[m]) ** tilt for m in ok])[0]


def _dim_pinned(pods, nodes, level, rng):
    if not 0.0 <= level <= 1.0:
        raise VariantError(f"pinned: level must be in [0, 1], got {level}")
    gpu = [i for i, p in enumerate(pods) if is_gpu(p)]
    pinned = [i for i in gpu if pods[i]["gpu_spec"]]
    free = [i for i in gpu if not pods[i]["gpu_spec"]]
    want = round(level * len(gpu))
    cache: Dict = {}
    if want > len(pinned):
        for i in sorted(rng.sample(free, want - len(pinned))):
            m = _pick_model(pods[i], nodes, rng, 1.0, cache)
            if m is not None:
                pods[i]["gpu_spec"] = [m]
    else:
        for i in sorted(rng.sample(pinned, len(pinned) - want)):
            pods[i]["gpu_spec"] = []


def _dim_pin_models(pods, nodes, level, rng):
    if not math.isfinite(level) or abs(level) > 10:
        raise VariantError(f"pin_models: level must be in [-10, 10], got {level}")
    cache: Dict = {}
    for p in pods:
        if is_gpu(p) and p["gpu_spec"]:
            m = _pick_model(p, nodes, rng, level, cache)
            if m is not None:
                p["gpu_spec"] = [m]


def _scale_nodes(nodes, col, k, what):
    if not (k > 0 and math.isfinite(k)):
        raise VariantError(f"{what}: level must be a positive factor, got {k}")
    for n in nodes:
        if int(n["gpu"]) > 0:
            n[col] = int(round(int(n[col]) * k))


def _dim_node_cpu(pods, nodes, level, rng):
    _scale_nodes(nodes, "cpu_milli", level, "node_cpu")


def _dim_node_mem(pods, nodes, level, rng):
    _scale_nodes(nodes, "memory_mib", level, "node_mem")


def _resample_nodes(nodes, weight, rng):
    gpu_idx = [i for i, n in enumerate(nodes) if int(n["gpu"]) > 0]
    types = sorted({(int(nodes[i]["cpu_milli"]), int(nodes[i]["memory_mib"]), int(nodes[i]["gpu"]),
                     str(nodes[i]["model"])) for i in gpu_idx})
    count = {t: 0 for t in types}
    for i in gpu_idx:
        n = nodes[i]
        count[(int(n["cpu_milli"]), int(n["memory_mib"]), int(n["gpu"]), str(n["model"]))] += 1
    w = [count[t] * weight(t) for t in types]
    for i in gpu_idx:
        t = rng.choices(types, weights=w)[0]
        nodes[i].update({"cpu_milli": t[0], "memory_mib": t[1], "gpu": t[2], "model": t[3]})


def _dim_node_gpus(pods, nodes, level, rng):
    if not math.isfinite(level) or abs(level) > 10:
        raise VariantError(f"node_gpus: level must be in [-10, 10], got {level}")
    if level != 0:
        _resample_nodes(nodes, lambda t: float(t[2]) ** level, rng)


def _dim_node_models(pods, nodes, level, rng):
    if not math.isfinite(level) or abs(level) > 10:
        raise VariantError(f"node_models: level must be in [-10, 10], got {level}")
    gpus = _model_gpus(nodes)
    total = float(sum(gpus.values()))
    if level != 0:
        _resample_nodes(nodes, lambda t: (gpus[t[3]] / total) ** level, rng)


#: Every dimension: name -> (what it moves, the columns it may change, the function).  Applied
#: in this order (node dimensions first: the pod dimensions look at the cluster).
DIMENSIONS: Dict[str, Tuple[str, Tuple[str, ...], Callable]] = {
    "node_gpus": ("node mix: GPU nodes redrawn from the node types, weights count x gpus**level",
                  ("node:cpu_milli", "node:memory_mib", "node:gpu", "node:model"), _dim_node_gpus),
    "node_models": ("node mix: GPU nodes redrawn from the node types, weights count x (model's GPU share)**level",
                    ("node:cpu_milli", "node:memory_mib", "node:gpu", "node:model"), _dim_node_models),
    "node_cpu": ("CPU of every GPU node x level", ("node:cpu_milli",), _dim_node_cpu),
    "node_mem": ("memory of every GPU node x level", ("node:memory_mib",), _dim_node_mem),
    "cpu_only": ("share of CPU-only pods among all pods", RESOURCE_COLUMNS, _dim_cpu_only),
    "share": ("share of GPU-sharing pods among GPU pods", RESOURCE_COLUMNS, _dim_share),
    "multi": ("share of multi-GPU pods among whole-GPU pods", RESOURCE_COLUMNS, _dim_multi),
    "share_tilt": ("sharing pods' sizes redrawn from the trace's sizes, weights count x exp(level (size-500)/500)",
                   ("gpu_milli",), _dim_share_tilt),
    "share_uniform": ("share of sharing pods whose size is redrawn uniformly from 50..950 (step 10)",
                      ("gpu_milli",), _dim_share_uniform),
    "multi_tilt": ("multi-GPU pods' GPU count redrawn from the trace's counts, weights count x n**level "
                   "(CPU and memory per GPU kept)", ("num_gpu", "cpu_milli", "memory_mib"), _dim_multi_tilt),
    "cpu_per_gpu": ("CPU of every GPU pod x level (capped by its largest possible host)", ("cpu_milli",),
                    _dim_cpu_per_gpu),
    "mem_per_gpu": ("memory of every GPU pod x level (capped by its largest possible host)", ("memory_mib",),
                    _dim_mem_per_gpu),
    "pinned": ("share of GPU pods pinned to one GPU model (models drawn by GPU capacity among possible hosts)",
               ("gpu_spec",), _dim_pinned),
    "pin_models": ("which models the pinned pods ask for: redrawn among possible hosts, weights (model's GPUs)**level",
                   ("gpu_spec",), _dim_pin_models),
}


def make_variant(pods: Sequence[Pod], nodes: Sequence[Node], variant: Mapping[str, float], seed: int = 0
                 ) -> Tuple[List[Pod], List[Node]]:
    """A variant of (pods, nodes): copies, the inputs are not changed.

    Parameters
    ----------
    pods, nodes : as returned by :func:`read_pods` and :func:`read_nodes`
    variant : mapping of dimension name (a key of :data:`DIMENSIONS`) to level
    seed : int
        Each dimension draws from ``random.Random(f"{seed}:{dimension}")``.

    Raises
    ------
    VariantError
        Unknown dimension (the message lists the known ones) or a level out of range.
    """
    unknown = [d for d in variant if d not in DIMENSIONS]
    if unknown:
        raise VariantError(f"unknown dimension(s) {', '.join(unknown)}; known: {', '.join(DIMENSIONS)}")
    p2 = [dict(p, gpu_spec=list(p["gpu_spec"])) for p in pods]
    n2 = [dict(n) for n in nodes]
    for dim, (_, _, fn) in DIMENSIONS.items():
        if dim in variant:
            fn(p2, n2, float(variant[dim]), random.Random(f"{int(seed)}:{dim}"))
    return p2, n2


def variant_name(variant: Mapping[str, float]) -> str:
    """A file-name-safe name, e.g. ``share=0.8+cpu_per_gpu=2``."""
    return "+".join(f"{d}={variant[d]:g}" for d in DIMENSIONS if d in variant) or "base"


#: The standard grid: every dimension at three or more levels, and combinations.
GRID: List[Dict[str, float]] = (
    [{"share": v} for v in (0.2, 0.6, 0.8, 1.0)]
    + [{"multi": v} for v in (0.0, 0.1, 0.3, 0.5)]
    + [{"cpu_only": v} for v in (0.0, 0.25, 0.5)]
    + [{"share_tilt": v} for v in (-2, -1, 1, 2)]
    + [{"share_uniform": v} for v in (0.25, 0.5, 1.0)]
    + [{"multi": 0.2, "multi_tilt": v} for v in (-2, -1, 2)]
    + [{"cpu_per_gpu": v} for v in (0.5, 1.5, 2.0, 3.0)]
    + [{"mem_per_gpu": v} for v in (0.5, 2.0, 4.0)]
    + [{"pinned": v} for v in (0.1, 0.3, 0.6)]
    + [{"pinned": 0.3, "pin_models": v} for v in (-1, 0, 2)]
    + [{"node_cpu": v} for v in (0.5, 0.75, 1.5)]
    + [{"node_mem": v} for v in (0.25, 0.5, 2.0)]
    + [{"node_gpus": v} for v in (-1, 1, 2)]
    + [{"node_models": v} for v in (-1, 0.5, 1)]
    + [{"share": 0.8, "cpu_per_gpu": 2.0}, {"pinned": 0.3, "multi": 0.3}, {"node_mem": 0.5, "mem_per_gpu": 2.0},
       {"share_tilt": 1, "multi": 0.3}, {"cpu_per_gpu": 2.0, "node_cpu": 0.75}, {"share": 0.6, "pinned": 0.6,
       "pin_models": -1}, {"share_uniform": 0.5, "cpu_per_gpu": 1.5, "node_gpus": 1},
       {"cpu_only": 0.3, "node_cpu": 0.75, "share": 0.6}, {"multi": 0.1, "share_tilt": -1, "mem_per_gpu": 2.0},
       {"node_models": -1, "pinned": 0.3}]
)


#: A small grid for CI (seconds): one or two levels of a few dimensions, on which ``best`` is
#: required to be no worse than FGD (tests/python/test_variants.py).
SMALL_GRID: List[Dict[str, float]] = [{"share": 0.2}, {"share_tilt": -1}, {"pinned": 0.1}]


def compare(nodes, pods, policy_a: str = "FGD", policy_b: str = "best", seeds=range(42, 52)) -> Dict[str, float]:
    """Replay two policies (gpushare.sim.replay) and return the medians over seeds of the
    unallocated GPU % at 100% arrived (``a100``, ``b100``, ``diff100`` = b - a) and the worst
    (b - a) of the medians over 80..100% arrived (``worst_gap``, at ``worst_at``)."""
    from . import replay

    med = {}
    for pol in (policy_a, policy_b):
        df = replay(nodes, pods, policy=pol, seeds=seeds, max_pct=100)
        med[pol] = df[df.arrived_pct >= 80].groupby("arrived_pct")["unallocated_pct"].median()
    gap = med[policy_b] - med[policy_a]
    return {"a100": float(med[policy_a][100]), "b100": float(med[policy_b][100]),
            "diff100": float(gap[100]), "worst_gap": float(gap.max()), "worst_at": int(gap.idxmax())}


def write_grid(pods: Sequence[Pod], nodes: Sequence[Node], out_dir: str, grid: Sequence[Mapping[str, float]] = GRID,
               seed: int = 0) -> List[Dict[str, object]]:
    """Write every variant of `grid` to `out_dir` (``pods_<name>.csv``, ``nodes_<name>.csv``) and a
    ``manifest.json`` listing them; returns the manifest entries."""
    os.makedirs(out_dir, exist_ok=True)
    manifest = []
    for v in grid:
        p2, n2 = make_variant(pods, nodes, v, seed)
        name = variant_name(v)
        pf, nf = os.path.join(out_dir, f"pods_{name}.csv"), os.path.join(out_dir, f"nodes_{name}.csv")
        write_pods(p2, pf)
        write_nodes(n2, nf)
        manifest.append({"name": name, "variant": dict(v), "seed": int(seed), "pods": pf, "nodes": nf})
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def describe(pods: Sequence[Pod], nodes: Sequence[Node]) -> Dict[str, float]:
    """The quantities the dimensions move, measured on a trace (for checks and the docs)."""
    gpu = [p for p in pods if is_gpu(p)]
    whole = [p for p in gpu if not is_share(p)]
    share = [p for p in gpu if is_share(p)]
    multi = [p for p in whole if is_multi(p)]
    gnodes = [n for n in nodes if int(n["gpu"]) > 0]

    def mean(xs):
        return sum(xs) / len(xs) if xs else float("nan")
    return {
        "pods": float(len(pods)),
        "cpu_only": (len(pods) - len(gpu)) / len(pods) if pods else float("nan"),
        "share": len(share) / len(gpu) if gpu else float("nan"),
        "multi": len(multi) / len(whole) if whole else float("nan"),
        "share_mean_milli": mean([int(p["gpu_milli"]) for p in share]),
        "multi_mean_gpus": mean([int(p["num_gpu"]) for p in multi]),
        "gpu_pod_cpu_mean": mean([int(p["cpu_milli"]) for p in gpu]),
        "gpu_pod_mem_mean": mean([int(p["memory_mib"]) for p in gpu]),
        "pinned": sum(1 for p in gpu if p["gpu_spec"]) / len(gpu) if gpu else float("nan"),
        "gpu_nodes": float(len(gnodes)),
        "cluster_gpus": float(sum(int(n["gpu"]) for n in gnodes)),
        "node_cpu_mean": mean([int(n["cpu_milli"]) for n in gnodes]),
        "node_mem_mean": mean([int(n["memory_mib"]) for n in gnodes]),
    }


__all__ = ["DIMENSIONS", "GRID", "SMALL_GRID", "compare", "NODE_COLUMNS", "POD_COLUMNS", "VariantError", "describe", "make_variant",
           "read_nodes", "read_pods", "variant_name", "write_grid", "write_nodes", "write_pods"]

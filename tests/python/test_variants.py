"""gpushare.sim.variants: determinism per seed, each dimension moves what it says and nothing
else, the output loads through the normal loader, the CLI, and a small grid on which best is
no worse than FGD."""
import collections
import os

import pytest

from gpushare import cli
from gpushare.sim import variants as V

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "openb")
NODES = os.path.join(DATA, "openb_node_list_gpu_node.csv")
PODS = os.path.join(DATA, "openb_pod_list_default.csv")
pytestmark = pytest.mark.skipif(not os.path.isdir(DATA), reason="openb data not found")


@pytest.fixture(scope="module")
def trace():
    return V.read_pods(PODS), V.read_nodes(NODES)


def _rows(pods, cols):
    return [tuple(tuple(p[c]) if c == "gpu_spec" else p[c] for c in cols) for p in pods]


OTHER = ("name", "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time")
LEVELS = {"share": 0.7, "multi": 0.3, "cpu_only": 0.3, "share_tilt": 1.5, "share_uniform": 0.5, "multi_tilt": 2,
          "cpu_per_gpu": 2.0, "mem_per_gpu": 2.0, "pinned": 0.3, "pin_models": 0, "node_cpu": 0.5, "node_mem": 0.5,
          "node_gpus": 1, "node_models": 1}


def test_every_dimension_has_a_test_level():
    assert set(LEVELS) == set(V.DIMENSIONS)


def test_same_seed_same_variant_other_seed_differs(trace):
    pods, nodes = trace
    v = {"share": 0.7, "share_uniform": 0.5, "pinned": 0.2, "node_gpus": 1}
    a = V.make_variant(pods, nodes, v, seed=3)
    b = V.make_variant(pods, nodes, v, seed=3)
    c = V.make_variant(pods, nodes, v, seed=4)
    assert a == b
    assert a != c
    assert V.read_pods(PODS) == pods  # inputs untouched


@pytest.mark.parametrize("dim", sorted(LEVELS))
def test_dimension_changes_only_its_columns(trace, dim):
    pods, nodes = trace
    variant = {dim: LEVELS[dim]}
    if dim == "pin_models":
        variant["pinned"] = 0.3
    p2, n2 = V.make_variant(pods, nodes, variant, seed=1)
    allowed = set()
    for d in variant:
        allowed |= set(V.DIMENSIONS[d][1])
    pod_cols = [c for c in V.POD_COLUMNS if c not in allowed]
    node_cols = [c for c in V.NODE_COLUMNS if f"node:{c}" not in allowed]
    assert _rows(p2, pod_cols) == _rows(pods, pod_cols)
    assert [tuple(n[c] for c in node_cols) for n in n2] == [tuple(n[c] for c in node_cols) for n in nodes]
    assert _rows(p2, V.POD_COLUMNS) != _rows(pods, V.POD_COLUMNS) or n2 != nodes  # it moved something


@pytest.mark.parametrize("dim,level", [("share", 0.2), ("share", 0.9), ("multi", 0.4), ("cpu_only", 0.0),
                                       ("pinned", 0.5)])
def test_share_dimensions_hit_their_level_and_keep_the_rest(trace, dim, level):
    pods, nodes = trace
    p2, n2 = V.make_variant(pods, nodes, {dim: level}, seed=2)
    before, after = V.describe(pods, nodes), V.describe(p2, n2)
    assert after[dim] == pytest.approx(level, abs=2e-3)
    untouched = {"share": ["cpu_only", "pinned"], "multi": ["cpu_only", "share", "pinned"],
                 "cpu_only": ["pinned"], "pinned": ["cpu_only", "share", "multi", "share_mean_milli",
                                                    "gpu_pod_cpu_mean", "gpu_pod_mem_mean"]}[dim]
    for k in untouched + ["gpu_nodes", "cluster_gpus", "node_cpu_mean", "node_mem_mean", "pods"]:
        assert after[k] == pytest.approx(before[k], rel=1e-9, nan_ok=True), k
    if dim == "share":  # copied sharing pods come from the trace's sharing pods: same sizes only
        assert {p["gpu_milli"] for p in p2 if V.is_share(p)} <= {p["gpu_milli"] for p in pods if V.is_share(p)}


def test_share_tilt_moves_sizes_the_right_way(trace):
    pods, nodes = trace
    up = V.describe(*V.make_variant(pods, nodes, {"share_tilt": 2}, seed=0))["share_mean_milli"]
    down = V.describe(*V.make_variant(pods, nodes, {"share_tilt": -2}, seed=0))["share_mean_milli"]
    base = V.describe(pods, nodes)["share_mean_milli"]
    assert down < base - 50 and up > base + 50


def test_scaling_dimensions(trace):
    pods, nodes = trace
    p2, _ = V.make_variant(pods, nodes, {"cpu_per_gpu": 0.5}, seed=0)
    for a, b in zip(pods, p2):
        assert b["cpu_milli"] == (round(a["cpu_milli"] * 0.5) if V.is_gpu(a) else a["cpu_milli"])
    _, n2 = V.make_variant(pods, nodes, {"node_mem": 2.0}, seed=0)
    assert [n["memory_mib"] for n in n2] == [2 * n["memory_mib"] for n in nodes]


def test_pins_name_models_that_can_host_the_pod(trace):
    pods, nodes = trace
    p2, _ = V.make_variant(pods, nodes, {"pinned": 0.5, "pin_models": -1}, seed=5)
    pinned = [p for p in p2 if p["gpu_spec"]]
    assert len(pinned) > 0.45 * sum(1 for p in p2 if V.is_gpu(p))
    for p in pinned[:500]:
        m = p["gpu_spec"][0]
        assert any(n["model"] == m and n["gpu"] >= p["num_gpu"] and n["cpu_milli"] >= p["cpu_milli"] and
                   n["memory_mib"] >= p["memory_mib"] for n in nodes)
    assert len(collections.Counter(p["gpu_spec"][0] for p in pinned)) >= 4


def test_bad_variants_are_refused(trace):
    pods, nodes = trace
    with pytest.raises(V.VariantError, match="unknown dimension"):
        V.make_variant(pods, nodes, {"colour": 1})
    with pytest.raises(V.VariantError, match=r"share: level must be in \[0, 1\]"):
        V.make_variant(pods, nodes, {"share": 1.5})
    with pytest.raises(V.VariantError, match="node_cpu"):
        V.make_variant(pods, nodes, {"node_cpu": 0})


def test_written_variant_loads_through_the_loader(trace, tmp_path):
    import gpushare.sim as sim

    pods, nodes = trace
    p2, n2 = V.make_variant(pods, nodes, {"pinned": 0.2, "share_uniform": 0.3, "node_models": 1}, seed=1)
    V.write_pods(p2, tmp_path / "p.csv")
    V.write_nodes(n2, tmp_path / "n.csv")
    ln, lp = sim.load_openb(str(tmp_path / "n.csv"), str(tmp_path / "p.csv"))
    assert len(lp) == len(p2) and len(ln) == len(n2)
    assert [list(p.gpu_spec) for p in lp] == [p["gpu_spec"] for p in p2]
    assert [p.gpu_milli for p in lp] == [p["gpu_milli"] for p in p2]
    assert [n.model for n in ln] == [n["model"] for n in n2]


def test_standard_grid_covers_every_dimension_at_three_levels():
    assert len(V.GRID) >= 40
    levels = collections.defaultdict(set)
    for v in V.GRID:
        for d, lv in v.items():
            levels[d].add(lv)
    assert set(levels) == set(V.DIMENSIONS)
    assert all(len(s) >= 3 for s in levels.values()), levels


def test_cli_list_make_and_errors(tmp_path, capsys):
    assert cli.main(["variants", "list"]) == 0
    assert "share_tilt" in capsys.readouterr().out
    out_p, out_n = str(tmp_path / "p.csv"), str(tmp_path / "n.csv")
    assert cli.main(["variants", "make", "--pods", PODS, "--nodes", NODES, "--set", "share=0.5", "--seed", "1",
                     "--out-pods", out_p, "--out-nodes", out_n]) == 0
    assert V.describe(V.read_pods(out_p), V.read_nodes(out_n))["share"] == pytest.approx(0.5, abs=1e-3)
    assert cli.main(["variants", "make", "--pods", PODS, "--nodes", NODES, "--set", "shar=0.5",
                     "--out-pods", out_p, "--out-nodes", out_n]) == 2
    assert "unknown dimension(s) shar" in capsys.readouterr().err


def test_best_no_worse_than_fgd_on_the_small_grid(trace, tmp_path, capsys):
    """The CI grid: on each variant, best's median unallocated % at 100% arrived (seeds 42..44)
    is at most FGD's."""
    assert cli.main(["variants", "grid", "--pods", PODS, "--nodes", NODES, "--out", str(tmp_path), "--small"]) == 0
    import json

    import gpushare.sim as sim
    for e in json.load(open(tmp_path / "manifest.json")):
        nodes, pods = sim.load_openb(e["nodes"], e["pods"])
        r = V.compare(nodes, pods, "FGD", "best", seeds=[42, 43, 44])
        assert r["b100"] <= r["a100"], (e["name"], r)

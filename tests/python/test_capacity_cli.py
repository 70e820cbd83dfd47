"""CLI: compare and size subcommands, progress bar, final_state and plots."""
import io
import json
import os
import subprocess
import sys

import pytest

import gpushare as gs
from gpushare import cli, plots, sim
from gpushare.sizing import NodeType, TaskShape, size_cluster, workload_from_mix

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("GPUSHARE_DATA_DIR", os.path.join(HERE, "..", "..", "..", "shared", "data"))
NODES = os.path.join(DATA, "openb", "openb_node_list_gpu_node.csv")
PODS = os.path.join(DATA, "openb", "openb_pod_list_default.csv")
needs_data = pytest.mark.skipif(not os.path.exists(NODES), reason="openb data not found")

MIX = {"hours": 1, "seed": 3, "shapes": [
    {"cpu_milli": 4000, "memory_mib": 16384, "num_gpu": 1, "gpu_milli": 500, "rate": 40, "duration_h": 2},
    {"cpu_milli": 8000, "memory_mib": 32768, "num_gpu": 1, "gpu_milli": 1000, "rate": 20},
    {"cpu_milli": 16000, "memory_mib": 65536, "num_gpu": 4, "gpu_milli": 1000, "rate": 3}]}


@needs_data
def test_final_state_matches_replay_and_nodes():
    nodes, pods = sim.load_openb(NODES, PODS)
    sub = gs.sweeps.subsample_nodes(nodes, 80)
    fin = sim.final_state(sub, pods, policy="BestFit", seeds=[3, 4])
    assert list(fin.seed) == [3, 4]
    for _, r in fin.iterrows():
        assert len(r.node_used_milli) == len(sub)
        assert sum(r.node_used_milli) == r.allocated_milli
        assert all(0 <= u <= n.gpus * 1000 for u, n in zip(r.node_used_milli, sub))
        assert r.pods_placed + r.pods_failed == r.pods_submitted
        assert r.arrived_milli >= r.allocated_milli
    steps = sim.replay(sub, pods, policy="BestFit", seeds=[3, 4])
    assert list(steps.groupby("seed").pods_placed.first()) == list(fin.pods_placed)


@needs_data
def test_cli_compare_table_csv_json_plot(tmp_path, capsys):
    csv, js, png = tmp_path / "c.csv", tmp_path / "c.json", tmp_path / "c.png"
    rc = cli.main(["compare", "--nodes", NODES, "--pods", PODS, "--policies", "BestFit,FGD", "--seeds", "1-2",
                   "--size", "100", "--csv", str(csv), "--json", str(js), "--plot", str(png), "--quiet"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "BestFit" in out.out and "FGD" in out.out and "(min..max)" in out.out
    assert out.err == ""  # quiet, and stderr is not a terminal anyway
    import pandas as pd

    df = pd.read_csv(csv)
    assert set(df.policy) == {"BestFit", "FGD"} and set(df.seed) == {1, 2} and (df.nodes == 100).all()
    assert len(json.loads(js.read_text())) == len(df)
    assert png.stat().st_size > 1000
    assert cli.main(["compare", "--nodes", NODES, "--pods", PODS, "--policies", "Nope"]) == 2


def test_cli_size_from_mix(tmp_path, capsys):
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps(MIX))
    out_json = tmp_path / "s.json"
    rc = cli.main(["size", "--mix", str(mix), "--node-type", "8xV100:V100M32:8:96000:786432:24",
                   "--node-type", "4xA10:A10:4:64000:262144:9", "--seeds", "1-2", "--json", str(out_json),
                   "--max-unplaced", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "answer:" in out and "<- cheapest" in out
    rows = json.loads(out_json.read_text())
    best = [r for r in rows if r["best"]]
    assert len(best) == 1
    # the same answer as the library call
    from gpushare.cli import _load_mix

    df = size_cluster(_load_mix(str(mix)), [NodeType("8xV100", "V100M32", 8, 96000, 786432, 24),
                                            NodeType("4xA10", "A10", 4, 64000, 262144, 9)], "FGD",
                      max_unplaced_pct=2, seeds=[1, 2])
    assert df[df.best].iloc[0].nodes == best[0]["nodes"]


def test_cli_size_errors(tmp_path, capsys):
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps(MIX))
    with pytest.raises(SystemExit):
        cli.main(["size", "--mix", str(mix), "--node-type", "bad"])
    only_v100 = [dict(s, gpu_spec=["V100M32"]) for s in MIX["shapes"]]
    mix.write_text(json.dumps({"hours": 1, "shapes": only_v100}))
    assert cli.main(["size", "--mix", str(mix), "--node-type", "t4:T4:2:32000:131072:1.6", "--max-nodes", "40"]) == 1
    assert "no node type meets" in capsys.readouterr().out
    assert cli.main(["size", "--mix", str(tmp_path / "missing.json"), "--node-type", "t4:T4:2:32000:131072:1"]) == 2


def test_progress_bar_only_on_tty():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    s = Tty()
    bar = cli._Progress("x", stream=s)
    bar(1, 2)
    bar(2, 2)
    assert "1/2" in s.getvalue() and "2/2" in s.getvalue() and "#" in s.getvalue()
    quiet = Tty()
    cli._Progress("x", quiet=True, stream=quiet)(1, 2)
    plain = io.StringIO()
    cli._Progress("x", stream=plain)(1, 2)
    assert quiet.getvalue() == "" and plain.getvalue() == ""


def test_help_lists_subcommands():
    r = subprocess.run([sys.executable, "-m", "gpushare", "--help"], capture_output=True, text=True, check=True)
    for name in ("replay", "compare", "size", "inspect", "conform"):
        assert name in r.stdout


def test_plots_return_axes(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    pods = workload_from_mix([TaskShape(4000, 16384, 1, 500, 40), TaskShape(8000, 32768, 1, 1000, 20)], 1, seed=1)
    nt = NodeType("4xA10", "A10", 4, 64000, 262144, 9)
    df = size_cluster(pods, [nt], "FGD", max_unplaced_pct=1, seeds=[1])
    ax = plots.sizing_frontier(df)
    assert ax.get_xlabel() == "cost per hour" and len(ax.lines) == 1
    nodes = nt.nodes(8)
    rep = sim.replay(nodes, pods, "FGD", seeds=[1, 2])
    assert plots.unallocated_vs_arrived(rep).get_legend_handles_labels()[1] == ["FGD"]
    assert plots.fragmentation_over_time(rep).get_legend_handles_labels()[1] == ["FGD"]
    fin = sim.final_state(nodes, pods, "FGD", seeds=[1, 2])
    hm = plots.occupancy_heatmap(fin, nodes)
    assert hm.images[0].get_array().shape == (2, 8)
    hm.figure.savefig(tmp_path / "h.png")


def test_readme_capacity_planning_example_runs():
    import matplotlib

    matplotlib.use("Agg")
    readme = open(os.path.join(HERE, "..", "..", "README.md"), encoding="utf-8").read()
    start = readme.index("## Capacity planning")
    body = readme.index("```python", start) + len("```python")
    code = readme[body:readme.index("```", body)]
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    best = ns["df"][ns["df"].best].iloc[0]
    assert (best.node_type, best.nodes, best.cost_per_hour) == ("4xA10", 63, 567.0)  # as the README says
    assert best.unplaced_pct == pytest.approx(0.98, abs=0.005)


def test_import_gpushare_loads_submodules_on_first_use():
    code = ("import sys, gpushare as gs; assert 'gpushare.sizing' not in sys.modules; "
            "assert 'dataclasses' not in sys.modules, 'gpushare imported dataclasses eagerly'; "
            "assert gs.sweep is gs.sweeps.sweep and gs.NodeType is gs.sizing.NodeType; "
            "assert gs.load_kueue is gs.quota.load_kueue and 'sim' in dir(gs); "
            "import gpushare.sizing; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gs.nope  # noqa: B018


@needs_data
def test_cli_replay_skips_pandas_unless_writing(tmp_path):
    # pandas costs more to import than a 1x replay takes: the table needs no DataFrame.
    base = ["replay", "--nodes", NODES, "--pods", PODS, "--policy", "FGD", "--seeds", "42-43"]
    code = ("import sys; from gpushare import cli; rc = cli.main(sys.argv[1:]); "
            "print('PANDAS' if 'pandas' in sys.modules else 'NOPANDAS'); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code] + base, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "NOPANDAS" in out.stdout
    row = [line for line in out.stdout.splitlines() if line.startswith("FGD")][0].split()
    # the same medians as the DataFrame path (sim.replay + sim.summary_at)
    nodes, pods = sim.load_openb(NODES, PODS)
    want = sim.summary_at(sim.replay(nodes, pods, policy="FGD", seeds=[42, 43]), 100).iloc[0]
    assert [float(x) for x in row[1:4]] == [round(want.allocated_pct, 2), round(want.unallocated_pct, 2),
                                             round(want.fragmentation_pct, 2)]
    csv = tmp_path / "m.csv"
    out = subprocess.run([sys.executable, "-c", code] + base + ["--csv", str(csv)], capture_output=True, text=True)
    assert out.returncode == 0 and "PANDAS" in out.stdout.split() and csv.exists()


def test_medians_at_matches_pandas_and_skips_nan():
    cols = {"arrived_pct": [100, 100, 100, 100, 99], "allocated_pct": [1.0, 4.0, 2.0, float("nan"), 9.0],
            "unallocated_pct": [3.0, 1.0, 2.0, 5.0, 0.0], "fragmentation_pct": [float("nan")] * 5}
    m = sim.medians_at(cols, 100)
    assert m["allocated_pct"] == 2.0 and m["unallocated_pct"] == 2.5
    assert m["fragmentation_pct"] != m["fragmentation_pct"]  # NaN: no seed has data

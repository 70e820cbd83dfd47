"""`gpushare topo`: reads nvidia-smi text and JSON fixtures, prints the matrix and the best set."""

import json
import os
import subprocess
import sys

import gpushare as gs


def run(*args):
    return subprocess.run([sys.executable, "-m", "gpushare", "topo", *args], capture_output=True, text=True)


def test_topo_smi_and_json(data_dir):
    smi = os.path.join(data_dir, "topology", "smi", "dgx1-v100.txt")
    out = run(smi, "--k", "4", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["gpus"] == 8 and len(doc["best_set"]) == 4
    topo = gs.Topology.from_nvidia_smi(open(smi).read())
    # the CLI's answer is the library's answer, and no other 4-set scores higher
    assert doc["best_set"] == gs.best_gpu_set(topo, list(range(8)), 4)
    import itertools
    best = max(gs.topology_set_score(topo, list(c)) for c in itertools.combinations(range(8), 4))
    assert doc["best_set_score"] == best
    table = run(smi)
    assert table.returncode == 0 and table.stdout.splitlines()[0].strip().startswith("GPU0")
    assert "NV" in table.stdout
    fixture = os.path.join(data_dir, "topology", "dgx-a100.json")
    js = run(fixture, "--k", "2", "--free", "0,1,2,5", "--required", "5")
    assert js.returncode == 0, js.stderr
    assert "best set of 2:" in js.stdout and "5" in js.stdout.splitlines()[-1]


def test_topo_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("GPU0 X nonsense\n")
    out = run(str(bad))
    assert out.returncode == 2 and "gpushare topo:" in out.stderr
    out = run(str(tmp_path / "missing.txt"))
    assert out.returncode == 2

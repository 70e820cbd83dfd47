"""inspect: the document, its table, and the CLI reading it from a file."""

import json
import subprocess
import sys

import pytest

import gpushare as gs
from gpushare.inspect import format_inspect, inspect


def test_inspect_document_and_table(tmp_path):
    c = gs.Cluster([gs.Node("n1", gpus=[gs.Gpu(i, "T4", mib_total=16384) for i in range(2)]),
                    gs.Node("cpu-only", cpu_milli=4000)])
    c.allocate(gs.Placement("ns/a", "n1", 0, [0], 500, 4096))
    c.allocate(gs.Placement("ns/b", "n1", 0, [1], 1000, 16384))
    c.set_gpu_healthy(0, 1, False)
    doc = inspect(c, pending_pods=["ns/c"])
    # idle: GPU0's 500 (GPU1 is unhealthy); FGD over the placed shapes {1x500, 1x1000}, half each:
    # a 1000 task cannot use GPU0's 500 -> 250 fragmented
    assert doc["total"] == {"milli_used": 1500, "milli_total": 2000, "mib_used": 20480, "mib_total": 32768,
                            "idle_milli": 500, "frag_milli": 250.0}
    assert doc["nodes"][0]["pods"] == ["ns/a", "ns/b"]
    assert doc["nodes"][0]["frag_milli"] == 250.0 and doc["nodes"][1]["frag_milli"] == 0.0
    text = format_inspect(doc)
    assert "GPU0:4096/16384,500/1000" in text and "GPU1:16384/16384,1000/1000(unhealthy)" in text
    assert "cpu-only  no GPUs  0" in text
    assert "Pending pods (1): ns/c" in text
    assert "Fragmented (FGD): 250 of 500 idle milli-GPU (50.0%)" in text
    assert text.splitlines()[-1] == "Allocated/Total in cluster: 20480/32768 MiB (62.5%), 1500/2000 milli-GPU (75.0%)"
    f = tmp_path / "inspect.json"
    f.write_text(json.dumps(doc))
    out = subprocess.run([sys.executable, "-m", "gpushare", "inspect", "--file", str(f)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == text
    with pytest.raises(ValueError, match="missing field"):
        format_inspect({"nodes": []})
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    out = subprocess.run([sys.executable, "-m", "gpushare", "inspect", "--file", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2 and "gpushare inspect:" in out.stderr

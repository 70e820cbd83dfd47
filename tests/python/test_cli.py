"""The command line: `python -m gpushare` and the installed `gpushare` script."""

import json
import os
import subprocess
import sys

import gpushare as gs
from gpushare import cli


def run(*args):
    return subprocess.run([sys.executable, "-m", "gpushare", *args], capture_output=True, text=True)


def test_help_lists_conform():
    out = run("--help")
    assert out.returncode == 0 and "conform" in out.stdout


def test_installed_script_exists():
    script = os.path.join(os.path.dirname(sys.executable), "gpushare")
    assert os.path.exists(script)
    out = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and gs.__version__ in out.stdout


def test_conform_unsupported_suite_fails(tmp_path):
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"suite": "no-such-suite", "cases": []}))
    out = run("conform", str(f))
    assert out.returncode == 1
    assert "not supported" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "0 passed, 0 failed"


def test_conform_bad_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = run("conform", str(bad))
    assert out.returncode == 2 and "invalid JSON" in out.stderr
    nosuite = tmp_path / "nosuite.json"
    nosuite.write_text(json.dumps({"cases": []}))
    out = run("conform", str(nosuite))
    assert out.returncode == 2 and "missing string field 'suite'" in out.stderr
    out = run("conform", str(tmp_path / "missing.json"))
    assert out.returncode == 2


def test_conform_every_shipped_suite_reports(data_dir):
    """Every shipped suite file is read; supported suites must pass every case."""
    folder = os.path.join(data_dir, "conformance")
    supported = set(gs.supported_suites())
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(folder, name)
        with open(path) as f:
            suite = json.load(f)["suite"]
        code = cli.main(["conform", path])
        if suite in supported:
            assert code == 0, f"{name}: conformance failures"
        else:
            assert code == 1

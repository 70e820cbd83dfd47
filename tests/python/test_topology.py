"""Tests of the topology layer from Python: loaders, NumPy matrices, best_gpu_set, BestEffort."""
import itertools
import json
import os
import pathlib

import numpy as np
import pytest

import gpushare as gs

DATA = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "topology"


def test_from_json_file_and_dict():
    path = DATA / "dgx1-volta.json"
    d = json.loads(path.read_text())
    t = gs.Topology.from_json(path.read_text())
    t2 = gs.Topology.from_json(d)
    assert t.size == 8
    assert isinstance(t.nvlink, np.ndarray)
    assert np.array_equal(t.nvlink, np.array(d["nvlink"]))
    assert np.array_equal(t.nvlink, t2.nvlink)
    assert list(t.numa) == d["numa"]
    assert t.pcie_labels == d["pcie"]
    assert t.pcie.shape == (8, 8)
    assert "gpus=8" in repr(t)


def test_from_nvidia_smi_matches_expected():
    for txt in sorted((DATA / "smi").glob("*.txt")):
        exp = json.loads(txt.with_name(txt.stem + ".expected.json").read_text())
        t = gs.Topology.from_nvidia_smi(txt.read_text())
        assert t.size == exp["gpus"]
        for i, j in itertools.product(range(t.size), repeat=2):
            cell = exp["cells"][i][j]
            if cell.startswith("NV"):
                assert t.nvlink[i, j] == int(cell[2:])
            else:
                assert t.nvlink[i, j] == 0


def test_from_nvidia_smi_error_has_line_and_column():
    with pytest.raises(gs.ParseError, match="line 2, column"):
        gs.Topology.from_nvidia_smi("\tGPU0\tGPU1\nGPU0\t X \tBAD\nGPU1\tPHB\t X \n")


def test_best_gpu_set_matches_brute_force():
    t = gs.Topology.from_json((DATA / "dgx1-volta.json").read_text())
    free = [0, 1, 2, 4, 5, 6, 7]
    for k in range(1, len(free) + 1):
        best = max(gs.topology_set_score(t, list(c)) for c in itertools.combinations(free, k))
        got = gs.best_gpu_set(t, free, k)
        assert len(got) == k and set(got) <= set(free)
        assert gs.topology_set_score(t, got) == best
    got = gs.best_gpu_set(t, free, 2, required=[5])
    assert 5 in got
    with pytest.raises(gs.CapacityError):
        gs.best_gpu_set(t, free, 8)


def test_nvidia_besteffort_repo_case():
    t = gs.Topology.from_json((DATA / "dgx1-volta.json").read_text())
    assert gs.nvidia_besteffort(t, [0, 2, 4, 5], [], 2) == [4, 5]

"""pytest fixtures of the end-to-end suite: one real control plane (etcd + kube-apiserver) per
session, emptied between tests; kube-scheduler and the gpushare programs started per test.

Environment:
- GPUSHARE_KUBE_BIN: folder with kube-apiserver and kube-scheduler (default: build-kube.sh's cache);
- GPUSHARE_BUILD: the CMake build folder with the programs (default: build/ in the repo).
A missing binary is an error, not a skip: `make test` builds them first.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kubecluster import REPO, KubeCluster, default_bin_dir  # noqa: E402


def build_dir() -> Path:
    return Path(os.environ.get("GPUSHARE_BUILD", REPO / "build"))


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    cp = KubeCluster.start(default_bin_dir(), tmp_path_factory.mktemp("control-plane"))
    yield cp
    cp.stop()


@pytest.fixture
def kube(control_plane):
    """The session's control plane, with no pods or nodes left over from the test before; the
    processes a test starts through it (``spawn``/``start_scheduler``) are stopped after it."""
    cp = control_plane
    cp.delete_all()
    started = len(cp.procs)
    yield cp
    for p in reversed(cp.procs[started:]):
        p.stop()
    del cp.procs[started:]

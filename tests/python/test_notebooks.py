"""The example notebooks work as a newcomer opens them.

Each notebook is executed (nbclient) with the kernel named in its own metadata, resolved the way
Jupyter resolves it: the default KernelSpecManager over this interpreter's Jupyter paths, where
`make notebook` installs the `gpushare` kernelspec (inside the venv's prefix).  The test installs
no kernelspec of its own and sets no JUPYTER_PATH.  It checks values in the outputs, and that
Debian's Jupyter Notebook server, started from the venv as the README says, lists the kernel
and starts it for a notebook.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
NB_DIR = os.path.join(REPO, "examples", "notebooks")
# Where the notebooks look for the data when GPUSHARE_DATA_DIR is not set (../shared/data).
DATA = os.path.join(REPO, "..", "shared", "data")
NOTEBOOKS = ["cluster_sizing.ipynb", "policy_comparison.ipynb"]
needs_data = pytest.mark.skipif(not os.path.isdir(os.path.join(DATA, "openb")), reason="openb data not found")


def read(name):
    return nbformat.read(os.path.join(NB_DIR, name), as_version=4)


def resolve(kernel_name):
    try:
        return KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        pytest.fail(f"kernel '{kernel_name}' not found in {KernelSpecManager().kernel_dirs}: run `make notebook`")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_declares_the_venv_kernel(name):
    nb = read(name)
    assert "JUPYTER_PATH" not in os.environ
    kernel = nb.metadata.kernelspec.name
    assert kernel == "gpushare"
    spec = resolve(kernel)
    # the spec found is the one inside this venv, and it runs this venv's interpreter
    assert os.path.commonpath([spec.resource_dir, sys.prefix]) == sys.prefix, spec.resource_dir
    assert spec.argv[0] == sys.executable
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code"), f"{name} is stored with outputs"


def execute(name):
    nb = read(name)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name=nb.metadata.kernelspec.name,
                                     resources={"metadata": {"path": NB_DIR}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    return code


def text_of(cell):
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif "data" in o and "text/plain" in o.data:
            out.append(o.data["text/plain"])
    return "\n".join(out)


def images(cells):
    return sum(1 for c in cells for o in c.outputs if "data" in o and "image/png" in o.data)


@needs_data
def test_cluster_sizing_notebook():
    cells = execute("cluster_sizing.ipynb")
    assert text_of(cells[0]).strip() == "(1213, 8152)"  # the openb default trace: nodes, pods
    answer = next(text_of(c) for c in cells if "unplaced" in text_of(c) and " x " in text_of(c))
    m = re.match(r"(\d+) x (\S+): (\d+) GPUs, ([\d.]+)/h, ([\d.]+)% unplaced, ([\d.]+)% of GPU capacity stranded",
                 answer.strip())
    assert m, answer
    nodes, node_type, gpus, cost, unplaced = int(m[1]), m[2], int(m[3]), float(m[4]), float(m[5])
    per_node = {"8xV100M32": (8, 24.0), "8xG2": (8, 16.0), "2xT4": (2, 3.2)}[node_type]
    assert gpus == nodes * per_node[0]
    assert cost == pytest.approx(nodes * per_node[1], abs=0.01)
    assert unplaced <= 5.0  # the notebook's target
    assert images(cells) >= 2  # the frontier and the occupancy heatmap


@needs_data
def test_policy_comparison_notebook():
    cells = execute("policy_comparison.ipynb")
    assert text_of(cells[0]).strip() == "(1213, 8152)"
    table = text_of(cells[1])
    rows = {}
    for line in table.splitlines():
        parts = line.split()
        for p in ("Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD", "best"):
            if p in parts:
                rows[p] = line
    assert set(rows) == {"Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD", "best"}, table
    # sorted by unallocated GPU %: Random, the study's weakest, is last
    order = [p for line in table.splitlines() for p in rows if p in line.split()]
    assert order[-1] == "Random", table
    assert images(cells) >= 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyter_notebook_server_starts_the_declared_kernel(tmp_path):
    pytest.importorskip("notebook")
    port = free_port()
    token = os.urandom(12).hex()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    # What the README says: Debian's Jupyter Notebook, run by the venv's interpreter.
    proc = subprocess.Popen([sys.executable, "-m", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             "--port-retries=0", f"--NotebookApp.token={token}",
                             f"--notebook-dir={NB_DIR}"] + (["--allow-root"] if os.geteuid() == 0 else []), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"

    def call(method, path, body=None):
        req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
            return json.loads(data) if data else None

    try:
        deadline = time.time() + 60
        while True:
            try:
                specs = call("GET", "/api/kernelspecs")
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail("jupyter notebook did not start")
                time.sleep(0.2)
        assert "gpushare" in specs["kernelspecs"], list(specs["kernelspecs"])
        assert specs["kernelspecs"]["gpushare"]["spec"]["argv"][0] == sys.executable
        for name in NOTEBOOKS:
            model = call("GET", f"/api/contents/{name}")
            kernel = model["content"]["metadata"]["kernelspec"]["name"]
            session = call("POST", "/api/sessions", {"path": name, "type": "notebook", "kernel": {"name": kernel}})
            assert session["kernel"]["name"] == "gpushare"
            k = call("GET", f"/api/kernels/{session['kernel']['id']}")
            assert k["name"] == "gpushare"
            call("DELETE", f"/api/sessions/{session['id']}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""The example notebooks execute top to bottom (nbclient) with this interpreter as the kernel."""
import json
import os
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
NB_DIR = os.path.join(REPO, "examples", "notebooks")
DATA = os.environ.get("GPUSHARE_DATA_DIR", os.path.join(REPO, "..", "shared", "data"))


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A private Jupyter data dir whose only python3 kernelspec runs sys.executable (the venv)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "gpushare-test"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gpushare test", "language": "python"}))
    old = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "GPUSHARE_DATA_DIR", "MPLBACKEND")}
    os.environ["JUPYTER_PATH"] = str(root)
    os.environ["GPUSHARE_DATA_DIR"] = os.path.abspath(DATA)
    os.environ["MPLBACKEND"] = "Agg"
    yield "gpushare-test"
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.mark.skipif(not os.path.isdir(os.path.join(DATA, "openb")), reason="openb data not found")
@pytest.mark.parametrize("name", ["cluster_sizing.ipynb", "policy_comparison.ipynb"])
def test_notebook_executes(name, kernel_env):
    path = os.path.join(NB_DIR, name)
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code"), f"{name} is stored with outputs"
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name=kernel_env,
                                     resources={"metadata": {"path": NB_DIR}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    # the kernel ran this interpreter: gpushare imported from the same place
    check = nbformat.v4.new_code_cell("import sys, gpushare; print(sys.executable); print(gpushare.__file__)")
    client2 = nbclient.NotebookClient(nbformat.v4.new_notebook(cells=[check]), kernel_name=kernel_env,
                                      resources={"metadata": {"path": NB_DIR}})
    out = client2.execute().cells[0].outputs[0].text.split()
    import gpushare

    assert out == [sys.executable, gpushare.__file__]

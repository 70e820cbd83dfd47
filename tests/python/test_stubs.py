"""The hand-kept stub lists only names that exist, and __all__ matches the exports."""

import ast
import os

import gpushare as gs
from gpushare import _core

STUB = os.path.join(os.path.dirname(gs.__file__), "_core.pyi")


def stub_names():
    tree = ast.parse(open(STUB).read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_stub_name_exists():
    missing = sorted(n for n in stub_names() if not hasattr(_core, n))
    assert not missing, f"in _core.pyi but not in the module: {missing}"


def test_every_public_core_name_is_stubbed():
    public = {n for n in dir(_core) if not n.startswith("_")}
    unstubbed = sorted(public - stub_names())
    assert not unstubbed, f"in the module but not in _core.pyi: {unstubbed}"


def test_all_is_importable():
    for name in gs.__all__:
        assert hasattr(gs, name), name
    assert os.path.exists(os.path.join(os.path.dirname(gs.__file__), "py.typed"))

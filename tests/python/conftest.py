import os

import pytest

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))


@pytest.fixture
def data_dir():
    if not os.path.isdir(DATA):
        pytest.fail(f"shared test data not found at {DATA}")
    return DATA

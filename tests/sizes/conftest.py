"""Size readers are tested on files the real libraries write in each test, inside a workspace
folder of the test's own; every read starts with an empty cache."""

from __future__ import annotations

import pytest

from memlens.sizes import clear_cache, read_size


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def size(workspace):
    """read_size of a path inside the workspace."""
    def read(path):
        return read_size(path, workspace)
    return read

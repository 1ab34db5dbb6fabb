"""JupyterLab: installing memlens next to jupyter-lsp makes `memlens serve` one of its language
servers (the `jupyter_lsp_spec_v1` entry point), and the command it lists starts the server."""

from __future__ import annotations

import os
import sys

import pytest

from .rpc import Server


@pytest.fixture
def manager(tmp_path, monkeypatch):
    jupyter_lsp = pytest.importorskip("jupyter_lsp")
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.setenv(key, str(tmp_path / key.lower()))  # no user configuration read
    found = jupyter_lsp.LanguageServerManager()
    found.initialize()
    return found


def test_jupyter_lsp_lists_memlens(manager):
    spec = manager.language_servers["memlens"]
    assert spec["argv"] == [sys.executable, "-m", "memlens", "serve"]
    assert spec["languages"] == ["python"] and spec["version"] == 2
    assert "text/x-ipython" in spec["mime_types"] and spec["display_name"] == "memlens"


def test_the_listed_command_starts_the_server(manager, tmp_path):
    spec = manager.language_servers["memlens"]
    server = Server(tmp_path, {}, command=spec["argv"], env={**os.environ, **spec["env"]})
    try:
        assert server.initialize["serverInfo"]["name"] == "memlens"
    finally:
        server.close()
    assert server.proc.returncode == 0

"""`memlens.checkWorkspace` reads the workspace's .gitignore files as `memlens check` does: a
link to /dev/zero took the server to 2.3 GiB and a MemoryError, a FIFO hung the command. Both
are passed over now, and every file is checked."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from . import rpc
from .test_robustness import caps

# The server under a cap of 2 GiB of address space (its checker process too): a regression
# ends in a MemoryError, not in a machine out of memory.
CAPPED = [sys.executable, "-c", "import resource, runpy; "
          "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
          "runpy.run_module('memlens', run_name='__main__', alter_sys=True)", "serve"]
NP_LOAD = ("import numpy as np\n\nx = np.load('a.npy')\n"
           "for i in range(0, len(x), 256):\n    batch = x[i:i + 256]\n")


@pytest.mark.parametrize("planted", ["devzero", "fifo"])
def test_check_workspace_passes_over_ignore_files_that_are_not_regular(tmp_path, monkeypatch,
                                                                        planted):
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.py").write_text(NP_LOAD)
    (root / "sub" / "b.py").write_text(NP_LOAD)
    (root / "pyproject.toml").write_text("[tool.memlens]\n")
    if planted == "devzero":
        os.symlink("/dev/zero", root / ".gitignore")
    else:
        os.mkfifo(root / "sub" / ".gitignore")
    monkeypatch.setattr(rpc, "SERVER", CAPPED)
    server = rpc.Server(root, caps(pull=True))
    watchdog = threading.Timer(60, server.proc.kill)  # a hang ends the read, not the test run
    watchdog.start()
    try:
        result = server.request("workspace/executeCommand",
                                {"command": "memlens.checkWorkspace"}, timeout=60)
        assert result == {"files": 2, "findings": 2, "cancelled": False}
        published = {n["params"]["uri"].rsplit("/", 2)[-1]: n["params"]["diagnostics"]
                     for n in server.notifications
                     if n["method"] == "textDocument/publishDiagnostics"}
        assert {name: [d["code"] for d in ds] for name, ds in published.items()} == {
            "a.py": ["ML102"], "b.py": ["ML102"]}
        server.close()
    finally:
        watchdog.cancel()
        if server.proc.poll() is None:
            server.proc.kill()

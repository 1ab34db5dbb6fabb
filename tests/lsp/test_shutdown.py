"""`shutdown` while a profile runs: answered (pygls' own walked the pending requests while
cancelling them removed them, and answered -32603), the run's processes are stopped, and
`exit` ends the server at once, with nothing written to stderr."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from .conftest import needs_profiler
from .rpc import Server

pytestmark = [needs_profiler]


def test_shutdown_during_a_profile(tmp_path: Path):
    (tmp_path / "slow.py").write_text("import time\n\n\ndef slow():\n    time.sleep(60)\n")
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        server = Server(tmp_path, {}, stderr=err)
        uri = (tmp_path / "slow.py").as_uri()
        server.send({"jsonrpc": "2.0", "id": 900, "method": "workspace/executeCommand",
                     "params": {"command": "memlens.profileFunction",
                                "arguments": [{"uri": uri, "qualname": "slow",
                                               "call": "slow()"}]}})
        me = psutil.Process(server.proc.pid)
        deadline = time.monotonic() + 20
        while not _runners(me) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _runners(me), "the profile run did not start"
        runners = me.children(recursive=True)  # the checker process too
        assert server.request("shutdown", None) is None
        server.notify("exit", None)
        server.proc.wait(10)
        gone, alive = psutil.wait_procs(runners, timeout=10)
        assert not alive, alive
    assert server.proc.returncode == 0
    assert stderr.read_text() == ""



def _runners(server: psutil.Process) -> list[psutil.Process]:
    """The profile run's processes (not the checker process, which runs from the start)."""
    found = []
    for child in server.children(recursive=True):
        try:
            if "memlens.lsp.check_worker" not in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found

"""Processes that escape the runner's process group (a double-fork daemon, a child in a new
session) are killed when the run ends, on a normal exit and on a timeout."""

from __future__ import annotations

import sys
import time

import psutil
import pytest
from profiler_helpers import FIXTURES, run_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="a child subreaper is a Linux feature")


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("target, name, extra, status", [
    ("double_fork_daemon", "daemon", [], "ok"),
    ("new_session_child", "session", [], "ok"),
    ("daemon_then_hang", "daemon", ["--timeout", "3"], "timeout"),
])
def test_escaped_processes_do_not_outlive_the_run(tmp_path, target, name, extra, status):
    pids = tmp_path / "pids"
    code, result = run_cli(f"{FIXTURES / 'escapes.py'}::{target}", "--call", f"{target}()",
                           *extra, env={"MEMLENS_TEST_PIDS": str(pids)})
    assert result["status"] == status, result.get("error")
    pid = int((tmp_path / f"pids.{name}").read_text())
    try:
        assert _gone(pid), f"{name} process {pid} outlived the run"
    finally:
        if psutil.pid_exists(pid):
            psutil.Process(pid).kill()

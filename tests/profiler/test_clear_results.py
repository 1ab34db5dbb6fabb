"""Each of these used to end in a result that did not say what happened: limits that stop a run
before it starts, a missing working folder blamed on the interpreter, a generator whose body
never ran reported `ok`, and a SIGTERM that left the run's folder behind."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from profiler_helpers import FIXTURES, MEMLENS, ROOT, run_cli

from memlens.profiler import profile_function

LIBRARY = FIXTURES / "library.py"


@pytest.mark.parametrize("option", [["--timeout", "0"], ["--timeout", "-1"],
                                    ["--max-memory", "-5"], ["--max-memory", "0"],
                                    ["--timeout", "soon"]])
def test_limits_that_would_stop_a_run_at_once_are_rejected(option):
    done = subprocess.run([str(MEMLENS), "profile", f"{FIXTURES / 'generators.py'}::main",
                           *option], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert option[0] in done.stderr and ("more than 0" in done.stderr
                                         or "not a number" in done.stderr)


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": -1}, {"max_memory_mib": -5},
                                    {"max_memory_mib": 0}])
def test_the_api_says_so_too(kwargs):
    result = profile_function(FIXTURES / "generators.py", "main", **kwargs)
    assert result["status"] == "setup_error"
    assert result["error"]["type"] == "BadArguments"


def test_a_missing_working_folder_is_named_as_such():
    code, result = run_cli(f"{FIXTURES / 'generators.py'}::main", "--cwd", "/no/such/folder")
    assert code == 2 and result["status"] == "setup_error"
    assert result["error"]["type"] == "NotADirectory"
    assert "/no/such/folder" in result["error"]["message"]
    assert "python" not in result["error"]["message"].lower()


@pytest.mark.parametrize("source, calls_body", [
    ("def gen():\n    for i in range(3):\n        yield bytearray(1000)\n", "yield"),
    ("async def coro():\n    data = bytearray(10)\n    return data\n", "data ="),
    ("async def agen():\n    for i in range(2):\n        yield i\n", "yield"),
])
def test_a_generator_or_coroutine_without_call_runs_its_body(tmp_path, source, calls_body):
    target = tmp_path / "g.py"
    target.write_text(source)
    name = source.split("def ", 1)[1].split("(", 1)[0]
    code, result = run_cli(f"{target}::{name}")
    assert result["status"] == "ok", result.get("error")
    body = [row for row in result["lines"] if calls_body in row["source"]]
    assert body and body[0]["occurrences"] > 0, result["lines"]


def test_sigterm_stops_the_run_and_removes_its_folder():
    before = set(Path(tempfile.gettempdir()).glob("memlens-profile-*"))
    proc = subprocess.Popen([str(MEMLENS), "profile", f"{LIBRARY}::sleepy",
                             "--output-format", "json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    runner = []
    while not runner and time.monotonic() < deadline:
        runner = psutil.Process(proc.pid).children()
        time.sleep(0.1)
    assert runner, "the run did not start"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert b'"cancelled"' in out
    assert not psutil.pid_exists(runner[0].pid) or \
        runner[0].status() == psutil.STATUS_ZOMBIE
    assert set(Path(tempfile.gettempdir()).glob("memlens-profile-*")) <= before


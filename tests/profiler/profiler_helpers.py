"""Shared by the profiler tests: run `memlens profile` in a subprocess, check for leftovers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MEMLENS = Path(sys.executable).with_name("memlens")


def run_cli(*args: str, timeout: float = 120, env: dict | None = None) -> tuple[int, dict]:
    """`memlens profile ARGS --output-format json` -> (exit code, result)."""
    args = list(args)
    cut = args.index("--") if "--" in args else len(args)
    args[cut:cut] = ["--output-format", "json"]  # options go before `-- ARGS`
    proc = subprocess.run(
        [str(MEMLENS), "profile", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env=None if env is None else {**os.environ, **env},
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def assert_gone(*pids: int | None) -> None:
    """Neither the runner nor anything in its process group survived."""
    for pid in pids:
        assert pid, "no pid recorded"
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    for proc in psutil.process_iter(["pid"]):
        try:
            pgid = os.getpgid(proc.info["pid"])
        except (ProcessLookupError, PermissionError):
            continue
        assert pgid not in pids, f"process {proc.info['pid']} left in group {pgid}"


def line(result: dict, text: str) -> dict:
    """The row of `result` whose source contains `text`."""
    rows = [row for row in result["lines"] if text in row["source"]]
    assert len(rows) == 1, (text, rows)
    return rows[0]

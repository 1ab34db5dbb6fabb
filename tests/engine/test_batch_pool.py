"""The worker processes of `memlens check`: a worker that dies, or overruns its file's budget,
costs only the file it was on (the parent knows which, and since when); the rest of its chunk
goes to a new worker. A worker writing a fix is not stopped halfway."""

from __future__ import annotations

import faulthandler
import os
import time
from dataclasses import dataclass

from memlens.engine import Settings
from memlens.engine.batch import Task, run, writing
from memlens.engine.model import Finding, Position


@dataclass
class FakeEngine:
    """Finds one `found` per file; hangs, aborts or "writes" on files named for it."""

    settings: Settings = Settings()

    def check_source(self, text: str, path: str, parse_whole: bool = False,
                     role=None) -> list[Finding]:
        name = os.path.basename(path)
        if name.startswith("hang"):
            while True:
                time.sleep(60)
        if name.startswith("abort"):
            faulthandler.disable()  # (pytest's: its dump of every thread is noise here)
            os.abort()
        if name.startswith("write"):
            with writing():
                time.sleep(1.5)  # longer than the budget
        return [Finding("found", "found", "warning", path, Position(0, 0), Position(0, 1))]


def files(tmp_path, names: list[str]) -> list[Task]:
    tasks = []
    for name in names:
        path = tmp_path / name
        path.write_text("x = 1\n")
        tasks.append(Task(str(path)))
    return tasks


def outcome(results) -> dict[str, str]:
    out = {}
    for r in results:
        [f] = r.findings
        out[os.path.basename(r.path)] = f.code if f.code == "found" else f.message
    return out


def test_a_file_over_budget_or_a_crash_costs_only_that_file(tmp_path):
    names = [f"m{i:02d}.py" for i in range(40)] + ["hang.py", "abort.py"]
    tasks = files(tmp_path, names)
    started = time.monotonic()
    # two workers, 32 chunks: each chunk's rest goes on after its file was lost
    got = outcome(run([FakeEngine()], tasks, jobs=2, sizes={t.path: 500_000 for t in tasks},
                      timeout=1.0))
    assert time.monotonic() - started < 20
    assert sorted(got) == sorted(names)
    assert got.pop("hang.py").startswith("memlens stopped checking this file after 1 s")
    assert got.pop("abort.py").startswith("the parser crashed on this file")
    assert set(got.values()) == {"found"}


def test_one_worker_with_a_budget_checks_a_small_run_too(tmp_path):
    """A few files are checked in one worker process when there is a budget (only a process
    can be stopped), in this one when there is none."""
    tasks = files(tmp_path, ["a.py", "hang.py", "b.py"])
    got = outcome(run([FakeEngine()], tasks, jobs=4, timeout=0.5))
    assert got["a.py"] == got["b.py"] == "found" and "after 0.5 s" in got["hang.py"]
    tasks = files(tmp_path, ["a.py", "c.py"])
    assert outcome(run([FakeEngine()], tasks, jobs=4, timeout=0)) == {"a.py": "found",
                                                                       "c.py": "found"}


def test_a_worker_writing_a_fix_is_not_stopped_halfway(tmp_path):
    tasks = files(tmp_path, ["write.py", "a.py"])
    got = outcome(run([FakeEngine()], tasks, jobs=1, timeout=0.5))
    assert got == {"write.py": "found", "a.py": "found"}

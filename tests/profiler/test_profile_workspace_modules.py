"""`memlens profile` started in a repository imports none of its modules for its own use.

The profiled code is the user's and runs as it would on its own; but neither the parent (the CLI)
nor the runner's own imports before and after it may pick up a `json.py` or `psutil.py` of the
folder they run in (`python -m` puts that folder first on sys.path). Each booby trap leaves a
marker file when it is imported. (Modules that Python's own `-m` machinery imports before memlens
runs, such as `types`, are beyond any package's reach: `python -P` or the `memlens` script.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from profiler_helpers import MEMLENS

# what the CLI, parent.py and runner.py import, early or late
TRAPPED = ("json", "re", "argparse", "signal", "subprocess", "tempfile", "shutil", "threading",
           "traceback", "ast", "dataclasses", "enum", "inspect", "asyncio", "ctypes", "pickle",
           "tomllib", "psutil", "memory_profiler")
TARGET = """\
def f():
    x = [0] * 100000
    return len(x)


async def g():
    x = [0] * 100000
    return len(x)
"""


@pytest.mark.parametrize("command", [[str(MEMLENS)], [sys.executable, "-m", "memlens"]],
                         ids=["memlens", "python-m-memlens"])
@pytest.mark.parametrize("qualname", ["f", "g"])
def test_profile_started_in_the_workspace_imports_none_of_its_modules(tmp_path, command,
                                                                      qualname):
    root, markers = tmp_path / "ws", tmp_path / "markers"
    root.mkdir()
    markers.mkdir()
    for name in TRAPPED:
        (root / f"{name}.py").write_text(f"open({str(markers / name)!r}, 'w').close()\n")
    (root / "target.py").write_text(TARGET)
    proc = subprocess.run([*command, "profile", f"target.py::{qualname}", "--output-format",
                           "json"], cwd=root, capture_output=True, text=True, timeout=120)
    assert sorted(p.name for p in markers.iterdir()) == [], proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok", result
    assert any(row["increment_mib"] is not None for row in result["lines"])

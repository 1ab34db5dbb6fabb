"""Helpers for the command-line tests: every test runs `.venv/bin/memlens` as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _memlens() -> list[str]:
    beside = Path(sys.executable).parent / "memlens"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("memlens")
    return [found] if found else [sys.executable, "-m", "memlens"]


MEMLENS = _memlens()

# ML102 needs the evidence that the loaded array is then read a slice at a time (a slice of it in
# a loop after the load); the load itself stays on line 3, column 5. No `a.npy` exists, so its
# size is unknown and the finding is a hint (hidden, exit 0): the test projects give ML102 (and
# ML104 and ML201, the other fixtures' rules) their default severity in their config (`SHOWN`),
# which a user may set so too: a severity the configuration sets stands over the hint tier.
SLICED = "for i in range(0, len(x), 256):\n    batch = x[i:i + 256]\n"
NP_LOAD = "import numpy as np\n\nx = np.load('a.npy')\n" + SLICED

# A project rule with a safe fix and one with a suggestion: fix tests do not depend on which
# built-in rules exist yet.
NOTE = """\
note: |
  ## What it does
  Flags a call used by the command-line tests.

  ## Why is this bad
  It is not; it is a test fixture.

  ## Example
  ```python
  leaky_helper(x)
  ```

  ## Use instead
  ```python
  tidy_helper(x)
  ```
"""
SAFE_RULE = """\
id: XT001
message: leaky_helper keeps everything; use tidy_helper
severity: warning
rule:
  pattern: leaky_helper($$$ARGS)
fix: tidy_helper($$$ARGS)
metadata:
  family: test
  default: true
  fix: safe
  fix-message: Use tidy_helper
""" + NOTE + """\
valid:
  - "tidy_helper(1)"
invalid:
  - "leaky_helper(1)"
"""
UNSAFE_RULE = """\
id: XT002
message: risky_helper copies; pass copy=False
severity: info
rule:
  pattern: risky_helper($A)
fix: risky_helper($A, copy=False)
metadata:
  family: test
  default: true
  fix: suggestion
  fix-message: Pass copy=False
""" + NOTE + """\
valid:
  - "risky_helper(1, copy=False)"
invalid:
  - "risky_helper(1)"
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def run(*args: str, cwd: Path | str, env: dict | None = None, timeout: float = 120) -> Run:
    proc = subprocess.run(
        [*MEMLENS, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


# the [tool.memlens] line that shows the fixtures' size-unknown findings at their severity
SHOWN = 'severity = { ML102 = "info", ML104 = "info", ML201 = "info" }\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder with a pyproject.toml, so that no outer config is picked up."""
    (tmp_path / "pyproject.toml").write_text("[tool.memlens]\n" + SHOWN)
    return tmp_path


@pytest.fixture
def rules_project(project: Path) -> Path:
    """A project with its own rule folder (XT001 safe fix, XT002 suggestion)."""
    write(project, {"rules/XT001.yml": SAFE_RULE, "rules/XT002.yml": UNSAFE_RULE,
                    "pyproject.toml": '[tool.memlens]\nrule-dirs = ["rules"]\n' + SHOWN})
    return project

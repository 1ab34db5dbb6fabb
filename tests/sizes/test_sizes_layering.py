"""memlens.sizes stands alone: the engine may import it, it imports neither the engine (its
rules), nor the language server, nor any heavy library at import time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

SERVER = Path(__file__).resolve().parents[2] / "server"
FORBIDDEN = ("memlens.engine", "memlens.rules", "memlens.lsp", "memlens.profiler", "pygls",
             "lsprotocol")


def test_sizes_imports_nothing_of_the_engine_or_the_server():
    sys.path.insert(0, str(SERVER))
    try:
        graph = grimp.build_graph("memlens", include_external_packages=True, cache_dir=None)
    finally:
        sys.path.remove(str(SERVER))
    members = {"memlens.sizes"} | graph.find_descendants("memlens.sizes")
    wrong = sorted(f"{m} imports {d}" for m in members
                   for d in graph.find_modules_directly_imported_by(m)
                   if any(d == x or d.startswith(x + ".") for x in FORBIDDEN))
    assert not wrong, "\n".join(wrong)


def test_importing_sizes_loads_no_heavy_library():
    code = ("import sys, memlens.sizes; print(sorted(m for m in ('torch', 'numpy', 'pandas', "
            "'pyarrow', 'h5py', 'safetensors', 'memlens.engine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"

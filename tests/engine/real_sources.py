"""A sample of real Python files for the differential tests: the installed sources of numpy,
pandas, scikit-learn and the standard library (no download; what the venv has)."""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path


def sources(sample: int, min_bytes: int = 2_000) -> list[Path]:
    """About `sample` files of at least `min_bytes`, spread evenly over the sorted list."""
    roots = [Path(sysconfig.get_paths()["stdlib"])]
    for name in ("numpy", "pandas", "sklearn"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots.append(Path(list(spec.submodule_search_locations)[0]))
    files = sorted(p for root in roots for p in root.rglob("*.py")
                   if "site-packages" not in p.relative_to(root).parts[:1]
                   and p.stat().st_size > min_bytes)
    step = max(len(files) // sample, 1)
    return files[::step][:sample]

"""The short run of the project fuzz harness in `make test`: a few cases with its fixed seed
(`MEMLENS_FUZZ_PROJECT_CASES=N` runs N; the long run is `python -m tests.fuzz.project`)."""

from __future__ import annotations

import os

from .project import run

CASES = int(os.environ.get("MEMLENS_FUZZ_PROJECT_CASES", "3"))
SEED = 20261207


def test_a_mutated_cache_config_and_layout_never_crash_hang_or_lose_findings():
    figures = run(CASES, SEED, out=None)
    assert figures.cases == CASES and figures.runs >= CASES
    assert not figures.failures, f"{figures.report()}\n" + "\n".join(figures.failures[:20])

"""The short run of the generated-code campaign in `make test` (tests/fuzz/codegen.py): a few
seconds of modules composed from the rules' own snippets, reshaped (tabs, `;`, comments in
brackets, keyword-only arguments), checked and fixed. MEMLENS_FUZZ_MODULES=5000 makes it the
long run (or `python -m tests.fuzz.codegen`)."""

from __future__ import annotations

import os

from .codegen import run

MODULES = int(os.environ.get("MEMLENS_FUZZ_MODULES", "60"))
SEED = 20261207


def test_generated_ml_code_checks_and_fixes_cleanly():
    figures = run(MODULES, SEED, log=None)
    assert figures.modules == MODULES
    assert figures.fixes > MODULES // 3 and len(figures.rules) >= 10  # real hits, real fixers
    assert not figures.failures, f"{figures.report()}\n" + "\n".join(figures.failures[:20])

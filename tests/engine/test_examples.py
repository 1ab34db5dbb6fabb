"""The bundled example project: the memory-hungry version trips many default-on rules across
every family, the memory-aware version trips none, and every file is valid Python (every
notebook a valid notebook whose code cells are)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.notebooks import check as check_notebook
from memlens.notebook import read_notebook

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALL_FILES = sorted(EXAMPLES.rglob("*.py"))
CLEAN_FILES = sorted((EXAMPLES / "clean").rglob("*.py"))
HUNGRY_FILES = [p for p in ALL_FILES if p not in CLEAN_FILES]
NOTEBOOKS = sorted(EXAMPLES.rglob("*.ipynb"))


def _codes(engine: Engine, files) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        for f in engine.check_source(path.read_text(encoding="utf-8"), str(path)):
            found.setdefault(f.code, []).append(f"{path.name}:{f.start.line + 1}")
    return found


def test_examples_exist():
    assert HUNGRY_FILES and CLEAN_FILES and NOTEBOOKS
    assert (EXAMPLES / "README.md").is_file()


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_parses(path):
    ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_examples_trip_many_default_rules_in_every_family():
    engine = Engine()
    found = _codes(engine, ALL_FILES)
    assert "syntax-error" not in found
    default_on = {code for code, rule in engine.rules.items() if rule.default_on}
    tripped = default_on & set(found)
    assert len(tripped) >= 12, sorted(tripped)
    families = {engine.rule(code).family for code in default_on}
    assert families <= {engine.rule(code).family for code in tripped}, sorted(tripped)


def test_clean_examples_trip_nothing():
    assert _codes(Engine(), CLEAN_FILES) == {}


def test_clean_examples_trip_nothing_even_opt_in():
    assert _codes(Engine(Settings(select=("ALL",))), CLEAN_FILES) == {}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_notebook_is_valid_and_its_code_parses(path):
    nb = read_notebook(path.read_text(encoding="utf-8"))  # nbformat-validated
    assert nb.cells and not nb.skipped_cells
    ast.parse(nb.text, str(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_notebook_trips_default_rules_in_several_cells(path):
    """Its module-level code is the program: reads, explainers and forward passes in cells are
    checked as they would be in a function."""
    nb = read_notebook(path.read_text(encoding="utf-8"))
    findings = check_notebook(Engine(), nb, str(path), parse_whole=True)
    assert "syntax-error" not in {f.code for f in findings}
    assert len({f.code for f in findings}) >= 3, findings
    assert len({f.cell for f in findings}) >= 3 and None not in {f.cell for f in findings}

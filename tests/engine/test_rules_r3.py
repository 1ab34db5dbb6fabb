"""Exact fixer outputs and precision regressions for ML601-ML603, ML701-ML703, ML901."""

from __future__ import annotations

import ast
import textwrap

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.fixes import apply_edits

ENGINE = Engine(Settings(select=("ALL",)))


def fixed(code: str, rule: str) -> str:
    code = textwrap.dedent(code)
    findings = [f for f in ENGINE.check_source(code, "t.py") if f.code == rule]
    assert findings, f"{rule} did not flag"
    out = apply_edits(code, [e for f in findings[:1] for e in f.fix.edits])
    ast.parse(out)
    return out


def codes(code: str) -> list[str]:
    return [f.code for f in ENGINE.check_source(textwrap.dedent(code), "t.py")]


def test_ml601_moves_a_later_enable_into_finally():
    out = fixed("""\
        import gc
        def build(rows):
            gc.disable()
            index = {r: r for r in rows}
            if index:
                log(index)
            gc.enable()
            return index
        """, "ML601")
    assert out == textwrap.dedent("""\
        import gc
        def build(rows):
            gc.disable()
            try:
                index = {r: r for r in rows}
                if index:
                    log(index)
            finally:
                gc.enable()
            return index
        """)


def test_ml601_wraps_the_rest_of_the_block_and_uses_the_alias():
    out = fixed("""\
        import gc as g
        def build(rows):
            g.disable()
            return {r: r for r in rows}
        """, "ML601")
    assert "    try:\n        return {r: r for r in rows}\n    finally:\n        g.enable()\n" in out


def test_ml601_declines_multiline_strings():
    code = 'import gc\ndef f():\n    gc.disable()\n    x = """a\nb"""\n    return x\n'
    [f] = [f for f in ENGINE.check_source(code, "t.py") if f.code == "ML601"]
    assert f.fix is None


# ML602 needs a loop that runs once per data item (a row, a file, a record): once per batch a
# collection is cheap next to the work.


def test_ml602_uses_the_enumerate_counter():
    out = fixed("""\
        import gc
        for step, row in enumerate(rows):
            process(row)
            gc.collect()
        """, "ML602")
    assert "    if step % 100 == 0:\n        gc.collect()\n" in out


def test_ml602_adds_a_counter():
    out = fixed("""\
        import gc
        for row in rows:
            process(row)
            gc.collect()
        """, "ML602")
    assert out.startswith("import gc\nfor _gc_step, row in enumerate(rows, start=1):\n")
    assert "    if _gc_step % 100 == 0:\n        gc.collect()\n" in out


def test_ml602_leaves_per_batch_loops_alone():
    assert "ML602" not in codes("""\
        import gc
        for step, batch in enumerate(batches):
            process(batch)
            gc.collect()
        """)


@pytest.mark.parametrize("decorator", [
    "@functools.cache",
    "@functools.lru_cache(maxsize=None)",
    "@functools.lru_cache(None, typed=True)",
])
def test_ml702_flags_unbounded_caches_keyed_by_large_objects_without_a_fix(decorator):
    # no fix: bounding a warn-once cache changes what it does, and still pins the objects
    code = f"import functools\n{decorator}\ndef f(model):\n    return model\n"
    findings = [f for f in ENGINE.check_source(code, "t.py") if f.code == "ML702"]
    assert findings and all(f.fix is None for f in findings)
    # keyed by something small (a name): a handful of small entries
    assert "ML702" not in codes(code.replace("model", "name"))


@pytest.mark.parametrize("decorator", ["@functools.lru_cache(maxsize=128)",
                                       "@functools.lru_cache", "@functools.lru_cache()"])
def test_ml702_leaves_bounded_caches_alone(decorator):
    assert "ML702" not in codes(f"import functools\n{decorator}\ndef f(model):\n    return model\n")


def test_ml702_leaves_zero_argument_loaders_alone():
    assert "ML702" not in codes("""\
        import functools, joblib
        @functools.cache
        def get_model():
            return joblib.load("m.joblib", mmap_mode="r")
        """)


def test_ml703_flags_heavy_dict_values_only():
    assert "ML703" in codes("""\
        import joblib
        _MODELS = {}
        def get(path):
            _MODELS[path] = joblib.load(path)
            return _MODELS[path]
        """)
    assert "ML703" not in codes("""\
        _LOCALEDIRS = {}
        def bind(domain, localedir):
            _LOCALEDIRS[domain] = localedir
        """)


def test_ml901_removes_only_profile_from_a_longer_import():
    code = "from memory_profiler import memory_usage, profile\nx = memory_usage\n"
    assert fixed(code, "ML901") == "from memory_profiler import memory_usage\nx = memory_usage\n"
    code = "from memory_profiler import profile, memory_usage\nx = memory_usage\n"
    assert fixed(code, "ML901") == "from memory_profiler import memory_usage\nx = memory_usage\n"


def test_ml901_removes_the_decorator_line():
    code = "@profile\ndef f():\n    return 1\n"
    assert fixed(code, "ML901") == "def f():\n    return 1\n"

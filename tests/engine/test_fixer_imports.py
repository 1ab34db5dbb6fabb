"""Fixes that put code at module level (a decorator) spell names the module itself binds: an
import inside a function binds nothing there, so the fix adds a top-level import."""

from __future__ import annotations

import ast
import textwrap

from memlens.engine import Engine, Settings

ENGINE = Engine(Settings(select=["ML501"]))


def _fixed(src: str) -> str:
    text, applied = ENGINE.fix_source(textwrap.dedent(src), "m.py", unsafe=True)
    assert applied
    ast.parse(text)
    return text


def _top_level_names(text: str) -> set[str]:
    names = set()
    for stmt in ast.parse(text).body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return names


def test_no_grad_decorator_imports_torch_when_only_a_function_does():
    text = _fixed("""\
        def evaluate(model, batch):
            import torch as th
            model.eval()
            return model(batch)
        """)
    assert text.startswith("import torch\n@torch.no_grad()\ndef evaluate")
    assert "torch" in _top_level_names(text)


def test_no_grad_decorator_goes_below_the_docstring_and_future_import():
    text = _fixed('''\
        """Evaluation helpers."""
        from __future__ import annotations
        import numpy as np
        def evaluate(model, batch):
            import torch
            model.eval()
            return model(batch)
        def again(model, batch):
            import torch
            model.eval()
            return model(batch)
        ''')
    lines = text.splitlines()
    assert lines[:4] == ['"""Evaluation helpers."""', "from __future__ import annotations",
                         "import torch", "import numpy as np"]
    assert text.count("import torch\n") == 3  # one at the top, none added twice
    assert text.count("@torch.no_grad()") == 2


def test_no_grad_decorator_uses_the_modules_own_alias():
    text = _fixed("""\
        import torch as th
        def evaluate(model, batch):
            model.eval()
            return model(batch)
        """)
    assert "@th.no_grad()\ndef evaluate" in text and text.count("import torch") == 1

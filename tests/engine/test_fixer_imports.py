"""Fixes that put code at module level (a decorator) spell names the module itself binds, and
never add a module-level import of a package outside the standard library: a module that
imports torch only inside a function (or under `try`) keeps it optional, so the fix declines."""

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


def _declines(src: str) -> None:
    """ML501 flags the function, but offers no fix, and a fix run leaves the file alone."""
    src = textwrap.dedent(src)
    findings = [f for f in ENGINE.check_source(src, "m.py") if f.code == "ML501"]
    assert findings, "ML501 did not flag"
    assert all(f.fix is None for f in findings)
    text, applied = ENGINE.fix_source(src, "m.py", unsafe=True)
    assert text == src and not applied


def _top_level_names(text: str) -> set[str]:
    names = set()
    for stmt in ast.parse(text).body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return names


def test_no_grad_decorator_declines_when_only_a_function_imports_torch():
    # `import torch as th` binds nothing at module level, where the decorator runs, and adding
    # a top-level `import torch` would make an optional dependency required
    _declines("""\
        def evaluate(model, loader):
            import torch as th
            model.eval()
            return [model(batch) for batch in loader]
        """)


def test_no_grad_decorator_declines_below_a_docstring_and_future_import_too():
    _declines('''\
        """Evaluation helpers."""
        from __future__ import annotations
        import numpy as np
        def evaluate(model, loader):
            import torch
            model.eval()
            return [model(batch) for batch in loader]
        def again(model, loader):
            import torch
            model.eval()
            return [model(batch) for batch in loader]
        ''')


def test_no_grad_decorator_declines_when_torch_is_imported_under_try():
    _declines("""\
        try:
            import torch
        except ImportError:
            torch = None
        def evaluate(model, loader):
            model.eval()
            return [model(batch) for batch in loader]
        """)


def test_no_grad_decorator_goes_on_every_function_when_torch_is_imported_at_the_top():
    text = _fixed('''\
        """Evaluation helpers."""
        from __future__ import annotations
        import numpy as np
        import torch
        def evaluate(model, loader):
            model.eval()
            return [model(batch) for batch in loader]
        def again(model, loader):
            model.eval()
            return [model(batch) for batch in loader]
        ''')
    lines = text.splitlines()
    assert lines[:4] == ['"""Evaluation helpers."""', "from __future__ import annotations",
                         "import numpy as np", "import torch"]
    assert text.count("import torch\n") == 1  # nothing added
    assert text.count("@torch.no_grad()\ndef ") == 2
    assert _top_level_names(text) == {"annotations", "np", "torch"}


def test_no_grad_decorator_uses_the_modules_own_alias():
    text = _fixed("""\
        import torch as th
        def evaluate(model, loader):
            model.eval()
            return [model(batch) for batch in loader]
        """)
    assert "@th.no_grad()\ndef evaluate" in text and text.count("import torch") == 1

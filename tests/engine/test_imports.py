"""The import statements read from the text (`imports.import_statements`): what the engine's
bindings and the language server's region headers are made of."""

from __future__ import annotations

import ast

from real_sources import sources

from memlens.engine.imports import ImportStatement, import_bindings, import_statements


def test_import_statements_as_code_that_parses_alone():
    text = (
        "import numpy as np; x = 1  # trailing\n"
        "from a import (b,\n"
        "   c)  # noqa: F401\n"
        "def f():\n"
        "    import torch\n"
        "from here on, words\n"
        "from . import y\n"
    )
    assert import_statements(text) == [
        ImportStatement(0, 0, "import numpy as np", nested=False),
        ImportStatement(1, 2, "from a import (b,\n   c)", nested=False),
        ImportStatement(4, 4, "import torch", nested=True),
        ImportStatement(6, 6, "from . import y", nested=False),
    ]
    # what the bindings are read from, and nothing else
    assert import_bindings("\n".join(s.text for s in import_statements(text))) == \
        import_bindings(text)


def test_every_import_the_parser_sees_is_read_on_real_code():
    """The text reader finds each import statement of the parsed file, with the same lines and
    nesting (it also reads import lines inside strings, as the engine's bindings do)."""
    checked = 0
    for path in sources(300):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        checked += 1
        top = set(map(id, tree.body))
        want = {(n.lineno - 1, n.end_lineno - 1, id(n) not in top) for n in ast.walk(tree)
                if isinstance(n, (ast.Import, ast.ImportFrom))}
        got = {(s.line, s.end_line, s.nested) for s in import_statements(text)}
        missing = {w for w in want if w not in got}
        # `if x: import y` on one line: the reader (like the engine's bindings) skips it
        missing = {m for m in missing if text.split("\n")[m[0]].lstrip().startswith(
            ("import ", "from "))}
        assert not missing, (path, sorted(missing)[:3])
    assert checked > 200

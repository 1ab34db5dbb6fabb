from __future__ import annotations

import textwrap

from ast_grep_py import SgRoot


def node_of(source: str, pattern: str):
    """The root and the first node matching `pattern` in `source` (dedented)."""
    root = SgRoot(textwrap.dedent(source), "python").root()
    node = root.find(pattern=pattern)
    assert node is not None, f"{pattern!r} not in the snippet"
    return root, node


def name_marked(source: str):
    """The name bound on the line marked `# <-` in `source` (dedented)."""
    source = textwrap.dedent(source)
    root = SgRoot(source, "python").root()
    number = next(i for i, line in enumerate(source.splitlines()) if "# <-" in line)
    return next(n for n in root.find_all(kind="identifier") if n.range().start.line == number)

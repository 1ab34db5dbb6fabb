"""The one way into the native parser: input it could choke on is refused first.

tree-sitter's Python scanner can abort the whole process on extreme nesting (an assertion, not
an exception: `memlens check` would exit 134 and lose every other file's output, the language
server would die). CPython itself refuses more than 100 levels of indentation or 200 nested
brackets, so such a file is not Python: it gets one clear finding instead of a parse.
"""

from __future__ import annotations

from ast_grep_py import SgNode, SgRoot

from memlens.engine.lines import nesting_too_deep


class TooDeep(ValueError):
    """Nesting beyond what Python allows (the message says which)."""


def parse(text: str) -> SgNode:
    problem = nesting_too_deep(text)
    if problem is not None:
        raise TooDeep(problem)
    return SgRoot(text, "python").root()

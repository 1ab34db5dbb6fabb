"""Which canonical module paths each local name of a file is bound to.

`import numpy as np` binds `np` to `numpy`; `from pandas import read_csv as rc` binds `rc` to
`pandas.read_csv`; `import os.path` binds `os` to `os`. Rules are written against canonical names
and rewritten per file with this map (see `canonical.py`).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the text prefilter uses this module before any parser is loaded
    from typing import TypeGuard

    from ast_grep_py import Config, SgNode

# The names ML code gives numpy and pandas: a file that gets `np`/`pd` from a star import
# (`from .common import *`) and uses them is read as if it imported them so.
CONVENTIONAL_ALIASES = {"np": "numpy", "pd": "pandas"}


def star_aliases(text: str) -> dict[str, str]:
    """The conventional aliases a file with a star import uses (`np.`, `pd.`): alias -> module.
    (Whether it binds them itself is for the caller to check.)"""
    if "import *" not in text and "import*" not in text:
        return {}
    return {alias: module for alias, module in CONVENTIONAL_ALIASES.items()
            if f"{alias}." in text}


IMPORT_RULE: Config = {
    "rule": {"any": [{"kind": "import_statement"}, {"kind": "import_from_statement"}]}}


def resolve_imports(root: SgNode) -> dict[str, frozenset[str]]:
    """Map each locally bound name to the canonical dotted paths it may refer to."""
    bindings: dict[str, set[str]] = defaultdict(set)
    statements = [root] if root.kind() in ("import_statement", "import_from_statement") \
        else root.find_all(IMPORT_RULE)
    for stmt in statements:
        if stmt.kind() == "import_statement":
            for item in stmt.field_children("name"):
                if item.kind() == "aliased_import":
                    alias, imported = item.field("alias"), item.field("name")
                    if alias is not None and imported is not None:  # (the grammar's fields)
                        bindings[alias.text()].add(_dotted(imported))
                else:
                    dotted = _dotted(item)
                    root_name = dotted.split(".", 1)[0]
                    bindings[root_name].add(root_name)
        else:
            module = stmt.field("module_name")
            if module is None or module.kind() == "relative_import":
                continue  # relative imports name the project's own modules, never a library
            base = _dotted(module)
            for item in stmt.field_children("name"):
                if item.kind() == "aliased_import":
                    alias, imported = item.field("alias"), item.field("name")
                    if alias is not None and imported is not None:
                        bindings[alias.text()].add(f"{base}.{_dotted(imported)}")
                elif item.kind() == "dotted_name":
                    name = _dotted(item)
                    bindings[name].add(f"{base}.{name}")
    return {name: frozenset(paths) for name, paths in bindings.items()}


def _dotted(node: SgNode) -> str:
    # `numpy . random` spread over lines inside parentheses is rare but legal: drop whitespace.
    return "".join(node.text().split())


# --- imports, read from the text ------------------------------------------------------------

# A line that starts an import statement; its continuation lines are found below.
_IMPORT_START = re.compile(r"^[ \t]*(?:import[ \t]+[A-Za-z_]|from[ \t]+[A-Za-z_.])", re.M)
# the same from a newline on (Python's re scans fast from a literal; the first line is matched
# on its own)
_IMPORT_AFTER_NEWLINE = re.compile(r"\n[ \t]*(?:import[ \t]+[A-Za-z_]|from[ \t]+[A-Za-z_.])")


def import_bindings(text: str) -> dict[str, frozenset[str]]:
    """What `imports.resolve_imports` finds, read from the text without walking the tree: each
    line that starts an import statement (with its bracketed or backslash continuation) is parsed
    on its own. Statements that do not parse alone are skipped."""
    if "import" not in text:
        return {}
    bindings: dict[str, set[str]] = {}
    for _start, _end, statement in _statement_texts(text):
        pairs, _code = _read(statement)
        for name, target in pairs:
            bindings.setdefault(name, set()).add(target)
    if bindings.pop(STAR, None) is not None:
        # `from .common import *` often hands over `np` and `pd`: a file that uses them
        # without importing them itself gets the names every ML codebase gives them.
        for alias, module in star_aliases(text).items():
            bindings.setdefault(alias, {module})
    return {name: frozenset(paths) for name, paths in bindings.items()}


@dataclass(frozen=True)
class ImportStatement:
    """One import statement as `import_bindings` reads it: lines [line, end_line] (0-based),
    its text, and whether it is indented (inside a function, a class, an `if` or a `try`)."""

    line: int
    end_line: int
    text: str
    nested: bool


def import_statements(text: str) -> list[ImportStatement]:
    """The import statements `import_bindings` reads, in order, each as code that parses on
    its own (`import a; b = 1` gives `import a`); lines that only look like one are left out."""
    if "import" not in text:
        return []
    out = []
    line, offset = 0, 0
    for start, end, statement in _statement_texts(text):
        _pairs, code = _read(statement)
        if code is None:
            continue
        line += text.count("\n", offset, start)
        offset = start
        out.append(ImportStatement(line, line + text.count("\n", start, end), code,
                                   nested=statement[:1] in (" ", "\t", "\f")))
    return out


def _statement_texts(text: str):
    """(start, end, text) of each line that starts an import statement, with its bracketed or
    backslash continuation lines."""
    starts = [0] if _IMPORT_START.match(text) else []
    starts += [m.start() + 1 for m in _IMPORT_AFTER_NEWLINE.finditer(text)]
    for start in starts:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        statement = text[start:end]
        if "(" in statement and ")" not in statement:
            close = text.find(")", end)
            if close >= 0:
                end = close + 1
                statement = text[start:end]
        while statement.endswith("\\"):
            nxt = text.find("\n", end + 1)
            nxt = len(text) if nxt < 0 else nxt
            statement = text[start:nxt]
            end = nxt
            if end >= len(text):
                break
        yield start, end, statement


STAR = "*"


_STATEMENTS: dict[str, tuple] = {}


def _read(statement: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """What one import line binds, and its import as code that parses alone (None: it is no
    import); parsed once, for the bindings and the language server's region headers alike."""
    found = _STATEMENTS.get(statement)
    if found is None:
        if len(_STATEMENTS) > 4096:
            _STATEMENTS.clear()
        found = _STATEMENTS[statement] = _parse_statement(statement.strip())
    return found


def _body(code: str) -> list[ast.stmt] | None:
    try:
        return ast.parse(code).body
    except SyntaxError:
        return None


def _only_imports(body: list[ast.stmt] | None) -> TypeGuard[list[ast.stmt]]:
    return body is not None and bool(body) and all(
        isinstance(stmt, (ast.Import, ast.ImportFrom)) for stmt in body)


def _parse_statement(statement: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    # `import x; y = 1`, `import x  # comment`: keep what parses. The bindings come from the
    # whole line when it parses, else from what precedes a `;`; the code is the whole line's
    # imports when it holds nothing else, else those before the `;` (comments dropped).
    full = _body(statement)
    head = statement.split(";", 1)[0].rstrip()
    head_body = None if _only_imports(full) else _body(head)
    code = None
    for source, body in ((statement, full), (head, head_body)):
        if _only_imports(body):
            code = "; ".join(ast.get_source_segment(source, stmt) or "" for stmt in body)
            break
    return _bindings(full if full is not None else head_body or []), code


def _bindings(body: list[ast.stmt]) -> tuple[tuple[str, str], ...]:
    out = []
    for stmt in body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    out.append((alias.asname, alias.name))
                else:
                    root_name = alias.name.split(".", 1)[0]
                    out.append((root_name, root_name))
        elif isinstance(stmt, ast.ImportFrom):
            if any(alias.name == "*" for alias in stmt.names):
                out.append((STAR, STAR))  # relative or not: what it binds is unknown here
            if stmt.level or not stmt.module:
                continue  # relative imports name the project's own modules
            for alias in stmt.names:
                if alias.name != "*":
                    out.append((alias.asname or alias.name, f"{stmt.module}.{alias.name}"))
    return tuple(out)

"""Which file the code names: the path argument of a load, evaluated when it is built from
literals only.

What evaluates (anything else gives None):
- a string literal (concatenated, raw, bytes), an f-string whose fields evaluate (`{name}`, no
  format spec or conversion);
- `Path(...)`, `PurePath(...)` and the like, `/` and `+`, `os.path.join(...)`, `.joinpath(...)`,
  `.parent`, `.parents[n]`, `.name`, `.stem`, `.with_suffix(...)`, `.with_name(...)`,
  `.with_stem(...)`, and calls that keep the path (`str`, `os.fspath`, `os.path.abspath`,
  `os.path.realpath`, `os.path.normpath`, `.resolve()`, `.absolute()`, `.as_posix()`),
  `os.path.dirname(...)`, `os.path.basename(...)`;
- `__file__` (the file's own path), `os.getcwd()` and `Path.cwd()` (the folder the code runs
  in: "." below);
- a name bound once in its scope (or, when its function does not bind it, in an enclosing
  function or the module) by a plain assignment of one of these.

Imports are followed for the spellings (`import os.path as osp`, `from pathlib import Path as
P`, `from os.path import join`). A relative path is looked up in the folder of the file that
names it (notebooks and scripts usually run there), then at the workspace root; the answer
says which. Nothing here reads a file: `NamedPath.path` is the candidate that exists.
"""

from __future__ import annotations

import ast
import os
import posixpath
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

MAX_DEPTH = 12
MAX_TEXT = 4_096  # longer strings are not paths

_PATH_TYPES = frozenset({
    "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath",
    "pathlib.WindowsPath", "pathlib.PureWindowsPath", "Path", "PurePath", "PosixPath",
    "PurePosixPath"})
_JOINS = frozenset({"os.path.join", "posixpath.join", "ntpath.join"})
_KEEPS = frozenset({"str", "os.fspath", "os.path.abspath", "os.path.realpath",
                    "os.path.normpath", "posixpath.normpath", "os.path.expanduser"})
_CWD = frozenset({"os.getcwd", "pathlib.Path.cwd", "Path.cwd"})
_KEEPING_METHODS = frozenset({"resolve", "absolute", "as_posix", "expanduser", "__fspath__"})

ANCHORS = ("absolute", "__file__", "file folder", "workspace root")


@dataclass(frozen=True)
class NamedPath:
    written: str  # the path the code builds (`data/train.csv`, `/abs/x.npy`)
    path: str | None  # the workspace file it names: the first candidate that exists
    anchor: str | None  # how `path` was found: one of ANCHORS
    candidates: tuple[tuple[str, str], ...]  # every (absolute path, anchor) tried, in order


@dataclass(frozen=True)
class _Value:
    text: str
    from_file: bool = False  # built from __file__


def resolve_path(node: SgNode, file: str | os.PathLike, root: str | os.PathLike) -> \
        NamedPath | None:
    """The workspace path `node` names, when it is built from literals; None otherwise, or
    when every place it could be lies outside the workspace `root`."""
    try:
        value = _Evaluator(os.path.abspath(os.fspath(file))).value(node, 0)
    except (RecursionError, ValueError, TypeError, AttributeError):
        return None
    if not isinstance(value, _Value) or not value.text or "\x00" in value.text or \
            value.text.startswith("~"):
        return None
    return place(value.text, os.fspath(file), os.fspath(root), from_file=value.from_file)


def path_text(node: SgNode, file: str | os.PathLike = "") -> str | None:
    """The path `node` names as the code writes it, when it is built from literals."""
    try:
        value = _Evaluator(os.path.abspath(os.fspath(file or "."))).value(node, 0)
    except (RecursionError, ValueError, TypeError, AttributeError):
        return None
    return value.text if isinstance(value, _Value) and value.text else None


def place(written: str, file: str, root: str, *, from_file: bool = False) -> NamedPath | None:
    """The candidates for a path as written in `file`, and the first of them that exists."""
    root = os.path.abspath(root)
    real_root = os.path.realpath(root)
    if os.path.isabs(written):
        tried = [(os.path.normpath(written), "__file__" if from_file else "absolute")]
    else:
        folder = os.path.dirname(os.path.abspath(file))
        tried = [(os.path.normpath(os.path.join(folder, written)), "file folder"),
                 (os.path.normpath(os.path.join(root, written)), "workspace root")]
        if tried[0][0] == tried[1][0]:
            tried = tried[:1]
    inside = tuple((p, a) for p, a in tried if _within(p, root) or _within(p, real_root))
    if not inside:
        return None
    found = next(((p, a) for p, a in inside if os.path.exists(p)
                  and _within(os.path.realpath(p), real_root)), (None, None))
    return NamedPath(written=written, path=found[0], anchor=found[1], candidates=inside)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(os.path.join(root, ""))


class _Evaluator:
    def __init__(self, file: str):
        self.file = file
        self.imports: dict[str, str] | None = None
        self.looking_up: set[tuple[int, str]] = set()

    # --- spellings -----------------------------------------------------------------------
    def canonical(self, node: SgNode) -> str:
        """A callee or attribute chain as its imports spell it: `osp.join` -> os.path.join."""
        text = node.text()
        if node.kind() not in ("identifier", "attribute") or len(text) > 200:
            return ""
        if self.imports is None:
            self.imports = _imports(node.get_root().root())
        head, dot, rest = text.partition(".")
        head = self.imports.get(head, head)
        return head + dot + rest

    # --- values --------------------------------------------------------------------------
    def value(self, node: SgNode | None, depth: int):
        """A _Value (a path or a string), an int, or None."""
        if node is None or depth > MAX_DEPTH:
            return None
        node = sx.unwrap_down(node)
        kind = node.kind()
        if kind in ("string", "concatenated_string"):
            return self.string(node, depth)
        if kind == "integer":
            try:
                return int(node.text().replace("_", ""), 0)
            except ValueError:
                return None
        if kind == "identifier":
            if node.text() == "__file__":
                return _Value(self.file, from_file=True)
            return self.name(node, depth)
        if kind == "binary_operator":
            return self.binary(node, depth)
        if kind == "call":
            return self.call(node, depth)
        if kind == "attribute":
            return self.attribute(node, depth)
        if kind == "subscript":
            return self.subscript(node, depth)
        return None

    def string(self, node: SgNode, depth: int):
        if len(node.text()) > MAX_TEXT:
            return None
        strings = [node] if node.kind() == "string" else \
            [c for c in node.children() if c.kind() == "string"]
        out = []
        for piece in strings:
            fields = [c for c in piece.children() if c.kind() == "interpolation"]
            text = _fstring(piece, fields, lambda n: self.value(n, depth + 1)) if fields \
                else _literal(piece.text())
            if text is None:
                return None
            out.append(text)
        return _Value("".join(out).replace("\\", "/"))

    def binary(self, node: SgNode, depth: int):
        operator = node.field("operator")
        left = self.value(node.field("left"), depth + 1)
        right = self.value(node.field("right"), depth + 1)
        if not isinstance(left, _Value) or not isinstance(right, _Value) or operator is None:
            return None
        if operator.text() == "/":
            return _Value(posixpath.join(left.text, right.text), left.from_file or
                          (right.from_file and posixpath.isabs(right.text)))
        if operator.text() == "+":
            return _Value(left.text + right.text, left.from_file)
        return None

    def call(self, node: SgNode, depth: int):
        function = node.field("function")
        positional, keywords = sx.arguments(node)
        if function is None or keywords or any(a.kind() in ("list_splat", "dictionary_splat")
                                               for a in positional):
            return None
        name = self.canonical(function)
        if name in _CWD and not positional:
            return _Value(".")
        if function.kind() == "attribute" and name not in _PATH_TYPES | _JOINS | _KEEPS and \
                not name.startswith("os.path."):
            return self.method(function, positional, depth)
        args = [self.value(a, depth + 1) for a in positional]
        if not all(isinstance(a, _Value) for a in args):
            return None
        if name in _PATH_TYPES or name in _JOINS:
            if not args:
                return _Value(".")
            return _join(args)
        if len(args) != 1:
            return None
        (arg,) = args
        if name in _KEEPS:
            return arg
        if name == "os.path.dirname":
            return _Value(posixpath.dirname(arg.text) or ".", arg.from_file)
        if name == "os.path.basename":
            return _Value(posixpath.basename(arg.text))
        return None

    def method(self, function: SgNode, positional: list[SgNode], depth: int):
        """`p.joinpath(...)`, `p.with_suffix(...)`, `p.resolve()`, ... of a path value."""
        method = function.field("attribute")
        target = self.value(function.field("object"), depth + 1)
        if method is None or not isinstance(target, _Value):
            return None
        args = [self.value(a, depth + 1) for a in positional]
        if not all(isinstance(a, _Value) for a in args):
            return None
        name = method.text()
        if name in _KEEPING_METHODS and not args:
            return target
        if name == "joinpath":
            return _join([target, *args])
        if len(args) != 1:
            return None
        (arg,) = args
        folder, base = posixpath.split(target.text)
        stem, suffix = posixpath.splitext(base)
        if name == "with_suffix":
            return _Value(posixpath.join(folder, stem + arg.text), target.from_file)
        if name == "with_name":
            return _Value(posixpath.join(folder, arg.text), target.from_file)
        if name == "with_stem":
            return _Value(posixpath.join(folder, arg.text + suffix), target.from_file)
        return None

    def attribute(self, node: SgNode, depth: int):
        name = node.field("attribute")
        target = self.value(node.field("object"), depth + 1)
        if name is None or not isinstance(target, _Value):
            return None
        if name.text() == "parent":
            return _Value(posixpath.dirname(target.text) or ".", target.from_file)
        if name.text() == "name":
            return _Value(posixpath.basename(target.text))
        if name.text() == "stem":
            return _Value(posixpath.splitext(posixpath.basename(target.text))[0])
        return None

    def subscript(self, node: SgNode, depth: int):
        """`p.parents[n]`."""
        value = node.field("value")
        index = [c for c in node.children() if c.is_named() and c != value]
        if value is None or value.kind() != "attribute" or len(index) != 1:
            return None
        attribute = value.field("attribute")
        if attribute is None or attribute.text() != "parents":
            return None
        target = self.value(value.field("object"), depth + 1)
        count = self.value(index[0], depth + 1)
        if not isinstance(target, _Value) or type(count) is not int or not 0 <= count < 64:
            return None
        text = target.text
        for _ in range(count + 1):
            text = posixpath.dirname(text) or "."
        return _Value(text, target.from_file)

    def name(self, identifier: SgNode, depth: int):
        """The value a name is bound to once, by a plain assignment, in the nearest scope
        around it that binds it."""
        name = identifier.text()
        scope = sx.scope_of(identifier)
        first = True
        while True:
            if scope.kind() != "class_definition" or first:
                key = (scope.range().start.index, name)
                bindings = [n for n in sx.names_in(scope, name)
                            if not sx.in_nested_scope(n, scope) and _binds(n)]
                if scope.kind() in ("function_definition", "lambda") and \
                        name in (p.lstrip("*") for p in sx.parameter_names(scope)):
                    return None
                if bindings:
                    if len(bindings) != 1 or key in self.looking_up:
                        return None
                    assignment = bindings[0].parent()
                    if assignment is None or assignment.kind() != "assignment" or \
                            assignment.field("left") != bindings[0]:
                        return None
                    self.looking_up.add(key)
                    try:
                        return self.value(assignment.field("right"), depth + 1)
                    finally:
                        self.looking_up.discard(key)
            if scope.kind() == "module":
                return None
            scope = sx.scope_of(scope)
            first = False


def _binds(identifier: SgNode) -> bool:
    parent = identifier.parent()
    if parent is not None and parent.kind() == "named_expression":
        return parent.field("name") == identifier
    if parent is not None and parent.kind() == "keyword_argument":
        return False  # `f(path=...)` names a parameter of f
    return sx.is_binding(identifier)


def _join(args: list[_Value]) -> _Value:
    text = posixpath.join(*(a.text for a in args))
    # the result is built from __file__ when the last absolute part was
    from_file = False
    for a in args:
        if posixpath.isabs(a.text):
            from_file = a.from_file
        elif a.from_file:
            from_file = True
    return _Value(text, from_file)


def _literal(text: str) -> str | None:
    """A plain string literal's value (any prefix but f), or None."""
    try:
        value = ast.literal_eval("(" + text + ")")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    return value if isinstance(value, str) else None


def _fstring(node: SgNode, fields: list[SgNode], evaluate) -> str | None:
    """An f-string's value when each field is `{expr}` of a value that evaluates."""
    values = []
    for field in fields:
        inner = [c for c in field.children() if c.is_named()]
        if len(inner) != 1:
            return None  # a format spec, a conversion, `=`
        value = evaluate(inner[0])
        if isinstance(value, _Value):
            values.append(value.text)
        elif type(value) is int:
            values.append(str(value))
        else:
            return None
    # the literal parts, with each field replaced by a marker a path never holds
    pieces, index = [], 0
    for child in node.children():
        if child.kind() == "interpolation":
            pieces.append(f"\ue000{index}\ue001")
            index += 1
        else:
            pieces.append(child.text())
    source = "".join(pieces)
    start = next((i for i, ch in enumerate(source) if ch in "'\""), -1)
    if start < 0:
        return None
    prefix = source[:start].replace("f", "").replace("F", "")
    text = _literal(prefix + source[start:])
    if text is None:
        return None
    text = text.replace("{{", "{").replace("}}", "}")
    for i, value in enumerate(values):
        text = text.replace(f"\ue000{i}\ue001", value)
    return text


def _imports(module: SgNode) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from the file's imports."""
    table: dict[str, str] = {}
    for statement in module.find_all(kind="import_statement"):
        for child in statement.children():
            if child.kind() == "aliased_import":
                dotted, alias = child.field("name"), child.field("alias")
                if dotted is not None and alias is not None:
                    table[alias.text()] = dotted.text()
            elif child.kind() == "dotted_name":
                head = child.text().split(".", 1)[0]
                table.setdefault(head, head)
    for statement in module.find_all(kind="import_from_statement"):
        module_name = statement.field("module_name")
        if module_name is None:
            continue
        for child in statement.children():
            if child == module_name:
                continue
            if child.kind() == "aliased_import":
                dotted, alias = child.field("name"), child.field("alias")
                if dotted is not None and alias is not None:
                    table[alias.text()] = f"{module_name.text()}.{dotted.text()}"
            elif child.kind() == "dotted_name":
                table[child.text()] = f"{module_name.text()}.{child.text()}"
    return table

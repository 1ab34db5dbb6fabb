"""The functions and methods of a document (for lenses and for placing profile results).

An ast-grep scan: it tolerates code being typed, where `ast.parse` gives up. Qualified names
follow the profiler's convention (`func`, `Class.method`, `outer.inner`), and the first line
includes the decorators, as the profiler's `first_line` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from memlens.profiler import source

_REQUIRED_PARAM_KINDS = frozenset({"identifier", "typed_parameter"})


@dataclass(frozen=True)
class Function:
    qualname: str
    first_line: int  # 0-based, the first decorator line or the `def` line
    def_line: int  # 0-based line of `def`
    def_column: int
    last_line: int  # 0-based
    in_class: bool
    zero_arg: bool

    def needs_call(self, has_main: bool) -> bool:
        """True when the profiler cannot pick an entry by itself."""
        return source.needs_call(self, has_main)


def scan(text: str) -> list[Function]:
    from memlens.engine.parse import TooDeep, parse

    try:
        root = parse(text)
    except TooDeep:
        return []  # not Python: no function to profile
    out: list[Function] = []

    def walk(node, prefix: str, in_class: bool) -> None:
        for child in node.children():
            kind = child.kind()
            target, first = child, child
            if kind == "decorated_definition":
                target = child.field("definition") or child
                kind = target.kind()
            if kind == "function_definition":
                name_node = target.field("name")
                if name_node is None:
                    continue
                qual = prefix + name_node.text()
                r, fr = target.range(), first.range()
                params = target.field("parameters")
                zero_arg = params is None or not any(
                    p.kind() in _REQUIRED_PARAM_KINDS for p in params.children())
                out.append(Function(qual, fr.start.line, r.start.line, r.start.column,
                                    r.end.line, in_class, zero_arg))
                body = target.field("body")
                if body is not None:
                    walk(body, qual + ".", False)
            elif kind == "class_definition":
                name_node = target.field("name")
                body = target.field("body")
                if name_node is not None and body is not None:
                    walk(body, prefix + name_node.text() + ".", True)
            elif kind not in ("comment", "string", "expression_statement"):
                walk(child, prefix, in_class)

    walk(root, "", False)
    return out


class FunctionIndex:
    """`scan` results cached per document version (computed off the event loop)."""

    def __init__(self):
        self._cache: dict[str, tuple[object, str, list[Function]]] = {}

    def get(self, uri: str, version, text: str) -> list[Function]:
        hit = self._cache.get(uri)
        if hit is not None and hit[0] == version and hit[1] is text:
            return hit[2]
        if hit is not None and hit[1] == text:
            functions = hit[2]
        else:
            try:
                functions = scan(text)
            except Exception:
                functions = []
        self._cache[uri] = (version, text, functions)
        return functions

    def drop(self, uri: str) -> None:
        self._cache.pop(uri, None)

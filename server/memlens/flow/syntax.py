"""What the data-flow facts need of the syntax tree (ast-grep's, so broken code still answers):
scopes, statements, bindings and the uses of a name, in source order."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import TypeVar

from ast_grep_py import SgNode, SgRoot

# Where a name's binding lives: a function (or lambda) body, or the module. A class body is not
# a scope its methods see, but names bound in it are its own.
SCOPES = ("function_definition", "lambda", "module", "class_definition")
LOOPS = ("for_statement", "while_statement")
COMPREHENSIONS = ("list_comprehension", "set_comprehension", "dictionary_comprehension",
                  "generator_expression")
# nodes whose parent is one of these is a statement
_BODIES = ("block", "module")


def start(node: SgNode) -> int:
    return node.range().start.index


def end(node: SgNode) -> int:
    return node.range().end.index


def encloses(outer: SgNode, inner: SgNode) -> bool:
    return start(outer) <= start(inner) and end(inner) <= end(outer)


def scope_of(node: SgNode) -> SgNode:
    """The nearest function, lambda or class around `node`, else the module."""
    for ancestor in node.ancestors():
        if ancestor.kind() in SCOPES:
            return ancestor
    return node.get_root().root()


def statement_of(node: SgNode) -> SgNode:
    """The statement holding `node` (the node itself when it is one)."""
    current = node
    while True:
        parent = current.parent()
        if parent is None or parent.kind() in _BODIES:
            return current
        current = parent


def top_statement(node: SgNode) -> SgNode:
    """The module-level statement holding `node` (a notebook cell's loop, a script's block)."""
    current = node
    while (parent := current.parent()) is not None and parent.kind() != "module":
        current = parent
    return current


def unwrap_up(node: SgNode) -> SgNode:
    """`node`, or the parentheses around it: `(pd.read_csv(p))` is the read."""
    while (parent := node.parent()) is not None and parent.kind() == "parenthesized_expression":
        node = parent
    return node


def unwrap_down(node: SgNode) -> SgNode:
    while node.kind() == "parenthesized_expression":
        inner = [c for c in node.children() if c.is_named()]
        if len(inner) != 1:
            break
        node = inner[0]
    return node


def function_of(node: SgNode) -> SgNode | None:
    """The function definition whose body holds `node`, if any (lambdas and classes skipped)."""
    for ancestor in node.ancestors():
        if ancestor.kind() == "function_definition":
            return ancestor
    return None


def loops_around(node: SgNode, scope: SgNode) -> list[SgNode]:
    """The `for`/`while` statements around `node` within `scope`, innermost first."""
    loops = []
    for ancestor in node.ancestors():
        if ancestor == scope:
            break
        if ancestor.kind() in LOOPS:
            loops.append(ancestor)
    return loops


def decorators(function: SgNode) -> list[SgNode]:
    parent = function.parent()
    if parent is None or parent.kind() != "decorated_definition":
        return []
    return [c for c in parent.children() if c.kind() == "decorator"]


def parameter_names(function: SgNode) -> list[str]:
    """The names of a function's parameters, in order (`self` included)."""
    params = function.field("parameters")
    names = []
    for child in params.children() if params is not None else ():
        kind = child.kind()
        if kind == "identifier":
            names.append(child.text())
        elif kind in ("default_parameter", "typed_parameter", "typed_default_parameter"):
            name = child.field("name") or next(
                (c for c in child.children() if c.kind() == "identifier"), None)
            if name is not None:
                names.append(name.text())
        elif kind in ("list_splat_pattern", "dictionary_splat_pattern"):
            inner = next((c for c in child.children() if c.kind() == "identifier"), None)
            if inner is not None:
                names.append("*" + inner.text())
    return names


def in_nested_scope(node: SgNode, scope: SgNode) -> bool:
    """Whether a function, lambda or class between `node` and `scope` has a scope of its own."""
    for ancestor in node.ancestors():
        if ancestor == scope:
            return False
        if ancestor.kind() in SCOPES:
            return True
    return False


_Built = TypeVar("_Built")
_LAST_TREE: list[tuple[SgRoot, dict]] = []  # the last file's: rules ask of one file at a time


def per_tree(node: SgNode, build: Callable[[SgNode], _Built]) -> _Built:
    """`build(root)` of the file of `node`, computed once per parsed file: facts ask many
    questions of one tree, and a walk of the whole tree per question made a 2,000-line file's
    check 8x slower."""
    tree = node.get_root()  # (the same object for every node of a parsed file)
    entry = _LAST_TREE[0] if _LAST_TREE else None
    if entry is None or entry[0] is not tree:
        # (held: its id is not reused while it is the key; a local reference, so that a
        # thread checking another file at the same time cannot swap it under this one)
        entry = (tree, {})
        _LAST_TREE[:] = [entry]
    built = entry[1]
    if build not in built:
        built[build] = build(tree.root())
    return built[build]


def _identifiers(root: SgNode) -> dict[str, list[SgNode]]:
    names: dict[str, list[SgNode]] = {}
    for identifier in root.find_all(kind="identifier"):
        names.setdefault(identifier.text(), []).append(identifier)
    return names


def _identifier_starts(root: SgNode) -> dict[str, list[int]]:
    return {name: [start(n) for n in nodes]
            for name, nodes in per_tree(root, _identifiers).items()}


def identifiers_named(node: SgNode, name: str) -> list[SgNode]:
    """Every identifier `name` in the file of `node`, in source order."""
    return per_tree(node, _identifiers).get(name, [])


def names_in(scope: SgNode, name: str) -> list[SgNode]:
    """Every identifier `name` (its text, not a pattern) in `scope`, in source order, nested
    scopes included."""
    occurrences = identifiers_named(scope, name)
    starts = per_tree(scope, _identifier_starts).get(name, [])
    first = bisect_left(starts, start(scope))
    last = bisect_left(starts, end(scope), lo=first)
    return occurrences[first:last]


def is_binding(identifier: SgNode) -> bool:
    """Whether this occurrence of a name binds it (the target of `=`, `for`, `with ... as`,
    `import`, a parameter), rather than reading it."""
    node = identifier
    parent = node.parent()
    while parent is not None and parent.kind() in ("pattern_list", "tuple_pattern",
                                                    "list_pattern", "expression_list",
                                                    "parenthesized_expression", "tuple",
                                                    "list", "list_splat_pattern"):
        node, parent = parent, parent.parent()
    if parent is None:
        return False
    kind = parent.kind()
    if kind in ("assignment", "augmented_assignment"):
        return parent.field("left") == node
    if kind == "for_statement" or kind == "for_in_clause":
        return parent.field("left") == node
    if kind in ("as_pattern_target", "parameters", "default_parameter", "typed_parameter",
                "aliased_import", "dotted_name", "global_statement", "nonlocal_statement",
                "keyword_argument"):
        return kind != "keyword_argument" or parent.field("name") == node
    if kind in ("function_definition", "class_definition"):
        return parent.field("name") == node
    return False


def method_call_on(node: SgNode) -> tuple[SgNode, str] | None:
    """`node.method(...)`: the call and the method's name, when `node` is the object a method
    is called on; None otherwise."""
    attribute = node.parent()
    if attribute is None or attribute.kind() != "attribute" or attribute.field("object") != node:
        return None
    method = attribute.field("attribute")
    call = attribute.parent()
    if method is None or call is None or call.kind() != "call" or \
            call.field("function") != attribute:
        return None
    return call, method.text()


def call_name(call: SgNode) -> str:
    """The callee of a call as written: `pd.read_csv`, `self.model`, `f`."""
    function = call.field("function")
    return function.text() if function is not None else ""


def last_attribute(call: SgNode) -> str:
    """The last name of a call's callee: `read_csv` of `pd.read_csv(...)`."""
    return call_name(call).rsplit(".", 1)[-1]


def string_value(node: SgNode) -> str | None:
    """The value of a plain string literal (no f-string, no concatenation), else None."""
    if node.kind() != "string":
        return None
    if any(c.kind() == "interpolation" for c in node.children()):
        return None
    content = [c for c in node.children() if c.kind() == "string_content"]
    return "".join(c.text() for c in content)


def strings_of(node: SgNode) -> list[str] | None:
    """The strings of a literal list or tuple of plain strings (`["a", "b"]`), else None."""
    node = unwrap_down(node)
    if node.kind() not in ("list", "tuple"):
        value = string_value(node)
        return None if value is None else [value]
    out = []
    for child in node.children():
        if not child.is_named() or child.kind() == "comment":
            continue
        value = string_value(child)
        if value is None:
            return None
        out.append(value)
    return out


def arguments(call: SgNode) -> tuple[list[SgNode], dict[str, SgNode]]:
    """A call's positional and keyword arguments."""
    args = call.field("arguments")
    positional, keywords = [], {}
    for child in args.children() if args is not None else ():
        if not child.is_named() or child.kind() == "comment":
            continue
        if child.kind() == "keyword_argument":
            name = child.field("name")
            value = child.field("value")
            if name is not None and value is not None:
                keywords[name.text()] = value
        else:
            positional.append(child)
    return positional, keywords


def statements_after(node: SgNode) -> Iterator[SgNode]:
    """The statements that follow `node`'s statement in its block, then those after each
    enclosing block's statement, up to the scope."""
    statement = statement_of(node)
    scope = scope_of(node)
    current: SgNode | None = statement
    while current is not None and current != scope:
        for sibling in current.next_all():
            if sibling.is_named():
                yield sibling
        parent = current.parent()
        while parent is not None and parent.kind() in ("block",):
            parent = parent.parent()
        current = parent
        if current is not None and current.kind() in SCOPES:
            break


def rebinding_reads(occurrence: SgNode, name: str) -> bool:
    """Whether the assignment that binds `occurrence` reads `name` first: `m = m.to(device)`,
    `m += 1` (no assignment around it: False)."""
    parent = occurrence.parent()
    while parent is not None and parent.kind() not in ("assignment", "augmented_assignment"):
        if parent.kind() in ("block", "module"):  # (statements are never inside expressions)
            return False
        parent = parent.parent()
    if parent is None:
        return False
    if parent.kind() == "augmented_assignment":
        return True
    right = parent.field("right")
    return right is not None and right.find(kind="identifier", regex=f"^{name}$") is not None

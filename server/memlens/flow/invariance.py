"""Whether an expression computes the same value each time it runs: on every iteration of the
loop around it, or on every call of the function it is in.

An expression is invariant in a region (a loop, a function) when every name it reads keeps its
value there: it is not bound in the region (assigned, a loop variable, a parameter of the
function), not changed in place (`x[k] = ...`, `x.a = ...`, `del x[k]`, a method called on it
as a statement, `inplace=True`), not declared `global`/`nonlocal` there, and the expression
calls nothing that gives a new value each time (`next`, `random`, `input`, `time`, a read of a
stream). `self` is a parameter: attributes of the instance can change between calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.loops import loop_around

# Calls whose result differs from one evaluation to the next.
_VOLATILE = re.compile(r"(?:^|\.)(?:next|input|time|perf_counter|now|today|random|rand|randn|"
                       r"randint|choice|choices|sample|shuffle|permutation|uniform|normal|"
                       r"read|readline|recv|get_nowait|pop|popleft|popitem|uuid\d?)$")


@dataclass(frozen=True)
class Invariance:
    invariant: bool
    region: SgNode | None  # the loop or function it was checked against
    why: str = ""  # what varies, when it is not invariant


def invariant_in_loop(node: SgNode) -> Invariance:
    """The same on every iteration of the innermost loop around `node` (in its own scope)."""
    loop = loop_around(node)
    if loop is None:
        return Invariance(False, None, "no loop")
    region = loop.node
    if region.kind() in sx.COMPREHENSIONS:
        return Invariance(False, region, "a comprehension")
    return _invariant(node, region, region)


def invariant_in_call(node: SgNode) -> Invariance:
    """The same on every call of the function `node` is in (it reads only names from outside:
    module-level names, constants, builtins)."""
    function = sx.function_of(node)
    if function is None:
        return Invariance(False, None, "not in a function")
    return _invariant(node, function, function)


def _invariant(node: SgNode, region: SgNode, scope_region: SgNode) -> Invariance:
    for call in [node] + list(node.find_all(kind="call")):
        if call.kind() != "call":
            continue
        if _VOLATILE.search(sx.call_name(call)):
            return Invariance(False, region, f"calls {sx.call_name(call)}()")
    read = sorted({i.text() for i in _reads(node)})
    for name in read:
        why = _varies(name, region, node)
        if why:
            return Invariance(False, region, why)
    return Invariance(True, region)


def _reads(node: SgNode) -> list[SgNode]:
    """The identifiers `node` reads: not attribute names, keyword names or lambda parameters."""
    out = []
    idents = [node] if node.kind() == "identifier" else list(node.find_all(kind="identifier"))
    for ident in idents:
        parent = ident.parent()
        if parent is not None:
            if parent.kind() == "attribute" and parent.field("attribute") == ident:
                continue
            if parent.kind() == "keyword_argument" and parent.field("name") == ident:
                continue
        if any(a.kind() == "lambda" for a in ident.ancestors() if sx.encloses(node, a)):
            continue
        out.append(ident)
    return out


def _varies(name: str, region: SgNode, node: SgNode) -> str:
    """Why `name` may change within `region` (empty when it does not)."""
    if region.kind() == "function_definition" and name in {
            p.lstrip("*") for p in sx.parameter_names(region)}:
        return f"{name} is a parameter"
    for occurrence in sx.names_in(region, name):
        if sx.encloses(node, occurrence):
            continue
        if _imported(occurrence):
            continue  # `from m import f` in the function: the same object every time
        if sx.is_binding(occurrence):
            parent = occurrence.parent()
            if parent is not None and parent.kind() in ("keyword_argument",):
                continue
            if parent is not None and parent.kind() in ("function_definition",
                                                        "class_definition"):
                continue  # a nested definition's own name
            return f"{name} is assigned in the {_what(region)}"
        parent = occurrence.parent()
        if parent is None:
            continue
        if parent.kind() in ("global_statement", "nonlocal_statement"):
            return f"{name} is global"
        # x[k] = v, x.a = v, del x[k]
        target = parent
        if target.kind() in ("subscript", "attribute") and \
                target.field("value" if target.kind() == "subscript" else "object") == occurrence:
            holder = target.parent()
            if holder is not None and holder.kind() in ("assignment", "augmented_assignment") \
                    and holder.field("left") == target:
                return f"{name} is changed in place"
            if holder is not None and holder.kind() == "delete_statement":
                return f"{name} is changed in place"
            # x.method(...) as a statement, or with inplace=True
            if target.kind() == "attribute" and holder is not None and holder.kind() == "call":
                statement = sx.unwrap_up(holder).parent()
                if statement is not None and statement.kind() == "expression_statement":
                    method = target.field("attribute")
                    return f"{name}.{method.text() if method else '?'}() may change it"
                if "inplace" in holder.text():
                    return f"{name} is changed in place"
    return ""


def _imported(identifier: SgNode) -> bool:
    for ancestor in identifier.ancestors():
        kind = ancestor.kind()
        if kind in ("import_statement", "import_from_statement"):
            return True
        if kind not in ("dotted_name", "aliased_import"):
            return False
    return False


def _what(region: SgNode) -> str:
    return "function" if region.kind() == "function_definition" else "loop"

"""Whether the value a name is bound to is cast to half precision later in its scope: a model
loaded in float32 and then halved was held at twice the size it is kept at.

`later_half(name)` follows the name after the statement that binds it, in source order, in its
own scope (not in nested functions, which may run at any time or never), up to the first
binding of the name that does not cast it: a rebinding to something else ends the value's life.
What casts it:
- `m.half()`, `m.bfloat16()`;
- `m.to(torch.float16)`, `m.to(device, torch.bfloat16)`, `m.to(dtype=torch.half)` (also
  spelled `"float16"` / `"bfloat16"` strings);
- any of these after calls that hand back the same object (`m.cuda().half()`,
  `m.eval().to(torch.float16)`), and `m = m.half()`;
- a cast of a wrapper the name is bound to that is given the value whole
  (`m = PeftModel.from_pretrained(m, adapter)`, then `m.half()`).

A cast under `if` counts (the code halves the model on that path). A cast of something else
(`m.encoder.half()`: one part) or to float32 does not.

`later_single(name)` asks the same of numpy's and pandas' cast to float32 (`x.astype(np.float32)`,
`x.astype("float32")`, `dtype=` too), which copies the array whatever its dtype was. Both follow
a name bound in a tuple assignment (`a, b = a / 255.0, b / 255.0`) through the item on its
side of the right-hand tuple; `bound_name(expr)` is the name an expression is assigned to so.
"""

from __future__ import annotations

from collections.abc import Callable

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.lifetime import SAME_OBJECT

_HALF_METHODS = frozenset({"half", "bfloat16"})
# torch's half-precision dtypes as code names them
_HALF_DTYPES = frozenset({"torch.float16", "torch.half", "torch.bfloat16", "float16",
                          "bfloat16", "half"})
# calls on the way that hand back the same module (not a cast themselves)
_PASSES = SAME_OBJECT - _HALF_METHODS - {"float", "double", "to"}
# numpy's float32 as code names it
_SINGLE_DTYPES = frozenset({"np.float32", "numpy.float32", "float32", "np.single",
                            "numpy.single", "single", "f4", "<f4"})


def later_half(name: SgNode) -> SgNode | None:
    """The call that casts to half precision the value `name` (an identifier, bound by its
    statement) holds, later in its scope; None when nothing does."""
    return _later_cast(name, _half_call)


def later_single(name: SgNode) -> SgNode | None:
    """The `astype` that casts to float32 the value `name` (an identifier, bound by its
    statement) holds, later in its scope; None when nothing does."""
    return _later_cast(name, _single_call)


def bound_name(expr: SgNode) -> SgNode | None:
    """The identifier `expr` is assigned to: `x = expr`, or the matching item of a tuple
    assignment (`a, x = ..., expr`)."""
    node = sx.unwrap_up(expr)
    parent = node.parent()
    if parent is None:
        return None
    if parent.kind() == "assignment" and parent.field("right") == node:
        left = parent.field("left")
        return left if left is not None and left.kind() == "identifier" else None
    if parent.kind() in ("expression_list", "tuple"):
        assignment = parent.parent()
        if assignment is None or assignment.kind() != "assignment" or \
                assignment.field("right") != parent:
            return None
        left = assignment.field("left")
        items = _items(parent)
        targets = _items(left) if left is not None and \
            left.kind() in ("pattern_list", "tuple_pattern") else []
        if len(items) == len(targets):
            target = targets[[sx.start(i) for i in items].index(sx.start(node))]
            return target if target.kind() == "identifier" else None
    return None


def _items(node: SgNode) -> list[SgNode]:
    return [c for c in node.children() if c.is_named() and c.kind() != "comment"]


def _later_cast(name: SgNode, cast_call: Callable[[SgNode], SgNode | None]) -> SgNode | None:
    text = name.text()
    scope = sx.scope_of(name)
    statement = sx.statement_of(name)
    after = sx.end(statement)
    for occurrence in sx.names_in(scope, text):
        if sx.start(occurrence) < after or sx.in_nested_scope(occurrence, scope):
            continue
        if _is_attribute_name(occurrence):
            continue
        if sx.is_binding(occurrence):
            # `m = m.half()` casts it; `m = PeftModel.from_pretrained(m, ...)` wraps it (the
            # wrapper's cast is the value's); any other binding ends the value's life
            right = _assigned(occurrence)
            if right is None:
                return None
            for inner in sx.names_in(right, text):
                found = cast_call(inner)
                if found is not None:
                    return found
            if _wraps(right, text):
                continue
            return None
        found = cast_call(occurrence)
        if found is not None:
            return found
    return None


def _wraps(right: SgNode, name: str) -> bool:
    """`Wrapper(m, ...)`, `X.from_pretrained(m, ...)`: a call given the value whole."""
    right = sx.unwrap_down(right)
    if right.kind() != "call":
        return False
    positional, keywords = sx.arguments(right)
    return any(sx.unwrap_down(a).kind() == "identifier" and sx.unwrap_down(a).text() == name
               for a in [*positional, *keywords.values()])


def _is_attribute_name(identifier: SgNode) -> bool:
    """`x.m` or `f(m=...)`: not the variable."""
    parent = identifier.parent()
    if parent is None:
        return False
    if parent.kind() == "attribute":
        return parent.field("attribute") == identifier
    if parent.kind() == "keyword_argument":
        return parent.field("name") == identifier
    return False


def _assigned(binding: SgNode) -> SgNode | None:
    """What the binding is assigned: the right side, or its item for a tuple's item."""
    parent = binding.parent()
    if parent is not None and parent.kind() == "assignment" and parent.field("left") == binding:
        return parent.field("right")
    if parent is not None and parent.kind() in ("pattern_list", "tuple_pattern"):
        assignment = parent.parent()
        right = assignment.field("right") if assignment is not None and \
            assignment.kind() == "assignment" and assignment.field("left") == parent else None
        if right is not None and right.kind() in ("expression_list", "tuple"):
            targets, items = _items(parent), _items(right)
            if len(targets) == len(items):
                return items[[sx.start(t) for t in targets].index(sx.start(binding))]
    return None


def _half_call(occurrence: SgNode) -> SgNode | None:
    """The half-precision cast `occurrence.….half()` makes of the value itself, if any."""
    node = sx.unwrap_up(occurrence)
    while True:
        found = sx.method_call_on(node)
        if found is None:
            return None
        call, name = found
        if name in _HALF_METHODS or (name == "to" and _to_half(call)):
            return call
        if name not in _PASSES and name != "to":
            return None
        node = sx.unwrap_up(call)


def _to_half(call: SgNode) -> bool:
    """`.to(...)` given a half-precision dtype, positionally or as `dtype=`."""
    positional, keywords = sx.arguments(call)
    values = positional + ([keywords["dtype"]] if "dtype" in keywords else [])
    for value in values:
        written = sx.string_value(value)
        if (written if written is not None else value.text()) in _HALF_DTYPES:
            return True
    return False


def _single_call(occurrence: SgNode) -> SgNode | None:
    """`occurrence.astype(np.float32)` (or `"float32"`, `dtype=`): a float32 copy of it."""
    found = sx.method_call_on(sx.unwrap_up(occurrence))
    if found is None or found[1] != "astype":
        return None
    call = found[0]
    positional, keywords = sx.arguments(call)
    value = positional[0] if positional else keywords.get("dtype")
    if value is None:
        return None
    written = sx.string_value(value)
    return call if (written if written is not None else value.text()) in _SINGLE_DTYPES \
        else None

"""What a collection filled in a loop becomes.

A collection is *collected across a loop* when the code makes it empty before the loop
(`out = []`, `list()`, `{}`, `dict()`, `defaultdict(list)`), fills it in the loop
(`out.append(x)`, `out.extend(xs)`, `out += xs`, `d[k].append(x)`) and never binds the name
again inside the loop: when the loop ends it holds something of every iteration, all at once.

After the loop, the first use of the name that is not display (`len(out)`, `print(out)`) says
what it becomes:
- `array`: turned into an array, a tensor, a Series, a frame or a column (`np.array(out)`,
  `torch.cat(out)`, `torch.tensor(out)`, `pd.Series(out)`, `pd.DataFrame(d)`, `df["c"] = out`
  with a column named by a string, `df.assign(c=out)`): the Python objects were only an
  intermediate;
- `returned`: returned or yielded from the function;
- `kept`: anything else (passed to a function, stored, iterated, never used).
"""

from __future__ import annotations

from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.loops import Loop, loop_around

BECOMES = ("array", "returned", "kept")

# calls that fill the collection they are called on
_FILL = frozenset({"append", "extend", "insert", "add", "update"})
# empty collections, as made before the loop
_EMPTY_CALLS = frozenset({"list", "dict", "set", "defaultdict", "collections.defaultdict",
                          "OrderedDict", "collections.OrderedDict"})
# calls whose result is an array, a tensor, a Series or a frame made of their argument
_TO_ARRAY = frozenset({
    "array", "asarray", "asanyarray", "stack", "vstack", "hstack", "dstack", "row_stack",
    "column_stack", "concatenate", "fromiter", "tensor", "as_tensor", "cat", "concat", "Tensor",
    "FloatTensor", "LongTensor", "IntTensor", "DoubleTensor", "HalfTensor", "BoolTensor",
    "from_numpy", "convert_to_tensor", "Series", "DataFrame", "from_dict", "from_records",
    "from_arrays", "Categorical", "Index", "to_numeric", "to_datetime",
})
_DISPLAY = frozenset({"print", "len", "display", "type", "repr", "isinstance"})


@dataclass(frozen=True)
class Collected:
    name: str  # the collection's name
    loop: Loop  # the loop that fills it
    becomes: str  # one of BECOMES
    use: SgNode | None  # the first use after the loop, when there is one

    def describe(self) -> str:
        if self.use is None:
            return f"`{self.name}`"
        text = " ".join(sx.statement_of(self.use).text().split())
        return f"`{text}`" if len(text) <= 60 else f"`{self.name}`"


def collected(node: SgNode) -> Collected | None:
    """What the collection `node` fills becomes: `node` is the call that fills it
    (`out.append(x)`, `d[k].extend(xs)`), the collection expression itself (`out`, `d[k]`), or
    any node inside the filling call's arguments."""
    receiver = _receiver(node)
    if receiver is None:
        return None
    base = sx.unwrap_down(receiver)
    while base.kind() == "subscript":
        value = base.field("value")
        if value is None:
            return None
        base = sx.unwrap_down(value)
    if base.kind() != "identifier":
        return None
    name = base.text()
    loop = loop_around(receiver)
    if loop is None or loop.node.kind() not in sx.LOOPS:
        return None
    scope = sx.scope_of(receiver)
    loop_start, loop_end = sx.start(loop.node), sx.end(loop.node)
    made = None
    for occurrence in sx.names_in(scope, name):
        if sx.in_nested_scope(occurrence, scope) or not sx.is_binding(occurrence):
            continue
        at = sx.start(occurrence)
        if loop_start <= at < loop_end:
            if _is_fill_binding(occurrence):
                continue  # `out += xs` fills it
            return None  # reset (or replaced) in the loop: holds one iteration's worth
        if at < loop_start:
            made = occurrence
    if made is None or not _made_empty(made):
        return None
    becomes, use = _after(scope, name, loop_end)
    return Collected(name, loop, becomes, use)


def _receiver(node: SgNode) -> SgNode | None:
    """The collection a filling call fills, found from the call, the collection or an argument."""
    for candidate in [node, *node.ancestors()]:
        kind = candidate.kind()
        if kind == "call":
            function = candidate.field("function")
            if function is not None and function.kind() == "attribute":
                attribute = function.field("attribute")
                if attribute is not None and attribute.text() in _FILL:
                    return function.field("object")
        elif kind == "augmented_assignment":
            return candidate.field("left")
        if kind in ("expression_statement", "block", "module") or kind in sx.SCOPES:
            return None
    return None


def _is_fill_binding(identifier: SgNode) -> bool:
    parent = identifier.parent()
    return parent is not None and parent.kind() == "augmented_assignment" and \
        parent.field("left") == identifier


def _made_empty(identifier: SgNode) -> bool:
    """Whether the binding assigns an empty list, dict or set (or a defaultdict)."""
    parent = identifier.parent()
    if parent is None or parent.kind() != "assignment" or parent.field("left") != identifier:
        return False
    right = parent.field("right")
    if right is None:
        return False
    right = sx.unwrap_down(right)
    if right.kind() in ("list", "dictionary", "set"):
        return not any(c.is_named() and c.kind() != "comment" for c in right.children())
    if right.kind() == "call":
        callee = sx.call_name(right)
        positional, keywords = sx.arguments(right)
        if callee in ("list", "dict", "set", "OrderedDict", "collections.OrderedDict"):
            return not positional and not keywords
        return callee in _EMPTY_CALLS
    return False


def _after(scope: SgNode, name: str, loop_end: int) -> tuple[str, SgNode | None]:
    """What the first use of `name` after the loop makes of it."""
    after = [o for o in sx.names_in(scope, name)
             if sx.start(o) >= loop_end and not sx.in_nested_scope(o, scope)]
    # a statement reads before it binds: `d = pd.DataFrame(d)` uses the collection
    after.sort(key=lambda o: (sx.start(sx.statement_of(o)), sx.is_binding(o), sx.start(o)))
    for occurrence in after:
        if sx.is_binding(occurrence):
            return "kept", None  # rebound before any use
        node = occurrence
        # `d[k]` and `(out)` stand for the collection
        while (parent := node.parent()) is not None and (
                parent.kind() == "parenthesized_expression"
                or (parent.kind() == "subscript" and parent.field("value") == node)):
            node = parent
        parent = node.parent()
        if parent is None:
            return "kept", occurrence
        kind = parent.kind()
        if kind == "argument_list":
            call = parent.parent()
            callee = sx.call_name(call) if call is not None else ""
            if callee in _DISPLAY:
                continue
            if callee.rsplit(".", 1)[-1] in _TO_ARRAY:
                return "array", occurrence
            return "kept", occurrence
        if kind == "keyword_argument" and parent.field("value") == node:
            call = grand.parent() if (grand := parent.parent()) is not None else None
            if call is not None and sx.last_attribute(call) == "assign":
                return "array", occurrence
            if call is not None and sx.last_attribute(call) in _TO_ARRAY:
                return "array", occurrence
            return "kept", occurrence
        if kind == "assignment" and parent.field("right") == node:
            if _is_column(parent.field("left")):
                return "array", occurrence  # a column: `df["c"] = out`
            return "kept", occurrence
        if kind in ("return_statement", "yield"):
            return "returned", occurrence
        return "kept", occurrence
    return "kept", None


def _is_column(target: SgNode | None) -> bool:
    """`df["c"]`, `df[f"{c}_diff"]`, `df.loc[:, "c"]`: a column named by a string (a key held
    in a variable may be a dict's: `cache[name] = out` keeps the list)."""
    if target is None or target.kind() != "subscript":
        return False
    keys = target.field_children("subscript")
    if not keys:
        return False
    return sx.unwrap_down(keys[-1]).kind() == "string"

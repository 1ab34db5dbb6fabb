"""What a regrowth adds each time: `acc = pd.concat([acc, piece])`, `acc = acc.append(piece)`,
`acc = np.append(acc, piece)`. A piece the code writes out as one row (a number, a string, a
dict or list display of values, `[[a, b]]`, or a frame, Series or array built from one,
directly or through a name the same loop binds so) makes the result as many rows as the loop
runs: its copies cost time, and the old and new result held at once are a few pointers a row.
Any other piece (a frame read, a group, a model's output, a name the code does not show) may be
large."""

from __future__ import annotations

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

# constructors that make one row of what they are given: `pd.DataFrame([[a, b]])`
_BUILDERS = frozenset({"DataFrame", "Series", "array", "asarray", "from_dict", "from_records"})
_SCALARS = frozenset({"integer", "float", "string", "true", "false", "none", "concatenated_string"})
_DISPLAYS = frozenset({"list", "tuple", "dictionary", "set"})
_LOOPS = frozenset({"for_statement", "while_statement"})


def pieces(assignment: SgNode) -> list[SgNode]:
    """The values a regrowth statement adds to its target: the items of `concat([acc, ...])`'s
    list other than `acc`, or the positional arguments of `acc.append(...)` /
    `np.append(acc, ...)` other than `acc`; none for anything else."""
    if assignment.kind() != "assignment":
        return []
    left, right = assignment.field("left"), assignment.field("right")
    if left is None or right is None:
        return []
    right = sx.unwrap_down(right)
    if right.kind() != "call":
        return []
    target = left.text()
    positional, _ = sx.arguments(right)
    items: list[SgNode] = []
    for arg in positional:
        arg = sx.unwrap_down(arg)
        if arg.kind() in ("list", "tuple") and any(
                sx.unwrap_down(c).text() == target for c in _items(arg)):
            items.extend(_items(arg))  # `concat([acc, piece])`: the list's items
        else:
            items.append(arg)
    return [i for i in items if sx.unwrap_down(i).text() != target]


def adds_rows(assignment: SgNode) -> str | None:
    """When every piece the regrowth adds is written out as rows, what it adds (for the
    message); else None."""
    found = pieces(assignment)
    if not found or not all(_written_row(p, assignment, 0) for p in found):
        return None
    return "one row written out each time"


def _items(display: SgNode) -> list[SgNode]:
    return [c for c in display.children() if c.is_named() and c.kind() != "comment"]


def _written_row(value: SgNode, at: SgNode, depth: int) -> bool:
    value = sx.unwrap_down(value)
    kind = value.kind()
    if kind in _SCALARS:
        return True
    if kind == "dictionary":
        # `{"a": x, "b": y}`: one row, whatever its values are (a dict of columns is built
        # through a constructor, `pd.DataFrame({...})`, and checked as such)
        return True
    if kind in ("list", "tuple"):
        # `[a, b]` (one row) or `[[a, b]]` (rows written out): no comprehension, no splat
        return all(_flat(sx.unwrap_down(i)) for i in _items(value))
    if kind == "call":
        if sx.last_attribute(value) not in _BUILDERS:
            return False
        positional, _ = sx.arguments(value)
        if not positional:
            return False
        given = sx.unwrap_down(positional[0])
        if given.kind() == "dictionary":
            # `pd.DataFrame({"ds": dates, "y": values})`: columns, unless every value is a
            # literal (`pd.DataFrame({"a": 1}, index=[0])`)
            return all(_literal(v) for v in _values(given))
        return given.kind() in ("list", "tuple") and _written_row(given, at, depth)
    if kind == "identifier" and depth == 0:
        bound = _bound_in_loop(value.text(), at)
        return bound is not None and _written_row(bound, at, depth + 1)
    return False


def _values(dictionary: SgNode) -> list[SgNode]:
    out = []
    for pair in dictionary.children():
        if pair.kind() == "pair":
            value = pair.field("value")
            if value is not None:
                out.append(value)
        elif pair.is_named() and pair.kind() != "comment":
            out.append(pair)  # a `**splat`: not a literal
    return out


def _literal(node: SgNode) -> bool:
    return sx.unwrap_down(node).kind() in _SCALARS


def _flat(item: SgNode) -> bool:
    """An item of a row: a value that is not itself a collection built at run time."""
    if item.kind() in ("list", "tuple"):
        return all(sx.unwrap_down(i).kind() not in (*_DISPLAYS, "list_comprehension",
                                                     "generator_expression", "list_splat")
                   for i in _items(item))
    return item.kind() not in ("dictionary", "set", "list_comprehension",
                               "generator_expression", "list_splat", "dictionary_splat")


def _bound_in_loop(name: str, at: SgNode) -> SgNode | None:
    """The value of the last plain `name = value` before `at` in the loop around it."""
    loop = next((a for a in at.ancestors() if a.kind() in _LOOPS), None)
    if loop is None:
        return None
    found = None
    for assignment in loop.find_all(kind="assignment"):
        if sx.start(assignment) >= sx.start(at):
            break
        left = assignment.field("left")
        if left is not None and left.kind() == "identifier" and left.text() == name:
            found = assignment.field("right")
    return found

"""Whether a frame is made only to take a few of its rows: every read of the name, after the
statement that binds it, cuts its rows where a column equals a value (`df[df[c] == v]`,
`df.loc[(df[a] == x) & (df[b] == y)]`), directly or through a copy whose reads all do
(`f = df.copy(); f = f[f[c] == v]`), or reads only what it looks like (`df.columns`,
`len(df)`). Then the rows the code keeps could have been picked before the frame was built.

Conservative: a read of any other kind, a second binding of the name, a read in a nested
function, or a binding in a loop (the next iteration may read the last value) answers None.
"""

from __future__ import annotations

from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.liveness import metadata_only

# `f = df.copy()` (pandas' copy takes keywords only: `deep=True`)
_COPIES = frozenset({"copy"})


@dataclass(frozen=True)
class Selected:
    """What the code keeps of a frame: the rows where `cuts` hold, or only its metadata."""

    cuts: tuple[str, ...]  # the comparisons that select the rows, as written

    def describe(self) -> str:
        if not self.cuts:
            return "only to read its columns"
        shown = " ".join(self.cuts[0].split())
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"only to take the rows where `{shown}`"


def rows_selected(name: SgNode) -> Selected | None:
    """What is kept of the value `name` (the identifier an assignment binds) when every read of
    it is a cut of its rows by equality or a read of its metadata; None otherwise."""
    if name.kind() != "identifier" or not sx.is_binding(name):
        return None
    cuts: list[str] = []
    if not _only_cut(name, cuts, depth=0):
        return None
    return Selected(tuple(cuts))


def _only_cut(name: SgNode, cuts: list[str], depth: int) -> bool:
    text = name.text()
    scope = sx.scope_of(name)
    statement = sx.statement_of(name)
    if any(a.kind() in sx.LOOPS for a in _between(statement, scope)):
        return False
    reads = 0
    for occurrence in sx.names_in(scope, text):
        if occurrence == name or not _is_reference(occurrence) or \
                sx.start(occurrence) < sx.start(statement):
            continue  # an earlier value of the name
        if sx.in_nested_scope(occurrence, scope) or sx.start(occurrence) < sx.end(statement):
            return False  # read by a nested function, or within its own binding statement
        if sx.is_binding(occurrence):
            # `f = f[f[c] == v]`: the value's life ends in a cut; any other binding is
            # not followed
            cut = _rebinds_to_cut(occurrence, text)
            if cut is None or sx.statement_of(occurrence).parent() != statement.parent():
                return False
            cuts.append(cut)
            return True
        if _inside_own_cut(occurrence, text):
            continue
        cut = _cut_of(occurrence, text)
        if cut is not None:
            cuts.append(cut)
            reads += 1
        elif metadata_only(occurrence):
            reads += 1
        else:
            copy_target = _copied_to(occurrence)
            if copy_target is None or depth > 0 or not _only_cut(copy_target, cuts, depth + 1):
                return False
            reads += 1
    return reads > 0 and (bool(cuts) or depth == 0)


def _between(node: SgNode, scope: SgNode) -> list[SgNode]:
    out = []
    for ancestor in node.ancestors():
        if ancestor == scope:
            break
        out.append(ancestor)
    return out


def _is_reference(identifier: SgNode) -> bool:
    parent = identifier.parent()
    if parent is None:
        return True
    if parent.kind() == "attribute":
        return parent.field("attribute") != identifier
    if parent.kind() == "keyword_argument":
        return parent.field("name") != identifier
    return True


def _cut_of(occurrence: SgNode, name: str) -> str | None:
    """`name[mask]` or `name.loc[mask]` where the mask compares a column of `name` with `==`:
    the mask's text."""
    node = sx.unwrap_up(occurrence)
    parent = node.parent()
    if parent is not None and parent.kind() == "attribute" and parent.field("object") == node:
        attribute = parent.field("attribute")
        if attribute is None or attribute.text() != "loc":
            return None
        node, parent = parent, parent.parent()
    if parent is None or parent.kind() != "subscript" or parent.field("value") != node:
        return None
    index = [c for c in parent.children() if c.is_named() and c != node]
    if len(index) != 1:
        return None
    mask = sx.unwrap_down(index[0])
    if not _equality_mask(mask, name):
        return None
    return mask.text()


def _equality_mask(mask: SgNode, name: str) -> bool:
    """`name[c] == v`, or such comparisons joined by `&`."""
    mask = sx.unwrap_down(mask)
    if mask.kind() == "binary_operator":
        operator = mask.field("operator")
        left, right = mask.field("left"), mask.field("right")
        return operator is not None and operator.text() == "&" and left is not None and \
            right is not None and _equality_mask(left, name) and _equality_mask(right, name)
    if mask.kind() != "comparison_operator":
        return False
    operands = [c for c in mask.children() if c.is_named()]
    operators = [c.text() for c in mask.children() if not c.is_named()]
    if operators != ["=="] or len(operands) != 2:
        return False
    return any(_column_of(sx.unwrap_down(o), name) for o in operands)


def _column_of(node: SgNode, name: str) -> bool:
    """`name[c]` or `name.c`: one column of the frame."""
    if node.kind() == "subscript":
        value = node.field("value")
        return value is not None and value.kind() == "identifier" and value.text() == name
    if node.kind() == "attribute":
        obj = node.field("object")
        return obj is not None and obj.kind() == "identifier" and obj.text() == name
    return False


def _is_loc(node: SgNode) -> bool:
    """`x.loc` (the frame `x` indexed by label)."""
    attribute = node.field("attribute") if node.kind() == "attribute" else None
    return attribute is not None and attribute.text() == "loc"


def _inside_own_cut(occurrence: SgNode, name: str) -> bool:
    """The `df` of `df[c]` within the mask of a cut of `df` (counted with the cut)."""
    for ancestor in occurrence.ancestors():
        if ancestor.kind() == "subscript":
            value = ancestor.field("value")
            if value is not None and not sx.encloses(value, occurrence):
                target: SgNode | None = sx.unwrap_down(value)
                if target is not None and _is_loc(target):
                    target = target.field("object")
                if target is not None and target.kind() == "identifier" and \
                        target.text() == name and _cut_of(target, name) is not None:
                    return True
        if ancestor.kind() in sx.SCOPES or ancestor.kind() in ("block", "module"):
            return False
    return False


def _copied_to(occurrence: SgNode) -> SgNode | None:
    """The name `f` of `f = name.copy()`."""
    found = sx.method_call_on(sx.unwrap_up(occurrence))
    if found is None or found[1] not in _COPIES:
        return None
    call = found[0]
    assignment = sx.unwrap_up(call).parent()
    if assignment is None or assignment.kind() != "assignment" or \
            assignment.field("right") != sx.unwrap_up(call):
        return None
    left = assignment.field("left")
    return left if left is not None and left.kind() == "identifier" else None


def _rebinds_to_cut(occurrence: SgNode, name: str) -> str | None:
    """`f = f[f[c] == v]`: the binding's right side is a cut of the name (its mask's text)."""
    assignment = occurrence.parent()
    if assignment is None or assignment.kind() != "assignment" or \
            assignment.field("left") != occurrence:
        return None
    right = assignment.field("right")
    if right is None or sx.unwrap_down(right).kind() != "subscript":
        return None
    value = sx.unwrap_down(right).field("value")
    if value is not None and _is_loc(value):
        value = value.field("object")
    if value is None or value.kind() != "identifier" or value.text() != name:
        return None
    return _cut_of(value, name)

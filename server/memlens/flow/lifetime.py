"""Who holds the value an expression makes, and for how long: an attribute of `self` (as long as
the instance), a name in a function or the module (until the name is bound again or deleted),
or nothing the code shows (the value is dropped, returned, passed on).

The value is followed through the calls that hand back the same object (`.to(device)`,
`.eval()`, `.cuda()`), and into the object it is handed to as an argument of a constructor or a
loader (`Pipeline.from_pretrained(..., safety_checker=Checker.from_pretrained(...))`: the
pipeline keeps its parts).

Two values are alive at the same time when their holders say so (`overlap`); a value bound to a
name that is bound again before anything reads it was never used (`Holder.unused`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

# Methods that return the object they are called on (torch modules, pipelines, estimators).
SAME_OBJECT = frozenset({"to", "cuda", "cpu", "eval", "train", "half", "float", "double",
                         "bfloat16", "requires_grad_", "share_memory", "to_empty"})


@dataclass(frozen=True)
class Holder:
    """What holds a value: `kind` is "instance" (`self.<name>` in a method of `owner`, a class),
    "name" (a name bound in `owner`, a function or the module), or "none"."""

    kind: str
    owner: SgNode | None = None
    name: str = ""
    bound: SgNode | None = None  # the statement that binds it
    until: SgNode | None = None  # the statement that binds the name again or deletes it
    unused: bool = False  # bound again (or deleted) before anything reads it

    @property
    def known(self) -> bool:
        return self.kind != "none"


NONE = Holder("none")


def holder_of(node: SgNode) -> Holder:
    """What holds the value `node` (an expression) makes."""
    node = sx.unwrap_up(node)
    parent = node.parent()
    # `X.from_pretrained(...).to(device)`: the same object
    while parent is not None and parent.kind() == "attribute" and parent.field("object") == node:
        call = parent.parent()
        name = parent.field("attribute")
        if call is None or call.kind() != "call" or call.field("function") != parent or \
                name is None or name.text() not in SAME_OBJECT:
            return NONE
        node = sx.unwrap_up(call)
        parent = node.parent()
    if parent is None:
        return NONE
    if parent.kind() == "keyword_argument" or parent.kind() == "argument_list":
        # an argument of a constructor or a loader: the object it builds keeps it
        call = parent.parent() if parent.kind() == "argument_list" else \
            (grand.parent() if (grand := parent.parent()) is not None else None)
        if call is None or call.kind() != "call" or not _keeps_arguments(call):
            return NONE
        return holder_of(call)
    if parent.kind() != "assignment" or parent.field("right") != node:
        return NONE
    left = parent.field("left")
    statement = sx.statement_of(parent)
    if left is not None and left.kind() == "attribute":
        obj = left.field("object")
        attr = left.field("attribute")
        function = sx.function_of(parent)
        if obj is None or attr is None or obj.text() != "self" or function is None:
            return NONE
        owner = _class_of(function)
        if owner is None:
            return NONE
        return Holder("instance", owner, attr.text(), statement)
    if left is None or left.kind() != "identifier":
        return NONE
    scope = sx.scope_of(parent)
    if scope.kind() not in ("function_definition", "module"):
        return NONE
    until, unused = _next_binding(left, scope, statement)
    return Holder("name", scope, left.text(), statement, until, unused)


def overlap(a: Holder, b: Holder) -> bool:
    """Whether the values held by `a` and `b` are alive at the same time (after both are bound).

    Attributes of `self`: when they are different attributes (of one class, or of two classes
    whose instances the program makes side by side). Names: in the same function or module,
    when the first is still bound (not rebound, not deleted) after the second is bound."""
    if not (a.known and b.known) or a.kind != b.kind:
        return False
    if a.kind == "instance":
        return (a.owner, a.name) != (b.owner, b.name)
    if a.owner != b.owner or a.bound is None or b.bound is None or exclusive(a.bound, b.bound):
        return False
    first, second = (a, b) if sx.start(a.bound) < sx.start(b.bound) else (b, a)
    if first.name == second.name:
        return False  # the second replaces the first
    assert second.bound is not None  # (both are, above)
    return first.until is None or sx.start(first.until) > sx.end(second.bound)


def exclusive(a: SgNode, b: SgNode) -> bool:
    """Whether statements `a` and `b` sit in different branches of one `if` (or `try`), so that
    no run executes both."""
    for ancestor in a.ancestors():
        if not sx.encloses(ancestor, b):
            continue
        if ancestor.kind() not in ("if_statement", "try_statement"):
            if ancestor.kind() in sx.SCOPES:
                return False
            continue
        branch_a = _branch(ancestor, a)
        branch_b = _branch(ancestor, b)
        if branch_a is not None and branch_b is not None and branch_a != branch_b:
            return True
    return False


def _branch(statement: SgNode, node: SgNode) -> SgNode | None:
    """The child of an `if`/`try` statement (its body, an elif, an else, an except) that holds
    `node`."""
    for child in statement.children():
        if child.kind() in ("block", "elif_clause", "else_clause", "except_clause",
                            "finally_clause") and sx.encloses(child, node):
            return child
    return None


def _keeps_arguments(call: SgNode) -> bool:
    """A constructor (`Pipeline(...)`) or a loader that assembles its parts (`from_pretrained`)."""
    name = sx.last_attribute(call)
    return name == "from_pretrained" or name[:1].isupper()


def _class_of(function: SgNode) -> SgNode | None:
    parent = function.parent()
    if parent is not None and parent.kind() == "decorated_definition":
        parent = parent.parent()
    if parent is None or parent.kind() != "block":
        return None
    owner = parent.parent()
    return owner if owner is not None and owner.kind() == "class_definition" else None


def _next_binding(target: SgNode, scope: SgNode, statement: SgNode) -> tuple[SgNode | None, bool]:
    """The statement after `statement` that binds or deletes the name `target` binds, in its own
    scope, and whether no code reads the name before then (nested functions count as reads)."""
    name = target.text()
    after = sx.end(statement)
    read = False
    for occurrence in sx.names_in(scope, name):
        if sx.start(occurrence) < after:
            continue
        nested = sx.in_nested_scope(occurrence, scope)
        if not nested and (sx.is_binding(occurrence) or _deleted(occurrence)):
            later = sx.statement_of(occurrence)
            if not read and sx.rebinding_reads(occurrence, name):
                read = True
            return later, not read
        read = True
    return None, False


def _deleted(identifier: SgNode) -> bool:
    parent = identifier.parent()
    while parent is not None and parent.kind() in ("expression_list",):
        parent = parent.parent()
    return parent is not None and parent.kind() == "delete_statement"

"""Whether the value a name is bound to here is next used by a call that remakes it: the first
read of it after the binding (reads of its shape, columns, index, dtypes or length aside) is
a method so named on it whose result rebinds the same name (`X = df.drop(columns=a)` ...
`X = X.drop(columns=b)`). The value bound here is then a whole copy the code uses for nothing
but to make the next one: one call would do both.
"""

from __future__ import annotations

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.liveness import metadata_only

# keyword arguments that make the call work in place or share its data, or may hide them
_SHARES = frozenset({"inplace", "copy"})


def remade_by(name: SgNode, methods: frozenset[str]) -> SgNode | None:
    """The call (`X.drop(...)`) that next uses the value the binding `name` (the target of an
    assignment) gets, when it is a method in `methods` whose result rebinds the same name, and
    nothing but metadata reads the value before it; None otherwise. The call must run in no
    loop that the binding is not in (else from its second pass it remakes its own result), and
    no nested function may read the value first."""
    assignment = name.parent()
    if not sx.is_binding(name) or assignment is None or assignment.kind() != "assignment" or \
            assignment.field("left") != name:
        return None
    statement = sx.statement_of(name)
    scope = sx.scope_of(name)
    for occurrence in sx.names_in(scope, name.text()):
        if sx.start(occurrence) <= sx.start(name) or sx.encloses(statement, occurrence):
            continue
        if sx.in_nested_scope(occurrence, scope):
            return None
        if sx.is_binding(occurrence):
            if _reads_itself(occurrence):
                continue  # `X = X.drop(b)`: the right side reads the value first
            return None
        if metadata_only(occurrence):
            continue
        return _remaking_call(occurrence, methods, statement, scope)
    return None


def _remaking_call(occurrence: SgNode, methods: frozenset[str], first: SgNode,
                   scope: SgNode) -> SgNode | None:
    """`occurrence` is the object of a call of `methods` whose result rebinds its name."""
    found = sx.method_call_on(occurrence)
    if found is None or found[1] not in methods or _shares(found[0]):
        return None
    call = found[0]
    assignment = call.parent()
    if assignment is None or assignment.kind() != "assignment" or \
            assignment.field("right") != call:
        return None
    left = assignment.field("left")
    if left is None or left.kind() != "identifier" or left.text() != occurrence.text():
        return None
    if any(not sx.encloses(loop, first) for loop in sx.loops_around(call, scope)):
        return None  # run again: from the second pass it remakes its own result
    return call


def _reads_itself(binding: SgNode) -> bool:
    """`X = <something reading X>`: the target of an assignment whose right side reads it."""
    assignment = binding.parent()
    if assignment is None or assignment.kind() != "assignment" or \
            assignment.field("left") != binding:
        return False
    right = assignment.field("right")
    return right is not None and any(
        not sx.is_binding(n) for n in sx.names_in(right, binding.text()))


def _shares(call: SgNode) -> bool:
    arguments = call.field("arguments")
    if arguments is None:
        return True
    for argument in arguments.children():
        if argument.kind() == "dictionary_splat":
            return True
        if argument.kind() == "keyword_argument":
            key = argument.field("name")
            if key is not None and key.text() in _SHARES:
                return True
    return False

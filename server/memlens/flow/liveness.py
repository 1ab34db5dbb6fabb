"""Whether a name's value is used after a statement, whether the scope holds that value alone,
and whether any work follows the statement: what it takes to say that a value is kept alive for
nothing (a load never read, the source of a copy never used again, the parts of a concat).

All three answer conservatively: anything the tree cannot rule out counts as a use, a holder
or work.

- **Used after** (`later_use`): a read of the name after the statement in its scope, up to an
  unconditional rebinding (`x = other` in the same block or an enclosing one; a rebinding under
  `if`, `for`, `try` or `with` does not end the value's life); a read anywhere in a loop around
  the statement (the next iteration); a read in a function, lambda or class of the scope that
  does not bind the name itself (it may run at any time); `del x`; `global`/`nonlocal x`;
  `locals()`, `vars()`, `globals()`, `eval`, `exec`; a class body's names (attributes).
  At a module's top level, the file is the program when it is a notebook or a file nothing in
  its project imports; when the project was not read, when the file shows it runs as one (a
  `__main__` block, or five top-level statements that do work: calls, loops, `with`). A name
  listed in `__all__`, or any name of another file, may be imported.
- **Held alone** (`holder`): the name was bound in this scope, each time by a value made there
  (a call, a literal, a comprehension, arithmetic), and nothing before the statement was handed
  the value: no alias (`y = x`), no store (`self.x = x`, `d[k] = x`, `[x, y]`), no call that
  takes it as an argument (it may keep it: `Dataset(x)`, `Explainer(m, x)`), no part of it kept
  in a name (`col = x["a"]`, `v = x.values`: a view keeps the whole buffer), not returned or
  yielded. A parameter is the caller's value; a name bound by `for`, `with`, `import` or
  unpacking may be shared.
- **Work after** (`work_after`): a statement after this one in its scope that does something
  (not `pass` and not `return` of a name or a constant), or a loop around it that runs again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.project import FileRole

_DYNAMIC = frozenset({"locals", "vars", "globals", "eval", "exec"})
# calls that take a value and keep nothing of it
_KEEPS_NOTHING = frozenset({"print", "display", "len", "type", "repr", "str", "id",
                            "isinstance", "hasattr", "bool", "int", "float"})
# the statement kinds that contain blocks: a binding inside one of them may not run
_COMPOUND = frozenset({"if_statement", "for_statement", "while_statement", "try_statement",
                       "with_statement", "match_statement", "function_definition",
                       "class_definition", "decorated_definition"})
# values made where they are written: the name holding one is their only holder
_FRESH_KINDS = frozenset({"call", "list", "dictionary", "set", "tuple", "list_comprehension",
                          "dictionary_comprehension", "set_comprehension", "binary_operator",
                          "unary_operator", "await", "integer", "float", "string",
                          "concatenated_string", "true", "false", "none"})
# calls that return a new container over the same items (a list of frames shares its frames)
_SHARES_ITEMS = frozenset({"list", "tuple", "sorted", "reversed", "iter", "set", "dict",
                           "getattr", "next", "vars", "copy.copy", "id"})


@dataclass(frozen=True)
class LaterUse:
    """What may read the value after the statement, and where."""

    why: str
    node: SgNode | None = None


# -- the occurrences of a name -------------------------------------------------------------------

def _is_reference(identifier: SgNode) -> bool:
    """Whether this identifier names a variable (not `x.name`, not `f(name=...)`)."""
    parent = identifier.parent()
    if parent is None:
        return True
    kind = parent.kind()
    if kind == "attribute":
        return parent.field("attribute") != identifier
    if kind == "keyword_argument":
        return parent.field("name") != identifier
    return True


def _comprehension_local(occurrence: SgNode, name: str, scope: SgNode) -> bool:
    """Whether a comprehension between `occurrence` and `scope` binds `name` itself."""
    for ancestor in occurrence.ancestors():
        if ancestor == scope:
            return False
        if ancestor.kind() in sx.COMPREHENSIONS:
            for clause in ancestor.children():
                if clause.kind() != "for_in_clause":
                    continue
                left = clause.field("left")
                if left is not None and (left.text() == name or left.find(
                        kind="identifier", regex=f"^{re.escape(name)}$") is not None):
                    return True
    return False


def _own_scope(occurrence: SgNode, scope: SgNode) -> SgNode | None:
    """The innermost function, lambda or class between `occurrence` and `scope`, else None."""
    for ancestor in occurrence.ancestors():
        if ancestor == scope:
            return None
        if ancestor.kind() in sx.SCOPES:
            return ancestor
    return None


def _binds_itself(inner: SgNode, name: str) -> bool:
    """Whether a nested function, lambda or class binds `name` in its own scope (then its
    `name` is another variable), with no `global`/`nonlocal` for it."""
    if inner.kind() == "function_definition":
        if name in [p.lstrip("*") for p in sx.parameter_names(inner)]:
            return True
    elif inner.kind() == "lambda":
        params = inner.field("parameters")
        if params is not None and params.find(kind="identifier",
                                              regex=f"^{re.escape(name)}$") is not None:
            return True
    if _declared(inner, name):
        return False
    for occurrence in sx.names_in(inner, name):
        if _is_reference(occurrence) and sx.is_binding(occurrence) and \
                _own_scope(occurrence, inner) is None:
            return True
    return False


def _declared(scope: SgNode, name: str) -> bool:
    """`global name` or `nonlocal name` in this scope (not in nested ones)."""
    for statement in scope.find_all(any=[{"kind": "global_statement"},
                                         {"kind": "nonlocal_statement"}]):
        if _own_scope(statement, scope) is None and any(
                c.text() == name for c in statement.children() if c.kind() == "identifier"):
            return True
    return False


def _dynamic(scope: SgNode) -> SgNode | None:
    """A call of `locals()`, `vars()`, `eval`, `exec` or `globals()` in the scope."""
    for call in scope.find_all(kind="call"):
        function = call.field("function")
        if function is not None and function.kind() == "identifier" and \
                function.text() in _DYNAMIC:
            return call
    return None


def _references(scope: SgNode, name: str) -> list[SgNode]:
    return [o for o in sx.names_in(scope, name)
            if _is_reference(o) and not _comprehension_local(o, name, scope)]


def _unconditional(binding_statement: SgNode, statement: SgNode, scope: SgNode) -> bool:
    """Whether `binding_statement` runs whenever `statement` ran and the scope went on: it
    follows `statement` in the same block, or follows a compound statement holding it."""
    for loop in sx.loops_around(binding_statement, scope):
        if loop.find(kind="break_statement") is not None:
            return False  # a `break` between them may skip the rebinding
    current: SgNode | None = statement
    while current is not None and current != scope:
        parent = current.parent()
        if parent is not None and parent == binding_statement.parent() and \
                sx.start(binding_statement) > sx.start(current):
            return True
        current = parent
    return False


def _assignment_of(binding: SgNode) -> SgNode | None:
    """The `=` assignment whose left side is this identifier, or unpacks a call's result into
    names of which this is one (`a, b = split(x)`)."""
    parent = binding.parent()
    if parent is None:
        return None
    if parent.kind() == "assignment" and parent.field("left") == binding:
        return parent
    if parent.kind() in ("pattern_list", "tuple_pattern") and all(
            c.kind() == "identifier" for c in parent.children() if c.is_named()):
        outer = parent.parent()
        right = outer.field("right") if outer is not None and outer.kind() == "assignment" \
            else None
        if right is not None and outer is not None and outer.field("left") == parent and \
                sx.unwrap_down(right).kind() == "call":
            return outer
    return None


# -- used after ------------------------------------------------------------------------------------

def later_use(name: SgNode, role: FileRole | None = None,
              metadata: bool = False, deletes: bool = True) -> LaterUse | None:
    """What may use, after the statement holding `name` (an identifier), the value `name`
    refers to there; None when nothing can. Reads within the statement itself do not count,
    unless a loop runs it again over the same value. `metadata`: reads of its shape, columns,
    index, dtypes or length do not count either (they need none of its data). `deletes`:
    whether `del x` counts (it does when the question is whether `x` stays alive; it does
    not when the question is whether anything reads the value: made, then deleted unread)."""
    text = name.text()
    scope = sx.scope_of(name)
    kind = scope.kind()
    if kind == "class_definition":
        return LaterUse("a class attribute")
    if kind == "lambda":
        return LaterUse("in a lambda")
    statement = sx.statement_of(name)
    module = kind == "module"
    if module:
        imported = role.imported if role is not None else None
        if imported:
            return LaterUse("other modules import this file")
        if imported is None and not runs_as_program(scope):
            return LaterUse("a module-level name other modules may import")
        if _in_all(scope, text):
            return LaterUse("listed in __all__")
    elif _declared(scope, text):
        return LaterUse("declared global or nonlocal")
    dynamic = _dynamic(scope)
    if dynamic is not None:
        return LaterUse(f"{sx.call_name(dynamic)}() reads names by string", dynamic)
    loops = sx.loops_around(statement, scope)
    references = _references(scope, text)
    if loops and not sx.is_binding(name) and not any(
            sx.is_binding(o) and sx.encloses(loops[0], o) and _own_scope(o, scope) is None
            for o in references):
        # `b = a.copy()` in a loop that never rebinds `a` copies the same value again
        return LaterUse(f"read again in the loop (line {_line(name)})", name)
    done_at = None  # where an unconditional rebinding ends the value's life
    own_end = _header_end(statement)
    for occurrence in references:
        if occurrence == name or (sx.start(statement) <= sx.start(occurrence) < own_end):
            continue
        if metadata and metadata_only(occurrence):
            continue
        inner = _own_scope(occurrence, scope)
        if inner is not None:
            if _binds_itself(inner, text):
                continue
            what = "function" if inner.kind() != "class_definition" else "class"
            return LaterUse(f"read by a nested {what} (line {_line(occurrence)})", occurrence)
        at = sx.start(occurrence)
        if at < sx.start(statement):
            if any(sx.encloses(loop, occurrence) for loop in loops):
                return LaterUse(f"read again in the loop (line {_line(occurrence)})",
                                occurrence)
            continue
        if done_at is not None and at >= done_at:
            continue
        if _is_del(occurrence):
            if not deletes:
                continue  # reads nothing (a read after it needs a new binding)
            return LaterUse(f"deleted on line {_line(occurrence)}", occurrence)
        if sx.is_binding(occurrence) and not _augmented(occurrence):
            binding_statement = sx.statement_of(occurrence)
            assignment = _assignment_of(occurrence)
            if assignment is not None and binding_statement.kind() == "expression_statement" \
                    and _unconditional(binding_statement, statement, scope):
                right = assignment.field("right")
                if right is not None and any(_is_reference(o) for o in sx.names_in(right, text)):
                    return LaterUse(f"read on line {_line(occurrence)}", occurrence)
                done_at = sx.end(binding_statement)
            continue
        return LaterUse(f"read on line {_line(occurrence)}", occurrence)
    return None


_METADATA = frozenset({"shape", "columns", "index", "dtypes", "dtype", "ndim", "size",
                       "nbytes"})


def metadata_only(identifier: SgNode) -> bool:
    """`x.shape`, `x.columns`, `len(x)`: a read of what the value looks like, not its data
    (`x.columns` as a value is a small index of names)."""
    node = sx.unwrap_up(identifier)
    parent = node.parent()
    if parent is None:
        return False
    if parent.kind() == "attribute" and parent.field("object") == node:
        attribute = parent.field("attribute")
        return attribute is not None and attribute.text() in _METADATA
    if parent.kind() == "argument_list":
        call = parent.parent()
        return call is not None and sx.call_name(call) == "len" and len(
            [c for c in parent.children() if c.is_named()]) == 1
    return False


def _header_end(statement: SgNode) -> int:
    """Where a statement's own code ends: a compound statement's body (its first block) runs
    after its header, so reads there come later."""
    for child in statement.children():
        if child.kind() == "block":
            return sx.start(child)
    return sx.end(statement)


# top-level statements that do work when the module runs
_WORK = frozenset({"for_statement", "while_statement", "with_statement"})
_PROGRAM_STATEMENTS = 5


def runs_as_program(module: SgNode) -> bool:
    """Whether a module whose importers are not known shows that it runs as a program: an
    `if __name__ == "__main__":` block, or at least five top-level statements that do work
    (calls, loops, `with`): a notebook, a script. A library module's top level defines
    things, and its names are there for other modules to import."""
    count = 0
    for statement in module.children():
        kind = statement.kind()
        if kind == "if_statement":
            condition = statement.field("condition")
            if condition is not None and "__name__" in condition.text() and \
                    "__main__" in condition.text():
                return True
            continue
        if kind in _WORK:
            count += 1
        elif kind == "expression_statement":
            child = statement.child(0)
            if child is not None and child.kind() in ("call", "await"):
                count += 1
        if count >= _PROGRAM_STATEMENTS:
            return True
    return False


def _augmented(identifier: SgNode) -> bool:
    parent = identifier.parent()
    return parent is not None and parent.kind() == "augmented_assignment"


def _is_del(identifier: SgNode) -> bool:
    parent = identifier.parent()
    while parent is not None and parent.kind() in ("expression_list", "tuple",
                                                    "parenthesized_expression"):
        parent = parent.parent()
    return parent is not None and parent.kind() == "delete_statement"


def _in_all(module: SgNode, name: str) -> bool:
    for occurrence in sx.names_in(module, "__all__"):
        assignment = occurrence.parent()
        while assignment is not None and assignment.kind() not in (
                "assignment", "augmented_assignment", "module"):
            assignment = assignment.parent()
        if assignment is None or assignment.kind() == "module":
            continue
        right = assignment.field("right")
        if right is not None and re.search(rf"['\"]{re.escape(name)}['\"]", right.text()):
            return True
    return False


def _line(node: SgNode) -> int:
    return node.range().start.line + 1


# -- held alone ------------------------------------------------------------------------------------

def holder(name: SgNode) -> str | None:
    """Why something besides this scope may hold the value `name` (a read) refers to; None when
    the scope made it and handed it to nothing before the statement holding `name`."""
    text = name.text()
    scope = sx.scope_of(name)
    if scope.kind() in ("class_definition", "lambda"):
        return "a class attribute" if scope.kind() == "class_definition" else "in a lambda"
    if scope.kind() == "function_definition":
        if text in [p.lstrip("*") for p in sx.parameter_names(scope)]:
            return f"`{text}` is a parameter: the caller holds the value"
        if _declared(scope, text):
            return f"`{text}` is declared global or nonlocal"
    statement = sx.statement_of(name)
    loops = sx.loops_around(statement, scope)
    references = [o for o in _references(scope, text) if _own_scope(o, scope) is None]
    bindings = [o for o in references if sx.is_binding(o) and not _augmented(o) and (
        sx.start(o) < sx.start(statement) or any(sx.encloses(lp, o) for lp in loops))]
    if not bindings:
        return f"`{text}` is not assigned in this scope"
    for binding in bindings:
        assignment = _assignment_of(binding)
        if assignment is None:
            bound_by = binding.parent()
            what = bound_by.kind().replace("_", " ") if bound_by is not None else "?"
            return f"`{text}` is bound by {what}"
        right = assignment.field("right")
        why = _not_fresh(right)
        if why is not None:
            return f"`{text}` is {why} (line {_line(binding)})"
    first = min(sx.start(b) for b in bindings)
    for occurrence in references:
        at = sx.start(occurrence)
        if occurrence == name or at <= first or sx.is_binding(occurrence) or \
                sx.encloses(statement, occurrence):
            continue
        if at > sx.start(statement) and not any(sx.encloses(lp, occurrence) for lp in loops):
            continue
        why = _handed_over(occurrence)
        if why is not None:
            return f"`{text}` is {why} (line {_line(occurrence)})"
    return None


def _not_fresh(right: SgNode | None) -> str | None:
    if right is None:
        return "unpacked"
    right = sx.unwrap_down(right)
    kind = right.kind()
    if kind == "conditional_expression":
        for part in right.children():
            if part.is_named() and part != right.child(2):
                why = _not_fresh(part) if part.kind() != "comparison_operator" else None
                if why is not None:
                    return why
        return None
    if kind not in _FRESH_KINDS:
        return f"an alias of `{right.text()[:40]}`"
    if kind == "call":
        callee = sx.call_name(right)
        if callee in _SHARES_ITEMS:
            return f"made by {callee}(), which shares the items"
    if kind == "binary_operator":
        return None
    return None


def _handed_over(occurrence: SgNode) -> str | None:
    """Whether this read gives the value (or a view or part of it) to something that may keep
    it; None for reads that keep nothing (its methods' results aside from views, display)."""
    node = sx.unwrap_up(occurrence)
    parent = node.parent()
    if parent is None:
        return None
    kind = parent.kind()
    if kind == "argument_list":
        call = parent.parent()
        callee = sx.call_name(call) if call is not None else ""
        if callee in _KEEPS_NOTHING:
            return None
        return f"passed to {callee or 'a call'}"
    if kind in ("return_statement", "yield"):
        return "returned"
    if kind == "keyword_argument":
        call = grand.parent() if (grand := parent.parent()) is not None else None
        callee = sx.call_name(call) if call is not None and call.kind() == "call" else ""
        return None if callee in _KEEPS_NOTHING else f"passed to {callee or 'a call'}"
    if kind in ("list", "tuple", "set", "pair", "expression_list", "dictionary"):
        return "put in a container"
    if kind == "assignment":
        if parent.field("right") == node:
            return "aliased"
        return None
    if kind in ("subscript", "attribute"):
        # a part or attribute taken: kept when the expression ends up assigned or stored
        top = parent
        while True:
            up = top.parent()
            if up is None:
                break
            if up.kind() in ("subscript", "attribute", "parenthesized_expression"):
                if up.kind() != "parenthesized_expression" and up.child(0) != top:
                    break
                top = up
                continue
            if up.kind() == "call" and up.field("function") == top:
                name = top.field("attribute") if top.kind() == "attribute" else None
                if name is not None and name.text() in _VIEWS:
                    top = up
                    continue
                return None  # a method's result: a new value (views aside)
            break
        holder_node = top.parent()
        if holder_node is None:
            return None
        if holder_node.kind() == "assignment" and holder_node.field("right") == top:
            left = holder_node.field("left")
            if left is not None and left.kind() == "identifier":
                return f"kept in part as `{left.text()}`"
            return "kept in part"
        if holder_node.kind() in ("list", "tuple", "pair", "return_statement"):
            return "kept in part"
        return None
    return None


# methods whose result shares the value's memory
_VIEWS = frozenset({"view", "reshape", "ravel", "transpose", "squeeze", "unsqueeze",
                    "to_numpy", "numpy", "detach", "permute", "expand", "view_as",
                    "swapaxes", "as_strided", "__array__", "get", "values", "items"})


# -- work after ------------------------------------------------------------------------------------

def work_after(node: SgNode) -> SgNode | None:
    """The first statement after the one holding `node`, in its scope, that does some work; or
    the loop around it, which runs it again. None when only `return name`/`pass` follow."""
    scope = sx.scope_of(node)
    statement = sx.statement_of(node)
    if _header_end(statement) < sx.end(statement):
        return statement  # the body of the compound statement whose header holds it
    loops = sx.loops_around(statement, scope)
    if loops:
        return loops[0]
    for later in sx.statements_after(node):
        kind = later.kind()
        if kind in ("pass_statement", "comment"):
            continue
        if kind == "return_statement":
            value = [c for c in later.children() if c.is_named()]
            if not value or value[0].kind() in ("identifier", "integer", "string", "true",
                                                 "false", "none", "tuple", "expression_list"):
                if not value or value[0].kind() not in ("tuple", "expression_list") or all(
                        c.kind() in ("identifier", "integer", "string", "none")
                        for c in value[0].children() if c.is_named()):
                    continue
        return later
    return None

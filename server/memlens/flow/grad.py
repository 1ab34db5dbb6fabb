"""Whether autograd records a forward pass at a place in the code.

Off inside `with torch.no_grad()`, `torch.inference_mode()` or `torch.set_grad_enabled(False)`;
in a function decorated with one of them; after a module-level `torch.set_grad_enabled(False)`
(notebooks do this once); and in a function every caller in the same file calls with autograd
off, a caller's own callers deciding in turn (two levels of calls: `make_preds_batch` called by
`make_preds_epoch`, called under `no_grad()`). Needed where the code trains: the function
calls `.backward()`, `torch.autograd.grad` or an optimizer step, or uses the gradients; except
for a forward pass whose output is detached before anything reads it (`target =
vgg(hr).detach()`, or a name whose every read is `.detach()`): no backward reaches that pass, so
it records its graph for nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

_OFF_CONTEXT = re.compile(
    r"(?:^|\.)(?:no_grad|inference_mode)\s*\(\s*(?:True|mode\s*=\s*True)?\s*\)$|"
    r"(?:^|\.)set_grad_enabled\s*\(\s*(?:False|mode\s*=\s*False)\s*\)$")
# (a project's own wrapper named for it too: yolov5's `@smart_inference_mode()`)
_OFF_DECORATOR = re.compile(
    r"^@\s*(?:[\w.]+\.)?\w*?(?:no_grad|inference_mode)\b(?:\s*\(\s*\))?\s*$")
_TRAINS = re.compile(r"\.backward\(|autograd\.grad\(|\.step\(\)|\.grad\b|zero_grad\(|"
                     r"requires_grad\s*=\s*True|enable_grad\(")


@dataclass(frozen=True)
class GradState:
    on: bool  # autograd records the forward pass here
    why: str  # what decided it


def grad_at(node: SgNode, callers: int = 2) -> GradState:
    """Whether autograd is on where `node` runs."""
    for ancestor in node.ancestors():
        kind = ancestor.kind()
        if kind == "with_statement":
            for item in ancestor.find_all(kind="with_item"):
                value = item.child(0)
                if value is not None and value.kind() == "as_pattern":
                    value = value.child(0)
                if value is not None and _OFF_CONTEXT.search(value.text().strip()):
                    return GradState(False, f"inside `with {value.text().strip()}`")
        elif kind == "function_definition":
            for decorator in sx.decorators(ancestor):
                if _OFF_DECORATOR.match(decorator.text().strip()):
                    return GradState(False, f"decorated {decorator.text().strip()}")
            if callers > 0:
                state = _callers_state(ancestor, callers - 1)
                if state is not None:
                    return state
            break
    root = node.get_root().root()
    switch = _module_switch(root, node)
    if switch is not None:
        return switch
    return GradState(True, "no no_grad()/inference_mode() around it")


def trains(scope: SgNode) -> bool:
    """Whether the code in `scope` trains (gradients are needed there)."""
    return bool(_TRAINS.search(scope.text()))


def detached(call: SgNode) -> bool:
    """Whether the output of `call` is detached before anything reads it: `m(x).detach()`, or
    `y = m(x)` where every read of `y` in its scope is `y.detach()` (a GAN's target features)."""
    call = sx.unwrap_up(call)
    if _detach_of(call):
        return True
    parent = call.parent()
    if parent is None or parent.kind() != "assignment" or parent.field("right") != call:
        return False
    left = parent.field("left")
    if left is None or left.kind() != "identifier":
        return False
    scope = sx.scope_of(call)
    occurrences = sx.names_in(scope, left.text())
    if any(sx.in_nested_scope(o, scope) for o in occurrences):
        return False  # a nested function or lambda uses the name: not followed
    reads = [o for o in occurrences if not sx.is_binding(o)]
    return bool(reads) and all(_detach_of(o) for o in reads)


def _detach_of(node: SgNode) -> bool:
    """`node.detach()`."""
    found = sx.method_call_on(node)
    return found is not None and found[1] == "detach"


def _callers_state(function: SgNode, callers: int) -> GradState | None:
    """Autograd off when every call of `function` in this file runs with it off."""
    name_node = function.field("name")
    if name_node is None:
        return None
    name = name_node.text()
    sites = []
    for ident in sx.identifiers_named(function, name):
        parent = ident.parent()
        if parent is None:
            continue
        call = None
        if parent.kind() == "call" and parent.field("function") == ident:
            call = parent
        elif parent.kind() == "attribute" and parent.field("attribute") == ident and \
                (grand := parent.parent()) is not None and grand.kind() == "call" and \
                grand.field("function") == parent:
            call = grand
        if call is not None and not sx.encloses(function, call):
            sites.append(call)
    if not sites:
        return None
    if all(not grad_at(site, callers).on for site in sites):
        return GradState(False, f"every caller of {name}() runs it under no_grad()")
    return None


def _module_switch(root: SgNode, node: SgNode) -> GradState | None:
    """The last module-level `torch.set_grad_enabled(...)` statement before `node`."""
    at = sx.start(node)
    state = None
    for start, off in sx.per_tree(root, _module_switches):
        if start > at:
            break
        state = GradState(False, "torch.set_grad_enabled(False) at module level") if off else None
    return state


def _module_switches(root: SgNode) -> list[tuple[int, bool]]:
    """Where the module level turns autograd off (True) or back on (False), in order."""
    switches = []
    for statement in root.children():
        if statement.kind() != "expression_statement":
            continue
        text = statement.text().replace(" ", "")
        if text.endswith("set_grad_enabled(False)"):
            switches.append((sx.start(statement), True))
        elif text.endswith("set_grad_enabled(True)"):
            switches.append((sx.start(statement), False))
    return switches

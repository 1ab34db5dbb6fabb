"""`metadata.flow`: conditions a rule puts on its match, answered by the data-flow facts.

```yaml
metadata:
  flow:
    - { kept: parts }                  # only named parts of the value are used
    - { kept: parts, of: SRC }         # ... of the value $SRC holds, rather than the match's
    - { loop: data }                   # inside a loop over as many items as the data holds
    - { loop: none }                   # in no loop of its scope
    - { grad: on, at: CALL }           # autograd records the forward pass at $CALL
    - { module: imported }             # other modules import this file (or no project read)
    - { module: program }              # nothing imports it: a script, a server, a notebook
    - { twin: ID }                     # another match of this rule has the same $ID, and the
                                       #   two values are held at the same time
    - { kept: one-pass }               # the value is only read once, in order, by one loop
    - { invariant: loop, of: SEL }     # $SEL is the same on every iteration of the loop around it
    - { invariant: call, of: DATA }    # ... on every call of its function (reads no parameter,
                                       #   no local: module-level names and constants only)
    - { any: [ ..., ... ] }            # one of these
```

`kept` is one of `parts` (some named parts, columns or entries, and nothing needs the whole),
`first-rows` (every use goes through `.head(n)` or `[:n]`), `whole`; `loop` one of `data`,
`handful`, `none`, `any`; `grad` one of `on`, `off`; `module` one of `imported` (the project's
other files import it, or the project was not read: then the rule's own evidence decides) and
`program` (a notebook, or a file no other file imports); `twin` names a metavariable: another match
of the same rule in the file binds it to the same text (the same model id, the same path), and the
values the two matches make are held at the same time (`memlens.flow.lifetime`: two attributes
of `self`, two names of one scope), or this one is bound to a name that the other load binds
again before anything reads it. `kept: one-pass` holds when the value is only iterated, once
(a `for` loop or a comprehension over it, through `enumerate`/`zip`/`tqdm`), besides display
and `len()`. `invariant` (`memlens.flow.invariance`) is `loop` or `call`: no name the expression
reads is bound or changed in place in the loop (or the function: parameters count), and it calls
nothing that returns a new value each time. Each item names the node it asks about with
`of:`/`at:` (a metavariable), else the whole match. Conditions only narrow what the rule's
ast-grep part matched, and a rule with one reads the whole file (callers, other cells): it is
never block-local.

A condition that holds may say what it found: `kept` gives `{kept}` (the parts, for the
message: "keeps only `a`, `b`"), `loop` gives `{loop}`, `grad` gives `{grad}`, `module` gives
`{module}` (the files that import it), `twin` gives `{twin}` (where the other copies are made).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow.grad import grad_at, trains
from memlens.flow.invariance import invariant_in_call, invariant_in_loop
from memlens.flow.lifetime import exclusive, holder_of, overlap
from memlens.flow.loops import loop_around
from memlens.flow.project import FileRole
from memlens.flow.values import ValueFlow

KEPT = ("parts", "first-rows", "whole", "one-pass")
MODULE = ("imported", "program")
LOOP = ("data", "handful", "none", "any")
GRAD = ("on", "off")
INVARIANT = ("loop", "call")


class FlowError(ValueError):
    """A malformed `metadata.flow` (the message says what)."""


class FileFlow:
    """The facts of one file's tree, computed on first use and shared by its rules."""

    def __init__(self, root: SgNode, role: FileRole | None = None):
        self.root = root
        self.role = role or FileRole()
        self._values: dict[bool, ValueFlow] = {}

    def values(self, attributes_are_parts: bool = True) -> ValueFlow:
        flow = self._values.get(attributes_are_parts)
        if flow is None:
            flow = self._values[attributes_are_parts] = ValueFlow(self.root,
                                                                  attributes_are_parts)
        return flow


@dataclass(frozen=True)
class Condition:
    fact: str  # "kept", "loop", "grad"
    want: str
    var: str | None  # the metavariable it asks about, else the match
    attributes: bool = True  # for `kept`: `x.name` takes a part (frames), or needs the whole

    def check(self, node: SgNode, flow: FileFlow, said: dict[str, str],
              peers: tuple = ()) -> bool:
        if self.fact == "twin":
            return _twin(node, self.var, peers, said)
        target = node.get_match(self.var) if self.var else node
        if target is None:
            return False
        if self.fact == "kept":
            kept = flow.values(self.attributes).kept(target)
            if self.want == "parts":
                ok = kept.only_parts
                if ok:
                    said["kept"] = kept.describe_parts()
            elif self.want == "one-pass":
                ok = kept.one_pass
                if ok:
                    said["kept"] = "one pass"
            elif self.want == "first-rows":
                ok = kept.all_through_head and bool(kept.first_rows)
                if ok:
                    said["kept"] = f"the first {max(kept.first_rows)} rows"
            else:
                ok = kept.is_whole
            return ok
        if self.fact == "invariant":
            found = invariant_in_loop(target) if self.want == "loop" else \
                invariant_in_call(target)
            return found.invariant
        if self.fact == "module":
            imported = flow.role.imported
            # not known (no project read): the rule's own evidence stands
            if self.want == "imported":
                ok = imported is not False
                if ok and flow.role.importers:
                    said["module"] = _importers(flow.role.importers)
                return ok
            return imported is False
        if self.fact == "loop":
            loop = loop_around(target)
            if self.want == "none":
                return loop is None
            if loop is None:
                return False
            if self.want == "data":
                ok = not loop.handful
            elif self.want == "handful":
                ok = loop.handful
            else:
                ok = True
            if ok:
                said["loop"] = "a loop over the data" if not loop.handful else \
                    f"a loop of {loop.count}"
            return ok
        state = grad_at(target)
        if self.want == "on":
            from memlens.flow import syntax as sx

            function = sx.function_of(target)
            scope = function if function is not None else target.get_root().root()
            if not state.on or trains(scope):
                return False
        elif state.on:
            return False
        said["grad"] = state.why
        return True


@dataclass(frozen=True)
class AnyOf:
    items: tuple

    def check(self, node: SgNode, flow: FileFlow, said: dict[str, str],
              peers: tuple = ()) -> bool:
        return any(item.check(node, flow, said, peers) for item in self.items)


@dataclass(frozen=True)
class FlowConditions:
    items: tuple

    def holds(self, node: SgNode, flow: FileFlow, peers=()) -> dict[str, str] | None:
        """What the conditions found (for the message), or None when one does not hold.
        `peers`: the rule's other matches in the file (what `twin` compares with)."""
        said: dict[str, str] = {}
        peers = tuple(peers)
        for item in self.items:
            if not item.check(node, flow, said, peers):
                return None
        return said


def parse_flow(value) -> FlowConditions:
    if not isinstance(value, list) or not value:
        raise FlowError("must be a non-empty list of {kept | loop | grad: ...} or {any: [...]}")
    return FlowConditions(tuple(_item(v) for v in value))


def _item(value):
    if not isinstance(value, dict):
        raise FlowError(f"each item is a mapping, not {value!r}")
    if set(value) == {"any"}:
        items = value["any"]
        if not isinstance(items, list) or not items:
            raise FlowError("`any` takes a non-empty list")
        return AnyOf(tuple(_item(v) for v in items))
    facts = [k for k in ("kept", "loop", "grad", "module", "twin", "invariant") if k in value]
    if len(facts) != 1:
        raise FlowError("each item asks one of kept, loop, grad, module, twin or invariant")
    fact = facts[0]
    if fact == "twin":
        var = value["twin"]
        if set(value) != {"twin"} or not isinstance(var, str) or not var.isidentifier() or \
                not var.isupper():
            raise FlowError("`twin` names a metavariable such as ID, and nothing else")
        return Condition("twin", "", var)
    allowed = {"kept": KEPT, "loop": LOOP, "grad": GRAD, "module": MODULE,
               "invariant": INVARIANT}[fact]
    want = value[fact]
    if want not in allowed:
        raise FlowError(f"{fact} must be one of {', '.join(allowed)}, not {want!r}")
    var_key = {"kept": "of", "loop": "around", "grad": "at", "module": "-",
               "invariant": "of"}[fact]
    extra = set(value) - {fact, var_key, "attributes"}
    if extra:
        raise FlowError(f"unknown key {sorted(extra)[0]!r} in a {fact} condition")
    var = value.get(var_key)
    if var is not None and (not isinstance(var, str) or not var.isidentifier()
                            or not var.isupper()):
        raise FlowError(f"`{var_key}` names a metavariable such as SRC, not {var!r}")
    attributes = value.get("attributes", True)
    if not isinstance(attributes, bool):
        raise FlowError("`attributes` is true or false")
    return Condition(fact, want, var, attributes)


_FIELD = re.compile(r"\{(kept|loop|grad|module|twin)\}")


def _twin(node: SgNode, var: str, peers: tuple, said: dict[str, str]) -> bool:
    """Another match binds `$var` to the same text, and both values are held at once; or this
    value's name is bound again by the other before anything reads it."""
    key = node.get_match(var)
    if key is None:
        return False
    mine = None
    alive, dead = [], []
    for peer in peers:
        if peer == node:
            continue
        other = peer.get_match(var)
        if other is None or _key(other) != _key(key):
            continue
        if mine is None:
            mine = holder_of(node)
            if not mine.known:
                return False
        theirs = holder_of(peer)
        if overlap(mine, theirs):
            alive.append(peer)
        elif mine.unused and mine.until is not None and theirs.bound is not None and \
                mine.until == theirs.bound and not exclusive(mine.bound, theirs.bound):
            dead.append(peer)
    if alive:
        said["twin"] = "again at " + _lines(alive) + ", while this copy is still held"
        return True
    if dead:
        said["twin"] = "again at " + _lines(dead) + ", before this copy is ever used"
        return True
    return False


def _key(node: SgNode) -> str:
    """A metavariable's text, strings by their value (`'gpt2'` is `"gpt2"`)."""
    from memlens.flow import syntax as sx

    if node.kind() == "keyword_argument":  # `model="gpt2"`: the name and the value
        name, value = node.field("name"), node.field("value")
        if name is not None and value is not None:
            return name.text() + "=" + _key(value)
    value = sx.string_value(node)
    return node.text() if value is None else "str:" + value


def _lines(nodes: list) -> str:
    lines = sorted({n.range().start.line + 1 for n in nodes})
    words = "line " if len(lines) == 1 else "lines "
    shown = ", ".join(str(n) for n in lines[:3])
    return words + shown + (f" and {len(lines) - 3} more" if len(lines) > 3 else "")


def _importers(files: tuple[str, ...]) -> str:
    shown = ", ".join(files[:3])
    return shown + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def fill_facts(message: str, said: dict[str, str]) -> str:
    """`message` with `{kept}`-style fields filled from what the conditions found."""
    return _FIELD.sub(lambda m: said.get(m.group(1), "…"), message)

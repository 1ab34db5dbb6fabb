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
    - { later: unused, of: SRC }       # the name $SRC is not used after the match's statement
    - { held: alone, of: SRC }         # the value $SRC names was made here and handed to nothing
    - { rest: work }                   # some work follows the match's statement in its scope
    - { from: read, of: SRC }          # the value $SRC names was read from a file, a checkpoint...
    - { any: [ ..., ... ] }            # one of these
```

`kept` is one of `parts` (some named parts, columns or entries, and nothing needs the whole),
`first-rows` (every use goes through `.head(n)` or `[:n]`), `whole`; `loop` one of `data`,
`handful`, `none`, `any`; `grad` one of `on`, `off`; `module` one of `imported` (the project's
other files import it, or the project was not read: then the rule's own evidence decides) and
`program` (a notebook, or a file no other file imports). `later` is one of `unused`,
`metadata` (nothing reads more than its shape, columns, index, dtypes or length) and `used`:
whether the name `of:` names (an identifier, or a literal list of them) is read after the
statement, up to an unconditional rebinding (a module's top level is the program unless
other files import it); `held` one of `alone` (a value this scope made and did not alias,
store, pass on or keep in part before the statement) and `shared`; `rest` one of `work` (some
work follows the statement in its scope) and `none` (see `flow/liveness.py`); `from: read`
holds when the value comes from a read (a file, a table, a checkpoint, a video's frames),
directly or through steps that keep its size, `from: weights` when it is a model's
`state_dict()` (`flow/origins.py`). Each item names
the node it asks about with `of:`/`at:` (a metavariable), else the whole match. Conditions
only narrow what the rule's ast-grep part matched, and a rule with one reads the whole file
(callers, other cells): it is never block-local.

A condition that holds may say what it found: `kept` gives `{kept}` (the parts, for the
message: "keeps only `a`, `b`"), `loop` gives `{loop}`, `grad` gives `{grad}`, `module` gives
`{module}` (the files that import it), `later: used` gives `{later}` (what reads it),
`from` gives `{from}` (the read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow.grad import grad_at, trains
from memlens.flow.liveness import holder, later_use, work_after
from memlens.flow.loops import loop_around
from memlens.flow.origins import read_origin, weights_origin
from memlens.flow.project import FileRole
from memlens.flow.values import ValueFlow

KEPT = ("parts", "first-rows", "whole")
MODULE = ("imported", "program")
LOOP = ("data", "handful", "none", "any")
GRAD = ("on", "off")
LATER = ("unused", "metadata", "used")
HELD = ("alone", "shared")
REST = ("work", "none")
FROM = ("read", "weights")


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
    fact: str  # "kept", "loop", "grad", "module", "later", "held", "rest", "from"
    want: str
    var: str | None  # the metavariable it asks about, else the match
    attributes: bool = True  # for `kept`: `x.name` takes a part (frames), or needs the whole

    def check(self, node: SgNode, flow: FileFlow, said: dict[str, str]) -> bool:
        target = node.get_match(self.var) if self.var else node
        if target is None:
            return False
        if self.fact == "kept":
            kept = flow.values(self.attributes).kept(target)
            if self.want == "parts":
                ok = kept.only_parts
                if ok:
                    said["kept"] = kept.describe_parts()
            elif self.want == "first-rows":
                ok = kept.all_through_head and bool(kept.first_rows)
                if ok:
                    said["kept"] = f"the first {max(kept.first_rows)} rows"
            else:
                ok = kept.is_whole
            return ok
        if self.fact == "module":
            imported = flow.role.imported
            # not known (no project read): the rule's own evidence stands
            if self.want == "imported":
                ok = imported is not False
                if ok and flow.role.importers:
                    said["module"] = _importers(flow.role.importers)
                return ok
            return imported is False
        if self.fact == "later":
            names = _names(target)
            if not names:
                return False
            uses = [later_use(n, flow.role, metadata=self.want == "metadata") for n in names]
            found = next((u for u in uses if u is not None), None)
            if found is not None:
                said["later"] = found.why
            return (found is None) == (self.want != "used")
        if self.fact == "held":
            names = _names(target)
            alone = bool(names) and all(holder(n) is None for n in names)
            return alone == (self.want == "alone")
        if self.fact == "from":
            names = _names(target) or [target]
            origin = read_origin if self.want == "read" else weights_origin
            found = [origin(n) for n in names]
            if all(found):
                said["from"] = found[0]
                return True
            return False
        if self.fact == "rest":
            return (work_after(target) is not None) == (self.want == "work")
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


def _names(node: SgNode) -> list[SgNode]:
    """The identifiers a `later`/`held` condition asks about: the node itself, or each item of
    a literal list or tuple of names (`pd.concat([a, b])`); none for anything else."""
    from memlens.flow import syntax as sx

    node = sx.unwrap_down(node)
    if node.kind() == "identifier":
        return [node]
    if node.kind() in ("list", "tuple"):
        items = [sx.unwrap_down(c) for c in node.children()
                 if c.is_named() and c.kind() != "comment"]
        if items and all(i.kind() == "identifier" for i in items):
            return items
    return []


@dataclass(frozen=True)
class AnyOf:
    items: tuple

    def check(self, node: SgNode, flow: FileFlow, said: dict[str, str]) -> bool:
        return any(item.check(node, flow, said) for item in self.items)


@dataclass(frozen=True)
class FlowConditions:
    items: tuple

    def holds(self, node: SgNode, flow: FileFlow) -> dict[str, str] | None:
        """What the conditions found (for the message), or None when one does not hold."""
        said: dict[str, str] = {}
        for item in self.items:
            if not item.check(node, flow, said):
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
    facts = [k for k in ("kept", "loop", "grad", "module", "later", "held", "rest", "from")
             if k in value]
    if len(facts) != 1:
        raise FlowError("each item asks one of kept, loop, grad, module, later, held, rest or "
                        "from")
    fact = facts[0]
    allowed = {"kept": KEPT, "loop": LOOP, "grad": GRAD, "module": MODULE, "later": LATER,
               "held": HELD, "rest": REST, "from": FROM}[fact]
    want = value[fact]
    if want not in allowed:
        raise FlowError(f"{fact} must be one of {', '.join(allowed)}, not {want!r}")
    var_key = {"kept": "of", "loop": "around", "grad": "at", "module": "-", "later": "of",
               "held": "of", "rest": "at", "from": "of"}[fact]
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


_FIELD = re.compile(r"\{(kept|loop|grad|module|later|from)\}")


def _importers(files: tuple[str, ...]) -> str:
    shown = ", ".join(files[:3])
    return shown + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def fill_facts(message: str, said: dict[str, str]) -> str:
    """`message` with `{kept}`-style fields filled from what the conditions found."""
    return _FIELD.sub(lambda m: said.get(m.group(1), "…"), message)

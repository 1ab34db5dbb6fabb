"""`metadata.flow`: conditions a rule puts on its match, answered by the data-flow facts.

```yaml
metadata:
  flow:
    - { kept: parts }                  # only named parts of the value are used
    - { kept: parts, of: SRC }         # ... of the value $SRC holds, rather than the match's
    - { loop: data }                   # inside a loop over as many items as the data holds
    - { loop: rows }                   # ... over the rows of a table or array (df.iterrows())
    - { loop: none }                   # in no loop of its scope
    - { grad: on, at: CALL }           # autograd records the forward pass at $CALL
    - { collected: array, of: L }      # $L is filled across a loop, then made an array/frame
    - { passed: "fit|transform" }      # every use passes the value whole to a call so named
    - { module: imported }             # other modules import this file (or no project read)
    - { module: program }              # nothing imports it: a script, a server, a notebook
    - { model: true, of: M }           # $M is a torch module (memlens.flow.models)
    - { any: [ ..., ... ] }            # one of these
```

`kept` is one of `parts` (some named parts, columns or entries, and nothing needs the whole),
`first-rows` (every use goes through `.head(n)` or `[:n]`), `whole`; `loop` one of `data`,
`rows` (a loop over the data that visits the rows of a table or an array), `handful`, `none`,
`any`; `grad` one of `on`, `off`; `module` one of `imported` (the project's
other files import it, or the project was not read: then the rule's own evidence decides) and
`program` (a notebook, or a file no other file imports); `collected` one of `array` (a
collection made empty before a loop and filled in it, turned after the loop into an array,
tensor, Series, frame or column), `returned`, `kept` (anything else), `any`; `passed` names
the calls (their last names, `|`-separated) that every use of the value passes it to, whole
(followed as `kept` follows it; display aside, at least one such use). Each item names
the node it asks about with `of:`/`at:` (a metavariable), else the whole match. Conditions
only narrow what the rule's ast-grep part matched, and a rule with one reads the whole file
(callers, other cells): it is never block-local.

A condition that holds may say what it found: `kept` gives `{kept}` (the parts, for the
message: "keeps only `a`, `b`"), `loop` gives `{loop}`, `grad` gives `{grad}`, `module` gives
`{module}` (the files that import it), `collected` gives `{collected}` (where it becomes that:
"`y = np.array(out)`"), `passed` gives `{passed}` (the calls: "`dv.fit_transform`").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.collect import BECOMES, collected
from memlens.flow.grad import grad_at, trains
from memlens.flow.loops import loop_around
from memlens.flow.models import model_evidence
from memlens.flow.project import FileRole
from memlens.flow.values import ValueFlow

KEPT = ("parts", "first-rows", "whole")
MODULE = ("imported", "program")
MODEL = (True,)
LOOP = ("data", "rows", "handful", "none", "any")
GRAD = ("on", "off")
COLLECTED = (*BECOMES, "any")


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
    fact: str  # "kept", "loop", "grad", "module", "collected", "passed"
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
        if self.fact == "passed":
            kept = flow.values(self.attributes).kept(target)
            names = set(self.want.split("|"))
            if kept.parts or not kept.whole or \
                    any(u.to.rsplit(".", 1)[-1] not in names for u in kept.whole):
                return False
            callees = sorted({u.to for u in kept.whole})
            said["passed"] = ", ".join(f"`{c}`" for c in callees)
            return True
        if self.fact == "collected":
            found = collected(target)
            if found is None or (self.want != "any" and found.becomes != self.want):
                return False
            said["collected"] = found.describe()
            return True
        if self.fact == "loop":
            loop = loop_around(target)
            if self.want == "none":
                return loop is None
            if loop is None:
                return False
            if self.want == "data":
                ok = not loop.handful
            elif self.want == "rows":
                ok = loop.over == "rows"
            elif self.want == "handful":
                ok = loop.handful
            else:
                ok = True
            if ok:
                said["loop"] = _describe_loop(loop)
            return ok
        if self.fact == "model":
            why = model_evidence(target)
            if why is not None:
                said["model"] = why
            return why is not None
        state = grad_at(target)
        if self.want == "on":
            # the code that trains needs gradients: the function, or at module level (a
            # notebook's cell, a script's loop) the top-level statement around the node
            function = sx.function_of(target)
            scope = function if function is not None else sx.top_statement(target)
            if not state.on or trains(scope):
                return False
        elif state.on:
            return False
        said["grad"] = state.why
        return True


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
        raise FlowError("must be a non-empty list of {kept | loop | grad | module | collected | "
                        "passed: ...} or {any: [...]}")
    return FlowConditions(tuple(_item(v) for v in value))


def _item(value):
    if not isinstance(value, dict):
        raise FlowError(f"each item is a mapping, not {value!r}")
    if set(value) == {"any"}:
        items = value["any"]
        if not isinstance(items, list) or not items:
            raise FlowError("`any` takes a non-empty list")
        return AnyOf(tuple(_item(v) for v in items))
    facts = [k for k in ("kept", "loop", "grad", "module", "model", "collected", "passed")
             if k in value]
    if len(facts) != 1:
        raise FlowError("each item asks one of kept, loop, grad, module, model, collected or "
                        "passed")
    fact = facts[0]
    want = value[fact]
    if fact == "grad" and isinstance(want, bool):
        want = "on" if want else "off"  # YAML 1.1 reads a bare on/off as a boolean
    if fact == "passed":
        if not isinstance(want, str) or not all(n.isidentifier() for n in want.split("|")):
            raise FlowError(f"passed names calls: `fit|transform`, not {want!r}")
    else:
        allowed = {"kept": KEPT, "loop": LOOP, "grad": GRAD, "module": MODULE, "model": MODEL,
                   "collected": COLLECTED}[fact]
        if want not in allowed:
            raise FlowError(f"{fact} must be one of {', '.join(allowed)}, not {want!r}")
    var_key = {"kept": "of", "loop": "around", "grad": "at", "module": "-", "model": "of",
               "collected": "of", "passed": "of"}[fact]
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


_FIELD = re.compile(r"\{(kept|loop|grad|module|model|collected|passed)\}")


def _describe_loop(loop) -> str:
    if loop.handful:
        return f"a loop of {loop.count}" if loop.count is not None else "a loop of a few"
    if loop.over == "rows":
        right = loop.node.field("right")
        text = " ".join(right.text().split()) if right is not None else ""
        return f"a loop over the rows of `{text}`" if 0 < len(text) <= 60 else \
            "a loop over the rows of a table"
    return "a loop over the data"


def _importers(files: tuple[str, ...]) -> str:
    shown = ", ".join(files[:3])
    return shown + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def fill_facts(message: str, said: dict[str, str]) -> str:
    """`message` with `{kept}`-style fields filled from what the conditions found."""
    return _FIELD.sub(lambda m: said.get(m.group(1), "…"), message)

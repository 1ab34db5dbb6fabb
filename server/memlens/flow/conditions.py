"""`metadata.flow` (and `metadata.evidence`): conditions a rule puts on its match, answered by
the data-flow facts of `memlens.flow`.

```yaml
metadata:
  flow:
    - { kept: parts }                  # only named parts of the value are used
    - { kept: parts, of: SRC }         # ... of the value $SRC holds, rather than the match's
    - { loop: data }                   # inside a loop over as many items as the data holds
    - { loop: rows }                   # ... over the rows of a table or array (df.iterrows())
    - { loop: none }                   # in no loop of its scope
    - { grad: on, at: CALL }           # autograd records the forward pass at $CALL
    - { grad: idle }                   # ... in code that does not train at all
    - { model: true, of: M }           # $M is a torch module (memlens.flow.models)
    - { model: used, of: M }           # ... by what the file does with it, not its name alone
    - { collected: array, of: L }      # $L is filled across a loop, then made an array/frame
    - { passed: "fit|transform" }      # every use passes the value whole to a call so named
    - { module: imported }             # other modules import this file (or no project read)
    - { module: program }              # nothing imports it: a script, a server, a notebook
    - { later: unused, of: SRC }       # the name $SRC is not used after the match's statement
    - { held: alone, of: SRC }         # the value $SRC names was made here and handed to nothing
    - { rest: work }                   # some work follows the match's statement in its scope
    - { from: read, of: SRC }          # the value $SRC names was read from a file, a checkpoint
    - { twin: ID }                     # another match of this rule has the same $ID, and the
                                       #   two values are held at the same time
    - { invariant: loop, of: SEL }     # $SEL is the same on every iteration of the loop around it
    - { selected: rows, of: DF }       # every read of the name $DF cuts the rows where a column
                                       #   equals a value, or reads only its columns
    - { cast: half, of: M }            # the value the name $M is bound to is halved later
    - { cast: single }                 # ... the value the match is assigned to: astype(float32)
    - { adds: row }                    # the regrowth adds rows the code writes out
    - { written: none, of: SRC }       # the file $SRC names is not one the project writes
    - { sized: unknown, of: X }        # $X is not visibly a toy made from a few literals
    - { remade: "drop", of: B }        # the value $B is bound to here is first used by such
                                       #   a method on it, rebinding the same name
    - { any: [ ..., ... ] }            # one of these
```

The facts, one entry of `FACTS` each (the values it takes, the key naming its node):
- `kept` (`of`): `parts` (some named parts, columns or entries, or the entries a literal test
  on the key picks, and nothing needs the whole),
  `first-rows` (every use goes through `.head(n)` or `[:n]`), `whole`, `one-pass` (only
  iterated, once, in order, besides display and `len()`) (`flow/values.py`);
- `loop` (`around`): `data` (not a handful the code lists, nor a table's columns), `rows` (a
  loop over the data that visits the rows of a table or an array), `evident` (visibly once per
  item of the data: rows, groups, files, chunks, batches, lines, `range(n_samples)`; not a
  `while` draining a frame by a filter), `handful`, `none`, `any`
  (`flow/loops.py`);
- `grad` (`at`): `on` (autograd records the pass, in code that does not train or where the
  pass's output is detached before any read: `vgg(hr).detach()`), `idle` (on, in code that
  does not train at all), `off`
  (`flow/grad.py`);
- `model` (`of`): the node is a torch module by what the file does with it (`flow/models.py`);
- `collected` (`of`): `array` (a collection made empty before a loop and filled in it, turned
  after the loop into an array, tensor, Series, frame or column), `returned`, `kept`, `any`
  (`flow/collect.py`);
- `passed` (`of`): the calls (their last names, `|`-separated) that every use of the value
  passes it to, whole (followed as `kept` follows it; display aside, at least one such use);
- `module`: `imported` (the project's other files import it, or the project was not read:
  then the rule's own evidence decides), `program` (a notebook, or a file no other file
  imports) (`flow/project.py`);
- `later` (`of`): `unused`, `metadata` (nothing reads more than its shape, columns, index,
  dtypes or length), `unread` (as `metadata`, and `del x` is no read: a value made, then
  deleted unread), `used`: whether the name (an identifier, or a literal list of them) is
  read after the statement, up to an unconditional rebinding (`flow/liveness.py`);
- `held` (`of`): `alone` (a value this scope made and did not alias, store, pass on or keep in
  part before the statement), `shared`;
- `rest` (`at`): `work` (some work follows the statement in its scope), `none`;
- `from` (`of`): `read` (the value comes from a read: a file, a table, a checkpoint, a video's
  frames, directly or through steps that keep its size), `weights` (a model's `state_dict()`)
  (`flow/origins.py`);
- `invariant` (`of`): `loop` or `call`: no name the expression reads is bound or changed in
  place in the loop (or the function: parameters count), and it calls nothing that returns a
  new value each time (`flow/invariance.py`);
- `selected` (`of`): `rows`: the name is bound here, and every read of it after the statement
  cuts its rows where a column equals a value (`df[df[c] == v]`, `.loc[...]`, `&` of such
  comparisons), directly or through a copy (`f = df.copy(); f = f[f[c] == v]`), or reads only
  its metadata (`df.columns`) (`flow/selection.py`);
- `cast` (`of`): `half`: the value the name is bound to here is cast to half precision later
  in its scope (`.half()`, `.bfloat16()`, `.to(torch.float16)`), before the name is bound to
  anything else; `single`: ... to float32 by numpy's or pandas' `astype` (which copies);
  `of` an expression rather than a name: the name it is assigned to, also as an item of a
  tuple assignment (`flow/casts.py`);
- `adds`: `row` (every piece a regrowth `acc = concat([acc, piece])` / `acc = acc.append(piece)`
  adds is written out as one row: a dict or list display, `[[a, b]]`, a frame built from one,
  directly or through a name the loop binds so), `bulk` (some piece may be large)
  (`flow/pieces.py`);
- `written` (`of`): `project` (the path, built from literals, is one the checked file writes
  before the node, or another `.py` file or notebook under the workspace root writes:
  `to_csv("LOG/imp_{name}.csv")`), `none` (`flow/written.py`);
- `sized` (`of`): `toy` (made from literals of a few items, `torch.ones(4, 1, 28, 28)`, or
  through steps that take only such values: `count.fit_transform(docs)`), `unknown`
  (`flow/toy.py`);
- `remade` (`of`): the method names (`|`-separated); the value the name is bound to here is
  first read (metadata aside) by one of them on it, whose result rebinds the same name
  (`X = df.drop(a)` ... `X = X.drop(b)`), in no loop the binding is not in
  (`flow/remade.py`);
- `twin: ID` names a metavariable: another match of the same rule in the file binds it to the
  same text (the same model id, the same path), and the values the two matches make are held
  at the same time (`flow/lifetime.py`: two attributes of `self`, two names of one scope), or
  this one is bound to a name that the other load binds again before anything reads it.

Each item names the node it asks about with its key (a metavariable), else the whole match.
Conditions only narrow what the rule's ast-grep part matched, and a rule with one reads the
whole file (callers, other cells): it is never block-local.

A condition that holds may say what it found, for the message: `{kept}` (the parts: "keeps only
`a`, `b`"), `{loop}`, `{grad}`, `{model}`, `{module}` (the files that import it),
`{collected}` (where it becomes that: "`y = np.array(out)`"), `{passed}` (the calls),
`{later}` (what reads it), `{from}` (the read), `{selected}` (the rows kept), `{twin}`
(where the other copies are made), `{cast}` (the cast and its line), `{adds}`, `{written}`
(the write), `{sized}` (the literal a toy comes from), `{remade}` (the call and its line).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx
from memlens.flow.casts import bound_name, later_half, later_single
from memlens.flow.collect import BECOMES, collected
from memlens.flow.grad import GradState, detached, grad_at, trains
from memlens.flow.invariance import invariant_in_call, invariant_in_loop
from memlens.flow.lifetime import exclusive, holder_of, overlap
from memlens.flow.liveness import holder, later_use, work_after
from memlens.flow.loops import Loop, loop_around
from memlens.flow.models import NAMED, model_evidence
from memlens.flow.origins import read_origin, weights_origin
from memlens.flow.pieces import adds_rows
from memlens.flow.project import FileRole
from memlens.flow.remade import remade_by
from memlens.flow.selection import rows_selected
from memlens.flow.toy import toy_origin
from memlens.flow.values import ValueFlow
from memlens.flow.written import written_by
from memlens.sizes.paths import path_text

# what a `module: imported` condition says when the project was not read: the finding holds
# only if some file of the project imports this one (Finding.data["needs"] == "importers")
NEEDS_IMPORTERS = "needs importers"


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
            flow = self._values[attributes_are_parts] = ValueFlow(
                self.root, attributes_are_parts, helper=self.role.helper)
        return flow


@dataclass(frozen=True)
class Condition:
    fact: str  # a key of FACTS
    want: object  # one of the fact's values
    var: str | None  # the metavariable it asks about, else the match
    attributes: bool = True  # for `kept`/`passed`: `x.name` takes a part (frames), or not

    def check(self, node: SgNode, flow: FileFlow, said: dict[str, str],
              peers: tuple = ()) -> bool:
        if self.fact == "twin":
            return _twin(node, str(self.var), peers, said)
        target = node.get_match(self.var) if self.var else node
        if target is None:
            return False
        return FACTS[self.fact].check(self, target, flow, said)


# -- each fact: what it answers -------------------------------------------------------------

def _kept(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    kept = flow.values(c.attributes).kept(target)
    if c.want == "parts":
        if kept.only_parts:
            said["kept"] = kept.describe_parts()
            return True
        return False
    if c.want == "one-pass":
        if kept.one_pass:
            said["kept"] = "one pass"
            return True
        return False
    if c.want == "first-rows":
        if kept.all_through_head and kept.first_rows:
            said["kept"] = f"the first {max(kept.first_rows)} rows"
            return True
        return False
    return kept.is_whole


def _module(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    imported = flow.role.imported
    if c.want == "imported":
        # not known (no project read): the rule's own evidence stands, and the finding says
        # that it needs an importer (the CLI reads the project's imports after the run)
        if imported is None:
            said[NEEDS_IMPORTERS] = "yes"
        elif imported and flow.role.importers:
            said["module"] = _importers(flow.role.importers)
        return imported is not False
    return imported is False


def _selected(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    found = rows_selected(sx.unwrap_down(target))
    if found is None:
        return False
    said["selected"] = found.describe()
    return True


def _passed(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    kept = flow.values(c.attributes).kept(target)
    names = set(str(c.want).split("|"))
    if kept.parts or not kept.whole or \
            any(u.to.rsplit(".", 1)[-1] not in names for u in kept.whole):
        return False
    said["passed"] = ", ".join(f"`{callee}`" for callee in sorted({u.to for u in kept.whole}))
    return True


def _collected(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    found = collected(target)
    if found is None or (c.want != "any" and found.becomes != c.want):
        return False
    said["collected"] = found.describe()
    return True


def _loop(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    loop = loop_around(target)
    if c.want == "none":
        return loop is None
    if loop is None:
        return False
    ok = {"data": not loop.handful, "rows": loop.over == "rows", "handful": loop.handful,
          "evident": loop.evident, "any": True}[str(c.want)]
    if ok:
        said["loop"] = _describe_loop(loop)
    return ok


def _model(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    why = model_evidence(target)
    if why is None or (c.want == "used" and why.endswith(NAMED)):
        return False  # (`used`: the file calls its module methods or builds it, not a name)
    said["model"] = why
    return True


def _grad(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    state = grad_at(target)
    if c.want == "idle":
        # on, in code that does not train at all (no detached pass of a training step: the
        # code does not show whether that graph moves the step's peak)
        function = sx.function_of(target)
        scope = function if function is not None else sx.top_statement(target)
        if not state.on or trains(scope):
            return False
    elif c.want == "on":
        # the code that trains needs gradients: the function, or at module level (a
        # notebook's cell, a script's loop) the top-level statement around the node; but not
        # a pass whose output is detached before any read (no backward reaches it)
        function = sx.function_of(target)
        scope = function if function is not None else sx.top_statement(target)
        if not state.on:
            return False
        if trains(scope):
            if not detached(target):
                return False
            state = GradState(True, "its output is detached before any read: no backward "
                                    "reaches it")
    elif state.on:
        return False
    said["grad"] = state.why
    return True


def _later(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    names = _names(target)
    if not names:
        return False
    uses = [later_use(n, flow.role, metadata=c.want in ("metadata", "unread"),
                      deletes=c.want != "unread") for n in names]
    found = next((u for u in uses if u is not None), None)
    if found is not None:
        said["later"] = found.why
    return (found is None) == (c.want != "used")


def _held(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    names = _names(target)
    alone = bool(names) and all(holder(n) is None for n in names)
    return alone == (c.want == "alone")


def _from(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    names = _names(target) or [target]
    origin = read_origin if c.want == "read" else weights_origin
    found = [origin(n) for n in names]
    if all(found):
        said["from"] = found[0]
        return True
    return False


def _rest(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    return (work_after(target) is not None) == (c.want == "work")


def _invariant(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    found = invariant_in_loop(target) if c.want == "loop" else invariant_in_call(target)
    return found.invariant


def _cast(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    names = _names(target)
    if not names and (bound := bound_name(target)) is not None:
        names = [bound]  # an expression: the name it is assigned to
    if len(names) != 1:
        return False
    found = (later_half if c.want == "half" else later_single)(names[0])
    if found is None:
        return False
    said["cast"] = f"`{' '.join(found.text().split())}` on line {found.range().start.line + 1}"
    return True


def _adds(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    found = adds_rows(target)
    if found is not None and c.want == "row":
        said["adds"] = found
    return (found is not None) == (c.want == "row")


def _written(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    read = path_text(target)
    found = written_by(read, target, flow.role.root) if read else None
    if found is not None:
        if found.file:  # the finding depends on that file as on a data file it names
            _consulted(flow.role, found.file)
        said["written"] = found.describe(flow.role.root)
    return (found is not None) == (c.want == "project")


def _sized(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    found = toy_origin(target)
    if found is not None:
        said["sized"] = found.describe()
    return (found is not None) == (c.want == "toy")


def _consulted(role: FileRole, path: str) -> None:
    try:
        st = os.stat(path)
    except OSError:
        return
    role.consulted.append((path, st.st_size, st.st_mtime_ns))


@dataclass(frozen=True)
class Fact:
    values: tuple | None  # the values it takes (None: any string, checked by `parse`)
    key: str | None  # the key naming the node it asks about
    check: Callable[[Condition, SgNode, FileFlow, dict], bool]
    parse: Callable[[object], object] | None = None  # checks and normalises a value


def _remade(c: Condition, target: SgNode, flow: FileFlow, said: dict) -> bool:
    names = _names(target)
    call = remade_by(names[0], frozenset(str(c.want).split("|"))) if len(names) == 1 else None
    if call is None:
        return False
    said["remade"] = f"{sx.last_attribute(call)}() on line {call.range().start.line + 1}"
    return True


def _grad_value(want: object) -> object:
    return ("on" if want else "off") if isinstance(want, bool) else want  # YAML 1.1: on/off


def _call_names(want: object) -> str:
    if not isinstance(want, str) or not all(n.isidentifier() for n in want.split("|")):
        raise FlowError(f"names calls, as `fit|transform`, not {want!r}")
    return want


FACTS: dict[str, Fact] = {
    "kept": Fact(("parts", "first-rows", "whole", "one-pass"), "of", _kept),
    "loop": Fact(("data", "rows", "evident", "handful", "none", "any"), "around", _loop),
    "grad": Fact(("on", "idle", "off"), "at", _grad, _grad_value),
    "model": Fact((True, "used"), "of", _model),
    "collected": Fact((*BECOMES, "any"), "of", _collected),
    "passed": Fact(None, "of", _passed, _call_names),
    "module": Fact(("imported", "program"), None, _module),
    "later": Fact(("unused", "metadata", "unread", "used"), "of", _later),
    "held": Fact(("alone", "shared"), "of", _held),
    "rest": Fact(("work", "none"), "at", _rest),
    "from": Fact(("read", "weights"), "of", _from),
    "invariant": Fact(("loop", "call"), "of", _invariant),
    "selected": Fact(("rows",), "of", _selected),
    "cast": Fact(("half", "single"), "of", _cast),
    "adds": Fact(("row", "bulk"), None, _adds),
    "written": Fact(("project", "none"), "of", _written),
    "sized": Fact(("toy", "unknown"), "of", _sized),
    "remade": Fact(None, "of", _remade, _call_names),
    # (`twin: ID` names its metavariable as its value: parsed and checked apart)
    "twin": Fact(None, None, lambda c, target, flow, said: False),
}


@dataclass(frozen=True)
class AnyOf:
    items: tuple

    def check(self, node: SgNode, flow: FileFlow, said: dict[str, str],
              peers: tuple = ()) -> bool:
        return any(item.check(node, flow, said, peers) for item in self.items)


@dataclass(frozen=True)
class FlowConditions:
    items: tuple

    def holds(self, node: SgNode, flow: FileFlow,
              peers: Iterable[SgNode] = ()) -> dict[str, str] | None:
        """What the conditions found (for the message), or None when one does not hold.
        `peers`: the rule's other matches in the file (what `twin` compares with)."""
        said: dict[str, str] = {}
        peers = tuple(peers)
        for item in self.items:
            if not item.check(node, flow, said, peers):
                return None
        return said


def parse_flow(value: object) -> FlowConditions:
    if not isinstance(value, list) or not value:
        raise FlowError(f"must be a non-empty list of {{{' | '.join(FACTS)}: ...}} or "
                        "{any: [...]}")
    return FlowConditions(tuple(_item(v) for v in value))


def _item(value: object) -> Condition | AnyOf:
    if not isinstance(value, dict):
        raise FlowError(f"each item is a mapping, not {value!r}")
    if set(value) == {"any"}:
        items = value["any"]
        if not isinstance(items, list) or not items:
            raise FlowError("`any` takes a non-empty list")
        return AnyOf(tuple(_item(v) for v in items))
    asked = [k for k in FACTS if k in value]
    if len(asked) != 1:
        raise FlowError(f"each item asks one of {', '.join(FACTS)}")
    name = asked[0]
    if name == "twin":
        var = value["twin"]
        if set(value) != {"twin"} or not isinstance(var, str) or not var.isidentifier() or \
                not var.isupper():
            raise FlowError("`twin` names a metavariable such as ID, and nothing else")
        return Condition("twin", "", var)
    fact = FACTS[name]
    want = value[name]
    if fact.parse is not None:
        want = fact.parse(want)
    if fact.values is not None and want not in fact.values:
        raise FlowError(f"{name} must be one of {', '.join(map(str, fact.values))}, "
                        f"not {want!r}")
    extra = set(value) - {name, fact.key, "attributes"}
    if extra:
        raise FlowError(f"unknown key {sorted(extra)[0]!r} in a {name} condition")
    var = value.get(fact.key) if fact.key else None
    if var is not None and (not isinstance(var, str) or not var.isidentifier()
                            or not var.isupper()):
        raise FlowError(f"`{fact.key}` names a metavariable such as SRC, not {var!r}")
    attributes = value.get("attributes", True)
    if not isinstance(attributes, bool):
        raise FlowError("`attributes` is true or false")
    return Condition(name, want, var, attributes)


def _names(node: SgNode) -> list[SgNode]:
    """The identifiers a `later`/`held` condition asks about: the node itself, or each item of
    a literal list or tuple of names (`pd.concat([a, b])`); none for anything else."""
    node = sx.unwrap_down(node)
    if node.kind() == "identifier":
        return [node]
    if node.kind() in ("list", "tuple"):
        items = [sx.unwrap_down(c) for c in node.children()
                 if c.is_named() and c.kind() != "comment"]
        if items and all(i.kind() == "identifier" for i in items):
            return items
    return []


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
        elif mine.unused and mine.bound is not None and theirs.bound is not None and \
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
    if node.kind() == "keyword_argument":  # `model="gpt2"`: the name and the value
        name, value = node.field("name"), node.field("value")
        if name is not None and value is not None:
            return name.text() + "=" + _key(value)
    literal = sx.string_value(node)
    return node.text() if literal is None else "str:" + literal


def _lines(nodes: list) -> str:
    lines = sorted({n.range().start.line + 1 for n in nodes})
    words = "line " if len(lines) == 1 else "lines "
    shown = ", ".join(str(n) for n in lines[:3])
    return words + shown + (f" and {len(lines) - 3} more" if len(lines) > 3 else "")


def _describe_loop(loop: Loop) -> str:
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


# what a message may say of the facts: `{kept}`, `{loop}`, ...
FIELD = re.compile(r"\{(" + "|".join(FACTS) + r")\}")


def fill_facts(message: str, said: dict[str, str]) -> str:
    """`message` with `{kept}`-style fields filled from what the conditions found."""
    return FIELD.sub(lambda m: said.get(m.group(1), "…"), message)

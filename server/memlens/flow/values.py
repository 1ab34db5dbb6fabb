"""What the code keeps of a value: which parts (columns of a frame, entries of a checkpoint),
whether only its first rows, or the whole of it, and where it goes.

The value is followed from the expression that makes it (a read, a load) through what is done
to it: subscripts and attribute reads take parts; row cuts (`df[df.x > 3]`, `.dropna()`,
`.head(n)`) make a derived value with the same parts, followed in turn; a name it is assigned
to is followed through its uses in the same scope, up to its rebinding (a binding in another
branch of the same `if` does not end it); a value returned is followed into the callers in the
same file, and one passed to a function of the same file into that function's parameter (one
level of calls either way; what that function returns goes back to the call it came in through,
at no extra level). A function another module of the project defines, that this file imports
(`from utils import pick`, `import utils` then `utils.pick`), is entered like one of this file
(`FileRole.helper`: the module's file is found from the import line, its `def` read by text).
Frames stacked by `pd.concat` keep what the stacked frame keeps. Anything else needs the value
whole: passed to another function, stored, iterated, computed with.

Display does not count: `df.head()` or `df` alone as a statement (a notebook shows it),
`print(df)`, `df.shape`, `df.info()`, `len(df)`; `df.columns` and `df.dtypes` do (they list
every column: a narrower read would change them).

Columns are named by literals, by names bound only to strings or literal lists of them, by a
name bound to a list of strings the code computes (`@days`), by `+` of lists, and by a parameter
whose argument names them (at the call the value came through, else at every call in the file);
a rebinding that cuts columns (`df = df[cols]`, `df = df.loc[:, cols]`, after row methods) ends
the value there. Row methods read the columns they name (`set_index("id")`) when their rows are
used; a column the code makes (`df["new"] = ...`) is no part of the value, and one renamed by
`rename(columns={...})` is named as the file names it. The entries a loop
over `d.items()` (or a dict comprehension) picks by a literal test on the key are parts too
(`enc.*`, `*enc*`), and by a test on a name bound to one string (a parameter: what the call
passes it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ast_grep_py import SgNode, SgRoot

from memlens.flow import syntax as sx

# Methods of a frame (or array) that return the same columns with fewer rows, reordered or
# relabelled rows, or the same data re-typed: what the code keeps of their result is what it
# keeps of the value.
ROW_METHODS = frozenset({
    "dropna", "drop_duplicates", "query", "sort_values", "sort_index", "reset_index",
    "set_index", "fillna", "rename", "copy", "sample", "nlargest", "nsmallest", "tail",
    "replace", "astype", "infer_objects", "convert_dtypes", "reindex", "where", "mask",
    "assign", "pipe", "loc", "iloc", "interpolate", "ffill", "bfill",
})
# Methods that read the value's shape or a preview: they need none of its data at run time.
DISPLAY_METHODS = frozenset({"info", "memory_usage", "head", "describe", "nunique", "isnull",
                             "isna", "duplicated", "keys"})
DISPLAY_ATTRIBUTES = frozenset({"shape", "columns", "dtypes", "index", "empty", "size", "ndim",
                                "dtype", "nbytes", "name"})
# Attributes that list every column (its name, its type): what they show depends on them all.
SCHEMA_ATTRIBUTES = frozenset({"columns", "dtypes"})
DISPLAY_FUNCTIONS = frozenset({"print", "display", "len", "type", "repr", "str", "id",
                               "isinstance", "hasattr"})
# Methods of a list (or deque) that add to it: as statements, they build the value.
GROWTH_METHODS = frozenset({"append", "extend", "insert", "appendleft", "extendleft"})
# Wrappers that hand a loop the items of what they wrap, one at a time, in order.
ITERATING_WRAPPERS = frozenset({"enumerate", "zip", "tqdm", "trange", "track", "iter",
                                "notebook_tqdm", "progress_bar"})
# Methods that keep every column (or entry) of the value.
WHOLE_ATTRIBUTES = frozenset({"values", "T", "to_numpy", "to_dict", "to_records", "items",
                              "iterrows", "itertuples", "to_csv", "to_parquet", "to_json",
                              "to_pickle", "merge", "join", "plot", "corr", "cov", "apply",
                              "applymap", "map", "melt", "pivot", "pivot_table", "stack",
                              "unstack", "drop", "sum", "mean", "std", "min", "max", "median",
                              "agg", "aggregate", "transform", "hist", "boxplot", "__len__",
                              "update", "pop", "get", "setdefault", "keys"})


@dataclass(frozen=True)
class Use:
    """One place that needs the whole value, or a part of it, with why."""

    node: SgNode
    what: str  # "part", "whole", "rows" (first rows only)
    detail: str = ""  # the part's name, or why the whole is needed
    to: str = ""  # for a value passed whole to a call: the callee, as written (`dv.transform`)


@dataclass
class Kept:
    """What the code keeps of a value."""

    parts: set[str] = field(default_factory=set)  # named parts taken (columns, entries)
    created: set[str] = field(default_factory=set)  # columns the code makes before reading them
    whole: list[Use] = field(default_factory=list)  # uses that need every part
    first_rows: set[int] = field(default_factory=set)  # n of each `.head(n)` cut it goes through
    all_through_head: bool = True  # every path to a use went through `.head(n)`/`[:n]`
    used: bool = False  # some use at all (display aside)
    returned: bool = False  # it leaves the function (returned or yielded)
    origin: SgNode | None = None  # the expression that makes the value
    passes: list[SgNode] = field(default_factory=list)  # loops that iterate over it, in order
    repeated: bool = False  # one of those loops runs more than once (inside another loop)

    @property
    def is_whole(self) -> bool:
        return bool(self.whole)

    @property
    def only_parts(self) -> bool:
        """Only some named parts are used: the rest was read for nothing."""
        return not self.whole and bool(self.parts)

    @property
    def one_pass(self) -> bool:
        """Only read once, in order, by one loop: nothing else needs it whole."""
        return len(self.passes) == 1 and not self.repeated and not self.parts and \
            len(self.whole) == 1 and self.whole[0].detail == "iterated"

    def describe_parts(self, limit: int = 6) -> str:
        names = sorted(self.parts)
        # `@cols`: the columns of a list the code computes, held in `cols`
        shown = ", ".join(f"the columns in `{n[1:]}`" if n.startswith("@") else f"`{n}`"
                          for n in names[:limit])
        return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class ValueFlow:
    """Follows values within one file's tree; `kept(node)` is cached per node."""

    def __init__(self, root: SgNode, attributes_are_parts: bool = True,
                 helper: Callable[[str], str | None] | None = None):
        self.root = root
        # the source of a function another module of the project defines, by the callee's
        # name here (`FileRole.helper`): followed into like a function of this file
        self.helper = helper
        self._imported: dict[str, tuple[SgRoot, SgNode] | None] = {}
        self.attributes_are_parts = attributes_are_parts
        self._functions: dict[str, list[SgNode]] | None = None
        # the calls the value being followed went into, innermost last: (function, call)
        self._entered: list[tuple[SgNode, SgNode]] = []
        self._resolving: set[int] = set()  # functions whose parameters are being resolved
        # row methods in place (`df.sort_values("t", inplace=True)`): their keys, kept if the
        # value is used at all
        self._pending: list[tuple[Kept, SgNode, str, SgNode, bool]] = []
        # the `rename(columns={old: new})` calls the value being followed went through: new -> old
        self._renames: list[dict[str, str]] = []

    # -- the public question -------------------------------------------------------------

    def kept(self, node: SgNode, calls: int = 1) -> Kept:
        """What is kept of the value `node` (an expression) makes. `calls`: how many levels of
        calls in the same file to follow (returned into callers, passed into a function)."""
        kept = Kept(origin=node)
        self._pending = []
        self._follow(sx.unwrap_up(node), kept, calls, head=False, seen=set())
        if kept.used:  # an in-place sort of a value used elsewhere reads its keys
            for pending in self._pending:
                self._row_keys(*pending)
        return kept

    # -- following ---------------------------------------------------------------------------

    def _follow(self, node: SgNode, kept: Kept, calls: int, head: bool, seen: set) -> None:
        """Classify what the code around expression `node` does with its value."""
        key = (sx.start(node), sx.end(node), node.kind())
        if key in seen:
            return
        seen.add(key)
        parent = node.parent()
        if parent is None:
            return
        kind = parent.kind()
        if kind == "parenthesized_expression":
            return self._follow(parent, kept, calls, head, seen)
        if kind == "subscript" and parent.field("value") == node:
            return self._subscript(parent, kept, calls, head, seen)
        if kind == "attribute" and parent.field("object") == node:
            return self._attribute(parent, kept, calls, head, seen)
        if kind == "assignment" and parent.field("right") == node:
            return self._assigned(parent, kept, calls, head, seen)
        if kind == "expression_statement":
            return  # a bare expression: shown in a notebook, or thrown away
        if kind in ("return_statement", "yield"):
            return self._returned(node, kept, calls, head, seen)
        if kind in ("for_statement", "for_in_clause") and parent.field("right") == node:
            return self._iterated(node, parent, kept, head)
        if kind in ("list_comprehension", "generator_expression", "list") and \
                (kind == "list" or parent.field("body") == node) and \
                (stacked := _stacked_by(parent)) is not None:
            return self._follow(stacked, kept, calls, head, seen)  # its rows, stacked
        if kind == "argument_list":
            return self._passed(node, parent, kept, calls, head, seen)
        if kind == "keyword_argument":
            call = grand.parent() if (grand := parent.parent()) is not None else None
            callee = sx.call_name(call) if call else ""
            self._use(kept, node, "whole", f"passed to {callee or '?'}", to=callee)
            return
        if kind in ("comparison_operator", "boolean_operator", "not_operator") and \
                node.kind() != "identifier":
            return  # `df["a"] > 3`-like: the part was counted where it was taken
        self._use(kept, node, "whole", f"used in {kind.replace('_', ' ')}")

    def _use(self, kept: Kept, node: SgNode, what: str, detail: str = "",
             head: bool = False, to: str = "") -> None:
        kept.used = True
        if not head:
            kept.all_through_head = False
        if what == "whole":
            kept.whole.append(Use(node, what, detail, to))
        elif what == "part" and (detail := self._original(detail)) not in kept.created:
            kept.parts.add(detail)

    def _original(self, column: str) -> str:
        """The name a column has in the file, before the renames the value went through."""
        for renamed in reversed(self._renames):
            column = renamed.get(column, column)
        return column

    def _subscript(self, sub: SgNode, kept: Kept, calls: int, head: bool, seen: set) -> None:
        keys = sub.field_children("subscript")
        if not keys:
            return self._use(kept, sub, "whole", "subscript", head)
        if len(keys) > 1:  # x[:, 0], x[i, j]: a slice of an array, named by its text
            inner = ", ".join(k.text() for k in keys)
            return self._use(kept, sub, "part", f"[{inner}]", head)
        key = keys[0]
        parts = self.column_key(key)
        if parts is not None:
            made = _made_columns(sub, parts, self)
            for p in parts:
                # `df["new"] = ...`: a column of the code, not of the file
                if p in made and self._original(p) not in kept.parts:
                    kept.created.add(self._original(p))
                self._use(kept, sub, "part", p, head)
            return
        if key.kind() == "slice":
            if (n := _leading_slice(key)) is not None:
                kept.first_rows.add(n)
                return self._follow(sub, kept, calls, True, seen)
            return self._follow(sub, kept, calls, head, seen)
        if _is_row_mask(key):
            return self._follow(sub, kept, calls, head, seen)
        # an integer index of an array (x[0]) or a key held in a variable: a part we cannot name
        return self._use(kept, sub, "whole", f"indexed by {key.text()[:30]}", head)

    def _attribute(self, attr: SgNode, kept: Kept, calls: int, head: bool, seen: set) -> None:
        name_node = attr.field("attribute")
        name = name_node.text() if name_node is not None else ""
        parent = attr.parent()
        call = parent if parent is not None and parent.kind() == "call" and \
            parent.field("function") == attr else None
        if name in ("loc", "iloc") and call is None:
            grand = parent
            if grand is not None and grand.kind() == "subscript" and grand.field("value") == attr:
                return self._loc(grand, kept, calls, head, seen)
        if call is not None:
            if name in GROWTH_METHODS and (up := sx.unwrap_up(call).parent()) is not None and \
                    up.kind() == "expression_statement":
                return  # `items.append(x)` as a statement adds to the value, reads nothing
            if name == "head" and not _is_display(call):
                n = _int_arg(call)
                if n is not None:
                    kept.first_rows.add(n)
                    return self._follow(call, kept, calls, True, seen)
            if name in DISPLAY_METHODS:
                if _is_display(call):
                    return
                return self._follow(call, kept, calls, head, seen)
            if name in ("groupby",):
                return self._groupby(call, kept, calls, head, seen)
            if name == "filter":
                _, kw = sx.arguments(call)
                items = kw.get("items")
                parts = sx.strings_of(items) if items is not None else None
                if parts is not None:
                    for p in parts:
                        self._use(kept, call, "part", p, head)
                    return
            if name == "rename" and (renamed := _renamed(call)) is not None:
                # what follows names the new columns; the file has the old ones
                self._renames.append(renamed)
                try:
                    return self._follow(call, kept, calls, head, seen)
                finally:
                    self._renames.pop()
            if name in ROW_METHODS:
                if (by := _row_method_keys(call, name)) is None:
                    return self._follow(call, kept, calls, head, seen)
                # `set_index("id")`, `sort_values(by=...)`: the columns that order or pick the
                # rows are read too, when the rows are used: after the call, or (in place) at all
                if _in_place(call):
                    self._pending.append((kept, call, name, by, head))
                    return None
                was, kept.used = kept.used, False
                self._follow(call, kept, calls, head, seen)
                downstream, kept.used = kept.used, was or kept.used
                if downstream:
                    self._row_keys(kept, call, name, by, head)
                return None
            if name == "items" and (keys := _key_filter(call, self._named_string)) is not None:
                for k in keys:  # `for k, v in d.items(): if k.startswith("enc."): ...`
                    self._use(kept, call, "part", k, head)
                return
            return self._use(kept, call, "whole", f".{name}()", head)
        if name in SCHEMA_ATTRIBUTES and self.attributes_are_parts and \
                not (parent is not None and parent.kind() == "assignment" and
                     parent.field("left") == attr):
            # the names or types of every column: a read of fewer columns would change them
            return self._use(kept, attr, "whole", f".{name}", head)
        if name in DISPLAY_ATTRIBUTES:
            return
        if name in WHOLE_ATTRIBUTES or not self.attributes_are_parts:
            return self._use(kept, attr, "whole", f".{name}", head)
        if parent is not None and parent.kind() == "assignment" and parent.field("left") == attr:
            return  # `df.x = ...` sets a column
        return self._use(kept, attr, "part", name, head)

    def _row_keys(self, kept: Kept, call: SgNode, name: str, keys: SgNode,
                  head: bool) -> None:
        parts = self.column_key(keys)
        if parts is None:
            return self._use(kept, call, "whole", f".{name}() by a computed key", head)
        for p in parts:
            self._use(kept, call, "part", p, head)

    def _loc(self, sub: SgNode, kept: Kept, calls: int, head: bool, seen: set) -> None:
        """`df.loc[rows, cols]`, `df.iloc[rows]`: the columns part names parts, rows derive."""
        items = sub.field_children("subscript")
        if len(items) == 1 and items[0].kind() in ("tuple", "expression_list"):
            items = [c for c in items[0].children() if c.is_named()]
        if items:
            if len(items) == 2:
                parts = self.column_key(items[1])
                if parts is not None:
                    for p in parts:
                        self._use(kept, sub, "part", p, head)
                    return
                if items[1].kind() == "slice" and items[1].text().strip() == ":":
                    return self._follow(sub, kept, calls, head, seen)
                return self._use(kept, sub, "whole", "columns by position", head)
        return self._follow(sub, kept, calls, head, seen)

    def _groupby(self, call: SgNode, kept: Kept, calls: int, head: bool, seen: set) -> None:
        positional, keywords = sx.arguments(call)
        by = positional[0] if positional else keywords.get("by")
        parts = sx.strings_of(by) if by is not None else None
        if parts is None:
            return self._use(kept, call, "whole", "grouped by a computed key", head)
        for p in parts:
            self._use(kept, call, "part", p, head)
        parent = call.parent()
        if parent is not None and parent.kind() == "subscript" and parent.field("value") == call:
            return self._subscript(parent, kept, calls, head, seen)
        if parent is not None and parent.kind() == "attribute":
            attr = parent.field("attribute")
            name = attr.text() if attr is not None else ""
            grand = parent.parent()
            if name in ("agg", "aggregate") and grand is not None and grand.kind() == "call":
                positional, keywords = sx.arguments(grand)
                spec = positional[0] if positional else None
                if spec is not None and spec.kind() == "dictionary":
                    values = [sx.string_value(key) for pair in spec.children()
                              if pair.kind() == "pair" and (key := pair.field("key")) is not None]
                    names = [n for n in values if n is not None]
                    if names and len(names) == len(values):
                        for n in names:
                            self._use(kept, grand, "part", n, head)
                        return
                if keywords and all(v.kind() == "tuple" for v in keywords.values()):
                    found = [f for v in keywords.values() if (f := sx.strings_of(v))]
                    if len(found) == len(keywords):
                        for f in found:
                            self._use(kept, grand, "part", f[0], head)
                        return
            if name in ("size", "ngroups", "groups", "indices"):
                return
            if attr is not None and name not in ("agg", "aggregate", "apply", "transform",
                                                 "sum", "mean", "count", "first", "last",
                                                 "max", "min", "std", "median", "nunique",
                                                 "describe", "filter", "get_group"):
                return self._use(kept, parent, "part", name, head)  # df.groupby("a").price
        self._use(kept, call, "whole", "every column aggregated", head)

    def _assigned(self, assignment: SgNode, kept: Kept, calls: int, head: bool,
                  seen: set) -> None:
        left = assignment.field("left")
        if left is None or left.kind() != "identifier":
            what = "stored" if left is not None and left.kind() in ("attribute", "subscript") \
                else "unpacked"
            return self._use(kept, assignment, "whole", what, head)
        self._follow_name(left, kept, calls, head, seen)

    def _follow_name(self, target: SgNode, kept: Kept, calls: int, head: bool,
                     seen: set) -> None:
        """The uses of the name bound at `target`, up to the next binding of that name."""
        name = target.text()
        scope = sx.scope_of(target)
        if (parent := target.parent()) is not None and parent.kind() in _PARAMETER_KINDS:
            body = scope.field("body")
            after = sx.start(body) if body is not None else sx.end(scope)
            home = body
        else:
            after = sx.end(sx.statement_of(target))
            home = sx.statement_of(target).parent()
        bound_at = sx.start(target)
        loop = _enclosing_loop(target, scope)
        narrowed = None  # the end of `df = df[cols]`: the value's other parts die there
        for occurrence in sx.names_in(scope, name):
            at = sx.start(occurrence)
            if occurrence == target:
                continue
            if narrowed is not None and at >= narrowed:
                break
            if (branches := _other_branch(target, occurrence)) is not None and \
                    (loop is None or not sx.encloses(loop, branches)):
                continue  # another branch of an `if` the binding is in: it never sees this value
            if at < after and not (loop is not None and sx.encloses(loop, occurrence)
                                   and at < bound_at):
                continue
            if sx.is_binding(occurrence):
                if at >= after:
                    # rebound: `df = df[cols]` derives from it (its own uses counted there),
                    # anything else ends this value's life under this name
                    if not sx.rebinding_reads(occurrence, name):
                        break
                    # a cut in the block of the binding (not under an `if` of its own)
                    if (cut := self._column_cut_of(occurrence, name)) is not None and \
                            sx.statement_of(cut).parent() == home:
                        narrowed = sx.end(cut)
                continue
            if sx.in_nested_scope(occurrence, scope):
                self._use(kept, occurrence, "whole", "read by a nested function", head)
                continue
            self._follow(occurrence, kept, calls, head, seen)

    def _column_cut_of(self, binding: SgNode, name: str) -> SgNode | None:
        """The assignment `name = name[cols]` (or `name.loc[:, cols]`, `name[cols].copy()`)
        that binds `binding` to some named columns of the value, else None."""
        assignment = binding.parent()
        if assignment is None or assignment.kind() != "assignment" or \
                assignment.field("left") != binding or \
                (value := assignment.field("right")) is None:
            return None
        right = sx.unwrap_down(value)
        while right.kind() == "call" and sx.last_attribute(right) in ROW_METHODS and \
                (function := right.field("function")) is not None and \
                function.kind() == "attribute" and (inner := function.field("object")):
            right = sx.unwrap_down(inner)
        if right.kind() != "subscript":
            return None
        value = right.field("value")
        keys = right.field_children("subscript")
        if len(keys) == 1 and keys[0].kind() in ("tuple", "expression_list"):
            keys = [c for c in keys[0].children() if c.is_named()]
        if value is not None and value.kind() == "attribute" and len(keys) == 2 and \
                (attribute := value.field("attribute")) is not None and \
                attribute.text() == "loc":
            value, keys = value.field("object"), keys[1:]  # `name.loc[rows, cols]`
        if value is None or len(keys) != 1:
            return None
        # `name.set_index("id")[cols]`, `name[name.a > 0][cols]`: rows of it, then the cut
        value = sx.unwrap_down(value)
        while True:
            if value.kind() == "call" and sx.last_attribute(value) in ROW_METHODS and \
                    (function := value.field("function")) is not None and \
                    function.kind() == "attribute" and (inner := function.field("object")):
                value = sx.unwrap_down(inner)
            elif value.kind() == "subscript" and \
                    len(masks := value.field_children("subscript")) == 1 and \
                    _is_row_mask(masks[0]) and (inner := value.field("value")) is not None:
                value = sx.unwrap_down(inner)
            else:
                break
        if value.kind() == "identifier" and value.text() == name:
            return assignment if self.column_key(keys[0]) is not None else None
        return None

    def _returned(self, node: SgNode, kept: Kept, calls: int, head: bool, seen: set) -> None:
        kept.returned = True
        function = sx.function_of(node)
        if self._entered and function is not None and self._entered[-1][0] == function:
            # it came in through a call: it goes back to that call, at the caller's level
            entered = self._entered.pop()
            try:
                return self._follow(entered[1], kept, calls + 1, head, seen)
            finally:
                self._entered.append(entered)
        if calls <= 0 or function is None:
            return self._use(kept, node, "whole", "returned", head)
        name_node = function.field("name")
        sites = self._call_sites(name_node.text() if name_node else "")
        if not sites:
            return self._use(kept, node, "whole", "returned (no caller in this file)", head)
        for site in sites:
            self._follow(site, kept, calls - 1, head, seen)

    def _iterated(self, node: SgNode, loop: SgNode, kept: Kept, head: bool) -> None:
        """`for x in value:` or `[f(x) for x in value]`: one pass over it, in order."""
        if loop.kind() == "for_in_clause":
            loop = loop.parent() or loop
        kept.passes.append(loop)
        origin = kept.origin
        for ancestor in loop.ancestors():
            if ancestor.kind() in sx.SCOPES:
                break
            if ancestor.kind() in sx.LOOPS + sx.COMPREHENSIONS and \
                    (origin is None or not sx.encloses(ancestor, origin)):
                kept.repeated = True
        self._use(kept, node, "whole", "iterated", head)

    def _passed(self, node: SgNode, args: SgNode, kept: Kept, calls: int, head: bool,
                seen: set) -> None:
        call = args.parent()
        callee = sx.call_name(call) if call is not None else ""
        base = callee.rsplit(".", 1)[-1]
        if callee in DISPLAY_FUNCTIONS:
            return
        if base in ITERATING_WRAPPERS and call is not None:
            wrapped = sx.unwrap_up(call)
            parent = wrapped.parent()
            if parent is not None and parent.kind() in ("for_statement", "for_in_clause") and \
                    parent.field("right") == wrapped:
                return self._iterated(node, parent, kept, head)
        if calls > 0 and call is not None:
            target = self._local_function(callee) or self._imported_function(callee)
            if target is not None:
                index = [c for c in args.children() if c.is_named()].index(node)
                params = [p for p in sx.parameter_names(target) if p != "self"]
                if callee.startswith("self.") is False and index < len(params) and \
                        not params[index].startswith("*"):
                    param = _parameter_node(target, params[index])
                    if param is not None:
                        self._entered.append((target, call))
                        try:
                            return self._follow_name(param, kept, calls - 1, head, seen)
                        finally:
                            self._entered.pop()
        self._use(kept, node, "whole", f"passed to {base or callee}", head, to=callee)

    # -- the file's functions ------------------------------------------------------------------

    def _definitions(self) -> dict[str, list[SgNode]]:
        if self._functions is None:
            found: dict[str, list[SgNode]] = {}
            for fn in self.root.find_all(kind="function_definition"):
                name = fn.field("name")
                if name is not None:
                    found.setdefault(name.text(), []).append(fn)
            self._functions = found
        return self._functions

    def _local_function(self, callee: str) -> SgNode | None:
        """The one function of this file a call names (`helper(...)`), if unambiguous."""
        if "." in callee:
            return None
        found = self._definitions().get(callee, [])
        return found[0] if len(found) == 1 else None

    def _imported_function(self, callee: str) -> SgNode | None:
        """The function of another module of the project a call names (`utils.pick(...)`,
        `pick(...)` after `from utils import pick`), parsed from its source alone."""
        if self.helper is None or not callee or callee.startswith(("self.", "cls.")):
            return None
        if callee not in self._imported:
            source = self.helper(callee)
            tree = SgRoot(source, "python") if source else None
            fn = tree.root().find(kind="function_definition") if tree is not None else None
            self._imported[callee] = (tree, fn) if tree is not None and fn is not None else None
        found = self._imported[callee]
        return found[1] if found is not None else None

    def _call_sites(self, name: str) -> list[SgNode]:
        """Calls of the function `name` in this file: `name(...)`, `self.name(...)`."""
        if not name or len(self._definitions().get(name, [])) != 1:
            return []
        sites = []
        for ident in sx.identifiers_named(self.root, name):
            parent = ident.parent()
            if parent is None:
                continue
            if parent.kind() == "call" and parent.field("function") == ident:
                sites.append(parent)
            elif parent.kind() == "attribute" and parent.field("attribute") == ident:
                grand = parent.parent()
                obj = parent.field("object")
                if grand is not None and grand.kind() == "call" and \
                        grand.field("function") == parent and obj is not None and \
                        obj.text() in ("self", "cls"):
                    sites.append(grand)
        return sites

    def column_key(self, key: SgNode) -> list[str] | None:
        """The columns a key names, else None: a string or a literal list of strings
        (`"a"`, `["a", "b"]`), a name bound only to such lists (`cols`), or a `+` of lists
        (`["id"] + days`). A list of strings the code computes (`[f"d_{i}" for i in r]`)
        is named `@days` after the name that holds it."""
        key = sx.unwrap_down(key)
        if key.kind() == "list":
            return sx.strings_of(key)
        if key.kind() in ("string", "tuple"):
            return sx.strings_of(key)
        return self._column_list(key)

    def _column_list(self, node: SgNode) -> list[str] | None:
        node = sx.unwrap_down(node)
        if node.kind() == "list":
            return sx.strings_of(node)
        if node.kind() == "identifier":
            return self._resolve_name_literal(node)
        operator = node.field("operator") if node.kind() == "binary_operator" else None
        if operator is None or operator.text() != "+":
            return None
        left, right = node.field("left"), node.field("right")
        first = self._column_list(left) if left is not None else None
        second = self._column_list(right) if right is not None else None
        if first is None or second is None:
            return None
        return first + [p for p in second if p not in first]

    def _resolve_name_literal(self, key: SgNode) -> list[str] | None:
        """`cols` in `df[cols]` when the nearest scope that binds `cols` (the function, else
        the module) assigns it only strings or literal lists of them (their union: a notebook that
        repeats `cols = [...]` in a later cell), or one list of strings it computes
        (`[f"d_{i}" for i in days]`: `@cols`), and nothing else."""
        if key.kind() != "identifier":
            return None
        scope = sx.scope_of(key)
        while True:
            bindings = [o for o in sx.names_in(scope, key.text())
                        if sx.is_binding(o) and not sx.in_nested_scope(o, scope)]
            if bindings or scope.kind() == "module":
                break
            scope = sx.scope_of(scope)
        if not bindings:
            return None
        if len(bindings) == 1 and (up := bindings[0].parent()) is not None and \
                up.kind() in _PARAMETER_KINDS and scope.kind() == "function_definition":
            return self._parameter_columns(bindings[0].text(), scope)
        found: list[str] = []
        for binding in bindings:
            parent = binding.parent()
            if parent is None or parent.kind() != "assignment" or \
                    parent.field("left") != binding:
                return None
            right = parent.field("right")
            if right is not None and right.kind() == "list_comprehension" and \
                    len(bindings) == 1 and _makes_strings(right):
                return [f"@{key.text()}"]
            if right is None or right.kind() not in ("list", "tuple", "string"):
                return None
            strings = sx.strings_of(right)
            if strings is None:
                return None
            found += [s for s in strings if s not in found]
        return found

    def _named_string(self, node: SgNode) -> str | None:
        """The one string a name holds (`key` in `if key in k:`, a parameter the call passes
        `"audio2exp"`), else None."""
        if node.kind() != "identifier":
            return None
        strings = self._resolve_name_literal(node)
        return strings[0] if strings and len(strings) == 1 and \
            not strings[0].startswith("@") and strings[0] else None

    def _parameter_columns(self, name: str, function: SgNode) -> list[str] | None:
        """The columns a parameter holds: what the call the value came in through passes it,
        else what every call of the function in this file passes it (a parameter of the
        caller in turn, up to three levels); None when one of them is not known."""
        if len(self._resolving) >= 3 or sx.start(function) in self._resolving:
            return None
        params = [p for p in sx.parameter_names(function) if p != "self"]
        if name not in params:
            return None
        index = params.index(name)
        entered = self._entered[-1] if self._entered and self._entered[-1][0] == function \
            else None
        if entered is not None:
            sites = [entered[1]]
        else:
            name_node = function.field("name")
            sites = self._call_sites(name_node.text() if name_node is not None else "")
        if not sites:
            return None
        found: list[str] = []
        self._resolving.add(sx.start(function))
        if entered is not None:
            self._entered.pop()  # the argument is read in the caller's context
        try:
            for site in sites:
                positional, keywords = sx.arguments(site)
                argument = keywords.get(name) or \
                    (positional[index] if index < len(positional) else None)
                columns = self.column_key(argument) if argument is not None else None
                if columns is None:
                    return None
                found += [c for c in columns if c not in found]
        finally:
            if entered is not None:
                self._entered.append(entered)
            self._resolving.discard(sx.start(function))
        return found


def _key_filter(call: SgNode, named: Callable[[SgNode], str | None]) -> list[str] | None:
    """The keys a loop over `d.items()` keeps, when it keeps only those a literal test on
    the key picks: `for k, v in d.items(): if k.startswith("enc."): ...` (no `else`), or
    `{k: v for k, v in d.items() if "enc" in k}`: `enc.*`, `*enc*`; else None. `named`
    gives the one string a name holds (a parameter: what the call passes it), else None."""
    up = sx.unwrap_up(call)
    loop = up.parent()
    if loop is None or loop.kind() not in ("for_statement", "for_in_clause") or \
            loop.field("right") != up:
        return None
    left = loop.field("left")
    names = [c for c in left.children() if c.is_named()] if left is not None and \
        left.kind() in ("pattern_list", "tuple_pattern") else []
    if len(names) != 2 or names[0].kind() != "identifier":
        return None
    key = names[0].text()
    if loop.kind() == "for_statement":
        body = loop.field("body")
        statements = [c for c in body.children() if c.is_named() and c.kind() != "comment"] \
            if body is not None else []
        if len(statements) != 1 or statements[0].kind() != "if_statement" or \
                statements[0].field_children("alternative"):
            return None
        condition = statements[0].field("condition")
    else:
        comprehension = loop.parent()
        clauses = [c for c in comprehension.children() if c.kind() == "if_clause"] \
            if comprehension is not None else []
        if len(clauses) != 1:
            return None
        condition = next((c for c in clauses[0].children() if c.is_named()), None)
    return _key_tests(condition, key, named) if condition is not None else None


def _key_tests(condition: SgNode, key: str,
               named: Callable[[SgNode], str | None]) -> list[str] | None:
    """`"enc" in k` (`*enc*`), `k.startswith("enc.")` (`enc.*`), and `or` of them."""
    condition = sx.unwrap_down(condition)
    kind = condition.kind()
    if kind == "boolean_operator":
        operator = condition.field("operator")
        left, right = condition.field("left"), condition.field("right")
        if operator is None or operator.text() != "or" or left is None or right is None:
            return None
        first, second = _key_tests(left, key, named), _key_tests(right, key, named)
        return None if first is None or second is None else first + second
    if kind == "comparison_operator":
        operands = [c for c in condition.children() if c.is_named()]
        operators = [c.text() for c in condition.children() if not c.is_named()]
        if operators == ["in"] and len(operands) == 2 and operands[1].text() == key and \
                (value := sx.string_value(operands[0]) or named(operands[0])):
            return [f"*{value}*"]
        return None
    if kind == "call":
        function = condition.field("function")
        if function is None or function.kind() != "attribute" or \
                function.text() != f"{key}.startswith":
            return None
        positional, keywords = sx.arguments(condition)
        if len(positional) != 1 or keywords:
            return None
        prefixes = sx.strings_of(positional[0])
        if not prefixes or not all(prefixes):
            return None
        return [f"{p}*" for p in prefixes]
    return None


def _makes_strings(comprehension: SgNode) -> bool:
    """`[f"d_{i}" for i in r]`, `["x" + s for s in r]`: every element is a string."""
    body = comprehension.field("body")
    while body is not None and body.kind() == "binary_operator":
        body = body.field("left")
    return body is not None and body.kind() in ("string", "concatenated_string")


_PARAMETER_KINDS = ("parameters", "default_parameter", "typed_parameter",
                    "typed_default_parameter")


def _enclosing_loop(node: SgNode, scope: SgNode) -> SgNode | None:
    for ancestor in node.ancestors():
        if ancestor == scope:
            return None
        if ancestor.kind() in sx.LOOPS:
            return ancestor
    return None


# Row methods that name columns, and where: (position, keyword)
_ROW_METHOD_KEYS = {"set_index": (0, "keys"), "sort_values": (0, "by"),
                    "drop_duplicates": (0, "subset"), "dropna": (None, "subset"),
                    "nlargest": (1, "columns"), "nsmallest": (1, "columns")}


def _row_method_keys(call: SgNode, name: str) -> SgNode | None:
    """The argument of a row method that names columns (`set_index("id")`), if given."""
    if name not in _ROW_METHOD_KEYS:
        return None
    position, keyword = _ROW_METHOD_KEYS[name]
    positional, keywords = sx.arguments(call)
    if keyword in keywords:
        return keywords[keyword]
    if position is not None and position < len(positional):
        return positional[position]
    return None


def _made_columns(sub: SgNode, columns: list[str], flow: ValueFlow) -> set[str]:
    """The columns `df[cols] = ...` makes: `sub` is the target of a plain assignment whose
    value does not read those columns of the same frame (`df["x"] = df["x"].fillna(0)` reads
    `x` first)."""
    assignment = sub.parent()
    if assignment is None or assignment.kind() != "assignment" or \
            assignment.field("left") != sub or (right := assignment.field("right")) is None:
        return set()
    frame = sub.field("value")
    if frame is None:
        return set()
    read: set[str] = set()
    for node in [right, *right.find_all(kind="subscript"), *right.find_all(kind="attribute")]:
        if node.kind() == "subscript" and (value := node.field("value")) is not None and \
                value.text() == frame.text():
            read.update(*(flow.column_key(k) or [] for k in node.field_children("subscript")))
        elif node.kind() == "attribute" and (value := node.field("object")) is not None and \
                value.text() == frame.text() and (name := node.field("attribute")) is not None:
            read.add(name.text())
    return {c for c in columns if c not in read}


def _renamed(call: SgNode) -> dict[str, str] | None:
    """`rename(columns={"old": "new"})` (a new frame, not in place): {new: old}, else None."""
    positional, keywords = sx.arguments(call)
    mapping = keywords.get("columns")
    if positional or mapping is None or mapping.kind() != "dictionary" or _in_place(call):
        return None
    renamed = {}
    for pair in mapping.children():
        if pair.kind() != "pair":
            continue
        key, value = pair.field("key"), pair.field("value")
        old = sx.string_value(key) if key is not None else None
        new = sx.string_value(value) if value is not None else None
        if old is None or new is None:
            return None
        renamed[new] = old
    return renamed


def _in_place(call: SgNode) -> bool:
    _, keywords = sx.arguments(call)
    return (flag := keywords.get("inplace")) is not None and flag.text() == "True"


def _stacked_by(pieces: SgNode) -> SgNode | None:
    """The `pd.concat(pieces)` that stacks the frames of a list (or a comprehension) one under
    another, with the same columns (no `axis=1`: side by side, each piece has its own)."""
    up = sx.unwrap_up(pieces)
    parent = up.parent()
    call: SgNode | None = None
    if parent is not None and parent.kind() == "call" and parent.field("arguments") == up:
        call = parent  # `pd.concat(read(f) for f in files)`
    elif parent is not None and parent.kind() == "argument_list" and \
            next((c for c in parent.children() if c.is_named()), None) == up:
        call = parent.parent()
    if call is None:
        return None
    if sx.call_name(call) not in ("pd.concat", "pandas.concat", "concat"):
        return None
    _, keywords = sx.arguments(call)
    axis = keywords.get("axis")
    if axis is not None and axis.text() not in ("0", "'index'", '"index"'):
        return None
    return call


def _other_branch(first: SgNode, second: SgNode) -> SgNode | None:
    """The `if` statement whose different branches (`if`, `elif`, `else`) hold `first` and
    `second`, else None: when one runs, the other does not."""
    for ancestor in first.ancestors():
        if ancestor.kind() in sx.SCOPES:
            return None
        if ancestor.kind() == "if_statement" and sx.encloses(ancestor, second):
            one, other = _branch_of(ancestor, first), _branch_of(ancestor, second)
            return ancestor if one is not None and other is not None and one != other \
                else None
    return None


def _branch_of(statement: SgNode, node: SgNode) -> SgNode | None:
    """The branch of an `if` statement (its block, an `elif` or `else` clause) that holds
    `node`; None when `node` is in its condition."""
    branches = [statement.field("consequence"), *statement.field_children("alternative")]
    return next((b for b in branches if b is not None and sx.encloses(b, node)), None)


def _parameter_node(function: SgNode, name: str) -> SgNode | None:
    params = function.field("parameters")
    if params is None:
        return None
    for ident in params.find_all(kind="identifier", regex=f"^{name}$"):
        if sx.is_binding(ident) or ident.parent() == params:
            return ident
    return None


def _leading_slice(key: SgNode) -> int | None:
    """n of a `[:n]` slice (the first n rows), else None."""
    text = key.text().replace(" ", "")
    if text.startswith(":") and text[1:].isdigit():
        return int(text[1:])
    if text.startswith("0:") and text[2:].isdigit():
        return int(text[2:])
    return None


def _int_arg(call: SgNode) -> int | None:
    positional, keywords = sx.arguments(call)
    arg = positional[0] if positional else keywords.get("n")
    if arg is None:
        return 5  # head() shows five rows
    return int(arg.text()) if arg.kind() == "integer" else None


_MASK_KINDS = ("comparison_operator", "boolean_operator", "not_operator", "unary_operator",
               "binary_operator")


def _is_row_mask(key: SgNode) -> bool:
    """A key that selects rows: a comparison, `~mask`, `a & b`, `df.x.isin(...)`, a call."""
    key = sx.unwrap_down(key)
    if key.kind() in _MASK_KINDS:
        return True
    if key.kind() == "call":
        return sx.last_attribute(key) in ("isin", "between", "notna", "notnull", "isna",
                                          "isnull", "duplicated", "contains", "startswith",
                                          "endswith", "str")
    return False


def _is_display(call: SgNode) -> bool:
    """`df.head()` shown (a bare statement, or printed), not kept."""
    parent = sx.unwrap_up(call).parent()
    if parent is None:
        return False
    if parent.kind() == "expression_statement":
        return True
    if parent.kind() == "argument_list":
        outer = parent.parent()
        return outer is not None and sx.call_name(outer) in DISPLAY_FUNCTIONS
    return False

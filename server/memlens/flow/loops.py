"""The loop around a node and what it runs over: a handful of items the code lists itself
(`for m in [a, b, c]`, `range(3)`), or as many as the data holds (`range(n)`, a parameter, a
frame's rows, the files of a folder, a data loader). Regrowing a frame once per item is
quadratic in the second case and harmless in the first. A loop over a table's columns
(`for c in df.columns`) runs as many times as its schema has columns, not rows: a few.

A loop over the rows of a table or an array (`df.iterrows()`, `df.itertuples()`, `df.values`,
`x.to_numpy()`, `s.tolist()`, `zip(df["a"], df["b"])`) is one over the data, and says so
(`over == "rows"`): its body runs once per row of the whole table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

# Loops over at most this many items, written out in the code, are a handful.
HANDFUL = 16
# Collections named for what there are a few of: cross-validation folds, competing models,
# seeds, metrics. (A name alone says nothing of rows or files: those stay data-sized.)
_FEW = re.compile(r"(?i)^(?:\w+_)?(?:folds?|k_?folds?|splits?|cv|models?|estimators?|"
                  r"classifiers?|regressors?|learners?|seeds?|metrics?|scorers?|configs?|"
                  r"param_grid|grid|methods?|algorithms?|explainers?)$")
# `kf.split(X)`, `StratifiedKFold(5).split(X, y)`: one item per fold
_FOLD_SPLIT = re.compile(r"(?i)(?:fold|kf|cv|splitter)\w*(?:\([^)]*\))?\.split$")
# What visibly runs once per item of the data: a table's rows or groups, a folder's files, a
# reader's chunks, a loader's batches, a file's lines, `range(n_samples)`; or a name that says
# so (`loader`, `rows`, `files`, `chunks`, an open file `f`). Other loops may be as long, but the
# code does not show it.
_EVIDENT_METHOD = re.compile(r"(?:^|\.)(?:groupby|iterrows|itertuples|iter_batches|iter_chunks|"
                             r"iterdir|glob|rglob|readlines|split_batches|batches|"
                             r"as_numpy_iterator|take|listdir|scandir|walk|iglob|DataLoader)$")
_EVIDENT_NAME = re.compile(r"(?i)(?:^|_)(?:loader|dataloader|batches|batch_iter|data_iter|lines|"
                           r"rows|records|samples|examples|files|paths|chunks|shards|stream|"
                           r"reader|dataset|generator|batch_generator|data_generator|batch_gen)$"
                           r"|^(?:f|fh|fp|fin|infile|in_file|input_file)$")
_EVIDENT_COUNT = re.compile(r"\b(?:n_samples|num_samples|n_rows|num_rows|n_items|num_items|"
                            r"n_examples|num_examples|n_batches|num_batches|total_steps|"
                            r"n_steps_per_epoch)\b")
# wrappers that run over what they wrap, item for item
_PASS_THROUGH = frozenset({"enumerate", "zip", "tqdm", "trange", "sorted", "reversed", "list",
                           "tuple", "iter", "track", "progress_bar", "notebook_tqdm"})
# methods and attributes that iterate a table's or an array's rows, one item per row
_ROW_METHODS = frozenset({"iterrows", "itertuples", "to_numpy", "tolist", "to_list"})
_ROW_ATTRIBUTES = frozenset({"values"})


@dataclass(frozen=True)
class Loop:
    node: SgNode  # the for or while statement, or a comprehension
    over: str  # "literal", "range", "few" (folds, models), "columns" (of a table), "rows" (of a
    # table), "data", "while"
    count: int | None  # how many times it runs, when the code says

    @property
    def handful(self) -> bool:
        """Runs a few times, by construction."""
        return self.over in ("few", "columns") or \
            (self.count is not None and self.count <= HANDFUL)

    @property
    def evident(self) -> bool:
        """Visibly once per item of the data (`iterable_evident`)."""
        if self.handful:
            return False
        if self.over == "rows":
            return True
        if self.node.kind() == "while_statement":
            body = self.node.field("body")
            condition = self.node.field("condition")
            reads = body is not None and re.search(
                r"(?:^|[^\w.])next\(|\.(?:read|readline|recv|fetchmany|fetchone|read_chunk|"
                r"get_chunk)\(", body.text()) is not None
            bounded = condition is not None and re.search(
                r"\blen\(|\.(?:shape|size)\b", condition.text()) is not None and \
                not _drains_by_filter(condition, body)
            return bounded or (condition is not None and condition.text() == "True" and reads)
        right = _iterable_of(self.node)
        return right is not None and iterable_evident(right)


def _drains_by_filter(condition: SgNode, body: SgNode | None) -> bool:
    """`while base.shape[0] > 0: ...; base = base[base.need > 0]`: the frame the condition
    measures is filtered down by a mask each step, so the loop runs once per round (as many as
    the largest count left), not once per row; a loop that drops a row or a slice
    (`q = q.iloc[1:]`) still runs once per row."""
    measured = set(_MEASURED.findall(condition.text()))
    measured = {a or b for a, b in measured}
    if not measured or body is None:
        return False
    for name in measured:
        filtered = False
        for assignment in body.find_all(kind="assignment"):
            left, right = assignment.field("left"), assignment.field("right")
            if left is None or right is None or left.text() != name:
                continue
            if not _filter_of(right, name):
                return False  # reassigned some other way: not a drain
            filtered = True
        if not filtered:
            return False
    return True


# `len(x)` / `x.shape` / `x.size`: the name a while loop's condition measures
_MEASURED = re.compile(r"\blen\(\s*(\w+)\s*\)|\b(\w+)\.(?:shape|size)\b")
# a boolean mask: a comparison, a negation, isin/notna/isna/between
_MASK = re.compile(r"[<>]=?|[!=]=|~|\.(?:isin|notna|notnull|isna|isnull|between)\(")


def _filter_of(value: SgNode, name: str) -> bool:
    """Whether `value` is `name` filtered by a mask: `name[mask]`, `name.loc[mask]`,
    `name.query(...)`."""
    value = sx.unwrap_down(value)
    if value.kind() == "call":
        function = value.field("function")
        return function is not None and function.kind() == "attribute" and \
            function.text() == f"{name}.query"
    if value.kind() != "subscript":
        return False
    target = value.field("value")
    if target is None or target.text() not in (name, f"{name}.loc"):
        return False
    keys = value.field_children("subscript")
    return len(keys) == 1 and keys[0].kind() != "slice" and \
        _MASK.search(keys[0].text()) is not None


def _iterable_of(loop: SgNode) -> SgNode | None:
    if loop.kind() == "for_statement":
        return loop.field("right")
    clause = next((c for c in loop.children() if c.kind() == "for_in_clause"), None)
    return clause.field("right") if clause is not None else None


def iterable_evident(node: SgNode, depth: int = 0) -> bool:
    """Whether the code shows that `node` yields one item per item of the data."""
    node = sx.unwrap_down(node)
    kind = node.kind()
    if kind == "call":
        callee = sx.call_name(node)
        if _EVIDENT_METHOD.search(callee):
            return True
        positional, keywords = sx.arguments(node)
        if "chunksize" in keywords:
            return True
        if callee == "range":
            return any(_EVIDENT_COUNT.search(a.text()) for a in positional)
        if callee.rsplit(".", 1)[-1] in _PASS_THROUGH and positional and depth < 4:
            return iterable_evident(positional[0], depth + 1)
        return False
    if kind in ("identifier", "attribute"):
        return _EVIDENT_NAME.search(node.text().rsplit(".", 1)[-1]) is not None
    return False


def loop_around(node: SgNode) -> Loop | None:
    """The innermost loop around `node` in its own scope, or None."""
    scope = sx.scope_of(node)
    for ancestor in node.ancestors():
        if ancestor == scope:
            return None
        kind = ancestor.kind()
        if kind == "while_statement":
            return Loop(ancestor, "while", None)
        if kind in sx.COMPREHENSIONS:
            clause = next((c for c in ancestor.children() if c.kind() == "for_in_clause"), None)
            right = clause.field("right") if clause is not None else None
            if right is None or sx.encloses(right, node):
                continue  # the first iterable is evaluated once, outside the comprehension
            over, count = iterable_size(right)
            return Loop(ancestor, over, count)
        if kind == "for_statement":
            right = ancestor.field("right")
            if right is not None and sx.encloses(right, node):
                continue  # the iterable itself is evaluated once
            over, count = iterable_size(right) if right is not None else ("data", None)
            return Loop(ancestor, over, count)
    return None


def iterable_size(node: SgNode, depth: int = 0) -> tuple[str, int | None]:
    """What an iterable is ("literal", "range", "few", "rows" of a table, or "data") and how many
    items it has, when the code says."""
    node = sx.unwrap_down(node)
    kind = node.kind()
    if kind in ("list", "tuple", "set", "dictionary"):
        items = [c for c in node.children() if c.is_named() and c.kind() != "comment"]
        if any(c.kind() in ("list_splat", "dictionary_splat") for c in items):
            return "data", None
        return "literal", len(items)
    if kind == "string":
        return "literal", len(sx.string_value(node) or "")
    if _columns_of(node, depth):
        return "columns", None
    if kind == "call":
        callee = sx.call_name(node)
        positional, _ = sx.arguments(node)
        if _FOLD_SPLIT.search(callee):
            return "few", None
        if _rows_of(node):
            return "rows", None
        function = node.field("function")
        if function is not None and function.kind() == "attribute" and depth < 4 and \
                callee.rsplit(".", 1)[-1] in ("items", "keys", "values") and \
                (mapping := function.field("object")) is not None:
            return iterable_size(mapping, depth + 1)  # as many as the dict
        if callee == "range":
            found = [_int(a) for a in positional]
            bounds = [b for b in found if b is not None]
            if positional and len(bounds) == len(found):
                start, stop = (0, bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
                step = bounds[2] if len(bounds) > 2 and bounds[2] else 1
                return "range", max(0, -(-(stop - start) // step))
            return "range", None
        if callee.rsplit(".", 1)[-1] in _PASS_THROUGH and positional and depth < 4:
            sizes = [iterable_size(a, depth + 1) for a in positional]
            known = [c for _, c in sizes if c is not None]
            if callee.rsplit(".", 1)[-1] == "zip" and known:
                return sizes[0][0], min(known)
            return sizes[0]
        return "data", None
    if kind == "identifier" and depth < 4:
        value = _value_at(node)
        if value is not None:
            over, count = iterable_size(value, depth + 1)
            if count is not None or over in ("few", "columns"):
                return over, count
    if kind in ("identifier", "attribute") and _FEW.match(node.text().rsplit(".", 1)[-1]):
        return "few", None
    if _rows_of(node):
        return "rows", None
    return "data", None


def _columns_of(node: SgNode, depth: int = 0) -> bool:
    """Whether iterating `node` visits the columns of a table (as many as its schema has, not
    its rows): `df.columns`, `df.select_dtypes("O").columns`, `list(df.columns)`,
    `range(len(df.columns))`, a comprehension over one of these (`[c for c
    in df.columns if ...]`), or a name assigned one."""
    node = sx.unwrap_down(node)
    kind = node.kind()
    if kind == "attribute":
        name = node.field("attribute")
        return name is not None and name.text() == "columns"
    if kind in sx.COMPREHENSIONS:
        clauses = [c for c in node.children() if c.kind() == "for_in_clause"]
        right = clauses[0].field("right") if len(clauses) == 1 else None
        return right is not None and depth < 4 and \
            iterable_size(right, depth + 1)[0] == "columns"
    if kind == "identifier" and depth < 4:
        value = _value_at(node)
        return value is not None and _columns_of(value, depth + 1)
    if kind != "call":
        return False
    callee = sx.call_name(node)
    positional, keywords = sx.arguments(node)
    # (not `range(x.shape[1])`: the second axis of an array is as often time steps or frames)
    if callee == "range" and len(positional) == 1 and not keywords:
        count = sx.unwrap_down(positional[0])
        if count.kind() == "call" and sx.call_name(count) == "len":
            inner, _ = sx.arguments(count)
            return len(inner) == 1 and _columns_of(inner[0], depth + 1)
        return False
    if callee.rsplit(".", 1)[-1] in _PASS_THROUGH and len(positional) == 1 and depth < 4:
        return _columns_of(positional[0], depth + 1)
    return False


def _rows_of(node: SgNode) -> bool:
    """Whether iterating `node` visits the rows of a table or an array: `df.iterrows()`,
    `df[cols].itertuples()`, `df.values`, `x.to_numpy()`, `s.tolist()`, or `zip` (through
    `enumerate`, `tqdm`) of such rows and of columns taken by name (`zip(df["a"], df.b.values)`)."""
    node = sx.unwrap_down(node)
    kind = node.kind()
    if kind == "attribute":
        name = node.field("attribute")
        return name is not None and name.text() in _ROW_ATTRIBUTES and \
            ((parent := node.parent()) is None or parent.kind() != "call"
             or parent.field("function") != node)
    if kind != "call":
        return False
    function = node.field("function")
    callee = sx.call_name(node)
    last = callee.rsplit(".", 1)[-1]
    if function is not None and function.kind() == "attribute" and last in _ROW_METHODS:
        return not sx.arguments(node)[0] or last == "itertuples"
    positional, _ = sx.arguments(node)
    if callee == "zip" and positional:
        return all(_rows_of(a) or _column_by_name(a) for a in positional)
    if last in _PASS_THROUGH and positional:
        return _rows_of(positional[0])
    return False


def _column_by_name(node: SgNode) -> bool:
    """`df["a"]`: a column of a table, taken by a string key."""
    node = sx.unwrap_down(node)
    if node.kind() != "subscript":
        return False
    keys = node.field_children("subscript")
    return len(keys) == 1 and sx.string_value(keys[0]) is not None


def _int(node: SgNode, named: bool = True) -> int | None:
    node = sx.unwrap_down(node)
    if node.kind() == "identifier" and named:
        value = _value_at(node)  # `LOOP_ORDER = 3`: a constant the file names
        return _int(value, named=False) if value is not None else None
    if node.kind() == "integer":
        try:
            return int(node.text().replace("_", ""), 0)
        except ValueError:
            return None
    if node.kind() == "unary_operator" and node.text().startswith("-"):
        inner = _int(node.children()[-1])
        return None if inner is None else -inner
    return None


def _value_at(name: SgNode) -> SgNode | None:
    """The value a name read here holds, when the code shows it: the one `=` its scope (or, for
    a name its function never binds, the module) assigns it, or the `=` in the same block right
    before the statement that reads it (`cols = [...]` after an earlier `cols = []`); and
    nothing changes it in place (`cols.append(x)`, `cols += more`, `cols[i] = x`)."""
    scope = sx.scope_of(name)
    bindings = [o for o in sx.names_in(scope, name.text()) if sx.is_binding(o)]
    if not bindings and scope.kind() != "module":
        scope = name.get_root().root()  # a global: the module's constant
        bindings = [o for o in sx.names_in(scope, name.text()) if sx.is_binding(o)]
    if len(bindings) == 1:
        return None if _changed_in_place(scope, name.text()) else _assigned(bindings[0])
    # the last binding before the reading statement, in the same block, outside any loop of
    # the scope (so it is the value every time the statement runs)
    statement = sx.statement_of(name)
    before = [b for b in bindings if sx.start(b) < sx.start(statement)]
    if not before:
        return None
    last = before[-1]
    assignment = last.parent()
    holder = assignment.parent() if assignment is not None else None
    if assignment is None or assignment.kind() != "assignment" or \
            holder is None or holder.kind() != "expression_statement":
        return None
    if holder.parent() != statement.parent():
        return None
    if any(a.kind() in sx.LOOPS for a in statement.ancestors()
           if sx.encloses(scope, a) and a != scope):
        return None
    if _changed_in_place(scope, name.text(), after=sx.end(last), before=sx.start(statement)):
        return None
    return _assigned(last)


def _assigned(binding: SgNode) -> SgNode | None:
    """The value of `name = value` (a plain assignment binding the name itself)."""
    parent = binding.parent()
    if parent is None or parent.kind() != "assignment" or parent.field("left") != binding:
        return None
    return parent.field("right")


_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "pop",
                       "remove", "clear", "__setitem__"})


def _changed_in_place(scope: SgNode, name: str, after: int = -1,
                      before: int | None = None) -> bool:
    """Whether the scope (between the two offsets, when given) changes what `name` holds
    without rebinding it: `name.append(x)`, `name += more`, `name[i] = x`."""
    for occurrence in sx.names_in(scope, name):
        if sx.start(occurrence) < after or (before is not None and sx.start(occurrence) > before):
            continue
        parent = occurrence.parent()
        if parent is None:
            continue
        if parent.kind() == "attribute" and parent.field("object") == occurrence:
            attribute = parent.field("attribute")
            call = parent.parent()
            if attribute is not None and attribute.text() in _MUTATORS and call is not None \
                    and call.kind() == "call" and call.field("function") == parent:
                return True
        if parent.kind() == "augmented_assignment" and parent.field("left") == occurrence:
            return True
        if parent.kind() == "subscript" and parent.field("value") == occurrence and \
                (grand := parent.parent()) is not None and \
                grand.kind() in ("assignment", "augmented_assignment") and \
                grand.field("left") == parent:
            return True
    return False

"""Fixers for the arrays family (ML4xx)."""

from __future__ import annotations

from ast_grep_py import SgNode

from memlens.engine.edits import node_edit
from memlens.engine.fixers import FixContext, fixer
from memlens.engine.model import Edit, Position

_LOOPS = ("for_statement", "while_statement")
_SCOPES = ("function_definition", "class_definition", "lambda", "module")


def _kind(node: SgNode | None) -> str | None:
    return node.kind() if node is not None else None


def _text(node: SgNode | None) -> str:
    return node.text() if node is not None else ""


def _args(call):
    arguments = call.field("arguments")
    if arguments is None or arguments.kind() != "argument_list":
        return None
    return [c for c in arguments.children() if c.is_named() and c.kind() != "comment"]


_FRAME_MAKERS = ("pandas.DataFrame", "pandas.Series", "pandas.concat", "pandas.read_csv",
                 "pandas.read_parquet", "pandas.read_table", "pandas.read_json",
                 "pandas.read_excel")


def _starts_as_frame(ctx: FixContext, loop, name: str) -> bool:
    """Whether `name` is visibly a pandas DataFrame or Series before the loop (`df =
    pd.DataFrame()` earlier in the same block): `.append` of an Index, a list or a pyrsistent
    vector means something else, and `pd.concat` of those raises."""
    makers = {spelling for canonical in _FRAME_MAKERS
              if (spelling := ctx.local_name(canonical)) is not None}
    statement = loop.prev()
    while statement is not None:
        assign = statement.child(0) if statement.kind() == "expression_statement" else None
        if assign is not None and assign.kind() == "assignment" and \
                assign.field("left") is not None and assign.field("left").text() == name:
            right = assign.field("right")
            function = right.field("function") if right is not None and \
                right.kind() == "call" else None
            return function is not None and function.text() in makers
        statement = statement.prev()
    return False


def _is_frame(ctx: FixContext, loop, piece) -> bool:
    """Whether `piece` (what `df.append` gets) is visibly a DataFrame: a frame-making call, or a
    name the loop assigns from one exactly once."""
    # (not a Series: df.append(series) adds a row, pd.concat([df, series]) a column)
    makers = {spelling for canonical in _FRAME_MAKERS if canonical != "pandas.Series"
              if (spelling := ctx.local_name(canonical)) is not None}

    def makes_frame(node) -> bool:
        function = node.field("function") if node.kind() == "call" else None
        return function is not None and (function.text() in makers
                                         or function.text().endswith(".to_frame"))

    if makes_frame(piece):
        return True
    if piece.kind() != "identifier":
        return False
    values = [a.field("right") for a in loop.find_all(kind="assignment")
              if (left := a.field("left")) is not None and left.text() == piece.text()]
    return len(values) == 1 and values[0] is not None and makes_frame(values[0])


@fixer("grow-to-list")
def grow_to_list(ctx: FixContext) -> list[Edit] | None:
    """Turn `a = np.append(a, x)` / `a = np.concatenate([a, x])` / `df = pd.concat([df, x])` /
    `df = df.append(x)` in a loop into `a_parts.append(x)`, with `a_parts = [a]` before the loop
    and one concatenation after it.

    Declines unless the grown name (a name, `obj.attr` or `d["key"]`) is used nowhere else in
    the loop, the loop has no return/yield (the final concatenation must run), and every piece
    sits on lines of its own.
    """
    assign = ctx.node
    stmt = assign.parent()
    if assign.kind() != "assignment" or stmt is None or stmt.kind() != "expression_statement":
        return None
    target = assign.field("left")
    call = assign.field("right")
    if target is None or call is None or call.kind() != "call":
        return None
    name = target.text()
    if target.kind() == "identifier":
        parts = f"{name}_parts"
    elif target.kind() == "attribute" and _kind(target.field("object")) == "identifier":
        parts = f"{_text(target.field('attribute'))}_parts"  # self.buf -> buf_parts
    elif target.kind() == "subscript" and _kind(target.field("subscript")) == "string":
        key = _text(target.field("subscript"))[1:-1]  # d["A"] -> A_parts
        if not key.isidentifier():
            return None
        parts = f"{key}_parts"
    else:
        return None
    loop = stmt.parent()
    while loop is not None and loop.kind() not in _LOOPS:
        if loop.kind() in _SCOPES:
            return None
        loop = loop.parent()
    if loop is None:
        return None
    if loop.find(kind="return_statement") or loop.find(kind="yield"):
        return None
    uses = [n for n in loop.find_all(kind=target.kind()) if n.text() == name]
    mine = [n for n in stmt.find_all(kind=target.kind()) if n.text() == name]
    if len(uses) != len(mine) or any(n.text() == parts for n in loop.find_all(kind="identifier")):
        return None
    args = _args(call)
    if not args:
        return None
    function = _text(call.field("function"))
    if function == f"{name}.append":
        kind = "append-method"
    elif function.rsplit(".", 1)[-1] == "append" or function == ctx.local_name("numpy.append"):
        kind = "np-append"
    else:
        kind = "sequence"
    positional = [a for a in args if a.kind() != "keyword_argument"]
    keywords = [a.text() for a in args if a.kind() == "keyword_argument"]
    if kind == "append-method":  # df = df.append(x, ignore_index=True)
        concat = ctx.local_name("pandas.concat")
        if concat is None or len(positional) != 1 or not _starts_as_frame(ctx, loop, name):
            return None
        if not _is_frame(ctx, loop, positional[0]):
            return None  # a dict, list or Series: pd.concat of it raises
        new_items = [positional[0].text()]
        final = f"{concat}({', '.join([parts, *keywords])})"
    elif kind == "np-append":  # a = np.append(a, x[, axis])
        if len(positional) < 2 or positional[0].text() != name or len(positional) > 3:
            return None
        new_items = [positional[1].text()]
        axis = [positional[2].text()] if len(positional) == 3 else []
        axis += [k for k in keywords if k.startswith("axis")]
        concat = ctx.local_name("numpy.concatenate")
        if concat is None:
            return None
        if axis:
            final = f"{concat}({parts}, axis={axis[0].split('=', 1)[-1].strip()})"
        else:
            ravel = ctx.local_name("numpy.ravel")
            final = f"{concat}([{ravel}(p) for p in {parts}])"
    else:  # a = np.concatenate([a, x, ...], axis=...) / pd.concat([df, x]) / np.vstack(...)
        if not positional or positional[0].kind() not in ("list", "tuple"):
            return None
        items = [c for c in positional[0].children() if c.is_named() and c.kind() != "comment"]
        if len(items) < 2 or items[0].text() != name:
            return None
        new_items = [i.text() for i in items[1:]]
        final = f"{function}({', '.join([parts, *keywords, *[p.text() for p in positional[1:]]])})"
    # Every edited statement must start its own line, and the loop too.
    lr, sr = loop.range(), stmt.range()
    loop_indent = ctx.lines[lr.start.line][: lr.start.column]
    if loop_indent.strip() or ctx.lines[sr.start.line][: sr.start.column].strip():
        return None
    if ctx.lines[lr.end.line][lr.end.column :].strip():
        return None
    if len(new_items) == 1:
        grow = f"{parts}.append({new_items[0]})"
    else:
        grow = f"{parts}.extend([{', '.join(new_items)}])"
    after = lr.end.line + 1
    tail = "" if after < len(ctx.lines) else "\n"
    return [
        Edit(Position(lr.start.line, 0), Position(lr.start.line, 0),
             f"{loop_indent}{parts} = [{name}]\n"),
        node_edit(stmt, grow),
        Edit(Position(after, 0), Position(after, 0), f"{tail}{loop_indent}{name} = {final}\n"),
    ]

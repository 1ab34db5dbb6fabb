"""Whether a value is a toy by construction: made, in the code, from literals of a few items
(`docs = np.array(["The sun is shining", "The weather is sweet"])`, `pd.DataFrame([["green",
"M", 10.1], ["red", "L", 13.5]])`, `torch.ones(4, 1, 28, 28)`), directly or through steps that
take only such values (`bag = count.fit_transform(docs)`, `X = df[["a", "b"]].values`,
`X[:, 0].reshape(-1, 1)`).

A step is a call, a method call, an attribute, an index, an operator or a comprehension. Its
result is a toy when at least one of its operands (positional arguments, the object of a method
or attribute, the iterables of a comprehension) is one, and every other positional argument is
a plain literal; the object of a method that is not a toy is a tool (a vectorizer, an encoder, a
model, a module such as `np`), not data. Keyword arguments are options. A single string or
number is no data (`read_data(path)` with `path = "..."` is no toy). The first rows (`x[:3]`,
`head(10)`) of anything are a toy. A name is followed to its last plain assignment before the
node in its scope (a function's parameters are not known), unless it is changed in place in
between by a mutator (`append`, `extend`, `update`), or by `x[k] = v` / `x += v` in a loop or
with a value that is no toy. Anything else (a read, a loop's variable, a name bound in another
scope, a collection holding a name that is no toy, an empty collection made to be filled) is
not a toy.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

MAX_ITEMS = 200  # a literal collection of at most this many scalars
MAX_ELEMENTS = 1_000_000  # `torch.ones(4, 1, 28, 28)`: at most this many elements
MAX_DEPTH = 30  # steps followed back (each name hop, call, index and in-place change counts)
_SCALARS = frozenset({"string", "concatenated_string", "integer", "float", "true", "false",
                      "none"})
_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault",
                       "appendleft", "extendleft", "resize", "resize_", "fill_", "copy_",
                       "cat_", "put_"})
_COMPREHENSIONS = frozenset({"list_comprehension", "set_comprehension",
                             "dictionary_comprehension", "generator_expression"})
_COLLECTIONS = frozenset({"list", "tuple", "set", "dictionary", "pair"})
# creators whose positional integer arguments are the shape
_SHAPED = frozenset({"zeros", "ones", "empty", "rand", "randn"})


@dataclass(frozen=True)
class Toy:
    node: SgNode  # the literal (or creator call) the value comes from
    scalar: bool = False  # one string or number: a path, an option, not data

    def describe(self) -> str:
        text = " ".join(self.node.text().split())
        if len(text) > 40:
            text = text[:37] + "..."
        return f"`{text}` on line {self.node.range().start.line + 1}"


def toy_origin(node: SgNode) -> Toy | None:
    """The literal a toy value comes from, or None when it is not visibly a toy (a single
    string or number is no data: a path, an option)."""
    found = _Walk().toy(node, 0)
    return None if found is None or found.scalar else found


class _Walk:
    def __init__(self) -> None:
        # a name's answer at each place it is read (`df["a"] = f(df)` statements ask again),
        # kept unless the walk stopped at MAX_DEPTH on the way
        self.names: dict[int, Toy | None] = {}
        self.cut = False

    def toy(self, node: SgNode | None, depth: int) -> Toy | None:
        if node is None:
            return None
        if depth > MAX_DEPTH:
            self.cut = True
            return None
        node = sx.unwrap_down(node)
        kind = node.kind()
        if kind in _COLLECTIONS:
            count = self.items(node, depth)
            return Toy(node) if count else None  # (an empty one is made to be filled)
        if _scalar(node):
            # (a name bound to one: `[text]` with `text = "a b c"`; `read(path)` is no toy)
            return Toy(node, scalar=True)
        if kind == "identifier":
            return self.name(node, depth)
        if kind == "attribute":
            return self.toy(node.field("object"), depth + 1)
        if kind == "subscript":
            if _first_rows(node):
                return Toy(node)  # `X_train[:3]`, `df.name.iloc[:3]`: a few rows
            return self.toy(node.field("value"), depth + 1)
        if kind == "call":
            return self.call(node, depth)
        if kind == "binary_operator":
            # `df["a"] * 2`, `x + y`: toys and plain literals
            sides = [node.field("left"), node.field("right")]
            found = [None if side is None else
                     Toy(side, scalar=True) if _scalar(sx.unwrap_down(side))
                     else self.toy(side, depth + 1) for side in sides]
            if not all(found):
                return None
            return next((f for f in found if f is not None and not f.scalar), found[0])
        if kind in _COMPREHENSIONS:
            # as many items as the toys it runs over: `{v: i for i, v in enumerate(toy)}`
            clauses = [c for c in node.children() if c.kind() == "for_in_clause"]
            over = [self.toy(c.field("right"), depth + 1) for c in clauses]
            first = over[0] if over else None
            return first if first is not None and all(over) and not first.scalar else None
        return None

    def call(self, node: SgNode, depth: int) -> Toy | None:
        function = node.field("function")
        positional, _ = sx.arguments(node)
        if function is None or any(a.kind() in ("list_splat", "dictionary_splat")
                                   for a in positional):
            return None
        if sx.last_attribute(node) in _SHAPED:
            shape = _shape(node)
            if shape is not None:
                return Toy(node) if prod(shape) <= MAX_ELEMENTS else None
        if sx.last_attribute(node) == "head" and len(positional) <= 1 and \
                all(0 <= (_integer(a) or -1) <= MAX_ITEMS for a in positional):
            return Toy(node)  # `df.head()`, `df.head(10)`: a few rows
        found: Toy | None = None
        if function.kind() == "attribute":
            found = self.toy(function.field("object"), depth + 1)
            if found is not None and found.scalar:
                found = None  # `"a,b".split(",")` may be; `path.open()` is no toy
        for argument in positional:
            argument = sx.unwrap_down(argument)
            if _scalar(argument):
                continue
            toy = self.toy(argument, depth + 1)
            if toy is None:
                return None  # some operand is not a toy: the result may be as big as it is
            if not toy.scalar:
                found = found or toy
        return found

    def name(self, identifier: SgNode, depth: int) -> Toy | None:
        key = sx.start(identifier)
        if key in self.names:
            return self.names[key]
        cut, self.cut = self.cut, False
        found = self._name(identifier, depth)
        if not self.cut:
            self.names[key] = found
        self.cut = self.cut or cut
        return found

    def _name(self, identifier: SgNode, depth: int) -> Toy | None:
        scope = sx.scope_of(identifier)
        if scope.kind() in ("function_definition", "lambda") and identifier.text() in (
                p.lstrip("*") for p in sx.parameter_names(scope)):
            return None
        before = sx.start(identifier)
        bindings = [n for n in sx.names_in(scope, identifier.text())
                    if sx.start(n) < before and not sx.in_nested_scope(n, scope)
                    and sx.is_binding(n)]
        if not bindings:
            return None
        last = bindings[-1]
        assignment = last.parent()
        if assignment is None or assignment.kind() != "assignment" or \
                assignment.field("left") != last:
            return None
        # (the statement that reads it is not a change before the read: `df[c] = df[c] * 2`)
        statement = sx.start(sx.statement_of(identifier))
        between = [n for n in sx.names_in(scope, identifier.text())
                   if sx.start(last) < sx.start(n) < min(before, statement)]
        if any(self.changed(n, scope, depth) for n in between):
            return None  # filled or changed in place after the literal: `ids = []`, append
        return self.toy(assignment.field("right"), depth + 1)

    def changed(self, occurrence: SgNode, scope: SgNode, depth: int) -> bool:
        """Whether this occurrence of a name may grow its value in place: a mutator
        (`x.append(...)`, `x.update(...)`), or `x += v`, `x[k] = v`, `x.a = v` where v is no
        toy or the statement repeats in a loop (`df["size"] = df["size"].map(m)` once keeps a
        toy frame a toy)."""
        parent = occurrence.parent()
        if parent is None:
            return False
        outer = parent.parent()
        if parent.kind() == "attribute" and parent.field("object") == occurrence and \
                outer is not None and outer.kind() == "call":
            name = parent.field("attribute")
            return name is not None and name.text() in _MUTATORS
        if parent.kind() == "augmented_assignment" and parent.field("left") == occurrence:
            statement = parent
        elif parent.kind() in ("subscript", "attribute") and parent.field(
                "value" if parent.kind() == "subscript" else "object") == occurrence and \
                outer is not None and outer.kind() in ("assignment", "augmented_assignment") \
                and outer.field("left") == parent:
            statement = outer
        else:
            return False
        if sx.loops_around(statement, scope):
            return True
        value = statement.field("right")
        return value is None or (not _scalar(sx.unwrap_down(value)) and
                                 self.toy(value, depth + 1) is None)

    def items(self, node: SgNode, depth: int) -> int | None:
        """How many items a literal collection holds (nested): scalars, or names of toys;
        None when it holds anything else or more than MAX_ITEMS."""
        count = 0
        stack = [node]
        while stack:
            item = sx.unwrap_down(stack.pop())
            kind = item.kind()
            if kind in _COLLECTIONS:
                stack.extend(c for c in item.children()
                             if c.is_named() and c.kind() != "comment")
            elif _scalar(item) or (kind == "identifier" and self.toy(item, depth + 1)):
                count += 1
                if count > MAX_ITEMS:
                    return None
            else:
                return None
        return count


def _first_rows(subscript: SgNode) -> bool:
    """`x[:n]` / `x[m:n]` with literal bounds, n at most MAX_ITEMS."""
    index = [c for c in subscript.children() if c.is_named() and c != subscript.field("value")]
    if len(index) != 1 or index[0].kind() != "slice":
        return False
    bounds = [c for c in index[0].children() if c.is_named()]
    text = index[0].text().replace(" ", "")
    if not text.startswith(":") and len(bounds) != 2 or text.count(":") != 1:
        return False
    stop = _integer(bounds[-1]) if bounds else None
    return stop is not None and 0 <= stop <= MAX_ITEMS and \
        all(_integer(b) is not None for b in bounds)


def _shape(call: SgNode) -> list[int] | None:
    """The literal shape a creator is given: `ones(4, 1, 28, 28)`, `ones((4, 1, 28, 28))`,
    `randn(size=(32, 3, 64, 64))`; None when it is not all integer literals."""
    positional, keywords = sx.arguments(call)
    if not positional and "size" in keywords:
        positional = [keywords["size"]]
    if len(positional) == 1 and sx.unwrap_down(positional[0]).kind() in ("tuple", "list"):
        positional = [c for c in sx.unwrap_down(positional[0]).children() if c.is_named()]
    dims = [_integer(a) for a in positional]
    if not dims or any(d is None or d < 0 for d in dims):
        return None
    return [d for d in dims if d is not None]


def _scalar(node: SgNode) -> bool:
    """A literal scalar: a string, a number (`-1` too), True, False, None."""
    if node.kind() == "unary_operator":
        operand = node.field("argument")
        return operand is not None and sx.unwrap_down(operand).kind() in ("integer", "float")
    return node.kind() in _SCALARS


def _integer(node: SgNode) -> int | None:
    node = sx.unwrap_down(node)
    if node.kind() != "integer":
        return None
    try:
        return int(node.text().replace("_", ""), 0)
    except ValueError:
        return None

"""Where a value comes from: whether it was read from outside the program (a file, a table, a
checkpoint, a model, a video's frames), directly or through steps that keep its size; or
whether it is a model's weights (`model.state_dict()`).

A name is followed to the binding that reaches it (the nearest one before it in its scope);
what it was assigned is a read when it is one of the reading calls below, a call that keeps
the size of a read it is given (`np.array(img)`, `pd.concat(frames)`, `pd.merge(df, other)`,
`df.drop(columns=...)`, `df.astype(...)`, `t.float()`), a list of reads (a literal, a
comprehension whose items are reads, or a list the scope fills with `append`/`extend` of
reads), or an item unpacked from a read (`ok, frame = capture.read()`). Anything else (a
computed value, a parameter, a cut such as `.head()` or `.sample(n)`) is not known to be a
read: the rules that ask stay silent.
"""

from __future__ import annotations

import re

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

# the last name of a call that reads data from outside the program
_READS = re.compile(
    r"^(?:read_(?:csv|parquet|pickle|pickles|feather|json|excel|table|hdf|sql|sql_query|"
    r"sql_table|orc|fwf|stata|sas|spss|data|df|frame|frames|image|images|video|audio)|"
    r"load|loadtxt|genfromtxt|fromfile|load_npz|imread|imdecode|from_pretrained|load_model|"
    r"load_file|load_state_dict_from_url|read|read_frames|read_video|mimread|vread)$")
# calls and methods whose result is about as big as what they are given
_KEEPS_SIZE_CALLS = frozenset({
    "array", "asarray", "ascontiguousarray", "stack", "vstack", "hstack", "dstack",
    "concatenate", "concat", "cat", "tensor", "as_tensor", "from_numpy", "DataFrame", "Series",
    "cvtColor", "copy", "deepcopy", "float32", "float64", "fromarray", "loads", "b64decode",
    "frombuffer", "train_test_split",
    # `pd.merge(left, right)`: a join keeps at least the rows of its left side
    "merge"})
_KEEPS_SIZE_METHODS = frozenset({
    "to_pandas", "to_numpy", "astype", "fillna", "dropna", "reset_index", "set_index",
    "rename", "drop", "sort_values", "sort_index", "copy", "merge", "join", "replace",
    "float", "half", "double", "to", "cpu", "cuda", "numpy", "reshape", "transpose",
    "squeeze", "unsqueeze", "permute", "contiguous", "clone", "detach", "convert",
    "drop_duplicates", "infer_objects", "convert_dtypes", "assign", "compute", "collect"})
_KEEPS_SIZE_ATTRIBUTES = frozenset({"values", "T", "data"})
# loaders that memory-map (little RAM) or read a small description
_NOT_DATA = re.compile(r"(?i)token|config|processor|extractor|scheduler")

# steps followed back: a name, its assignment and a list item are one each, so a frame
# regrown four times (`df = pd.concat([df, new], axis=1)`) after its read is still found
_DEPTH = 12


def read_origin(node: SgNode, depth: int = _DEPTH) -> str | None:
    """What read the value `node` (an expression or a name) comes from, as `pd.read_csv (line
    12)`; None when it is not known to come from a read."""
    if depth <= 0:
        return None
    node = sx.unwrap_down(node)
    kind = node.kind()
    if kind == "identifier":
        return _name_origin(node, depth)
    if kind == "call":
        callee = sx.call_name(node)
        last = callee.rsplit(".", 1)[-1]
        function = node.field("function")
        reads = bool(_READS.match(last)) and not _NOT_DATA.search(callee)
        if last in ("read", "load") and (function is None or function.kind() != "attribute"):
            reads = False  # a bare `read(...)`/`load(...)` of this file's own
        if reads:
            return f"{callee} (line {_line(node)})"
        positional, _ = sx.arguments(node)
        if function is not None and function.kind() == "attribute" and \
                last in _KEEPS_SIZE_METHODS and (obj := function.field("object")) is not None:
            found = read_origin(obj, depth - 1)
            if found is not None:
                return found
        if last in _KEEPS_SIZE_CALLS and positional:
            return read_origin(positional[0], depth - 1)
        return None
    if kind == "attribute":
        attribute = node.field("attribute")
        if attribute is not None and attribute.text() in _KEEPS_SIZE_ATTRIBUTES and \
                (obj := node.field("object")) is not None:
            return read_origin(obj, depth - 1)
        return None
    if kind in ("list", "tuple"):
        for item in node.children():
            if item.is_named() and item.kind() != "comment":
                found = read_origin(item, depth - 1)
                if found is not None:
                    return found
        return None
    if kind in ("list_comprehension", "generator_expression"):
        body = node.field("body")
        return read_origin(body, depth - 1) if body is not None else None
    return None


def weights_origin(node: SgNode) -> str | None:
    """`model.state_dict()`: a model's weights, as big as the model whatever made it."""
    node = sx.unwrap_down(node)
    if node.kind() == "call" and sx.last_attribute(node) == "state_dict":
        return f"{sx.call_name(node)}() (line {_line(node)})"
    return None


def _name_origin(name: SgNode, depth: int) -> str | None:
    binding = _reaching_binding(name)
    if binding is None:
        return None
    parent = binding.parent()
    if parent is None:
        return None
    if parent.kind() == "assignment" and parent.field("left") == binding:
        right = parent.field("right")
        if right is None:
            return None
        found = read_origin(right, depth - 1)
        if found is not None:
            return found
        if sx.unwrap_down(right).kind() in ("list", "list_comprehension"):
            return _filled_with_reads(binding, depth)
        return None
    if parent.kind() in ("pattern_list", "tuple_pattern"):
        outer = parent.parent()
        if outer is not None and outer.kind() == "assignment" and outer.field("left") == parent:
            right = outer.field("right")
            if right is not None and sx.unwrap_down(right).kind() == "call":
                return read_origin(right, depth - 1)
        return None
    if parent.kind() == "for_statement" and parent.field("left") == binding:
        right = parent.field("right")
        return read_origin(right, depth - 1) if right is not None else None
    return None


def _filled_with_reads(binding: SgNode, depth: int) -> str | None:
    """A list the scope fills with `name.append(read)` or `name.extend(reads)`."""
    name = binding.text()
    scope = sx.scope_of(binding)
    for occurrence in sx.names_in(scope, name):
        method_call = sx.method_call_on(occurrence)
        if method_call is None or method_call[1] not in ("append", "extend"):
            continue
        positional, _ = sx.arguments(method_call[0])
        if positional:
            found = read_origin(positional[0], depth - 1)
            if found is not None:
                return found
    return None


def _reaching_binding(name: SgNode) -> SgNode | None:
    """The binding of `name` nearest before it in its scope (itself, when it is one)."""
    if sx.is_binding(name):
        return name
    scope = sx.scope_of(name)
    statement = sx.statement_of(name)
    before = None
    for occurrence in sx.names_in(scope, name.text()):
        if sx.start(occurrence) >= sx.start(name):
            break
        if statement.kind() == "expression_statement" and sx.encloses(statement, occurrence):
            continue  # `df = df.fillna(0)`: the right side reads the value bound before
        parent = occurrence.parent()
        if parent is not None and (
                (parent.kind() == "attribute" and parent.field("attribute") == occurrence) or
                (parent.kind() == "keyword_argument" and parent.field("name") == occurrence)):
            continue  # `x.name`, `f(name=...)`: not the variable
        if sx.is_binding(occurrence) and not sx.in_nested_scope(occurrence, scope):
            before = occurrence
    return before


def _line(node: SgNode) -> int:
    return node.range().start.line + 1

"""Fixers of the lazy-loading rules (ML101, ML102, ML107).

They need more than one edit (move a load into a cached accessor and rewrite its uses, wrap a
statement in `with open(...)`), so they read the file with `ast` to check names and scopes, and
decline (return None) whenever the rewrite could change what the code means.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Collection

from ast_grep_py import SgNode

from memlens.engine.edits import pos
from memlens.engine.fixers import FixContext, add_keyword, fixer
from memlens.engine.model import Edit, Position

_BUFFER = re.compile(r"^(?:[\w.]*\.)?(?:BytesIO|StringIO|open|urlopen|GzipFile)\s*\(")



_JOINED: tuple = (None, "")  # the last file's lines (kept alive) and their text


def _source(ctx: FixContext) -> str:
    """The file's text, joined once per file for all of its fixes (not once per fix: a module
    of a thousand loads made that quadratic)."""
    global _JOINED
    lines, text = _JOINED  # one read: another thread may replace it
    if lines is not ctx.lines:
        text = "\n".join(ctx.lines)
        _JOINED = (ctx.lines, text)
    return text


def _parse(ctx: FixContext) -> ast.Module | None:
    return _parse_text(_source(ctx))


@functools.lru_cache(maxsize=4)
def _parse_text(source: str) -> ast.Module | None:
    # One parse per file version, shared by every finding's fix (the trees are only read).
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


@functools.lru_cache(maxsize=4)
def _walk_all(source: str) -> tuple[ast.AST, ...]:
    """Every node of the file's tree, walked once per file version for all of its fixes."""
    tree = _parse_text(source)
    return tuple(ast.walk(tree)) if tree is not None else ()


def _char_col(line: str, byte_col: int) -> int:
    """`ast` columns count UTF-8 bytes; edits count code points."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


@functools.lru_cache(maxsize=4)
def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[A-Za-z_]\w*", text))


def _fresh(candidates: list[str], taken: Collection[str]) -> str:
    for name in candidates:
        if name not in taken:
            return name
    base = candidates[0]
    i = 2
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"


def _accessor(decorator: str, name: str, body: str) -> str:
    return f"@{decorator}\ndef {name}():\n    return {body}\n"


# --- ML101: a module-level load becomes a cached accessor ---------------------------------


@fixer("cached-accessor")
def cached_accessor(ctx: FixContext) -> list[Edit] | None:
    """`model = joblib.load(p)` at module level -> `@functools.cache def get_model(): ...`,
    and every read of `model` in the file becomes `get_model()`."""
    node: SgNode | None = ctx.node
    if ctx.node.kind() == "call":
        node = ctx.node.parent()  # the rule matches the load; the fix rewrites its assignment
    if node is None or node.kind() != "assignment":
        return None
    left, right = node.field("left"), node.field("right")
    if left is None or right is None or left.kind() != "identifier" or node.field("type"):
        return None
    name = left.text()
    stmt = node.parent()
    if stmt is None or stmt.kind() != "expression_statement":
        return None
    container = stmt.parent()
    if container is None or container.kind() != "module":
        return None  # nested in if/try/with: the binding is conditional, leave it to a human
    r = stmt.range()
    if ctx.lines[r.start.line][: r.start.column].strip() or \
            ctx.lines[r.end.line][r.end.column:].split("#")[0].strip():
        return None  # shares its line with another statement
    tree = _parse(ctx)
    if tree is None:
        return None
    facts = _name_facts(_source(ctx)).get(name)
    if facts is None or facts.blocked:
        return None  # global/nonlocal, a parameter, a def, an import or an export of the name
    uses, bindings = facts.uses, facts.bindings
    if bindings != 1:
        return None  # reassigned (or deleted) somewhere
    if not uses:
        return None  # nothing here reads it: other modules import the name, and would break
    if name in _read_at_import_names(_source(ctx)):
        return None  # module-level code reads it: the load would stay eager anyway
    taken = _words(_source(ctx))
    getter = _fresh([f"get_{name.lower().strip('_')}", f"_get_{name.lower().strip('_')}"], taken)
    spelled = ctx.module_name("functools.cache")
    if spelled is None:
        return None
    decorator, edits = spelled
    accessor = _accessor(decorator, getter, right.text()).rstrip("\n")
    edits.append(Edit(pos(r.start), pos(r.end), accessor))
    rhs = right.range()
    for use in uses:
        line = use.lineno - 1
        start = Position(line, _char_col(ctx.lines[line], use.col_offset))
        if pos(rhs.start) <= start < pos(rhs.end):
            return None  # `x = load(x)`: the name refers to something else
        assert use.end_col_offset is not None  # (ast.parse sets it)
        end = Position(line, _char_col(ctx.lines[line], use.end_col_offset))
        edits.append(Edit(start, end, f"{getter}()"))
    return edits


class _ModuleIndex:
    """A file's top level, read once for every handler's fix."""

    __slots__ = ("functions", "loaders", "first_definition")

    def __init__(self, tree: ast.Module | None):
        # `def` line -> the function
        self.functions: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.loaders: dict[str, str] = {}  # dump of what a cached loader returns -> its name
        self.first_definition = 0  # the first line of the first def/class (its decorators)
        for stmt in tree.body if tree is not None else ():
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            start = min([d.lineno for d in stmt.decorator_list] + [stmt.lineno])
            self.first_definition = self.first_definition or start
            if isinstance(stmt, ast.ClassDef):
                for member in stmt.body:  # its methods (a load in one can move out too)
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.functions.setdefault(member.lineno, member)
                continue
            self.functions.setdefault(stmt.lineno, stmt)
            if isinstance(stmt, ast.FunctionDef) and stmt.decorator_list and \
                    not stmt.args.args and len(stmt.body) == 1 and \
                    isinstance(stmt.body[0], ast.Return) and stmt.body[0].value is not None:
                self.loaders.setdefault(ast.dump(stmt.body[0].value), stmt.name)


@functools.lru_cache(maxsize=4)
def _module_index(source: str) -> _ModuleIndex:
    return _ModuleIndex(_parse_text(source))


class _NameFacts:
    """What the whole file does with one name, for every fix that renames its reads."""

    __slots__ = ("uses", "bindings", "blocked")

    def __init__(self):
        self.uses: list[ast.Name] = []
        self.bindings = 0
        self.blocked = False  # global/nonlocal, a parameter, a def/class, an import, exported


@functools.lru_cache(maxsize=4)
def _name_facts(source: str) -> dict[str, _NameFacts]:
    """One walk of the file's tree for all its names (a walk per fix was quadratic: 13 s for a
    module of 1,000 loads)."""
    facts: dict[str, _NameFacts] = {}

    def of(name: str) -> _NameFacts:
        found = facts.get(name)
        if found is None:
            found = facts[name] = _NameFacts()
        return found

    for sub in _walk_all(source):
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            for name in sub.names:
                of(name).blocked = True
        elif isinstance(sub, ast.arg):
            of(sub.arg).blocked = True  # a parameter shadows it somewhere
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            of(sub.name).blocked = True
        elif isinstance(sub, ast.alias):
            of(sub.asname or sub.name.split(".")[0]).blocked = True
        elif isinstance(sub, ast.Name):
            if isinstance(sub.ctx, ast.Load):
                of(sub.id).uses.append(sub)
            else:
                of(sub.id).bindings += 1
        if isinstance(sub, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in sub.targets):
            for c in ast.walk(sub.value):  # exported: other modules import the name itself
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    of(c.value).blocked = True
    return facts


@functools.lru_cache(maxsize=4)
def _read_at_import_names(source: str) -> frozenset[str]:
    """The names that code run at import (outside any function body) reads."""
    tree = _parse_text(source)
    if tree is None:
        return frozenset()
    found: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # (`kw_defaults` holds None for a keyword-only argument without a default)
            todo += [*node.decorator_list, *node.args.defaults,
                     *(d for d in node.args.kw_defaults if d is not None)]
            continue  # the body runs when called, not at import
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.add(node.id)
        todo += [c for c in ast.iter_child_nodes(node) if c is not None]
    return frozenset(found)


# --- ML102: memory-map a .npy file that is then sliced -------------------------------------

# A source that is visibly a path: mmap needs a
# file name, never an open file or a buffer (those raise or are silently read whole).
_PATH_CALL = re.compile(
    r"^(?:[\w.]*\.)?(?:Path|PurePath|PosixPath|join|abspath|realpath|expanduser|normpath|fspath)"
    r"\s*\(")
_PATH_NAME = re.compile(
    r"(?i)(?:^|[._])(?:path|filename|fname|filepath|fpath|file_?name|npy_?file|npy|array_file|"
    r"arr_file|data_file|features_file)$")
_HANDLE_NAME = re.compile(
    r"(?i)^(?:f|fh|fp|fd|fin|fo|fobj|file|fileobj|file_obj|file_handle|handle|buf|buff|buffer|"
    r"bio|stream|byte_stream|bytes_io|reader|content|data_bytes|blob|raw|payload)$")
# What writes into an array in place: a read-only memory map raises on each of these.
_WRITE_TEMPLATES = (
    r"\b{0}\s*\[[^\]\n]*\]\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=)",  # x[i] = ..., x[i] += ...
    r"\b{0}\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)=",  # x += ... (in place for arrays)
    r"\b{0}\s*\.\s*(?:sort|fill|resize|put|itemset|setfield|partition|byteswap|setflags)\s*\(",
    r"(?:shuffle|copyto|put|place|putmask)\s*\(\s*{0}\b",
    r"\bout\s*=\s*{0}\b",
)


def is_path_like(node: SgNode) -> bool:
    """Whether an argument is visibly a file path: a string, `Path(...)`, a `/` join, an
    `os.path` call, or a name or attribute named like a path (never a handle)."""
    kind, text = node.kind(), node.text()
    if kind in ("string", "concatenated_string"):
        return True
    if kind == "call":
        if _BUFFER.match(text):
            return False
        if _PATH_CALL.match(text):
            return True
        function = node.field("function")
        arguments = node.field("arguments")
        if function is not None and function.text() in ("str", "os.fspath") and arguments:
            inner = [c for c in arguments.children() if c.is_named()]
            return len(inner) == 1 and is_path_like(inner[0])
        return False
    if kind == "binary_operator":
        operator = node.field("operator")
        return operator is not None and operator.text() == "/"
    if kind in ("identifier", "attribute"):
        last = text.rsplit(".", 1)[-1]
        if _HANDLE_NAME.match(last) or (kind == "identifier" and _is_with_target(node)):
            return False
        return bool(_PATH_NAME.search(text))
    return False


@functools.lru_cache(maxsize=64)
def _written_names(scope_text: str) -> frozenset[str]:
    """Every name the code writes into in place (`x[i] = ...`, `x += ...`, `x.sort()`,
    `shuffle(x)`, `out=x`): found once per scope, for all the loads in it."""
    name = r"([A-Za-z_]\w*)"
    return frozenset(m.group(1) for t in _WRITE_TEMPLATES
                     for m in re.finditer(t.format(name), scope_text))


def _scope(node: SgNode) -> SgNode:
    """The function (or module) a node is in."""
    for anc in node.ancestors():
        if anc.kind() in ("function_definition", "lambda"):
            return anc
    return node.get_root().root()


@fixer("memory-map")
def memory_map(ctx: FixContext) -> list[Edit] | None:
    """Add `<keyword>=<value>` (`mmap_mode="r"`) to a load that the rule found sliced, only when
    the code proves it can work:
    - the source is visibly a path (a string naming a `.npy` file, an f-string, `Path(...)`, a
      `/` join, an `os.path` call, a name or attribute named like a path), never a stream;
    - nothing in the function writes into the loaded array (or into the slice taken of it),
      which a read-only memory map would refuse;
    - the call passes no `**kwargs` or further positional arguments (the rule checks the
      mmap and pickle arguments)."""
    call = ctx.target()
    arguments = call.field("arguments") if call is not None else None
    if call is None or arguments is None or arguments.kind() != "argument_list":
        return None
    args = [c for c in arguments.children() if c.is_named() and c.kind() != "comment"]
    if not args or args[0].kind() == "keyword_argument" or not is_path_like(args[0]):
        return None
    if any(a.kind() in ("list_splat", "dictionary_splat") for a in args):
        return None
    if args[0].kind() in ("string", "concatenated_string") and ".npy" not in args[0].text():
        return None  # a literal path must name a .npy file (not an .npz archive or pickle)
    # The names that hold the mapped array (or a slice of it) in this function.
    names = []
    holder = call.parent()
    while holder is not None and holder.kind() in ("subscript", "parenthesized_expression"):
        holder = holder.parent()
    if holder is not None and holder.kind() == "assignment":
        left = holder.field("left")
        if left is None or left.kind() != "identifier":
            return None
        names.append(left.text())
    scope = _scope(call)
    scope_text = _source(ctx) if scope.kind() == "module" else scope.text()
    if any(name in _written_names(scope_text) for name in names):
        return None
    keyword = f"{ctx.args['keyword']}={ctx.args['value']}"
    return add_keyword(FixContext(ctx.node, ctx.lines, ctx.bindings, {**ctx.args, "text": keyword}))


def _is_with_target(ident: SgNode) -> bool:
    """Is this name bound by an enclosing `with ... as name:` (so a file object)?"""
    name = ident.text()
    for anc in ident.ancestors():
        if anc.kind() == "with_statement":
            for target in anc.find_all(kind="as_pattern_target"):
                if target.text() == name:
                    return True
    return False


# --- ML107: a load in a request handler -> a cached module-level loader --------------------


@fixer("hoist-loader")
def hoist_loader(ctx: FixContext) -> list[Edit] | None:
    call = ctx.node
    if call.kind() != "call":
        return None
    # `methods: true` (ML708): the load may sit in a method of a top-level class
    methods = bool(ctx.args.get("methods"))
    handler = owner = None
    for anc in call.ancestors():
        kind = anc.kind()
        if kind == "lambda":
            return None
        if kind == "class_definition":
            if not methods or owner is not None or handler is None:
                return None
            owner = anc
        elif kind == "function_definition":
            if owner is not None:
                return None  # a class defined inside a function
            handler = anc
    if handler is None:
        return None
    if owner is None:
        top = handler.parent()
        if top is None or top.kind() != "decorated_definition" or \
                (module := top.parent()) is None or module.kind() != "module":
            return None
    else:
        top = decorated if (decorated := owner.parent()) is not None and \
            decorated.kind() == "decorated_definition" else owner
        if (module := top.parent()) is None or module.kind() != "module":
            return None
    tree = _parse(ctx)
    if tree is None:
        return None
    index = _module_index(_source(ctx))
    func = index.functions.get(handler.range().start.line + 1)
    if func is None:
        return None
    local = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    for sub in ast.walk(func):
        if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
            local.add(sub.id)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            return None
        elif isinstance(sub, ast.alias):
            local.add(sub.asname or sub.name.split(".")[0])
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and sub is not func:
            local.add(sub.name)
    try:
        expr = ast.parse(call.text().strip(), mode="eval")
    except SyntaxError:
        return None
    if any(isinstance(n, ast.Name) and n.id in local for n in ast.walk(expr)):
        return None  # the load depends on the request: it cannot move out
    r = call.range()
    loader = index.loaders.get(ast.dump(expr.body))
    if loader is not None:  # a loader made for another handler of this file: reuse it
        return [Edit(pos(r.start), pos(r.end), f"{loader}()")]
    target = None
    parent = call.parent()
    if parent is not None and parent.kind() == "assignment" and \
            (left := parent.field("left")) is not None and left.kind() == "identifier":
        target = left.text()
    stem = (target or "model").lower().strip("_")
    name = _fresh([f"_load_{stem}"], _words(_source(ctx)))
    spelled = ctx.module_name("functools.cache")
    if spelled is None:
        return None
    decorator, edits = spelled
    # Before the module's first definition: every handler of the file inserts at that one place,
    # so a second load of the same thing waits for the next round and reuses this loader.
    first = index.first_definition or top.range().start.line + 1
    at = Position(first - 1, 0)
    edits.append(Edit(at, at, _accessor(decorator, name, call.text()) + "\n\n"))
    edits.append(Edit(pos(r.start), pos(r.end), f"{name}()"))
    return edits

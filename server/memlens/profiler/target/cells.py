"""A notebook's code cells run in one namespace, as a fresh kernel would run them.

Runs in the TARGET interpreter (loaded by runner.py), and in the IPython extension. The stdlib
only; IPython when a cell holds IPython syntax (magics, shell escapes): such a cell goes through
IPython's own input transformer and runs against an InteractiveShell of this process, whose
folder is a temporary one (the user's profile and history are never touched).

Every cell is compiled under the file name `NOTEBOOK:cell N`, registered in `linecache` so
tracebacks show its lines. The cell the profile is about keeps its own line numbers through the
transform (IPython joins a magic's `\\` continuation lines into one).
"""

import ast
import difflib
import linecache
import re
import sys
import types

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # memlens/lines.py's model


class SetupError(Exception):
    """The cells cannot run here; `error` is the runner's error record."""

    def __init__(self, error):
        super().__init__(error["message"])
        self.error = error


class CellRaised(Exception):
    """A cell run before the profiled one raised (the exception is the __cause__)."""

    def __init__(self, number):
        super().__init__(f"cell {number} raised")
        self.number = number


def cell_filename(path, number):
    return f"{path}:cell {number}"


def register(filename, source):
    """Make `source` the text of `filename` for linecache (tracebacks, inspect)."""
    lines = _LINE.findall(source)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    linecache.cache[filename] = (len(source), None, lines, filename)


def ipython_transformer(cells, python):
    """IPython's cell transformer when a cell needs it, None when none does; SetupError naming
    the cell and line of the first magic when IPython cannot be imported here."""
    first = next((c for c in cells if c.get("magic")), None)
    if first is None:
        return None
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except Exception as exc:  # ImportError, or a broken install
        line, text = first["magic"]
        raise SetupError({
            "type": "MissingIPython", "traceback": "",
            "message": f"cell {first['number']}, line {line} is IPython syntax ({text.strip()}) "
                       f"and {python} cannot import IPython ({type(exc).__name__}): install it "
                       f"there ({python} -m pip install ipython) or remove the magic"}) from None
    return TransformerManager().transform_cell


def _line_map(source, transformed):
    """For each line of `transformed` (0-based), the line of `source` it came from."""
    src = [line.rstrip("\r\n") for line in _LINE.findall(source)]
    out = [line.rstrip("\r\n") for line in _LINE.findall(transformed)]
    mapping = list(range(len(out)))
    matcher = difflib.SequenceMatcher(None, src, out, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(j1, j2):
            if tag == "equal":
                mapping[k] = i1 + (k - j1)
            elif i2 > i1:  # a magic's lines -> its one call (or the other way round)
                mapping[k] = i1 + min(k - j1, i2 - i1 - 1)
            else:  # a line the transform added: the line before it
                mapping[k] = max(i1 - 1, 0)
    return mapping


def compile_aligned(source, transformed, filename):
    """`transformed` compiled with each statement on the line of `source` it came from."""
    if transformed == source:
        return compile(source, filename, "exec", dont_inherit=True)
    tree = ast.parse(transformed, filename)
    mapping = _line_map(source, transformed)
    last = len(mapping) - 1
    for node in ast.walk(tree):
        if isinstance(node, (ast.stmt, ast.expr, ast.excepthandler, ast.arg, ast.keyword,
                             ast.alias, ast.pattern)) and \
                getattr(node, "lineno", None) is not None:
            start = mapping[min(node.lineno - 1, last)] + 1 if mapping else node.lineno
            node.lineno = start
            end = getattr(node, "end_lineno", None)
            if end is not None:
                node.end_lineno = max(start, mapping[min(end - 1, last)] + 1 if mapping else end)
    return compile(tree, filename, "exec", dont_inherit=True)


def compile_cells(cells, path, transform):
    """[(number, code, compiled source)] for `cells` (dicts: number, source, magic), each
    transformed by IPython when it holds IPython syntax."""
    out = []
    for cell in cells:
        source = cell["source"]
        filename = cell_filename(path, cell["number"])
        register(filename, source)
        if cell.get("magic") and transform is not None:
            try:
                transformed = transform(source)
            except Exception as exc:  # IPython's own verdict on the cell's syntax
                raise SyntaxError(f"IPython cannot read cell {cell['number']}: {exc}") from None
            code = compile_aligned(source, transformed, filename)
        else:
            transformed = source
            code = compile(source, filename, "exec", dont_inherit=True)
        out.append((cell["number"], code, transformed))
    return out


def main_module():
    """A fresh `__main__` whose namespace the cells share, as a kernel's user namespace."""
    main = types.ModuleType("__main__")
    main.__dict__.update(__builtins__=__builtins__, __cached__=None)
    sys.modules["__main__"] = main
    return main


def start_shell(main, ipython_dir):
    """An InteractiveShell for `get_ipython()` in transformed cells: the user namespace is
    `main`'s, history off, its folder `ipython_dir` (not the user's ~/.ipython)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config, user_module=main, ipython_dir=ipython_dir)


def run_cells(compiled, namespace, on_cell=None):
    """Run each compiled cell in `namespace`; CellRaised (from the exception) for one that
    raises, SystemExit included, as a kernel reports it and stops a Run All."""
    for number, code, _ in compiled:
        if on_cell is not None:
            on_cell(number)
        try:
            exec(code, namespace)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise CellRaised(number) from exc

"""`%%memlens` and `%memlens [-f FUNC] EXPR`: line memory in the kernel itself.

- `%%memlens` runs the rest of the cell line by line in the user's namespace;
- `%memlens f(x)` profiles the function the call calls, `%memlens -f g f(x)` the function `g`
  that `f(x)` reaches. A function defined in an earlier cell is read through `linecache`, where
  IPython registers every cell it runs (memory_profiler's `%mprun` looks for a file instead).

Both run the profiler's tracer in this process (`profiler/inprocess.py`) and display the result
in three forms (`display.py`). An exception of the profiled code is raised again after the
table is shown, so the cell fails as it would have; the kernel's interrupt stops the run.
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from memlens.jupyter.display import ProfileDisplay
from memlens.lines import split_lines
from memlens.profiler.inprocess import profile_here
from memlens.profiler.result import LineRow
from memlens.profiler.target.cells import compile_aligned

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

USAGE = "usage: %memlens [-f FUNC] EXPR (EXPR a call such as f(x)), or %%memlens on a cell"


def function_of(obj):
    """The Python function behind a callable: unwrapped decorators and partials, a method's
    function, a class's __init__, an instance's __call__; None for a builtin."""
    for _ in range(20):
        if isinstance(obj, functools.partial):
            obj = obj.func
        elif isinstance(obj, (staticmethod, classmethod)) or inspect.ismethod(obj):
            obj = obj.__func__
        elif hasattr(obj, "__wrapped__"):
            obj = obj.__wrapped__
        elif inspect.isclass(obj):
            obj = obj.__init__
        elif inspect.isfunction(obj):
            return obj
        elif inspect.isfunction(inspect.getattr_static(type(obj), "__call__", None)):
            obj = inspect.getattr_static(type(obj), "__call__")  # an instance called
        else:
            return None
    return None


def function_rows(code) -> list[LineRow]:
    """The function's lines as `linecache` has them (an IPython cell's too)."""
    lines = linecache.getlines(code.co_filename)
    first = code.co_firstlineno
    if not lines or first > len(lines):
        return []
    try:
        block = inspect.getblock(lines[first - 1:])
    except Exception:  # a tokenizer error on odd text: the lines the code object has
        block = []
    last = first + len(block) - 1
    last = max(last, max((line for _, _, line in code.co_lines() if line), default=first))
    last = min(last, len(lines))
    return [LineRow(n, lines[n - 1].rstrip("\r\n")) for n in range(first, last + 1)]


@magics_class
class MemlensMagics(Magics):
    last = None  # the last ProfileResult, for code that wants the numbers

    @line_cell_magic
    def memlens(self, line: str, cell: str | None = None):
        """Line memory, in this kernel: `%%memlens` profiles the cell's lines,
        `%memlens f(x)` the function f, `%memlens -f g f(x)` the function g that f(x) calls.

        Each line's memory usage (RSS) after it ran, its increment, and how often it ran, as a
        table with a bar per line.
        """
        if cell is None:
            return self._profile_call(line)
        return self._profile_cell(line, cell)

    def _show(self, result, label, caught):
        MemlensMagics.last = result
        display(ProfileDisplay(result, label))
        if caught is not None:
            raise caught

    def _shell(self) -> InteractiveShell:
        if self.shell is None:  # (IPython sets it when the extension loads)
            raise UsageError("%memlens runs in an IPython shell")
        return self.shell

    def _profile_cell(self, line: str, cell: str):
        if line.strip():
            raise UsageError("%%memlens takes no arguments: it profiles the lines of its cell")
        shell = self._shell()
        source = "\n" + cell  # line 1 is the %%memlens line: the rows keep the cell's numbering
        name = shell.compile.cache(source, shell.execution_count)  # tracebacks: Cell In[n]
        code = compile_aligned(source, shell.transform_cell(source), name)
        lines = split_lines(source)
        last = len(lines)
        while last > 2 and not lines[last - 1].strip():
            last -= 1
        rows = [LineRow(n, lines[n - 1]) for n in range(2, last + 1)]

        def run():
            exec(code, shell.user_global_ns, shell.user_ns)

        result, caught = profile_here(code, run, rows, file=name, qualname=None, entry="cell")
        self._show(result, self._cell_label(name) or "this cell", caught)

    def _cell_label(self, filename: str) -> str | None:
        """`Cell In[3]` for a file name IPython gave a cell, else None."""
        try:
            named = self._shell().compile.format_code_name(filename)
        except Exception:
            return None
        return f"{named[0]} {named[1]}" if named else None

    def _evaluate(self, text: str, what: str):
        shell = self._shell()
        try:
            return eval(compile(text, "<memlens>", "eval"), shell.user_global_ns, shell.user_ns)
        except Exception as exc:
            raise UsageError(f"%memlens: cannot evaluate {what} {text!r}: "
                             f"{type(exc).__name__}: {exc}") from None

    def _profile_call(self, line: str):
        opts, stmt = self.parse_options(line, "f:", list_all=True, posix=False)
        stmt = stmt.strip()
        if not stmt:
            raise UsageError(USAGE)
        try:
            tree = ast.parse(stmt, mode="eval")
        except SyntaxError:
            raise UsageError(f"%memlens: {stmt!r} is not an expression; {USAGE}") from None
        names = opts.get("f") or []
        if len(names) > 1:
            raise UsageError("%memlens profiles one function: give -f once")
        if names:
            target = self._evaluate(names[0], "-f")
        elif isinstance(tree.body, ast.Call):
            target = self._evaluate(ast.unparse(tree.body.func), "the function of")
        else:
            raise UsageError(f"%memlens: {stmt!r} calls no function; {USAGE}")
        function = function_of(target)
        if function is None:
            raise UsageError(f"%memlens: {names[0] if names else ast.unparse(tree.body.func)} "
                             "is not a Python function (a builtin or C function has no lines "
                             "to profile); name the Python function it calls with -f")
        code = function.__code__
        qualname = getattr(code, "co_qualname", code.co_name)  # 3.10 has no co_qualname
        rows = function_rows(code)
        if not rows:
            raise UsageError(f"%memlens: no source lines for {qualname} "
                             f"({code.co_filename}): linecache has none")
        expression = compile(tree, "<memlens>", "eval")
        shell = self._shell()

        def run():
            eval(expression, shell.user_global_ns, shell.user_ns)

        result, caught = profile_here(code, run, rows, file=code.co_filename,
                                      qualname=qualname, entry="call", call=stmt)
        where = self._cell_label(code.co_filename)
        label = qualname + (f", defined in {where}" if where else "")
        self._show(result, label, caught)

"""What a notebook profile runs, decided statically in the parent (no code runs here).

`memlens profile nb.ipynb --cell N` runs the code cells above cell N, then cell N line by line;
`memlens profile nb.ipynb::func` runs the cells up to the one defining `func` (the last one, or
the one `--cell` names), then calls it. Cells are numbered as Ruff numbers them (markdown
counted, `memlens.notebook`). The runner gets each cell's source and, for a cell with IPython
syntax, where its first magic is: it needs IPython to run that cell.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..lines import split_lines
from ..notebook import CodeCell, NotebookError, read_notebook
from ..notebook.magics import PYTHON_CELL_MAGICS, blank_magics, cell_magic
from . import source
from .result import ErrorKind, LineRow


@dataclass
class Plan:
    cells: list[dict]  # what the runner runs, in order: {number, source, magic}
    target: int  # the profiled cell, or the one defining the profiled function
    rows: list[LineRow]
    first_line: int
    last_line: int
    info: source.FunctionInfo | None = None
    cells_run: list[int] = field(default_factory=list)  # run before the profile, in order


class PlanError(Exception):
    def __init__(self, kind: ErrorKind, type_: str, message: str,
                 candidates: list[str] | None = None):
        super().__init__(message)
        self.kind, self.type, self.message, self.candidates = kind, type_, message, candidates


def _first_magic(text: str, python: str) -> list | None:
    """[line, text] of the first line of IPython syntax in `text` (1-based), given its blanked
    form `python`; None when it has none."""
    if python == text:
        return None
    pairs = zip(split_lines(text), split_lines(python), strict=False)  # as many lines
    for number, (mine, theirs) in enumerate(pairs, start=1):
        if mine != theirs:
            return [number, mine]
    return None


def _runs(cell: CodeCell) -> bool:
    """False for a cell of another language (read_notebook blanked it whole): not Python, so a
    Python kernel does not run it."""
    return bool(cell.python.strip()) or not cell.source.strip()


def _body_only(cell: CodeCell) -> str:
    """The source to profile line by line: a Python cell magic's body (its `%%time` line left
    empty, so line numbers stay), or the cell itself."""
    magic = cell_magic(cell.source)
    if magic is None:
        return cell.source
    if magic not in PYTHON_CELL_MAGICS:
        raise PlanError(ErrorKind.BAD_ENTRY, "NotPython",
                        f"cell {cell.number} is a %%{magic} cell: it holds no Python to profile "
                        "line by line")
    lines = split_lines(cell.source)
    at = next(i for i, line in enumerate(lines) if line.strip())
    lines[at] = ""
    return "\n".join(lines)


def _runner_cell(number: int, text: str) -> dict:
    return {"number": number, "source": text, "magic": _first_magic(text, blank_magics(text))}


def _parse(cell: CodeCell) -> ast.Module | None:
    try:
        return ast.parse(cell.python)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def read(path: str) -> tuple:
    """The notebook's code cells; PlanError when it is not a notebook memlens can run."""
    try:
        with open(path, encoding="utf-8") as fh:
            raw = fh.read()
        nb = read_notebook(raw)
    except (OSError, UnicodeDecodeError, NotebookError) as exc:
        raise PlanError(ErrorKind.UNREADABLE, type(exc).__name__,
                        f"cannot read {path}: {exc}") from None
    if not nb.cells:
        raise PlanError(ErrorKind.UNREADABLE, "NotPython",
                        f"{path} is not a Python notebook (no Python code cells)")
    return nb.cells


def _rows(cell: CodeCell, first: int, last: int) -> list[LineRow]:
    lines = split_lines(cell.source)
    return [LineRow(n, lines[n - 1] if n <= len(lines) else "", cell=cell.number)
            for n in range(first, last + 1)]


def plan_cell(path: str, number: int) -> Plan:
    """Cell `number` profiled line by line, after the code cells above it."""
    cells = read(path)
    by_number = {c.number: c for c in cells}
    cell = by_number.get(number)
    if cell is None:
        listed = ", ".join(str(c.number) for c in cells)
        raise PlanError(ErrorKind.NOT_FOUND, "NotFound",
                        f"cell {number} is not a code cell of {path}; its code cells are "
                        f"{listed} (cells are counted from 1, markdown cells included)")
    if not _runs(cell):
        raise PlanError(ErrorKind.BAD_ENTRY, "NotPython",
                        f"cell {number} of {path} is not a Python cell")
    lines = split_lines(cell.source)
    last = len(lines)
    while last > 1 and not lines[last - 1].strip():  # the empty line after a final newline
        last -= 1
    return _plan(cells, cell, 1, last)


def defined_functions(cells) -> list[tuple[int, source.FunctionInfo]]:
    """(cell number, function) for every function of every cell that parses."""
    found = []
    for cell in cells:
        tree = _parse(cell)
        if tree is not None:
            found += [(cell.number, info) for info in source.functions(tree)]
    return found


def plan_function(path: str, qualname: str, number: int | None = None) -> Plan:
    """`qualname` defined in cell `number` (else in the last cell defining it), after running
    the cells up to and including that one."""
    cells = read(path)
    defined = defined_functions(cells)
    wanted = qualname.replace(".<locals>", "")
    hits = [(n, info) for n, info in defined
            if info.qualname == wanted and (number is None or n == number)]
    if not hits:
        where = f" in cell {number}" if number is not None else ""
        candidates = list(dict.fromkeys(info.qualname for _, info in defined))
        listed = ", ".join(f"{info.qualname} (cell {n})" for n, info in defined) or "none"
        raise PlanError(ErrorKind.NOT_FOUND, "NotFound",
                        f"no function {qualname!r}{where} in {path}; its cells define: {listed}",
                        candidates)
    number, info = hits[-1]
    cell = next(c for c in cells if c.number == number)
    return _plan(cells, cell, info.first_line, info.last_line, info)


def _plan(cells, cell: CodeCell, first: int, last: int, info=None) -> Plan:
    """The code cells above `cell` run as they are, then `cell` (a Python cell magic's body)."""
    before = [c for c in cells if c.number < cell.number and _runs(c)]
    text = _body_only(cell)
    return Plan(cells=[_runner_cell(c.number, c.source) for c in before]
                + [_runner_cell(cell.number, text)],
                target=cell.number, rows=_rows(cell, first, last), first_line=first,
                last_line=last, info=info, cells_run=[c.number for c in before])

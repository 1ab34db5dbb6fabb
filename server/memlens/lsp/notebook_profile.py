"""Profiling in a notebook's cells: the lenses of each cell, and the results on its lines.

The notebook document sync hands these functions the notebook's cells (`Cell`, in the
notebook's order, markdown cells included: cell N is the Nth, as Ruff and the profiler number
them). A cell's "Profile cell memory" lens runs the code cells above it, then the cell line by
line; a function's "Profile memory" lens runs the cells up to its own, then calls it. Both run
the saved notebook in a fresh process (`profiler/notebook.py`); the user's kernel is never
touched.

Results are kept in the profile store under the notebook's uri, one per cell and function
(`record_key`), with the lines they measured; they are shown on the cell that holds exactly
those lines (the same cell, or the one it moved to), shifted with them inside a cell, and
dropped once no cell holds them, as a .py file's results are (`store.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from memlens.lines import split_lines
from memlens.lsp import present
from memlens.lsp.functions import Function, scan
from memlens.lsp.store import Placed, ProfileStore, Record
from memlens.notebook.magics import blank_magics

PROFILE = "memlens.profileFunction"
CLEAR = "memlens.clearProfileResults"
CELL_TOOLTIP = ("Profile this cell's memory line by line: the code cells above it run first, "
                "in a fresh process, from the saved notebook. Your kernel is never touched.")


@dataclass(frozen=True)
class Cell:
    uri: str  # the cell's own text document
    code: bool  # a code cell (a markdown cell still takes its place in the numbering)
    text: str


def record_key(cell: int, qualname: str | None) -> str:
    """The profile store's key of a notebook result: one per cell, one per function in it."""
    return f"cell {cell}" + (f":{qualname}" if qualname else "")


def cell_functions(text: str) -> list[Function]:
    """The functions of a cell, its IPython syntax blanked first (same lines and columns)."""
    try:
        return scan(blank_magics(text)) if text.strip() else []
    except Exception:
        return []


def _functions(cell: Cell, cache: dict[int, list[Function]], index: int) -> list[Function]:
    if index not in cache:
        cache[index] = cell_functions(cell.text)
    return cache[index]


def _place(record: Record, lines: list[str], functions) -> Placed | None:
    """Where `record` stands in a cell of these `lines` (its lines there unchanged), or
    None; `functions()` gives the cell's functions."""
    qualname = record.result.qualname
    n = len(record.sources)
    if not qualname:  # a whole cell: its measured lines from `first_line` on
        start = record.first_line - 1
        return Placed(record, 0) if lines[start:start + n] == record.sources else None
    for fn in functions():
        if fn.qualname != qualname:
            continue
        for start in range(max(fn.first_line - 3, 0), fn.def_line + 1):
            if lines[start:start + n] == record.sources:
                return Placed(record, start + 1 - record.first_line)
    return None


def placements(store: ProfileStore, notebook_uri: str, cells: list[Cell]
               ) -> dict[int, list[Placed]]:
    """The results of the notebook, by the index of the cell each is shown on. A result
    whose lines no cell holds any more is dropped."""
    records = store.records.get(notebook_uri)
    if not records:
        return {}
    out: dict[int, list[Placed]] = {}
    scanned: dict[int, list[Function]] = {}
    texts: dict[int, list[str]] = {}
    for key, record in list(records.items()):
        measured = (record.result.cell or 0) - 1
        order = [measured] if 0 <= measured < len(cells) else []
        order += [i for i in range(len(cells)) if i != measured]  # the cell moved
        for index in order:
            cell = cells[index]
            if not cell.code:
                continue
            lines = texts.setdefault(index, split_lines(cell.text))
            placed = _place(record, lines, lambda c=cell, i=index: _functions(c, scanned, i))
            if placed is not None:
                out.setdefault(index, []).append(placed)
                break
        else:
            del records[key]  # its lines changed: the measurement no longer applies
    return out


def _range(line: int) -> dict:
    return {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}


def _lens(line: int, title: str, args: dict, tooltip: str | None = None,
          command: str = PROFILE) -> dict:
    lens = {"range": _range(line), "command": {"title": title, "command": command,
                                               "arguments": [args]}}
    if tooltip:
        lens["command"]["tooltip"] = tooltip
    return lens


def lenses(store: ProfileStore, notebook_uri: str, cells: list[Cell], index: int) -> list[dict]:
    """The code lenses of cell `index`: "Profile cell memory" on its first line, "Profile
    memory" above each function; after a run, its figures and "Clear"."""
    cell = cells[index]
    if not cell.code:
        return []
    number = index + 1
    placed = {p.record.result.qualname: p for p in placements(store, notebook_uri, cells)
              .get(index, [])}
    args = {"uri": notebook_uri, "cell": number, "cellUri": cell.uri}
    out = []
    p = placed.get(None)
    if p is None:
        out.append(_lens(0, "Profile cell memory", args, CELL_TOOLTIP))
    else:
        out.append(_lens(0, present.lens_title(p.result, p.current), args,
                         "Profile this cell again. " + CELL_TOOLTIP))
        out.append(_lens(0, "Clear", {"uri": notebook_uri, "qualname": p.record.qualname},
                         command=CLEAR))
    for fn in cell_functions(cell.text):
        fn_args = dict(args, qualname=fn.qualname, line=fn.def_line,
                       needsCall=fn.needs_call(has_main=False))
        p = placed.get(fn.qualname)
        if p is None:
            out.append(_lens(fn.def_line, "Profile memory", fn_args,
                             "Runs the code cells up to this one in a fresh process, then "
                             f"calls {fn.qualname}. Your kernel is never touched."))
            continue
        if p.result.call:
            fn_args["call"] = p.result.call
        out.append(_lens(fn.def_line, present.lens_title(p.result, p.current), fn_args,
                         "Profile memory again"))
        out.append(_lens(fn.def_line, "Clear", {"uri": notebook_uri,
                                                "qualname": p.record.qualname}, command=CLEAR))
    return out


def inlay_hints(store: ProfileStore, notebook_uri: str, cells: list[Cell], index: int,
                encoder, first: int = 0, last: int | None = None) -> list[dict]:
    """At the end of each measured line of cell `index` (lines `first`..`last`), its increment
    (`+763.0 MiB`, `×100` when it ran more than once), as a .py file's hints."""
    placed = placements(store, notebook_uri, cells).get(index, [])
    if not placed:
        return []
    lines = split_lines(cells[index].text)
    last = len(lines) - 1 if last is None else last
    return present.line_hints(placed, lines, first, last, encoder)


def unsaved(cells: list[Cell] | None, path: str) -> bool:
    """True when the editor's code cells differ from the saved notebook's (the profile runs
    the saved one); False when the cells are not known."""
    if cells is None:
        return False
    from memlens.notebook import NotebookError, read_notebook

    try:
        with open(path, encoding="utf-8") as fh:
            saved = read_notebook(fh.read())
    except (OSError, UnicodeDecodeError, NotebookError):
        return True
    mine = [(i + 1, c.text) for i, c in enumerate(cells) if c.code]
    return mine != [(c.number, c.source) for c in saved.cells]


def cells_of(server, notebook_uri: str) -> list[Cell] | None:
    """The open notebook's cells, from the notebook document sync (`server.notebook_cells`),
    or None while the server has none."""
    provider = getattr(server, "notebook_cells", None)
    if provider is None:
        return None
    try:
        return provider(notebook_uri)
    except Exception:
        return None

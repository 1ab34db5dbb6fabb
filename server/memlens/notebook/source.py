"""A notebook read with nbformat and joined into one Python module, with a map back to cells.

Cells are numbered as Ruff numbers them: `cell N` is the notebook's Nth cell, 1-based, markdown
cells counted too, so the number matches the cell's place in the notebook; only code cells ever
carry findings. The module is the code cells' lines in order, each cell contributing exactly its
own lines (a cell that ends with a newline has a last, empty line, as Jupyter shows it).
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from memlens.lines import split_lines
from memlens.notebook.magics import blank_magics, compiles

PYTHON_LANGUAGES = frozenset({"python", "python3", "ipython", "ipython3", ""})


class NotebookError(ValueError):
    """A file that is not a notebook memlens can read; the message is one line."""


@dataclass(frozen=True)
class CodeCell:
    number: int  # 1-based place in the notebook, markdown cells counted (Ruff's "cell N")
    source: str  # the cell's text as stored
    python: str  # the same lines, IPython syntax blanked to neutral Python
    first_line: int  # 0-based line of the joined module where this cell starts
    outputs: tuple[str, ...] = ()  # what the cell printed (text/plain, streams), for size evidence

    @property
    def line_count(self) -> int:
        return len(split_lines(self.source))


@dataclass(frozen=True)
class NotebookSource:
    cells: tuple[CodeCell, ...]
    text: str  # the joined module the engine checks
    skipped_cells: int = 0  # code cells left out: another language, or not Python 3
    left_out: frozenset[int] = frozenset()  # their numbers

    def locate(self, line: int) -> tuple[CodeCell, int]:
        """The cell holding 0-based `line` of the joined module, and the 0-based line in it."""
        lo, hi = 0, len(self.cells) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.cells[mid].first_line <= line:
                lo = mid
            else:
                hi = mid - 1
        cell = self.cells[lo]
        return cell, line - cell.first_line


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def _outputs(cell: dict) -> tuple[str, ...]:
    texts = []
    for out in cell.get("outputs") or ():
        if not isinstance(out, dict):
            continue
        if out.get("output_type") == "stream":
            texts.append(_text(out.get("text")))
        else:
            data = out.get("data")
            if isinstance(data, dict) and "text/plain" in data:
                texts.append(_text(data["text/plain"]))
    return tuple(t for t in texts if t)


def _language(nb: dict) -> str:
    meta = nb.get("metadata") or {}
    info = meta.get("language_info") or {}
    spec = meta.get("kernelspec") or {}
    name = info.get("name") if isinstance(info, dict) else None
    if not name and isinstance(spec, dict):
        name = spec.get("language")
    return str(name or "").lower()


def _cell_language(cell: dict) -> str:
    vscode = (cell.get("metadata") or {}).get("vscode") or {}
    if not isinstance(vscode, dict):
        return "python"
    return str(vscode.get("languageId") or "python").lower()


def _nbformat() -> ModuleType:
    """nbformat, imported on the first notebook only (most runs check none). Its validator
    imports jsonschema, which builds `rfc3987_syntax`'s grammar at import when that package is
    installed (it comes with the Jupyter packages): 1.9 of nbformat's 2.2 s. It checks only the
    `iri` string formats, which the notebook schema does not use, so it is kept out while
    nbformat loads (jsonschema goes without it, as when it is not installed); a process that
    imported it already keeps it."""
    if "nbformat" in sys.modules:
        return sys.modules["nbformat"]
    hide = "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # (import: ImportError)
    try:
        import nbformat
    finally:
        if hide and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]
    return nbformat


def _parse(raw: str) -> dict:
    """The notebook as a validated nbformat 4 dict; NotebookError with one line otherwise."""
    nbformat = _nbformat()

    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise NotebookError(f"not a notebook: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise NotebookError("not a notebook: the JSON is not an object")
    major = data.get("nbformat")
    if major != 4:
        raise NotebookError(f"unsupported notebook format {major!r}: memlens reads nbformat 4")
    if not isinstance(data.get("cells"), list):
        raise NotebookError("not a notebook: it has no list of cells")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cells without ids (nbformat < 4.5) are common
            nbformat.validate(nbformat.from_dict(data), version=4)
    except nbformat.ValidationError as exc:
        first = split_lines(str(exc.message if hasattr(exc, "message") else exc))[0]
        raise NotebookError(f"invalid notebook: {first}") from None
    except (RecursionError, MemoryError):
        raise NotebookError("invalid notebook: nested too deeply") from None
    return data


def read_notebook(raw: str, *, drop_unparsable: bool = False) -> NotebookSource:
    """The code cells of the notebook `raw` (its JSON text), joined into one module.

    `drop_unparsable` leaves out, as blank lines, a cell that is not Python 3 even with its
    IPython syntax blanked (old `print x` cells); without it such a cell stays and its syntax
    error is reported like any other."""
    nb = _parse(raw)
    if _language(nb) not in PYTHON_LANGUAGES:
        return NotebookSource(cells=(), text="")
    cells = [CellText(_text(cell.get("source")), number, _outputs(cell),
                      python=_cell_language(cell) in PYTHON_LANGUAGES)
             for number, cell in enumerate(nb["cells"], start=1)
             if cell.get("cell_type") == "code"]
    return join_cells(cells, drop_unparsable=drop_unparsable)


@dataclass(frozen=True)
class CellText:
    """One code cell as a reader has it: from the .ipynb file, or from an editor's cell."""

    source: str
    number: int  # 1-based, as `CodeCell.number`
    outputs: tuple[str, ...] = ()
    python: bool = True  # false: a cell of another language, left out as blank lines


def join_cells(cells: Sequence[CellText], *, drop_unparsable: bool = False,
               previous: NotebookSource | None = None) -> NotebookSource:
    """The code cells `cells`, in order, joined into one module: each cell's IPython syntax
    blanked (`blank_magics`), a cell of another language (or, with `drop_unparsable`, one that
    is not Python 3) left out as blank lines. The one way from cells to the module, for the
    .ipynb reader and for the language server's cells. `previous`: an earlier join of the same
    notebook, whose blanked cells are reused where the source is the same (an editor rejoins
    every cell on each keystroke; blanking compiles each cell)."""
    known = {c.source: c.python for c in previous.cells
             if c.number not in previous.left_out} if previous is not None else {}
    out: list[CodeCell] = []
    parts: list[str] = []  # each cell's lines, ending with "\n"
    line_count = 0
    left_out: set[int] = set()
    for cell in cells:
        source = cell.source
        python = known.get(source) if cell.python else None
        if python is None:
            python = blank_magics(source)
            if not cell.python or (drop_unparsable and not compiles(python)):
                left_out.add(cell.number)
                python = "\n".join(" " * len(line) for line in split_lines(source))
        out.append(CodeCell(number=cell.number, source=source, python=python,
                            first_line=line_count, outputs=cell.outputs))
        if "\r" in python:  # (lines end at \r\n, \r or \n: the module's at \n)
            python = "\n".join(split_lines(python))
        parts.append(python)
        line_count += python.count("\n") + 1
    return NotebookSource(cells=tuple(out), text="\n".join(parts) + "\n" if parts else "",
                          skipped_cells=len(left_out), left_out=frozenset(left_out))

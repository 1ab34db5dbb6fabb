"""`memlens check` on a Jupyter notebook: its code cells checked as one module, each finding
placed in its cell, and `--fix` written into the `source` of the fixed cells only.

The module is `memlens.notebook.read_notebook`'s: the code cells joined, IPython syntax blanked
to Python of the same shape. It is checked as a program (`FileRole(notebook=True)`: nothing
imports a notebook, so import-time rules stay quiet). Each finding is then moved into its cell
(`cell`, 1-based as Ruff numbers cells; positions within that cell). A finding that runs into
the next cell ends at the end of its own, and loses its fix; a fix keeps only if each of its
edits lies in the finding's cell and none touches a blanked line of IPython syntax.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, replace

from memlens.engine.cache import content_hash
from memlens.engine.edits import apply_edits, fixes_overlap
from memlens.engine.lines import for_parse, split_lines, split_lines_keepends
from memlens.engine.model import SYNTAX_ERROR, Edit, Finding, Fix, Position
from memlens.engine.pysyntax import parses
from memlens.flow.project import FileRole
from memlens.flow.size import printed_sizes
from memlens.notebook import (
    CellText,
    CodeCell,
    NotebookError,
    NotebookSource,
    join_cells,
    read_notebook,
)
from memlens.notebook.magics import blank_magics
from memlens.notebook.write import replace_sources


def role(nb: NotebookSource, root: str | None = None) -> FileRole:
    """A notebook's place: a program (nothing imports it), the workspace its data files are read
    in, and what its outputs printed of its values' sizes (`flow.size.printed_sizes`)."""
    printed: dict = {}
    for cell in nb.cells:
        if cell.outputs:
            printed.update(printed_sizes(cell.source, cell.outputs))
    return FileRole(notebook=True, root=root, printed=printed)


@dataclass
class NotebookFile:
    raw: str  # its JSON text
    source: NotebookSource
    digest: str  # of its bytes, as the cache keys files


def load(data: bytes) -> NotebookFile:
    """The notebook whose file holds `data`; NotebookError with one line for what is not a
    notebook memlens reads (not UTF-8, invalid JSON, nbformat 3, no cells, a schema error)."""
    try:
        raw = data.decode("utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start}; a notebook is UTF-8 JSON") from None
    return NotebookFile(raw, read_notebook(raw), content_hash(data))


def check(engine, nb: NotebookSource, path: str, parse_whole: bool = False,
          file_role: FileRole | None = None) -> list[Finding]:
    """The notebook's findings, each in its cell. A notebook of another language has none.
    `file_role`: its role (`role(nb, root)`), else a program whose data files are not read."""
    if not nb.cells:
        return []
    return place(nb, engine.check_source(nb.text, path, parse_whole=parse_whole,
                                         role=file_role or role(nb)))


def place(nb: NotebookSource, findings: list[Finding]) -> list[Finding]:
    """`findings` of the joined module `nb.text`, each moved into its cell (`Finding.cell`,
    positions within that cell; a fix kept only when it lies in that one cell)."""
    return _Cells(nb).place(findings) if nb.cells else []


def fix(engine, notebook: NotebookFile, path: str, unsafe: bool = False,
        max_rounds: int = 10,
        root: str | None = None) -> tuple[NotebookFile, dict[int, str], list[Finding]]:
    """Apply the fixes that stay in one cell, round after round as `Engine.fix_source` does:
    the notebook after them, the new source of each changed cell, and the findings fixed."""
    def rejoin(changed: dict[int, str]) -> NotebookSource:
        return read_notebook(replace_sources(notebook.raw, changed))

    nb, changed, applied = _fix(engine, notebook.source, path, unsafe, max_rounds, rejoin, root)
    if not changed:
        return notebook, changed, applied
    return NotebookFile(replace_sources(notebook.raw, changed), nb, notebook.digest), changed, \
        applied


def fix_cells(engine, nb: NotebookSource, path: str, unsafe: bool = False,
              max_rounds: int = 10,
              root: str | None = None) -> tuple[dict[int, str], list[Finding]]:
    """`fix` on cells an editor holds (no file): the new source of each changed cell, by
    number, and the findings fixed."""
    def rejoin(changed: dict[int, str]) -> NotebookSource:
        return join_cells([CellText(changed.get(c.number, c.source), c.number, c.outputs,
                                    python=c.number not in nb.left_out) for c in nb.cells],
                          previous=nb)

    _, changed, applied = _fix(engine, nb, path, unsafe, max_rounds, rejoin, root)
    return changed, applied


def _fix(engine, nb: NotebookSource, path: str, unsafe: bool, max_rounds: int,
         rejoin: Callable[[dict[int, str]], NotebookSource],
         root: str | None) -> tuple[NotebookSource, dict[int, str], list[Finding]]:
    """The rounds of `fix`: `rejoin(changed sources)` reads the notebook again after each."""
    original = {c.number: c.source for c in nb.cells}
    sources = dict(original)
    applied: list[Finding] = []
    for _ in range(max_rounds if nb.cells else 0):
        findings = engine.check_source(nb.text, path, role=role(nb, root))
        if any(f.code == SYNTAX_ERROR for f in findings):
            break
        cells = _Cells(nb)
        chosen: list[Finding] = []
        for f in findings:
            if not f.fixable(unsafe) or cells.fix_cell(f.fix) is None:
                continue
            if any(fixes_overlap(f.fix, c.fix) for c in chosen):
                continue  # the next round picks it up against the new text
            chosen.append(f)
        if not chosen:
            break
        trial = _applied(nb, cells, chosen, sources)
        if trial is None:
            # each fix parses alone, yet together they do not: keep those that parse with the
            # ones kept before them
            kept: list[Finding] = []
            for f in chosen:
                if (tried := _applied(nb, cells, [*kept, f], sources)) is not None:
                    kept, trial = [*kept, f], tried
            if trial is None:
                break  # never write code that does not parse
            chosen = kept
        sources = trial
        nb = rejoin(_changed(original, sources))
        applied += cells.place(chosen)
    return nb, _changed(original, sources), applied


def _changed(original: dict[int, str], sources: dict[int, str]) -> dict[int, str]:
    return {n: text for n, text in sources.items() if text != original[n]}


def _applied(nb: NotebookSource, cells: _Cells, chosen: list[Finding],
             sources: dict[int, str]) -> dict[int, str] | None:
    """The cells' sources with the fixes of `chosen` applied, or None when the notebook's
    module would not parse with them."""
    edits: dict[int, list[Edit]] = {}
    for f in chosen:
        cell = cells.fix_cell(f.fix)
        assert cell is not None and f.fix is not None  # chosen for a fix within one cell
        edits.setdefault(cell.number, []).extend(cells.within(cell, e) for e in f.fix.edits)
    new = dict(sources)
    for number, cell_edits in edits.items():
        new[number] = apply_edits(sources[number], cell_edits)
    return new if parses(for_parse(_module(nb, new))) else None


def _module(nb: NotebookSource, sources: dict[int, str]) -> str:
    """The module of `nb` with its cells' sources replaced, blanked as `read_notebook` blanks
    them (a fix touches no line of IPython syntax: the other lines of a cell stay as they are)."""
    return "\n".join(cell.python if sources[cell.number] == cell.source
                     else blank_magics(sources[cell.number]) for cell in nb.cells)


class _Cells:
    """Positions of the joined module, moved into the cells."""

    def __init__(self, nb: NotebookSource):
        self.nb = nb
        self._blanked: dict[int, frozenset[int]] = {}
        self._lines: dict[int, list[str]] = {}

    def lines(self, cell: CodeCell) -> list[str]:
        """The lines of `cell` (split once: the language server places every finding of a
        200-cell notebook on each keystroke)."""
        lines = self._lines.get(cell.number)
        if lines is None:
            lines = self._lines[cell.number] = split_lines(cell.source)
        return lines

    def locate(self, p: Position) -> tuple[CodeCell, Position]:
        """The cell holding `p`, and `p` within it (kept within its lines)."""
        cell, line = self.nb.locate(p.line)
        lines = self.lines(cell)
        if line >= len(lines):  # past the module's end: the end of the last cell
            return cell, Position(len(lines) - 1, len(lines[-1]))
        return cell, Position(line, p.column)

    def within(self, cell: CodeCell, e: Edit) -> Edit:
        return Edit(Position(e.start.line - cell.first_line, e.start.column),
                    Position(e.end.line - cell.first_line, e.end.column), e.content)

    def blanked(self, cell: CodeCell) -> frozenset[int]:
        """The lines of `cell` that are IPython syntax (blanked in the module)."""
        if cell.number not in self._blanked:
            self._blanked[cell.number] = frozenset(
                i for i, (a, b) in enumerate(zip(self.lines(cell), split_lines(cell.python),
                                                 strict=False))
                if a != b)
        return self._blanked[cell.number]

    def fix_cell(self, fix: Fix | None) -> CodeCell | None:
        """The one cell all of the fix's edits lie in, none on a line of IPython syntax; None
        when there is no such cell (a fix never spans two cells)."""
        if fix is None or not fix.edits:
            return None
        cells = {id(self.nb.locate(line)[0]): self.nb.locate(line)[0]
                 for e in fix.edits for line in (e.start.line, e.end.line)}
        if len(cells) != 1:
            return None
        cell = next(iter(cells.values()))
        blanked = self.blanked(cell)
        last = cell.first_line + len(self.lines(cell)) - 1
        for e in fix.edits:
            if e.end.line > last or any(line - cell.first_line in blanked
                                        for line in range(e.start.line, e.end.line + 1)):
                return None
        return cell

    def place(self, findings: list[Finding]) -> list[Finding]:
        """`findings` (positions in the module) in their cells."""
        out = []
        for f in findings:
            cell, start = self.locate(f.start)
            end_cell, end = self.locate(f.end)
            fix = f.fix
            if end_cell is not cell:  # runs into the next cell: cut at the end of its own
                lines = self.lines(cell)
                end, fix = Position(len(lines) - 1, len(lines[-1])), None
            if fix is not None:
                fix = None if self.fix_cell(fix) is not cell else \
                    replace(fix, edits=tuple(self.within(cell, e) for e in fix.edits))
            out.append(replace(f, start=start, end=end, fix=fix, cell=cell.number))
        return out


def cell_diff(path: str, nb: NotebookSource, sources: dict[int, str]) -> str:
    """The unified diff of each changed cell, headed `a/nb.ipynb:cell 3` (as Ruff heads it)."""
    import difflib

    out: list[str] = []
    for cell in nb.cells:
        new = sources.get(cell.number)
        if new is None or new == cell.source:
            continue
        out += difflib.unified_diff(_diff_lines(cell.source), _diff_lines(new),
                                    fromfile=f"a/{path}:cell {cell.number}",
                                    tofile=f"b/{path}:cell {cell.number}")
    return "".join(out)


def _diff_lines(text: str) -> list[str]:
    # a cell's last line has no line break: the diff's lines all need one
    return [line if line.endswith(("\n", "\r")) else line + "\n"
            for line in split_lines_keepends(text)]

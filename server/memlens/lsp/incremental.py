"""Re-analyse only what an edit touched: unchanged top-level blocks keep their findings.

A document is cut into blocks of whole top-level statements, as the engine finds them from the
text (`engine/blocks.py`, `Layout.spans`): each `def`/`class` (with its decorators) is a block,
and each run of other module-level statements is one block (so rules relating consecutive
module-level statements still see them together). After an edit, the blocks the changed lines
touch, plus their neighbours, form the region that is checked again, alone, behind a header of
every import statement of the file as the engine reads them (`engine/imports.py`: the rules are
import-aware; the imports found inside functions stay inside a function there, as some rules
tell them apart). The other blocks keep their findings, shifted by the number of lines the edit
added or removed.

The result equals `engine.check_source(text)` for valid code when the edit is inside a function
or class and every rule that may match the file looks only inside the definition its match is
in (`FilePlan.block_local`; tests/lsp check this on random edits). Otherwise the checker asks
to be `settle`d, and the language server re-checks the whole file once the typing pauses: after
an edit of module-level code (is this file a script?), or when a rule relates code in different
definitions (ML305: a `fit` here, the explainer built in another function). Two deliberate
differences remain for code being typed: a syntax error is reported for the region it is in (so
the findings of the rest of the file stay visible), and at most one syntax error is reported.
Whenever the shortcut would not be exact it is not taken and the whole file is checked: an edit
that changes the imports, a fix that edits the header (e.g. adds an import), a file-level
`# memlens: ignore-file`, or no earlier state.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from memlens.engine import SYNTAX_ERROR, Edit, Finding, Position
from memlens.engine.blocks import Layout
from memlens.engine.core import Interrupted, syntax_error
from memlens.engine.imports import import_statements
from memlens.engine.lines import nesting_too_deep
from memlens.engine.parse import TooDeep, parse
from memlens.engine.suppression import ignores_file

LARGE = 1_000_000  # characters: above this, even the first check goes block by block


@dataclass
class Block:
    start: int  # first line, 0-based
    end: int  # one past the last line
    imports: tuple[str, ...]
    findings: list[Finding]
    glue: bool = True  # module-level statements (not one def/class)


@dataclass
class Stats:
    full: int = 0
    partial: int = 0
    unchanged: int = 0
    lines_checked: int = 0


def _shift_position(p: Position, delta: int) -> Position:
    return Position(p.line + delta, p.column)


def shift_finding(f: Finding, delta: int) -> Finding:
    if delta == 0:
        return f
    fix = f.fix
    if fix is not None:
        fix = replace(fix, edits=tuple(
            Edit(_shift_position(e.start, delta), _shift_position(e.end, delta), e.content)
            for e in fix.edits))
    return replace(f, start=_shift_position(f.start, delta), end=_shift_position(f.end, delta),
                   fix=fix)


def _spans(text: str, first_line: int = 0, layout: Layout | None = None,
           cuts: Sequence[int] = ()) -> list[tuple]:
    """(start, end, glue) of the text's top-level spans (`blocks.Layout.spans`, the engine's
    one notion of blocks), on the file's lines when the text starts at `first_line`. A run of
    module-level statements is also cut at each of `cuts` (a notebook's cells: an edit in one
    cell re-checks that cell, not every module-level line of the notebook)."""
    layout = layout or Layout(text)
    spans = [(s.start + first_line, s.end + first_line, not s.definition)
             for s in layout.spans()]
    points = _cut_points(layout, cuts, first_line)
    if not points:
        return spans
    out = []
    for start, end, glue in spans:
        if glue:
            for point in points[bisect.bisect_right(points, start):
                                bisect.bisect_left(points, end)]:
                out.append((start, point, True))
                start = point
        out.append((start, end, glue))
    return out


def _cut_points(layout: Layout, cuts: Sequence[int], first_line: int = 0) -> list[int]:
    """The lines (of the file) where a run of statements is cut for `cuts`: the first
    top-level statement at or after each cut, so that a block holds whole statements."""
    if not cuts:
        return []
    starts = layout.start_lines()
    points = set()
    for cut in cuts:
        i = bisect.bisect_left(starts, cut - first_line)
        if i < len(starts):
            points.add(starts[i] + first_line)
    return sorted(points)


def _imports(text: str, first_line: int = 0) -> list[tuple[int, int, str]]:
    """(line, end line, text) of every import, as the engine reads them
    (`imports.import_statements`); the text of an indented one is marked with a leading tab
    (rules can tell a module-level import from one inside a function)."""
    return [(s.line + first_line, s.end_line + first_line, ("\t" if s.nested else "") + s.text)
            for s in import_statements(text)]


def _prefix_end(layout: Layout, imports: list[tuple[int, int, str]],
                cuts: Sequence[int] = ()) -> int:
    """One past the last line of the last top-level import before the first definition: the
    file's own import prelude, which region checks reuse verbatim (so that a fix adding an
    import lands where it would in the whole file). `layout`: of the text from line 0. It
    ends at the first of `cuts` (a notebook's prelude is its first cell: a later cell's
    import would make every cell above it a prelude checked again with each edit)."""
    first_definition = next((s.start for s in layout.spans() if s.definition), None)
    limit = next((p for p in _cut_points(layout, cuts) if p > 0), None)
    if limit is not None and (first_definition is None or limit < first_definition):
        first_definition = limit
    statement_lines = set(layout.start_lines())  # (an import line in a string is none)
    end = 0
    for line, end_line, text in imports:
        if first_definition is not None and line >= first_definition:
            break
        if not text.startswith("\t") and line in statement_lines:
            end = end_line + 1
    return end


def _may_close_outside(region: str, others: list[Block]) -> bool:
    """Whether a region that does not parse alone may parse in its file. When the other blocks
    are whole statements, the region starts with nothing open, and only a triple-quoted string
    it leaves open can end in the code after it (an open bracket there never parses). A block
    with a syntax error (found from a broken text) may cut through anything."""
    return (region.count('"""') % 2 == 1 or region.count("'''") % 2 == 1
            or any(f.code == SYNTAX_ERROR for blk in others for f in blk.findings))


def _broken(text: str) -> bool:
    try:
        return parse(text).find(kind="ERROR") is not None
    except TooDeep:
        return True


def _reaches(block: Block, lo: int, hi: int) -> bool:
    """Whether a fix of `block` edits lines in [lo, hi) outside the block."""
    for f in block.findings:
        if f.fix is None:
            continue
        for e in f.fix.edits:
            if (e.start.line < block.start or e.end.line >= block.end) and \
                    e.end.line >= lo and e.start.line < hi:
                return True
    return False


class IncrementalChecker:
    """Findings of one document, updated edit by edit. Not thread-safe: one worker uses it."""

    def __init__(self, engine, path: str, role=None):
        self.engine = engine
        self.path = path
        self.role = role  # the file's `FileRole` for the engine (a notebook's module)
        # lines where runs of module-level statements are cut into blocks of their own (a
        # notebook's cell starts, given with each text)
        self.cuts: Sequence[int] = ()
        self.text: str | None = None
        self.lines: list[str] = []
        self.blocks: list[Block] = []
        self.findings: list[Finding] = []
        self.prefix = 0  # lines [0, prefix) are the import prelude
        self.extra = ""  # the other imports, as header text after the prelude
        self.enabled = True
        # True after a partial check that touched module-level code: rules that look at the
        # whole module (e.g. "is this a script?") may see it differently; `settle` makes it exact
        self.needs_settle = False
        # rules seen with a fix that edits other blocks (their fix depends on the whole file)
        self.cross_rules: set[str] = set()
        # a rule that may match this file relates code in different definitions (ML305: a
        # `fit` here, the explainer built in another function): an edit inside one definition
        # can change findings in another, so a partial check then asks to be settled
        self.cross_block = False
        self._stop: Callable[[], bool] | None = None  # while a settle may be interrupted
        self.stats = Stats()

    # -- public -----------------------------------------------------------------------------

    def settle(self, text: str, stop: Callable[[], bool] | None = None,
               cuts: Sequence[int] = ()) -> list[Finding]:
        """The exact whole-file findings for `text` (after a partial check of module code).
        `stop()`, asked between the engine's steps, can end it early (typing resumed): it then
        raises `Interrupted` and the state is what it was, the partial check's."""
        saved = dict(self.__dict__)
        self.needs_settle = False
        self.cuts = cuts
        self._stop = stop
        try:
            self._full(text)
        except Interrupted:
            self.__dict__.update(saved)
            raise
        finally:
            self._stop = None
        return self.findings

    def check(self, text: str, cuts: Sequence[int] = ()) -> list[Finding]:
        """The findings of `text`; `cuts`: its lines where blocks are cut (see `_spans`)."""
        if text == self.text:  # (a settle it still needs is still needed)
            self.stats.unchanged += 1
            return self.findings
        if ignores_file(text):
            self._reset(text)
            return self.findings
        self.cuts = cuts
        result = None
        if self.text is not None and self.blocks and self.enabled:
            try:
                result = self._partial(text)
            except Exception:  # never let the shortcut fail an analysis: do it all instead
                result = None
        if result is None:
            self._full(text)
        return self.findings

    # -- internals --------------------------------------------------------------------------

    def _reset(self, text: str) -> None:
        self.text, self.lines, self.blocks, self.findings = text, text.split("\n"), [], []
        self.enabled = False
        self.needs_settle = False

    def _check(self, text: str) -> list[Finding]:
        """The engine's findings for a text, with its syntax errors wherever they are. Notes
        whether a rule that may match looks beyond the definition its match is in."""
        plan = self.engine.plan(text, self.path, parse_always=True, blank_blocks=False,
                                role=self.role)
        if plan is None:
            return []
        self.cross_block = self.cross_block or not plan.block_local
        return self.engine.execute(plan, self._stop)

    def _full(self, text: str) -> None:
        self.stats.full += 1
        self.cross_block = False
        self.needs_settle = False  # whole-file findings: exact
        lines = text.split("\n")
        self.stats.lines_checked += len(lines)
        if nesting_too_deep(text) is not None:  # the engine reports it; no parts to check
            self._reset(text)
            self.findings = self._check(text)
            return
        layout = Layout(text)
        spans = _spans(text, layout=layout, cuts=self.cuts)
        imports = _imports(text)
        self.text, self.lines = text, lines
        self.blocks = self._blocks(spans, imports, [])
        self.prefix = _prefix_end(layout, imports, self.cuts)
        self.enabled = self._set_extra()
        findings: list[Finding] | None = None
        if len(text) > LARGE and self.enabled and parse(text).find(kind="ERROR") is None:
            # A huge file: block by block, so that no step costs time in the file's size
            # (some fixes read the whole source text once per finding).
            findings = []
            for start, end, _glue in spans:
                region = self._check_region(lines, start, end)
                if region is None:
                    findings = None
                    break
                findings += region
        if findings is None:
            findings = self._check(text)
        self.blocks = self._blocks(spans, imports, findings)
        self.findings = self._merge()
        self._learn_cross_rules(self.blocks)

    def _learn_cross_rules(self, blocks: list[Block]) -> None:
        for blk in blocks:
            for f in blk.findings:
                if f.fix is not None and f.code not in self.cross_rules and any(
                        e.start.line < blk.start or e.end.line >= blk.end for e in f.fix.edits):
                    self.cross_rules.add(f.code)

    def _set_extra(self) -> bool:
        """The header after the prelude: the imports that are not in it (later top-level ones,
        and those inside functions, kept inside a function). False if it would not parse."""
        late, nested = [], []
        for i, blk in enumerate(self.blocks):
            for t in blk.imports:
                if t.startswith("\t"):
                    nested.append(t[1:])
                elif not (i == 0 and self.prefix > 0):
                    late.append(t)
        parts = list(dict.fromkeys(late))  # bindings are a union: once is enough
        if nested:
            parts.append("def _memlens_imports_():\n" + "\n".join(
                "    " + t for t in dict.fromkeys(nested)))
        extra = "\n".join(parts)
        if extra and _broken(extra):
            self.extra = ""
            return False
        self.extra = extra + "\n" if extra else ""
        return True

    def _check_region(self, lines: list[str], start: int, end: int, error=None,
                      unsettled: list | None = None) -> list[Finding] | None:
        """The findings of lines [start, end), checked alone behind the header; None when that
        would not be exact. `error`: the region's first ERROR node (parsed alone), if any.
        `unsettled` (a list): a finding whose fix edits the synthesized imports loses its fix
        (noted in the list: the file is then owed a whole-file check) instead of a None."""
        prefix = self.prefix if start >= self.prefix else 0
        head = ("\n".join(lines[:prefix]) + "\n" if prefix else "") + self.extra
        head_lines = head.count("\n")
        checked = self._check(head + "\n".join(lines[start:end]))
        offset = start - head_lines
        out = []
        for f in checked:
            if f.start.line < head_lines:
                if f.code == SYNTAX_ERROR:
                    if error is None:
                        return None
                    # the parser's recovery began in the header: point at the region's error
                    out.append(syntax_error(error, self.path, start, when_empty=f.message))
                continue  # a finding of the header: its own block reports it
            def in_prelude(e) -> bool:
                # inside the prelude, or an insertion just after it (an added import)
                return e.end.line < prefix or (e.start == e.end == Position(prefix, 0))

            if f.fix is not None and any(not in_prelude(e) and e.start.line < head_lines
                                         for e in f.fix.edits):
                if unsettled is None:
                    return None  # a fix that edits the synthesized imports
                unsettled.append(f.code)
                f = replace(f, fix=None)
            if offset and f.fix is not None and any(in_prelude(e) for e in f.fix.edits):
                # edits in the prelude stay where they are; the others move with the region
                fix = replace(f.fix, edits=tuple(
                    e if in_prelude(e) else
                    Edit(_shift_position(e.start, offset), _shift_position(e.end, offset),
                         e.content) for e in f.fix.edits))
                f = replace(f, start=_shift_position(f.start, offset),
                            end=_shift_position(f.end, offset), fix=fix)
            else:
                f = shift_finding(f, offset)
            out.append(f)
        return out

    @staticmethod
    def _blocks(spans, imports, findings) -> list[Block]:
        starts = [s for s, _, _ in spans]
        blocks = [Block(s, e, (), [], glue) for s, e, glue in spans]
        by_block: dict[int, list[str]] = {}
        for line, _end, text in imports:
            i = max(bisect.bisect_right(starts, line) - 1, 0)
            by_block.setdefault(i, []).append(text)
        for i, texts in by_block.items():
            blocks[i].imports = tuple(texts)
        for f in findings:
            i = max(bisect.bisect_right(starts, f.start.line) - 1, 0)
            blocks[i].findings.append(f)
        return blocks

    def _merge(self) -> list[Finding]:
        out: list[Finding] = []
        seen_syntax = False
        for block in self.blocks:
            for f in block.findings:
                if f.code == SYNTAX_ERROR:
                    if seen_syntax:
                        continue
                    seen_syntax = True
                out.append(f)
        return out

    def _partial(self, text: str) -> bool | None:
        old, new = self.lines, text.split("\n")
        n_old, n_new = len(old), len(new)
        limit = min(n_old, n_new)
        p = 0
        while p < limit and old[p] == new[p]:
            p += 1
        s = 0
        while s < limit - p and old[n_old - 1 - s] == new[n_new - 1 - s]:
            s += 1
        delta = n_new - n_old
        # the changed old lines, widened by one line on each side (indentation can tie them)
        a, b = max(p - 1, 0), min(n_old - s + 1, n_old)
        if b <= a:
            b = min(a + 1, n_old)
        starts = [blk.start for blk in self.blocks]
        i0 = max(bisect.bisect_right(starts, a) - 1, 0)
        i1 = max(bisect.bisect_right(starts, max(b - 1, a)) - 1, i0)
        region_start = self.blocks[i0].start
        region_end_new = self.blocks[i1].end + delta
        if region_end_new < region_start or (i1 == len(self.blocks) - 1
                                             and region_end_new != n_new):
            return None
        region_text = "\n".join(new[region_start:region_end_new])
        try:
            error = parse(region_text).find(kind="ERROR")
        except TooDeep:
            return None  # the whole file is checked: it reports the nesting
        if error is not None and (i0 > 0 or i1 < len(self.blocks) - 1):
            # broken alone, maybe not in the file: a decorator now above a blank line and the
            # next def, an `else:` after the previous block... with both neighbours, is it whole?
            w0, w1 = max(i0 - 1, 0), min(i1 + 1, len(self.blocks) - 1)
            w_start, w_end = self.blocks[w0].start, self.blocks[w1].end + delta
            wide_text = "\n".join(new[w_start:w_end])
            try:
                wide_error = parse(wide_text).find(kind="ERROR")
            except TooDeep:
                return None
            if wide_error is None:
                i0, i1, region_start, region_end_new, region_text, error = \
                    w0, w1, w_start, w_end, wide_text, None
        if error is not None and (i0 > 0 or i1 < len(self.blocks) - 1) and \
                _may_close_outside(region_text, self.blocks[:i0] + self.blocks[i1 + 1:]) and \
                not _broken(text):
            # broken here, whole in the file: what the region opens closes outside it
            return None
        layout = Layout(region_text)
        imports = _imports(region_text, region_start)
        old_imports = tuple(t for blk in self.blocks[i0:i1 + 1] for t in blk.imports)
        if tuple(t for _, _, t in imports) != old_imports:
            if error is None:
                return None  # the bindings changed: every block must be checked again
            # code being typed hides imports from the parser: keep the known ones
            imports = [(region_start, region_start, t) for t in old_imports]
        prefix = self.prefix
        if region_start == 0:
            # the region holds the prelude: it may have moved (lines added above it)
            self.prefix = _prefix_end(layout, imports, self.cuts)
        # A notebook: a fix that adds an import lands among the imports of other cells, which
        # the region's header synthesizes; a whole-file check of a notebook costs seconds on a
        # keystroke, so the finding goes without its fix until the settle (with typing paused).
        unsettled: list | None = [] if self.cuts else None
        region_findings = self._check_region(new, region_start, region_end_new, error,
                                             unsettled)
        if region_findings is None:
            self.prefix = prefix
            return None
        broken = any(f.code == SYNTAX_ERROR for f in region_findings)
        if broken:
            spans = [(region_start, region_end_new, True)]  # no trustworthy structure
        else:
            spans = _spans(region_text, region_start, layout, self.cuts)
        if not self.cross_block:
            # The region's check chose its rules from the region's text: a rule that relates
            # definitions may match the file for text outside it (ML703: `LOG = []` up there,
            # `LOG.append(...)` typed here). Asked of the whole text (its rules' text
            # conditions only), until the next whole-file check: once true, it stays true.
            plan = self.engine.plan(text, self.path, parse_always=True, blank_blocks=False,
                                    role=self.role)
            self.cross_block = plan is not None and not plan.block_local
        # module-level code changed: whole-module rules may judge differently (code being
        # typed keeps the region view: its syntax error is the news). A settle owed from an
        # earlier check stays owed until one is done (its result may never have been shown:
        # overtaken, or its settle interrupted), and so does one owed while the code was
        # broken (once repaired, below).
        old_end = self.blocks[i1].end
        self.needs_settle = not broken and (
            self.needs_settle
            or bool(unsettled)
            or self.cross_block
            or any(blk.glue for blk in self.blocks[i0:i1 + 1]) or any(g for _, _, g in spans)
            # a fix elsewhere that also edits lines here (e.g. the uses of a global it renames)
            or any(_reaches(blk, region_start, n_old) for blk in self.blocks[:i0])
            or any(_reaches(blk, 0, old_end) for blk in self.blocks[i1 + 1:]))
        new_blocks = self._blocks(spans, imports, region_findings)
        tail = self.blocks[i1 + 1:]
        if delta:
            tail = [Block(blk.start + delta, blk.end + delta, blk.imports,
                          [shift_finding(f, delta) for f in blk.findings], blk.glue)
                    for blk in tail]
        self.blocks = self.blocks[:i0] + new_blocks + tail
        self.text, self.lines = text, new
        if region_start == 0:
            self.enabled = self._set_extra()
        was_broken = any(f.code == SYNTAX_ERROR for f in self.findings)
        self.findings = self._merge()
        self._learn_cross_rules(new_blocks)
        if self.cross_rules and any(f.code in self.cross_rules for blk in self.blocks
                                    for f in blk.findings):
            self.needs_settle = True  # its fix may read the lines that just changed
        if was_broken and not broken:
            # Repaired, or a syntax error is left in another block: one the parser placed
            # there from a text this region broke (its recovery can put the error lines
            # away, even at the top of the file) may be gone; and what the other blocks'
            # findings said about the broken file may not hold.
            self.needs_settle = True
        self.stats.partial += 1
        self.stats.lines_checked += region_end_new - region_start
        return True

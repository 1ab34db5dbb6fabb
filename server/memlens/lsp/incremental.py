"""Re-analyse only what an edit touched: unchanged top-level blocks keep their findings.

A document is cut into blocks of whole top-level statements: each `def`/`class` (with its
decorators) is a block, and each run of other module-level statements is one block (so rules
relating consecutive module-level statements still see them together). After an edit, the blocks
the changed lines touch, plus their neighbours, form the region that is checked again, alone,
behind a header of every import statement of the file (the engine's rules are import-aware, and
`resolve_imports` reads every import of a file). The other blocks keep their findings, shifted by
the number of lines the edit added or removed.

The result equals `engine.check_source(text)` for valid code (tests/lsp check this on random
edits), with two deliberate differences for code being typed: a syntax error is reported for the
region it is in (so the findings of the rest of the file stay visible), and at most one syntax
error is reported. Whenever the shortcut would not be exact it is not taken and the whole file is
checked: an edit that changes the imports, a fix that edits the header (e.g. adds an import), a
file-level `# memlens: ignore-file`, or no earlier state.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from ast_grep_py import SgRoot

from memlens.engine import SYNTAX_ERROR, Edit, Finding, Position
from memlens.engine.suppression import ignores_file

IMPORT_RULE = {"rule": {"any": [{"kind": "import_statement"}, {"kind": "import_from_statement"},
                                {"kind": "future_import_statement"}]}}
LARGE = 1_000_000  # characters: above this, even the first check goes block by block
DEFINITION_KINDS = frozenset({"function_definition", "class_definition", "decorated_definition"})


@dataclass
class Block:
    start: int  # first line, 0-based
    end: int  # one past the last line
    imports: tuple[str, ...]
    findings: list[Finding]


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


def _split(root, first_line: int, end_line: int) -> list[tuple[int, int]]:
    """Line spans [start, end) of the blocks of a parsed text, covering first..end contiguously."""
    starts: list[int] = []
    previous_was_glue = False
    for child in root.children():
        line = child.range().start.line + first_line
        if child.kind() in DEFINITION_KINDS:
            starts.append(line)
            previous_was_glue = False
        elif child.kind() == "comment":
            continue  # comments stick to what precedes them
        elif not previous_was_glue:
            starts.append(line)
            previous_was_glue = True
    if not starts or starts[0] != first_line:
        starts.insert(0, first_line)
    starts = sorted(set(starts))
    return [(s, e) for s, e in zip(starts, starts[1:] + [end_line]) if e > s] or [
        (first_line, end_line)]


def _imports_by_line(root, first_line: int) -> list[tuple[int, str]]:
    return [(node.range().start.line + first_line, node.text())
            for node in root.find_all(IMPORT_RULE)]


class IncrementalChecker:
    """Findings of one document, updated edit by edit. Not thread-safe: one worker uses it."""

    def __init__(self, engine, path: str):
        self.engine = engine
        self.path = path
        self.text: str | None = None
        self.lines: list[str] = []
        self.blocks: list[Block] = []
        self.findings: list[Finding] = []
        self.header = ""
        self.header_lines = 0
        self.stats = Stats()

    # -- public -----------------------------------------------------------------------------

    def check(self, text: str) -> list[Finding]:
        if text == self.text:
            self.stats.unchanged += 1
            return self.findings
        if ignores_file(text):
            self._reset(text)
            return self.findings
        result = None
        if self.text is not None and self.blocks and self.header_lines >= 0:
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
        self.header, self.header_lines = "", -1

    def _full(self, text: str) -> None:
        self.stats.full += 1
        lines = text.split("\n")
        self.stats.lines_checked += len(lines)
        root = SgRoot(text, "python").root()
        spans = _split(root, 0, len(lines))
        imports = _imports_by_line(root, 0)
        self._set_header(imports)
        findings = None
        if len(text) > LARGE and self.header_lines >= 0 and root.find(kind="ERROR") is None:
            # A huge file: block by block, so that no step costs time in the file's size
            # (some fixes read the whole source text once per finding).
            findings = []
            for start, end in spans:
                region = self._check_region("\n".join(lines[start:end]), start)
                if region is None:
                    findings = None
                    break
                findings += region
        if findings is None:
            findings = self.engine.check_source(text, self.path, prefilter=False)
        self.text, self.lines = text, lines
        self.blocks = self._blocks(spans, imports, findings)
        self.findings = self._merge()

    def _check_region(self, region: str, region_start: int) -> list[Finding] | None:
        """The findings of `region` (lines from `region_start` on), checked alone behind the
        import header; None when that would not be exact."""
        checked = self.engine.check_source(self.header + region, self.path, prefilter=False)
        offset = region_start - self.header_lines
        out = []
        for f in checked:
            if f.start.line < self.header_lines:
                if f.code == SYNTAX_ERROR:
                    return None
                continue  # a finding of the header copy: its own block reports it
            if f.fix is not None and any(e.start.line < self.header_lines
                                         for e in f.fix.edits):
                return None  # a fix that edits the top of the file (adds an import)
            out.append(shift_finding(f, offset))
        return out

    def _set_header(self, imports: list[tuple[int, str]]) -> None:
        header = "\n".join(dict.fromkeys(text for _, text in imports))  # bindings: a union
        if header and SgRoot(header, "python").root().find(kind="ERROR") is not None:
            self.header, self.header_lines = "", -1  # an odd header: always check the whole file
            return
        self.header = header + "\n" if header else ""
        self.header_lines = self.header.count("\n")

    @staticmethod
    def _blocks(spans, imports, findings) -> list[Block]:
        starts = [s for s, _ in spans]
        blocks = [Block(s, e, (), []) for s, e in spans]
        by_block: dict[int, list[str]] = {}
        for line, text in imports:
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
        if region_end_new < region_start or (i1 == len(self.blocks) - 1 and region_end_new != n_new):
            return None
        region = "\n".join(new[region_start:region_end_new])
        root = SgRoot(region, "python").root()
        imports = _imports_by_line(root, region_start)
        old_imports = tuple(t for blk in self.blocks[i0:i1 + 1] for t in blk.imports)
        if tuple(t for _, t in imports) != old_imports:
            return None  # the bindings may change: every block must be checked again
        region_findings = self._check_region(region, region_start)
        if region_findings is None:
            return None
        if any(f.code == SYNTAX_ERROR for f in region_findings):
            spans = [(region_start, region_end_new)]  # no trustworthy structure: one block
        else:
            spans = _split(root, region_start, region_end_new)
        new_blocks = self._blocks(spans, imports, region_findings)
        tail = self.blocks[i1 + 1:]
        if delta:
            tail = [Block(blk.start + delta, blk.end + delta, blk.imports,
                          [shift_finding(f, delta) for f in blk.findings]) for blk in tail]
        self.blocks = self.blocks[:i0] + new_blocks + tail
        self.text, self.lines = text, new
        self.findings = self._merge()
        self.stats.partial += 1
        self.stats.lines_checked += region_end_new - region_start
        return True

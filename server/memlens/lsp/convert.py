"""Engine values -> LSP values, as plain JSON dicts (the hot path: no cattrs on the way out).

The engine counts columns in code points (Python str indices); LSP counts in the negotiated
encoding, UTF-16 by default. Lines that are pure ASCII need no conversion.
"""

from __future__ import annotations

from collections.abc import Sequence

from memlens.engine import lines as line_model

SEVERITY = {"error": 1, "warning": 2, "info": 3, "information": 3, "hint": 4}
SOURCE = "memlens"


class Encoder:
    """Code-point columns <-> client columns for one encoding ("utf-16", "utf-8", "utf-32").

    Conversions encode the line up to the column (C speed): a Python loop over a 5 MB line with
    one "é" held the event loop 1.5 s a keystroke."""

    def __init__(self, encoding: str = "utf-16"):
        self.encoding = str(getattr(encoding, "value", encoding) or "utf-16").lower()

    def units(self, text: str) -> int:
        if self.encoding == "utf-32" or text.isascii():
            return len(text)
        if self.encoding == "utf-8":
            return len(text.encode("utf-8", "surrogatepass"))
        return len(text.encode("utf-16-le", "surrogatepass")) // 2

    def to_client(self, lines: Sequence[str], line: int, column: int) -> dict:
        """A code-point position -> an LSP Position dict."""
        if line < 0:
            return {"line": 0, "character": 0}
        if line >= len(lines):
            return {"line": max(len(lines) - 1, 0) if lines else 0,
                    "character": self.units(lines[-1]) if lines else 0}
        text = lines[line]
        if column <= 0:
            return {"line": line, "character": 0}
        if text.isascii() or self.encoding == "utf-32":
            return {"line": line, "character": min(column, len(text))}
        return {"line": line, "character": self.units(text[:column])}

    def from_client(self, lines: Sequence[str], line: int, character: int) -> tuple[int, int]:
        """An LSP position -> (line, code-point column)."""
        if line >= len(lines) or line < 0:
            return max(min(line, len(lines)), 0), 0
        return line, self.column(lines[line], character)

    def column(self, text: str, character: int) -> int:
        """The code-point column of client column `character` in the line `text`: the first
        one at or past it (a column inside a character is the end of that character)."""
        if character <= 0:
            return 0
        # a code point is at least one unit: the answer lies within the first `character`
        prefix = text[:character]
        if prefix.isascii() or self.encoding == "utf-32":
            return len(prefix)
        units = self.units(prefix)
        if units <= character:
            return len(prefix)
        # units beyond one a code point only grow along the line: the answer is at least
        # `character` minus all of them; search the few columns between
        lo, hi = max(character - (units - len(prefix)), 0), len(prefix)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.units(prefix[:mid]) >= character:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def range(self, lines: Sequence[str], start, end) -> dict:
        return {"start": self.to_client(lines, start.line, start.column),
                "end": self.to_client(lines, end.line, end.column)}


def split_lines(text: str) -> list[str]:
    """Lines as the engine and LSP number them (`engine/lines.py`), without their breaks."""
    return line_model.split_lines(text)


def diagnostic(finding, lines: Sequence[str], enc: Encoder, extra: str = "") -> dict:
    out = {
        "range": enc.range(lines, finding.start, finding.end),
        "severity": SEVERITY.get(finding.severity, 2),
        "code": finding.code,
        "source": SOURCE,
        "message": finding.message + extra,
    }
    if finding.url:
        out["codeDescription"] = {"href": finding.url}
    data: dict = {"code": finding.code}
    if finding.fix is not None:  # the edits themselves come with the code action
        data["fix"] = {"applicability": finding.fix.applicability,
                       "message": finding.fix.message}
    out["data"] = data
    return out


def notice(code: str, message: str) -> dict:
    """A diagnostic on the first line that says why a file has no findings (too large, its check
    stopped)."""
    return {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "severity": 3, "code": code, "source": SOURCE, "message": message,
            "data": {"code": code}}


def text_edits(edits, doc_lines: Sequence[str], enc: Encoder, ending: str = "\n") -> list[dict]:
    """The fix's edits for the client; line breaks they insert are written as the document's
    own (`ending`)."""
    return [{"range": enc.range(doc_lines, e.start, e.end),
             "newText": line_model.with_line_ending(e.content, ending)} for e in edits]


def whole_text_edit(old_text: str, new_text: str, enc: Encoder) -> dict:
    """One edit replacing the differing middle of `old_text` by that of `new_text` (lines as
    LSP counts them; the new lines end as the old text's do)."""
    ending = line_model.line_ending(old_text)
    old_lines, new_lines = line_model.split_lines(old_text), line_model.split_lines(new_text)
    start = 0
    while start < min(len(old_lines), len(new_lines)) and old_lines[start] == new_lines[start]:
        start += 1
    if start >= min(len(old_lines), len(new_lines)):  # one text is a prefix of the other
        start = max(min(len(old_lines), len(new_lines)) - 1, 0)
    end_old, end_new = len(old_lines), len(new_lines)
    while end_old > start and end_new > start and old_lines[end_old - 1] == new_lines[end_new - 1]:
        end_old -= 1
        end_new -= 1
    if end_old < len(old_lines):
        rng = {"start": {"line": start, "character": 0}, "end": {"line": end_old, "character": 0}}
        new = "".join(line + ending for line in new_lines[start:end_new])
    else:  # the change reaches the last line
        rng = {"start": {"line": start, "character": 0},
               "end": enc.to_client(old_lines, len(old_lines) - 1, len(old_lines[-1]))}
        new = ending.join(new_lines[start:])
    return {"range": rng, "newText": new}

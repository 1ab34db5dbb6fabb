"""Where each line of a document starts, kept up to date edit by edit.

Finding the offset of line 120,000 of a 5 MB document by scanning for line breaks costs tens of
milliseconds; 200 one-character edits then held the server for seconds. Here the lengths of the
lines (each with its line break) are kept in chunks of about `CHUNK` lines, each chunk with its
total: the offset of a line is the sum of the totals before its chunk plus the lengths before
it in the chunk, and an edit rewrites only the lines it touches. Both cost about the square
root of the line count, not the file's size.

Lines end at "\\r\\n", "\\r" or "\\n" (`engine/lines.py`); the last line has no break.
"""

from __future__ import annotations

from memlens.engine.lines import LINE_BREAK

CHUNK = 512


def _has_break(text: str) -> bool:
    return "\n" in text or "\r" in text


def _lengths(text: str) -> list[int]:
    """The length of each line of `text`, its line break included."""
    out, start = [], 0
    for m in LINE_BREAK.finditer(text):
        out.append(m.end() - start)
        start = m.end()
    out.append(len(text) - start)
    return out


class LineIndex:
    def __init__(self, text: str):
        self._chunks: list[list[int]] = []
        self._totals: list[int] = []
        self._set(_lengths(text))

    def _set(self, lengths: list[int]) -> None:
        self._chunks = [lengths[i:i + CHUNK] for i in range(0, len(lengths), CHUNK)] or [[0]]
        self._totals = [sum(c) for c in self._chunks]

    @property
    def line_count(self) -> int:
        return sum(len(c) for c in self._chunks)

    def _locate(self, line: int) -> tuple[int, int, int]:
        """(chunk, index in it, offset of the chunk's first line) of `line` (0-based, < count)."""
        offset = 0
        for k, chunk in enumerate(self._chunks):
            if line < len(chunk):
                return k, line, offset
            line -= len(chunk)
            offset += self._totals[k]
        raise IndexError(line)

    def line_start(self, line: int) -> tuple[int, int] | None:
        """(offset where `line` starts, its length with its break); None past the last line."""
        if line < 0:
            return None
        try:
            k, i, offset = self._locate(line)
        except IndexError:
            return None
        chunk = self._chunks[k]
        return offset + sum(chunk[:i]), chunk[i]

    def replace(self, text: str, start_line: int, start_offset: int, end_line: int,
                end_offset: int, new: str) -> None:
        """Record that `text` (the document before the edit) had [start_offset, end_offset),
        which lies on lines start_line..end_line, replaced by `new`. The lines from the one
        before the edit to the one after it are counted again: a line break can only appear,
        vanish or change next to the edited span (a CR left before an inserted LF, say)."""
        if start_line == end_line and not _has_break(new) and \
                not _has_break(text[start_offset:end_offset]) and \
                text[start_offset - 1:start_offset] != "\r":
            # typing within a line, next to no CR: only that line's length changes (recounting
            # it cost milliseconds a keystroke on a line of megabytes)
            k, i, _ = self._locate(start_line)
            delta = len(new) - (end_offset - start_offset)
            self._chunks[k][i] += delta
            self._totals[k] += delta
            return
        count = self.line_count
        first = max(start_line - 1, 0)
        last = min(end_line + 1, count - 1)
        first_at = self.line_start(first)
        last_at = self.line_start(last)
        if first_at is None or last_at is None:
            self._set(_lengths(text[:start_offset] + new + text[end_offset:]))
            return
        region_start, region_end = first_at[0], last_at[0] + last_at[1]
        lengths = _lengths(text[region_start:start_offset] + new + text[end_offset:region_end])
        if last < count - 1:
            lengths.pop()  # the region ends with a line break: the empty "line" after it is not
        self._splice(first, last, lengths)

    def _splice(self, first: int, last: int, lengths: list[int]) -> None:
        """Replace the lengths of lines first..last by `lengths`."""
        k1, i1, _ = self._locate(first)
        k2, i2, _ = self._locate(last)
        merged = self._chunks[k1][:i1] + lengths + self._chunks[k2][i2 + 1:]
        pieces = [merged[i:i + CHUNK] for i in range(0, len(merged), CHUNK)] or []
        if not pieces and len(self._chunks) == k2 - k1 + 1:
            pieces = [[0]]
        self._chunks[k1:k2 + 1] = pieces
        self._totals[k1:k2 + 1] = [sum(p) for p in pieces]

"""CSV, TSV and line-oriented text: the byte size, the header's columns, and the rows, counted
when the whole file fits in the SAMPLE read from its start, else estimated from it ("~").

The estimate is the sample's rows times the file's bytes over the sample's: one number, good
to a factor that the variation of line lengths decides, which is what a size threshold needs.
A file compressed with gzip, bz2 or xz (pandas reads those by their suffix) is sampled through
its decompressor, never past SAMPLE bytes of output; its rows scale by the ratio of compressed
bytes consumed to bytes produced.
"""

from __future__ import annotations

import bz2
import csv
import io
import lzma
import zlib
from dataclasses import replace

from memlens.sizes.model import DataSize
from memlens.sizes.safe import Handle, Unreadable

SAMPLE = 64 * 2**10
MAX_COLUMNS = 10_000
_NAME = 256  # the longest column name kept
_DELIMITERS = (",", "\t", ";", "|")


def compression_of(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return None


def _decompressed(handle: Handle, method: str) -> tuple[bytes, int, bool]:
    """(up to SAMPLE bytes of output, compressed bytes consumed, whether that was the whole
    stream)."""
    raw = handle.read_at(0, SAMPLE)
    if method == "gzip":
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = decoder.decompress(raw, SAMPLE)
        consumed = len(raw) - len(decoder.unconsumed_tail) - len(decoder.unused_data)
        eof = decoder.eof
    else:
        decompressor = bz2.BZ2Decompressor() if method == "bz2" else lzma.LZMADecompressor()
        out = decompressor.decompress(raw, SAMPLE)
        # (these keep the input they have not used inside: all of it counts as consumed, which
        # errs towards fewer rows)
        consumed = len(raw) - len(decompressor.unused_data) if decompressor.eof else len(raw)
        eof = decompressor.eof
    return out, consumed, eof and consumed == handle.size and len(out) < SAMPLE


def read_text(handle: Handle, kind: str) -> DataSize:
    method = compression_of(handle.read_at(0, 8))
    if method is None:
        sample = handle.read_at(0, SAMPLE)
        whole = len(sample) == handle.size
        total = float(handle.size)
    else:
        try:
            sample, consumed, whole = _decompressed(handle, method)
        except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError) as exc:
            raise Unreadable(f"a broken {method} stream ({exc})") from None
        # the uncompressed size, at the sample's compression ratio
        total = len(sample) * handle.size / consumed if consumed else 0.0
    base = DataSize(path=handle.path, kind=kind, bytes=handle.size,
                    note=f"{method}-compressed" if method else "")
    if not sample:
        return replace(base, rows=0 if whole else None, rows_exact=whole,
                       columns=() if kind != "text" and whole else None)
    if b"\x00" in sample[:4096]:
        return _noted(base, "binary content: rows and columns not read")
    if not whole:
        cut = sample.rfind(b"\n")
        if cut < 0:
            return _noted(base, "no line end in the first 64 KiB")
        sample = sample[:cut + 1]
    text = sample.decode("utf-8", "replace")
    if kind == "text":
        lines = text.count("\n") + (not text.endswith("\n"))
        return _rows(base, lines, len(sample), total, whole)
    delimiter = "\t" if kind == "tsv" else _delimiter(text[:text.find("\n") + 1 or None])
    try:
        records = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""),
                             delimiter=delimiter)
        header = next(records, [])
        header_bytes = _header_bytes(text, records.line_num)
        count = sum(1 for row in records if row)
    except csv.Error:
        return _noted(base, "the sample is not CSV")
    columns = tuple(name[:_NAME] for name in header[:MAX_COLUMNS])
    base = replace(base, columns=columns, complete=len(header) <= MAX_COLUMNS)
    return _rows(base, count, len(sample) - header_bytes, total - header_bytes, whole)


def _rows(base: DataSize, count: int, sample_bytes: int, total_bytes: float,
          whole: bool) -> DataSize:
    """Rows counted in the whole file, or the sample's rows per byte times the file's bytes."""
    if whole:
        return replace(base, rows=count, rows_exact=True)
    if count == 0 or sample_bytes <= 0:
        return _noted(base, "no whole row in the first 64 KiB")
    estimate = round(count * total_bytes / sample_bytes)
    return replace(base, rows=max(estimate, count), rows_exact=False)


def _noted(size: DataSize, note: str) -> DataSize:
    return replace(size, note=f"{size.note}; {note}" if size.note else note)


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _header_bytes(text: str, lines: int) -> int:
    """Bytes of the header record: its first `lines` physical lines (a quoted field may hold a
    line end)."""
    end = 0
    for _ in range(max(lines, 1)):
        found = text.find("\n", end)
        if found < 0:
            return len(text.encode("utf-8"))
        end = found + 1
    return len(text[:end].encode("utf-8"))

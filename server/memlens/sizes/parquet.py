"""Parquet: the footer, which holds the rows, the schema and each column chunk's compressed and
uncompressed size. The footer's bytes are read here (its length is in the file's last 8 bytes,
bounded by MAX_FOOTER) and handed to pyarrow as a buffer, so pyarrow never opens the path
itself. Without pyarrow, the byte size alone.
"""

from __future__ import annotations

import struct
from collections import defaultdict

from memlens.sizes.model import DataSize, Part
from memlens.sizes.safe import Handle, Unreadable

MAGIC = b"PAR1"
MAX_FOOTER = 4 * 2**20
MAX_CHUNKS = 100_000  # column chunks summed per column (row groups x columns)
MAX_PARTS = 4_096


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except Exception:  # not installed, or broken: the byte size is still known
        return None
    return pa, pq


def read_parquet(handle: Handle) -> DataSize:
    base = DataSize(path=handle.path, kind="parquet", bytes=handle.size)
    tail = handle.tail(8)
    if len(tail) < 8 or tail[4:] != MAGIC or handle.read_at(0, 4) != MAGIC:
        raise Unreadable("not a parquet file (no PAR1 at its ends)")
    (length,) = struct.unpack("<I", tail[:4])
    if length > MAX_FOOTER:
        return _note(base, f"a footer of {length} bytes: not read")
    if length + 12 > handle.size:
        raise Unreadable("a parquet footer longer than the file")
    libraries = _pyarrow()
    if libraries is None:
        return _note(base, "pyarrow is not installed: the byte size only")
    pa, pq = libraries
    footer = handle.read_at(handle.size - 8 - length, length)
    try:
        meta = pq.read_metadata(pa.BufferReader(MAGIC + footer + tail))
        schema = meta.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow's errors: ArrowInvalid, OSError, ...
        raise Unreadable(f"an unreadable parquet footer ({type(exc).__name__})") from None
    names = tuple(str(name)[:256] for name in schema.names)
    types = {str(f.name): str(f.type) for f in schema}
    stored: defaultdict[str, int] = defaultdict(int)
    loaded: defaultdict[str, int] = defaultdict(int)
    total_stored = total_loaded = 0
    per_column = meta.num_row_groups * meta.num_columns <= MAX_CHUNKS
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        total_loaded += group.total_byte_size
        if per_column:
            for c in range(group.num_columns):
                chunk = group.column(c)
                top = chunk.path_in_schema.split(".", 1)[0]
                stored[top] += chunk.total_compressed_size
                loaded[top] += chunk.total_uncompressed_size
                total_stored += chunk.total_compressed_size
    if per_column and total_stored > handle.size:
        raise Unreadable("a parquet footer claiming more bytes than the file holds")
    parts = tuple(Part(name=name, bytes=loaded.get(name) if per_column else None,
                       stored=stored.get(name) if per_column else None, dtype=types.get(name))
                  for name in names[:MAX_PARTS])
    return DataSize(path=handle.path, kind="parquet", bytes=handle.size,
                    data_bytes=total_loaded, rows=meta.num_rows, rows_exact=True,
                    columns=names, parts=parts,
                    complete=per_column and len(names) <= MAX_PARTS,
                    note="" if per_column else "too many column chunks: sizes per column "
                                                "not summed")


def _note(size: DataSize, note: str) -> DataSize:
    from dataclasses import replace

    return replace(size, note=note)

"""Counting the bytes a reader reads, and files built by hand where no library writes them."""

from __future__ import annotations

import contextlib
import os
import struct

from memlens.sizes import safe


@contextlib.contextmanager
def bytes_read():
    """Yields a list whose first item is the bytes read through the size readers' handles."""
    total = [0]
    original = os.pread

    def counting(fd, n, offset):
        data = original(fd, n, offset)
        total[0] += len(data)
        return data

    safe.os.pread = counting
    try:
        yield total
    finally:
        safe.os.pread = original


def zip_end_record(entries: int, directory_size: int, directory_offset: int) -> bytes:
    return struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, min(entries, 0xFFFF),
                       min(entries, 0xFFFF), directory_size, directory_offset, 0)


def sparse(path, size: int, head: bytes = b"", tail: bytes = b"") -> None:
    """A file of `size` bytes that takes no room: `head`, zeros, `tail`."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
        if tail:
            f.seek(size - len(tail))
            f.write(tail)
    os.utime(path)

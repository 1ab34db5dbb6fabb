"""A zip file's directory (names and sizes), read within bounds: the `.npz` and torch
checkpoint readers stand on it.

`zipfile` reads the end record, then the whole central directory in one read of the size the
end record claims, then makes one ZipInfo per entry. So the end record is read here first
(stdlib `struct`), and a claim of more than MAX_ENTRIES entries or a directory over
MAX_DIRECTORY bytes is refused before zipfile reads anything; zipfile then reads through the
handle's budget, which stops any read the checks here did not foresee.
"""

from __future__ import annotations

import struct
import zipfile

from memlens.sizes.safe import Handle, Unreadable

MAX_ENTRIES = 20_000
MAX_DIRECTORY = 2 * 2**20
# the end record is 22 bytes plus a comment of up to 65,535
_END_SEARCH = 22 + 65_535
_END = b"PK\x05\x06"
_END64 = b"PK\x06\x06"
_LOCATOR64 = b"PK\x06\x07"


def is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def directory_claim(handle: Handle) -> tuple[int, int]:
    """(entries, directory bytes) the end record claims (the zip64 one when present)."""
    tail = handle.tail(min(handle.size, 22))
    at = tail.rfind(_END)
    if at < 0:
        tail = handle.tail(min(handle.size, _END_SEARCH))
        at = tail.rfind(_END)
        if at < 0:
            raise Unreadable("not a zip file (no end record)")
    end_offset = handle.size - len(tail) + at
    record = tail[at:at + 22]
    if len(record) < 22:
        raise Unreadable("a truncated zip end record")
    # signature, disk, directory's disk, entries on this disk, entries, size, offset, comment
    _, _, _, _, entries, size, _, _ = struct.unpack("<4sHHHHIIH", record)
    if entries == 0xFFFF or size == 0xFFFFFFFF:
        locator = handle.read_at(end_offset - 20, 20) if end_offset >= 20 else b""
        if len(locator) == 20 and locator.startswith(_LOCATOR64):
            (offset64,) = struct.unpack("<8xQ4x", locator)
            record64 = handle.read_at(offset64, 56)
            if len(record64) < 56 or not record64.startswith(_END64):
                raise Unreadable("a broken zip64 end record")
            entries, size = struct.unpack("<32xQQ8x", record64)
    return entries, size


def open_zip(handle: Handle) -> zipfile.ZipFile:
    """The zip's directory, or Unreadable for one too large to list or broken."""
    entries, size = directory_claim(handle)
    if entries > MAX_ENTRIES:
        raise Unreadable(f"a zip of {entries} entries (over {MAX_ENTRIES})")
    if size > MAX_DIRECTORY:
        raise Unreadable(f"a zip directory of {size} bytes (over {MAX_DIRECTORY})")
    try:
        archive = zipfile.ZipFile(handle.reader())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            struct.error, UnicodeDecodeError) as exc:
        raise Unreadable(f"a broken zip ({exc})") from None
    if len(archive.infolist()) > MAX_ENTRIES:
        raise Unreadable(f"a zip of over {MAX_ENTRIES} entries")
    return archive


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The first `limit` bytes of a member (decompressed, never more than that)."""
    try:
        with archive.open(info) as member:
            return member.read(limit)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError,
            RuntimeError, struct.error) as exc:
        raise Unreadable(f"a broken zip member ({exc})") from None

"""`.npy` headers and `.npz` members, read as numpy's format describes them (numpy itself is not
imported: its header is a Python literal, read with `ast.literal_eval`, bounded in length).

An `.npy` file is a magic string, a version, the header's length, the header (`{'descr':
'<f8', 'fortran_order': False, 'shape': (1000, 3)}`), then the data. The shape is trusted only
when the file holds as many bytes as it implies (a truncated file, or a header claiming 10^12
rows in a small file, gives no shape). An `.npz` is a zip of `.npy` members: its directory gives
each member's size, and the first MAX_HEADERS members' headers their shapes and dtypes.
"""

from __future__ import annotations

import ast
import math
import re
import struct

from memlens.sizes import zips
from memlens.sizes.model import DataSize, Part
from memlens.sizes.safe import Handle, OverBudget, Unreadable

MAGIC = b"\x93NUMPY"
MAX_HEADER = 64 * 2**10  # numpy's own default bound is 10,000 bytes
MAX_HEADERS = 256  # .npz members whose headers are read (the rest: sizes only)
MAX_DIMS = 64
_DESCR = re.compile(r"^([<>|=]?)([a-zA-Z?])(\d*)(?:\[\w+\])?$")
_NAMES = {"f": "float", "i": "int", "u": "uint", "c": "complex"}


class Header:
    def __init__(self, length: int, descr, fortran: bool, shape: tuple[int, ...]):
        self.length = length  # of everything before the data
        self.descr, self.fortran, self.shape = descr, fortran, shape
        self.itemsize = itemsize(descr)
        self.dtype = dtype_name(descr)

    @property
    def data_bytes(self) -> int | None:
        if self.itemsize is None:
            return None
        return math.prod(self.shape) * self.itemsize


def parse_header(head: bytes) -> Header | int:
    """The header at the start of `head`; or, when `head` is too short to hold it, the number
    of bytes it needs. Unreadable when it is no npy header."""
    if len(head) < 10 or not head.startswith(MAGIC):
        if len(head) < 10 and MAGIC.startswith(head[:6]):
            return 12
        raise Unreadable("not an .npy file")
    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3):
        if len(head) < 12:
            return 12
        (length,) = struct.unpack("<I", head[8:12])
        start = 12
    else:
        raise Unreadable(f"an .npy format version {major} not known")
    if length > MAX_HEADER:
        raise Unreadable(f"an .npy header of {length} bytes")
    if len(head) < start + length:
        return start + length
    raw = head[start:start + length]
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError,
            TypeError) as exc:
        raise Unreadable(f"an unreadable .npy header ({type(exc).__name__})") from None
    if not isinstance(value, dict) or set(value) != {"descr", "fortran_order", "shape"}:
        raise Unreadable("an .npy header without descr, fortran_order and shape")
    shape = value["shape"]
    if not isinstance(shape, tuple) or len(shape) > MAX_DIMS or \
            not all(type(n) is int and n >= 0 for n in shape):
        raise Unreadable("an .npy header with a bad shape")
    if not isinstance(value["fortran_order"], bool):
        raise Unreadable("an .npy header with a bad fortran_order")
    return Header(start + length, value["descr"], value["fortran_order"], shape)


def itemsize(descr, depth: int = 0) -> int | None:
    """Bytes per item of a numpy descr (`'<f8'`, `'<U10'`, a structured list); None for
    objects (pickled: no fixed size) or what is not understood."""
    if depth > 8:
        return None
    if isinstance(descr, str):
        match = _DESCR.match(descr)
        if match is None:
            return None
        code, digits = match.group(2), match.group(3)
        if code == "O":
            return None
        if code == "?":
            return 1
        if not digits:
            return None
        n = int(digits)
        return 4 * n if code == "U" else n
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not isinstance(field, tuple) or len(field) not in (2, 3):
                return None
            size = itemsize(field[1], depth + 1)
            if size is None:
                return None
            if len(field) == 3:
                shape = field[2] if isinstance(field[2], tuple) else (field[2],)
                if not all(type(n) is int and n >= 0 for n in shape):
                    return None
                size *= math.prod(shape)
            total += size
        return total
    return None


def dtype_name(descr) -> str:
    if isinstance(descr, list):
        return "structured"
    if not isinstance(descr, str):
        return "?"
    match = _DESCR.match(descr)
    if match is None:
        return descr[:32]
    code, digits = match.group(2), match.group(3)
    if code == "b" and digits == "1" or code == "?":
        return "bool"
    if code == "O":
        return "object"
    if code in _NAMES and digits:
        return f"{_NAMES[code]}{int(digits) * 8}"
    return descr


def read_npy(handle: Handle) -> DataSize:
    head = handle.read_at(0, 4096)
    found = parse_header(head)
    if isinstance(found, int):
        head = handle.read_at(0, found)
        found = parse_header(head)
        if isinstance(found, int):
            raise Unreadable("a truncated .npy header")
    header = found
    data = header.data_bytes
    if data is not None and handle.size < header.length + data:
        raise Unreadable(f"the header's shape {header.shape} needs {header.length + data} "
                         f"bytes; the file has {handle.size}")
    return DataSize(path=handle.path, kind="npy", bytes=handle.size, data_bytes=data,
                    rows=header.shape[0] if header.shape else None, rows_exact=True,
                    dtype=header.dtype, shape=header.shape, fortran_order=header.fortran)


def read_npz(handle: Handle, archive=None) -> DataSize:
    archive = archive if archive is not None else zips.open_zip(handle)
    parts = []
    infos = archive.infolist()
    complete: bool | None = len(infos) <= MAX_HEADERS  # None: over budget, headers unread
    for index, info in enumerate(infos):
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        stored = info.compress_size if info.compress_size != info.file_size else None
        dtype = shape = None
        data = info.file_size
        if index < MAX_HEADERS and complete is not None and info.filename.endswith(".npy"):
            try:
                header = _member_header(archive, info)
            except OverBudget:
                header, complete = None, None  # the rest: sizes from the directory only
            if header is not None:
                dtype, shape = header.dtype, header.shape
                if header.data_bytes is not None and \
                        header.length + header.data_bytes <= info.file_size:
                    data = header.data_bytes
                else:
                    dtype = shape = None  # the member holds less than its header says
        parts.append(Part(name=name, bytes=data, stored=stored, dtype=dtype, shape=shape))
    total = sum(info.file_size for info in infos)
    return DataSize(path=handle.path, kind="npz", bytes=handle.size, data_bytes=total,
                    parts=tuple(parts), complete=bool(complete))


def _member_header(archive, info) -> Header | None:
    """A member's npy header; None for a member that is not one (OverBudget goes up)."""
    try:
        head = zips.read_member(archive, info, 4096)
        found = parse_header(head)
        if isinstance(found, int):
            head = zips.read_member(archive, info, found)
            found = parse_header(head)
        return found if isinstance(found, Header) else None
    except OverBudget:
        raise
    except Unreadable:
        return None

"""safetensors files: an 8-byte header length, a JSON header naming each tensor's dtype, shape
and byte range, then the data. The header is read (up to MAX_HEADER bytes) and checked against
the file: every range inside the data, every range as long as its dtype and shape imply."""

from __future__ import annotations

import json
import math
import struct
from collections import Counter

from memlens.sizes.model import DataSize, Part
from memlens.sizes.safe import Handle, Unreadable

MAX_HEADER = 8 * 2**20  # the format's own bound is 100 MB; a 1,000-tensor model's is ~100 KB
MAX_PARTS = 4_096
# bits per element of each dtype the format names, and the name torch gives it
DTYPES = {
    "BOOL": (8, "bool"), "U8": (8, "uint8"), "I8": (8, "int8"), "I16": (16, "int16"),
    "U16": (16, "uint16"), "F16": (16, "float16"), "BF16": (16, "bfloat16"),
    "I32": (32, "int32"), "U32": (32, "uint32"), "F32": (32, "float32"),
    "F64": (64, "float64"), "I64": (64, "int64"), "U64": (64, "uint64"),
    "C64": (64, "complex64"), "F8_E4M3": (8, "float8_e4m3fn"), "F8_E5M2": (8, "float8_e5m2"),
    "F8_E8M0": (8, "float8_e8m0fnu"), "F6_E2M3": (6, "float6_e2m3"),
    "F6_E3M2": (6, "float6_e3m2"), "F4": (4, "float4_e2m1"),
}


def looks_like(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 8 + length <= size


def read_header(handle: Handle) -> tuple[dict, int]:
    """The header, and the bytes of data after it."""
    head = handle.read_at(0, 8)
    if len(head) < 8:
        raise Unreadable("a truncated safetensors header")
    (length,) = struct.unpack("<Q", head)
    if length > MAX_HEADER:
        raise Unreadable(f"a safetensors header of {length} bytes")
    if 8 + length > handle.size:
        raise Unreadable("a safetensors header longer than the file")
    try:
        header = json.loads(handle.read_at(8, length))
    except (ValueError, RecursionError, MemoryError) as exc:
        raise Unreadable(f"an unreadable safetensors header ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise Unreadable("a safetensors header that is not a JSON object")
    return header, handle.size - 8 - length


def read_safetensors(handle: Handle) -> DataSize:
    header, data_size = read_header(handle)
    parts: list[Part] = []
    dtypes: Counter[str] = Counter()
    total = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, nbytes = _tensor(entry, data_size)
        total += nbytes
        dtypes[dtype] += nbytes
        if len(parts) < MAX_PARTS:
            parts.append(Part(name=str(name)[:512], bytes=nbytes, dtype=dtype, shape=shape))
    count = len(header) - ("__metadata__" in header)
    return DataSize(path=handle.path, kind="safetensors", bytes=handle.size, data_bytes=total,
                    parts=tuple(parts), dtypes=tuple(sorted(dtypes.items(), key=lambda kv: -kv[1])),
                    complete=count <= MAX_PARTS)


def _tensor(entry, data_size: int) -> tuple[str, tuple[int, ...], int]:
    if not isinstance(entry, dict):
        raise Unreadable("a safetensors entry that is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPES:
        raise Unreadable(f"a safetensors dtype not known: {str(dtype)[:20]}")
    if not isinstance(shape, list) or len(shape) > 64 or \
            not all(type(n) is int and n >= 0 for n in shape):
        raise Unreadable("a safetensors entry with a bad shape")
    if not isinstance(offsets, list) or len(offsets) != 2 or \
            not all(type(n) is int for n in offsets) or \
            not 0 <= offsets[0] <= offsets[1] <= data_size:
        raise Unreadable("a safetensors entry whose bytes lie outside the file")
    bits, name = DTYPES[dtype]
    nbytes = offsets[1] - offsets[0]
    if (math.prod(shape) * bits + 7) // 8 != nbytes:
        raise Unreadable("a safetensors entry whose size does not match its shape")
    return name, tuple(shape), nbytes

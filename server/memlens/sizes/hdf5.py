"""HDF5: each dataset's shape, dtype and stored size, with h5py when it is importable (the byte
size alone without it). h5py reads through the handle (its `fileobj` driver), so every byte it
reads is charged to the budget, and it never opens the path itself; at most MAX_OBJECTS objects
are visited. Only metadata is read: no dataset's data.
"""

from __future__ import annotations

import math
from dataclasses import replace

from memlens.sizes.model import DataSize, Part
from memlens.sizes.safe import Handle, OverBudget, Unreadable

SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_OBJECTS = 2_000
MAX_PARTS = 512


def looks_like(handle: Handle, head: bytes) -> bool:
    """The signature sits at 0, or after a user block of 512, 1024, 2048... bytes."""
    if head.startswith(SIGNATURE):
        return True
    offset = 512
    while offset <= min(handle.size, 8192):
        if handle.read_at(offset, 8) == SIGNATURE:
            return True
        offset *= 2
    return False


def _h5py():
    try:
        import h5py
    except Exception:
        return None
    return h5py


def read_hdf5(handle: Handle) -> DataSize:
    base = DataSize(path=handle.path, kind="hdf5", bytes=handle.size)
    if not looks_like(handle, handle.read_at(0, 8)):
        raise Unreadable("no HDF5 signature")
    h5py = _h5py()
    if h5py is None:
        return replace(base, note="h5py is not installed: the byte size only")
    parts: list[Part] = []
    seen = [0]
    total = [0]
    failed: list[BaseException] = []

    def visit(name, obj):
        seen[0] += 1
        if seen[0] > MAX_OBJECTS:
            return True  # stops the walk
        if isinstance(obj, h5py.Dataset):
            try:
                part = _dataset(name, obj)
            except OverBudget as exc:
                failed.append(exc)
                return True
            except Exception:
                part = Part(name=str(name)[:512])
            total[0] += part.bytes or 0
            if len(parts) < MAX_PARTS:
                parts.append(part)
        return None

    reader = handle.reader()
    try:
        with h5py.File(reader, "r") as file:
            file.visititems(visit)
    except OverBudget:
        raise
    except Exception as exc:  # h5py turns what its reads raise into OSError / KeyError
        if handle.used >= handle.budget or failed:
            raise OverBudget(handle.used, handle.budget) from None
        raise Unreadable(f"an unreadable HDF5 file ({type(exc).__name__})") from None
    if failed:
        raise failed[0]
    single = parts[0] if len(parts) == 1 else None
    return replace(base, data_bytes=total[0], parts=tuple(parts),
                   complete=seen[0] <= MAX_OBJECTS and len(parts) < MAX_PARTS,
                   shape=single.shape if single else None,
                   dtype=single.dtype if single else None,
                   rows=single.shape[0] if single and single.shape else None,
                   rows_exact=single is not None)


def _dataset(name: str, dataset) -> Part:
    shape = dataset.shape
    dtype = dataset.dtype
    nbytes = None
    if shape is not None and dtype.kind not in ("O",) and not dtype.hasobject:
        nbytes = math.prod(shape) * dtype.itemsize
    label = str(dtype) if dtype.names is None else "structured"
    return Part(name=str(name)[:512], bytes=nbytes, stored=dataset.id.get_storage_size(),
                dtype=label[:64], shape=tuple(int(n) for n in shape) if shape else shape)

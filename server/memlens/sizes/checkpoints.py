"""torch checkpoints: what `torch.save` wrote, without torch and without unpickling.

The zip format (torch >= 1.6) is a zip of `<archive>/data.pkl` (the pickled object, whose
tensors refer to their storages by key), `<archive>/data/<key>` (each storage's raw bytes,
stored uncompressed) and a few small records. The zip directory gives each storage's size; the
pickle's opcodes (`pickles.walk`) give the top-level keys and which storages lie under each, so
"`optimizer`: 0.9 GiB of the 1.4 GiB" is read without running the pickle. The older format
(a plain pickle stream) gives its byte size alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from memlens.sizes import pickles, zips
from memlens.sizes.model import DataSize, Part
from memlens.sizes.safe import Handle, Unreadable

MAX_PICKLE = 2 * 2**20  # pickles.MAX_OPS of opcodes take less


def pickle_member(names: list[str]) -> str | None:
    """The `<archive>/data.pkl` entry of a torch zip, if it is one."""
    found = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    return found[0] if len(found) == 1 else None


def read_torch(handle: Handle, archive=None) -> DataSize:
    archive = archive if archive is not None else zips.open_zip(handle)
    infos = archive.infolist()
    member = pickle_member([info.filename for info in infos])
    if member is None:
        raise Unreadable("a zip without a torch data.pkl")
    prefix = member[: -len("data.pkl")] + "data/"
    sizes = {info.filename[len(prefix):]: info.file_size for info in infos
             if info.filename.startswith(prefix) and "/" not in info.filename[len(prefix):]}
    total = sum(sizes.values())
    base = DataSize(path=handle.path, kind="torch", bytes=handle.size, data_bytes=total)
    info = archive.getinfo(member)
    if info.file_size > MAX_PICKLE:
        return replace(base, note=f"a pickle of {info.file_size} bytes: keys not read")
    walk = pickles.walk(zips.read_member(archive, info, MAX_PICKLE))
    if walk is None:
        return replace(base, note="its pickle could not be followed: keys not read")
    dtypes: Counter[str] = Counter()
    for key, size in sizes.items():
        storage = walk.storages.get(key)
        dtypes[storage.dtype if storage is not None and storage.dtype else "?"] += size
    parts = []
    for entry in walk.entries:
        keys = entry.storages & sizes.keys()
        entry_dtypes = {walk.storages[k].dtype for k in keys if k in walk.storages}
        parts.append(Part(
            name=entry.key, bytes=sum(sizes[k] for k in keys), tensors=len(keys),
            dtype=entry_dtypes.pop() if len(entry_dtypes) == 1 else None,
            shape=entry.shape))
    return replace(base, parts=tuple(parts), container=walk.container,
                    dtypes=tuple(sorted(dtypes.items(), key=lambda kv: -kv[1])),
                    complete=walk.complete)


def read_legacy(handle: Handle) -> DataSize:
    return DataSize(path=handle.path, kind="torch-legacy", bytes=handle.size,
                    note="the legacy (non-zip) torch format: its byte size only")

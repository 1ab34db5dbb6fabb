"""`read_size(path, root)`: what a file's metadata says about its size, by its kind.

The kind comes from the file's first bytes where they are a signature (npy, parquet, HDF5, zip,
pickle, safetensors), else from its suffix. Each kind's reader gets a budget of bytes it may
read (BUDGETS: the worst case; most files need a few KB). The answer is cached by (path, size,
mtime, inode); a file that changed while it was read gives "unknown" and is not cached.
Nothing leaves this function as an exception.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict

from memlens.sizes import arrays, checkpoints, folders, hdf5, parquet, safetensors_files, text, zips
from memlens.sizes.model import DataSize, unknown
from memlens.sizes.safe import Handle, Unreadable, open_path

KiB, MiB = 2**10, 2**20
BUDGETS = {
    "csv": 80 * KiB, "tsv": 80 * KiB, "text": 80 * KiB,
    "npy": 72 * KiB,
    "zip": 8 * MiB,  # directory (2 MiB at most), then .npz headers or a torch pickle (4 MiB)
    "safetensors": safetensors_files.MAX_HEADER + 64,
    "parquet": parquet.MAX_FOOTER + 64,
    "hdf5": 2 * MiB,
}
_HEAD = 16
_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "text", ".jsonl": "text",
    ".ndjson": "text", ".log": "text", ".parquet": "parquet", ".pq": "parquet", ".npy": "npy",
    ".npz": "npz", ".pt": "torch", ".pth": "torch", ".ckpt": "torch", ".bin": "torch",
    ".safetensors": "safetensors", ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5",
    ".he5": "hdf5", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib",
}
_COMPRESSED = (".gz", ".bz2", ".xz")


def read_size(path: str | os.PathLike, root: str | os.PathLike) -> DataSize:
    """The size evidence of `path` (relative to the workspace `root`, or absolute inside it)."""
    shown = os.fspath(path)
    try:
        return _read(shown, os.fspath(root))
    except Unreadable as exc:
        return unknown(shown, str(exc))
    except Exception as exc:  # a reader's bug or a library's surprise: still an answer
        return unknown(shown, f"unreadable ({type(exc).__name__})")


def kind_of_name(name: str) -> str:
    """The kind a file's name suggests ("file" when none)."""
    lower = name.lower()
    stem, ext = os.path.splitext(lower)
    if ext in _COMPRESSED:
        inner = _SUFFIXES.get(os.path.splitext(stem)[1])
        return inner if inner in ("csv", "tsv", "text") else "file"
    return _SUFFIXES.get(ext, "file")


class _Cache:
    """A small LRU of answers, keyed by what the file was when it was read."""

    def __init__(self, size: int = 512):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key, value: DataSize) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = _Cache()


def clear_cache() -> None:
    CACHE.clear()


def _read(path: str, root: str) -> DataSize:
    fd, st, real = open_path(root, path, folder=True)
    if stat.S_ISDIR(st.st_mode):
        try:
            entries, complete = folders.listing(fd)
        finally:
            os.close(fd)
        key: tuple[object, ...] = ("folder", real, tuple(entries), complete)
        found = CACHE.get(key)
        if found is None:
            found = folders.read_folder(real, entries, complete,
                                        read_file=lambda p: read_size(p, root),
                                        open_file=lambda p, n: _open(root, p, n))
            CACHE.put(key, found)
        return found
    key = (real, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
    found = CACHE.get(key)
    if found is not None:
        os.close(fd)
        return found
    handle = Handle(fd, st, real, _HEAD)
    try:
        kind = _sniff(handle, kind_of_name(real))
        handle.budget = handle.used + BUDGETS.get(kind, 0)
        try:
            result = _READERS[kind](handle)
        except Unreadable as exc:
            result = DataSize(path=real, kind=kind if kind != "zip" else "file",
                              bytes=handle.size, note=str(exc))
        if not handle.unchanged():
            return unknown(real, "changed while read")
        CACHE.put(key, result)
        return result
    finally:
        handle.close()


def _open(root: str, path: str, budget: int) -> Handle:
    fd, st, real = open_path(root, path)
    return Handle(fd, st, real, budget)


def _sniff(handle: Handle, named: str) -> str:
    """The kind, from the file's first bytes where they are a signature, else from its name."""
    head = handle.read_at(0, _HEAD)
    if head.startswith(arrays.MAGIC):
        return "npy"
    if head.startswith(parquet.MAGIC):
        return "parquet"
    if zips.is_zip(head):
        return "zip"
    if head.startswith(hdf5.SIGNATURE):
        return "hdf5"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # a pickle's PROTO
        return {"torch": "torch-legacy", "joblib": "joblib"}.get(named, "pickle")
    if safetensors_files.looks_like(head, handle.size):
        return "safetensors"
    if named in ("npz", "torch"):
        return "zip"  # named so, but without the signature: the reader says what it is not
    return named


def _read_zip(handle: Handle) -> DataSize:
    """A zip: a torch checkpoint when it holds a data.pkl, an .npz when it holds .npy files."""
    archive = zips.open_zip(handle)
    names = [info.filename for info in archive.infolist()]
    if checkpoints.pickle_member(names) is not None:
        return checkpoints.read_torch(handle, archive)
    if names and all(n.endswith(".npy") for n in names):
        return arrays.read_npz(handle, archive)
    return DataSize(path=handle.path, kind="file", bytes=handle.size,
                    note="a zip archive: its byte size only")


def _bytes_only(kind: str, note: str = ""):
    def read(handle: Handle) -> DataSize:
        return DataSize(path=handle.path, kind=kind, bytes=handle.size, note=note)
    return read


_READERS = {
    "csv": lambda h: text.read_text(h, "csv"),
    "tsv": lambda h: text.read_text(h, "tsv"),
    "text": lambda h: text.read_text(h, "text"),
    "npy": arrays.read_npy,
    "zip": _read_zip,
    "parquet": parquet.read_parquet,
    "safetensors": safetensors_files.read_safetensors,
    "hdf5": hdf5.read_hdf5,
    "torch-legacy": checkpoints.read_legacy,
    "pickle": _bytes_only("pickle", "never unpickled: its byte size only"),
    "joblib": _bytes_only("joblib", "never unpickled: its byte size only"),
    "file": _bytes_only("file"),
}

"""Folders a load names: a model folder (`from_pretrained("./local_dir")`), whose
`config.json` says the dtype the model is loaded in (`torch_dtype`, or `dtype` in newer
transformers) and whose weight files say what is stored (each read by its own reader); any other
folder gives the byte size of the files at its top.

transformers loads one format: the safetensors files when there are any, else the torch
`.bin` files; the weights' bytes are those of that format.
"""

from __future__ import annotations

import json
import os
import stat
from collections import Counter
from collections.abc import Callable

from memlens.sizes.model import DataSize, Part
from memlens.sizes.safe import Handle, Unreadable

MAX_ENTRIES = 4_096  # entries of a folder looked at
MAX_WEIGHT_FILES = 128  # weight files whose headers are read
MAX_CONFIG = 2**20
# the weight formats, in the order from_pretrained prefers them
FORMATS = ((".safetensors",), (".bin", ".pt", ".pth"), (".h5",), (".msgpack",))
_SKIP = (".index.json",)
# what a Trainer's checkpoint folder keeps beside the weights
_NOT_WEIGHTS = ("training_args", "optimizer", "scheduler", "rng_state")


def listing(fd: int) -> tuple[list[tuple[str, int, int, bool]], bool]:
    """(name, size, mtime_ns, is a symlink) of the regular files (and symlinks) at the top of
    the folder `fd`, and whether the listing is complete."""
    entries, complete = [], True
    with os.scandir(fd) as found:
        for count, entry in enumerate(found):
            if count >= MAX_ENTRIES:
                complete = False
                break
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                entries.append((entry.name, st.st_size, st.st_mtime_ns,
                                stat.S_ISLNK(st.st_mode)))
            elif stat.S_ISDIR(st.st_mode):
                complete = False  # a subfolder's files are not counted
    entries.sort()
    return entries, complete


def read_folder(path: str, entries, complete: bool,
                read_file: Callable[[str], DataSize],
                open_file: Callable[[str, int], Handle]) -> DataSize:
    names = {name for name, *_ in entries}
    weights = _weights(names)
    if "config.json" not in names and not weights:
        total = sum(size for _, size, _, link in entries if not link)
        return DataSize(path=path, kind="folder", bytes=total, complete=complete,
                        note="" if complete else "the files at its top only")
    dtype, note = _config_dtype(os.path.join(path, "config.json"), open_file) \
        if "config.json" in names else (None, "no config.json")
    parts: list[Part] = []
    dtypes: Counter[str] = Counter()
    on_disk = data = 0
    all_read = True
    for name in weights[:MAX_WEIGHT_FILES]:
        size = read_file(os.path.join(path, name))
        if not size.known:
            all_read = False
            parts.append(Part(name=name))
            continue
        on_disk += size.bytes or 0
        data += size.data_bytes if size.data_bytes is not None else (size.bytes or 0)
        dtypes.update(dict(size.dtypes))
        single = [d for d, _ in size.dtypes if d != "?"]
        parts.append(Part(name=name, bytes=size.data_bytes, stored=size.bytes,
                          dtype=single[0] if len(single) == 1 else None))
    # a weight file not read (a link out of the workspace, a broken file) leaves the total
    # unknown: a partial sum would read as a small model
    known = bool(weights) and all_read and len(weights) <= MAX_WEIGHT_FILES
    missing = "no weight files" if not weights else "" if known else "weights not all read"
    return DataSize(
        path=path, kind="model-folder", bytes=on_disk if known else None,
        data_bytes=data if known else None, dtype=dtype, parts=tuple(parts),
        dtypes=tuple(sorted(dtypes.items(), key=lambda kv: -kv[1])), complete=known,
        note="; ".join(n for n in (note, missing) if n))


def _weights(names: set[str]) -> list[str]:
    """The weight files from_pretrained would load: those of the first format present."""
    for suffixes in FORMATS:
        found = sorted(n for n in names if n.endswith(suffixes) and not n.endswith(_SKIP)
                       and not n.startswith(_NOT_WEIGHTS))
        if found:
            return found
    return []


def _config_dtype(path: str, open_file) -> tuple[str | None, str]:
    try:
        handle = open_file(path, MAX_CONFIG)
    except Unreadable as exc:
        return None, f"config.json: {exc}"
    try:
        if handle.size > MAX_CONFIG:
            return None, "config.json too large"
        config = json.loads(handle.read_at(0, handle.size))
    except (ValueError, RecursionError, Unreadable):
        return None, "config.json is not JSON"
    finally:
        handle.close()
    if not isinstance(config, dict):
        return None, "config.json is not a JSON object"
    value = config.get("torch_dtype", config.get("dtype"))
    if isinstance(value, str):
        return value.removeprefix("torch.")[:32], ""
    return None, "config.json names no torch_dtype"

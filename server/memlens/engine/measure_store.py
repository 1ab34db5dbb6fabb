"""Profile results kept across restarts of the language server, per file and per function text.

One small JSON file in the user's cache folder, beside the project caches' secret
(`cache.user_cache_folder()`): `{"format": 1, "files": {path: {"qualname@hash": result}}}`,
where `hash` is the profiled function's `function_hash`. The results the file holds for a
function whose text hashes the same as then apply again when the file is opened (a result for
another text is stale: `engine/measured.py` never applies it). Bounded: the newest
`MAX_PER_FILE` results of a file, `MAX_RESULTS` in all, a run's output tail left out; written
atomically (the last writer of two servers wins, neither sees a torn file). The file is this
user's: read only when it is a regular file in a folder no one else may write, and every entry
is checked for shape (anything else is dropped).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

from memlens.engine.cache import _atomic_write, _private, user_cache_folder
from memlens.engine.safe_read import read_bytes
from memlens.profiler.result import ProfileResult

STORE_FILE = "measurements.json"
FORMAT = 1
MAX_RESULTS = 200
MAX_PER_FILE = 20
MAX_STORE_FILE = 8 << 20


class MeasureStore:
    def __init__(self, folder: Path | None = None, *, use_default: bool = True):
        self.folder = folder if folder is not None or not use_default else user_cache_folder()
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int, int], dict] | None = None  # (stat, files)

    @property
    def path(self) -> Path | None:
        return None if self.folder is None else self.folder / STORE_FILE

    def results_for(self, file: str) -> list[ProfileResult]:
        """The results kept for the file at `file`, newest first."""
        with self._lock:
            entries = self._read().get(_key(file), {})
        out = []
        for data in entries.values():
            with contextlib.suppress(TypeError, ValueError, KeyError, AttributeError):
                out.append(ProfileResult.from_json(data))
        out.sort(key=lambda r: r.started_at or 0.0, reverse=True)
        return out

    def put(self, result: ProfileResult) -> bool:
        """Keep `result` (a .py file's run that measured some line); False when not kept."""
        digest = result.function_hash
        if self.path is None or not result.file or result.cell is not None or not digest \
                or not result.measured_rows:
            return False
        data = result.to_json()
        data["output"] = ""  # (up to 8 kB of the program's output: not needed again)
        if isinstance(data.get("error"), dict):
            data["error"] = dict(data["error"], traceback="")
        data.pop("uri", None)
        data.pop("warning", None)
        with self._lock:
            files = self._read()
            entries = files.setdefault(_key(result.file), {})
            entries.pop(f"{result.qualname}@{digest}", None)
            entries[f"{result.qualname}@{digest}"] = data  # (the newest last)
            _bound(files)
            try:
                self._write(files)
            except OSError:
                return False
        return True

    def forget(self, file: str, qualname: str | None = None) -> None:
        """Drop the results kept for `file` (of `qualname` only, when given): cleared."""
        if self.path is None:
            return
        with self._lock:
            files = self._read()
            entries = files.get(_key(file))
            if not entries:
                return
            for key in [k for k in entries if qualname is None or
                        k.rpartition("@")[0] == qualname]:
                del entries[key]
            _bound(files)
            with contextlib.suppress(OSError):
                self._write(files)

    # -- the file ------------------------------------------------------------------------

    def _read(self) -> dict[str, dict[str, dict]]:
        path = self.path
        if path is None:
            return {}
        try:
            st = os.lstat(path)
        except OSError:
            return {}
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1]
        files: dict[str, dict[str, dict]] = {}
        with contextlib.suppress(OSError, ValueError):
            if _private(os.stat(path.parent), 0o022):
                data = json.loads(read_bytes(path, MAX_STORE_FILE, follow=False))
                if isinstance(data, dict) and data.get("format") == FORMAT and \
                        isinstance(data.get("files"), dict):
                    files = {f: {k: v for k, v in entries.items()
                                 if isinstance(k, str) and isinstance(v, dict)}
                             for f, entries in data["files"].items()
                             if isinstance(f, str) and isinstance(entries, dict)}
        self._cache = (stamp, files)
        return files

    def _write(self, files: dict) -> None:
        path = self.path
        assert path is not None
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(os.stat(path.parent), 0o022):
            raise PermissionError(f"{path.parent} may be written by others")
        _atomic_write(path, json.dumps({"format": FORMAT, "files": files}).encode("utf-8"))
        self._cache = None


def _key(file: str) -> str:
    return os.path.realpath(file)


def _started(entry: dict) -> float:
    value = entry.get("started_at")
    return float(value) if isinstance(value, (int, float)) else 0.0


def _bound(files: dict[str, dict[str, dict]]) -> None:
    """The newest MAX_PER_FILE results per file, MAX_RESULTS in all (the oldest dropped)."""
    for entries in files.values():
        for key in sorted(entries, key=lambda k: _started(entries[k]))[:-MAX_PER_FILE]:
            del entries[key]
    every = sorted(((_started(e), f, k) for f, entries in files.items()
                    for k, e in entries.items()))
    for _, file, key in every[:max(0, len(every) - MAX_RESULTS)]:
        del files[file][key]
    for file in [f for f, entries in files.items() if not entries]:
        del files[file]

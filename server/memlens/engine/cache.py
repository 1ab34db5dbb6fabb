"""The content-hash cache of `memlens check`: the findings of a file whose content, memlens
version, settings and rule files have not changed since the last run are not recomputed.

Layout: `<project root>/.memlens_cache/<namespace>.json`, where the namespace hashes everything
besides the file's content that findings depend on (memlens' version and engine sources, every
rule file, the settings). Each entry maps a file's absolute path to its size, mtime, content
hash, findings, and whether the check parsed the whole file (a file named on the command line
needs that: its syntax errors). A file whose size and mtime are unchanged (and older than its
entry, so that a write in the same clock tick cannot slip by) is a hit without being read;
otherwise its content hash decides.

Writes are atomic (a temporary file, then `os.replace`), so two processes checking at once never
see a torn file: the last writer wins, and the loser's entries are merely recomputed next time.

The folder is the repository's to write, so nothing in it is trusted. The namespace is keyed
with a secret of this user's (`project_secret`, kept in the user's cache folder), so that a
cache committed to a repository is never read as valid; the file is read as safe_read reads
(a regular file, bounded), and an entry of any other shape than ours is a miss. A cache folder
that is a symlink is not followed: the run goes on without the cache (`Cache.problem`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from memlens import __version__
from memlens.engine.config import Settings
from memlens.engine.model import Finding
from memlens.engine.rulebook import MAX_RULE_FILE
from memlens.engine.safe_read import read_bytes, repository_of

CACHE_DIR = ".memlens_cache"
FORMAT = 4  # a finding row holds its evidence and data (3), and its notebook cell (4)
MAX_CACHE_FILE = 256 << 20  # about a million files' entries
SECRET_FILE = "project-cache.key"
_SEVERITIES = frozenset({"error", "warning", "info", "hint"})
_EVIDENCE = frozenset({"code", "pattern", "file size", "notebook output", "measured"})
# A file modified less than this long before its entry was written might have been modified
# again within the same mtime tick: its stat is not trusted, its content hash is.
RACY_SECONDS = 2.0


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def user_cache_folder() -> Path | None:
    """memlens' folder in the user's cache: `$MEMLENS_CACHE_DIR`, else `$XDG_CACHE_HOME/memlens`,
    else `~/.cache/memlens`; None when `MEMLENS_CACHE_DIR=` (empty) turns it off."""
    configured = os.environ.get("MEMLENS_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "memlens" if os.path.isabs(base) else None


_secret: bytes | None = None
_secret_read = False


def project_secret() -> bytes | None:
    """This user's key for the project caches' namespaces: 32 random bytes, created once in the
    user's cache folder (readable and writable by this user alone). None when it cannot be kept
    there: no project cache is then read or written (one nobody can read again would only
    pile up)."""
    global _secret, _secret_read
    if not _secret_read:
        _secret_read = True
        folder = user_cache_folder()
        with contextlib.suppress(OSError, ValueError):
            _secret = None if folder is None else _load_or_create_secret(folder)
    return _secret


def _load_or_create_secret(folder: Path) -> bytes | None:
    path = folder / SECRET_FILE
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _private(os.stat(folder), 0o022):
        return None  # others could put their key in its place
    for _ in range(2):
        if not os.path.lexists(path):
            _create_secret(path)
        if not _private(os.lstat(path), 0o077):
            return None
        with contextlib.suppress(OSError, ValueError):
            key = bytes.fromhex(read_bytes(path, 64, follow=False).decode("ascii"))
            if len(key) == 32:
                return key
        os.unlink(path)  # not a key of ours: made again
    return None


def _create_secret(path: Path) -> None:
    import secrets
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".project-cache.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:  # (mkstemp: readable by this user alone)
            fh.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another process made one: theirs
            os.link(tmp, path)  # (never seen half written, as a write in place could be)
    finally:
        os.unlink(tmp)


def _private(st: os.stat_result, others: int) -> bool:
    """Owned by this user, and none of the `others` permission bits set."""
    return (not hasattr(os, "getuid") or st.st_uid == os.getuid()) and not st.st_mode & others


def namespace(settings: Settings, rule_dirs: list[Path], extra: str = "") -> str:
    """A hash of everything but file content that findings depend on, keyed with this user's
    secret (a repository cannot name a namespace in advance)."""
    h = hashlib.blake2b(digest_size=16, key=project_secret() or b"")
    h.update(f"{FORMAT}\0{__version__}\0{extra}\0".encode())
    engine_dir = Path(__file__).resolve().parent
    # the engine, the data-flow facts its rules ask, and the notebook reader
    package = engine_dir.parent
    sources = sorted(engine_dir.rglob("*.py")) + sorted((package / "flow").rglob("*.py")) + \
        sorted((package / "notebook").rglob("*.py"))
    for path in sources:
        with contextlib.suppress(OSError):
            st = path.stat()
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    for directory in rule_dirs:
        within = repository_of(directory)  # read as rulebook reads them (a pipe or /dev/zero
        for path in sorted(Path(directory).rglob("*.y*ml")):  # may sit in a rule folder)
            try:
                content = read_bytes(path, MAX_RULE_FILE, within=within)
            except OSError as exc:
                content = f"{type(exc).__name__}: {exc}".encode()
            h.update(str(path).encode() + b"\0" + content + b"\0")
    fields = asdict(settings)
    fields.pop("config_file", None)
    if settings.root is None:
        # test code is told apart by its path below the current folder (engine/context.py)
        fields["cwd"] = os.getcwd()
    h.update(json.dumps(fields, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _valid_position(p) -> bool:
    return type(p) is list and len(p) == 2 and type(p[0]) is int and type(p[1]) is int and \
        p[0] >= 0 and p[1] >= 0


def valid_row(f) -> bool:
    """Whether `f` has the shape `Finding.to_row` gives (bool is not an int here)."""
    if type(f) is not list or len(f) != 10:
        return False
    code, message, severity, start, end, fix, url, evidence, data, cell = f
    if not (type(code) is str and type(message) is str and severity in _SEVERITIES
            and _valid_position(start) and _valid_position(end)
            and (url is None or type(url) is str) and evidence in _EVIDENCE
            and type(data) is dict and (cell is None or (type(cell) is int and cell >= 1))):
        return False
    if fix is None:
        return True
    return (type(fix) is list and len(fix) == 3 and fix[0] in ("safe", "unsafe")
            and type(fix[1]) is str and type(fix[2]) is list
            and all(type(e) is list and len(e) == 3 and _valid_position(e[0])
                    and _valid_position(e[1]) and type(e[2]) is str for e in fix[2]))


def valid_entry(entry) -> bool:
    """Whether a file's entry has the shape `Cache.store` gives it: anything else is a miss."""
    return (type(entry) is list and len(entry) == 6 and type(entry[0]) is int
            and type(entry[1]) is int and type(entry[2]) in (int, float)
            and type(entry[3]) is str and type(entry[4]) is list and type(entry[5]) is bool
            and all(valid_row(f) for f in entry[4]))


class Cache:
    """One namespace's entries; `lookup` by stat, `verify` by content hash, `store`, `save`."""

    def __init__(self, root: Path, ns: str):
        self.dir = root / CACHE_DIR
        self.file = self.dir / f"{ns}.json"
        self.entries: dict[str, list] = {}
        self.dirty = False
        self.hits = 0
        self.misses = 0
        # why the cache is off, in one line (None: it is on)
        self.problem: str | None = None
        if os.path.islink(self.dir):
            self.problem = (f"{self.dir} is a symbolic link: not followed; checking without "
                            "the cache")
        elif project_secret() is None:
            self.problem = ""  # no key of this user's to read a cache with: off, silently
        else:
            self.entries = self._read()

    @property
    def enabled(self) -> bool:
        return self.problem is None

    def _read(self) -> dict[str, list]:
        """The file's entries, when it is a cache file of ours (a mapping of paths to entries,
        each checked by `valid_entry` when it is looked up); else none."""
        try:
            data = json.loads(read_bytes(self.file, MAX_CACHE_FILE, follow=False))
        except (OSError, ValueError, RecursionError):
            return {}
        if type(data) is dict and data.get("format") == FORMAT and type(data.get("files")) is dict:
            return data["files"]
        return {}

    @staticmethod
    def key(path: Path | str) -> str:
        """Entries are by absolute path (discovery gives it: no `abspath` per file then)."""
        return path if isinstance(path, str) and os.path.isabs(path) else os.path.abspath(path)

    def lookup(self, path: Path | str, whole: bool = False,
               shown: str = "") -> tuple[list[Finding] | None, str | None]:
        """(findings, None) on a stat hit; else (None, the content hash to compare).
        `whole`: only an entry of a check that parsed the whole file will do (a file named on
        the command line reports its syntax errors; a walk may have left code out of the
        parse)."""
        entry = self.entries.get(self.key(path))
        if entry is None or not valid_entry(entry) or (whole and not entry[5]):
            return None, None
        size, mtime_ns, stamp, digest, findings, _whole = entry
        try:
            st = os.stat(path)
        except OSError:
            return None, None
        if st.st_size == size and st.st_mtime_ns == mtime_ns and \
                stamp - mtime_ns / 1e9 > RACY_SECONDS:
            return [Finding.from_row(row, shown or str(path)) for row in findings], None
        return None, digest

    def cached_findings(self, path: Path | str, shown: str) -> list[Finding]:
        """The findings stored for `path`, named `shown` (as the user gave the file)."""
        return [Finding.from_row(row, shown) for row in self.entries[self.key(path)][4]]

    def store(self, path: Path | str, digest: str, findings: list[Finding], stat=None,
              whole: bool = False) -> None:
        if not self.enabled:
            return
        try:
            st = stat or os.stat(path)
        except OSError:
            return
        self.entries[self.key(path)] = [st.st_size, st.st_mtime_ns, time.time(), digest,
                                        [f.to_row() for f in findings], whole]
        self.dirty = True

    def restat(self, path: Path | str) -> None:
        """The content hash matched but the stat did not: refresh the stat."""
        entry = self.entries.get(self.key(path))
        if entry is None or not valid_entry(entry):
            return
        with contextlib.suppress(OSError):
            st = os.stat(path)
            entry[0], entry[1], entry[2] = st.st_size, st.st_mtime_ns, time.time()
            self.dirty = True

    def save(self) -> None:
        if not self.dirty or not self.enabled:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if os.path.islink(self.dir):
                return  # made a link since we looked: not followed
            gitignore = self.dir / ".gitignore"
            if os.path.islink(gitignore) or not gitignore.exists():  # (a link is replaced)
                _atomic_write(gitignore, b"# Created by memlens.\n*\n")
            # Keep what another process stored meanwhile (ours win on conflicts).
            self.entries = {**self._read(), **self.entries}
            data = json.dumps({"format": FORMAT, "files": self.entries},
                              separators=(",", ":")).encode()
            _atomic_write(self.file, data)
            self.dirty = False
        except OSError:
            pass  # a read-only checkout still gets its findings, just not cached


def _atomic_write(path: Path, data: bytes) -> None:
    import tempfile  # here: a warm run with nothing new writes nothing

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cache_root(settings: Settings, start: Path) -> Path:
    """Where `.memlens_cache/` lives: next to the config file, else the repository's top, else
    the current folder."""
    if settings.root is not None:
        return settings.root
    from memlens.engine.discovery import find_git_root

    start = start.resolve()
    return find_git_root(start if start.is_dir() else start.parent) or Path.cwd()

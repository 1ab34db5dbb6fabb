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
from memlens.engine.model import Edit, Finding, Fix, Position

CACHE_DIR = ".memlens_cache"
FORMAT = 2
# A file modified less than this long before its entry was written might have been modified
# again within the same mtime tick: its stat is not trusted, its content hash is.
RACY_SECONDS = 2.0


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def namespace(settings: Settings, rule_dirs: list[Path], extra: str = "") -> str:
    """A hash of everything but file content that findings depend on."""
    h = hashlib.blake2b(digest_size=16)
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
        for path in sorted(Path(directory).rglob("*.y*ml")):
            with contextlib.suppress(OSError):
                h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    fields = asdict(settings)
    fields.pop("config_file", None)
    if settings.root is None:
        # test code is told apart by its path below the current folder (engine/context.py)
        fields["cwd"] = os.getcwd()
    h.update(json.dumps(fields, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _pos(p: Position) -> list[int]:
    return [p.line, p.column]


def finding_to_entry(f: Finding) -> list:
    fix = None
    if f.fix is not None:
        fix = [f.fix.applicability, f.fix.message,
               [[_pos(e.start), _pos(e.end), e.content] for e in f.fix.edits]]
    return [f.code, f.message, f.severity, _pos(f.start), _pos(f.end), fix, f.url]


def finding_from_entry(entry: list, path: str) -> Finding:
    code, message, severity, start, end, fix, url = entry
    if fix is not None:
        applicability, fix_message, edits = fix
        fix = Fix(applicability, fix_message,
                  tuple(Edit(Position(*s), Position(*e), c) for s, e, c in edits))
    return Finding(code, message, severity, path, Position(*start), Position(*end), fix, url)


class Cache:
    """One namespace's entries; `lookup` by stat, `verify` by content hash, `store`, `save`."""

    def __init__(self, root: Path, ns: str):
        self.dir = root / CACHE_DIR
        self.file = self.dir / f"{ns}.json"
        self.entries: dict[str, list] = {}
        self.dirty = False
        self.hits = 0
        self.misses = 0
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == FORMAT:
                self.entries = data["files"]
        except (OSError, ValueError, KeyError, TypeError):
            self.entries = {}

    @staticmethod
    def key(path: Path | str) -> str:
        """Entries are by absolute path (discovery gives it: no `abspath` per file then)."""
        return path if isinstance(path, str) and os.path.isabs(path) else os.path.abspath(path)

    def lookup(self, path: Path | str, whole: bool = False) -> tuple[list | None, str | None]:
        """(findings entries, None) on a stat hit; else (None, the content hash to compare).
        `whole`: only an entry of a check that parsed the whole file will do (a file named on
        the command line reports its syntax errors; a walk may have left code out of the
        parse)."""
        entry = self.entries.get(self.key(path))
        if entry is None or (whole and not entry[5]):
            return None, None
        size, mtime_ns, stamp, digest, findings, _whole = entry
        try:
            st = os.stat(path)
        except OSError:
            return None, None
        if st.st_size == size and st.st_mtime_ns == mtime_ns and \
                stamp - mtime_ns / 1e9 > RACY_SECONDS:
            return findings, None
        return None, digest

    def cached_findings(self, path: Path) -> list:
        return self.entries[self.key(path)][4]

    def store(self, path: Path | str, digest: str, findings: list[Finding], stat=None,
              whole: bool = False) -> None:
        try:
            st = stat or os.stat(path)
        except OSError:
            return
        self.entries[self.key(path)] = [st.st_size, st.st_mtime_ns, time.time(), digest,
                                        [finding_to_entry(f) for f in findings], whole]
        self.dirty = True

    def restat(self, path: Path) -> None:
        """The content hash matched but the stat did not: refresh the stat."""
        entry = self.entries.get(self.key(path))
        if entry is None:
            return
        with contextlib.suppress(OSError):
            st = os.stat(path)
            entry[0], entry[1], entry[2] = st.st_size, st.st_mtime_ns, time.time()
            self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            gitignore = self.dir / ".gitignore"
            if not gitignore.exists():
                _atomic_write(gitignore, b"# Created by memlens.\n*\n")
            # Keep what another process stored meanwhile (ours win on conflicts).
            try:
                theirs = json.loads(self.file.read_text(encoding="utf-8"))
                if isinstance(theirs, dict) and theirs.get("format") == FORMAT:
                    self.entries = {**theirs["files"], **self.entries}
            except (OSError, ValueError, KeyError, TypeError):
                pass
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

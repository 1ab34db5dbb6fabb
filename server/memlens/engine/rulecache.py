"""The built-in rules, compiled once per install and kept in the user's cache folder.

Reading the rule files and deriving what the engine needs of each rule (its text condition, its
conditions cheapest first, the node kinds it can match, what ast-grep takes to compile it,
whether it looks beyond its definition) costs about 150 ms, on the start-up path of every
`memlens check` worker process and of the language server's checker process (where it delays
the first diagnostics of an opened file). None of it depends on a file or on the settings. So
the first process after an install or an upgrade derives it all and stores it; the later ones
load it (about 5 ms).

Keyed by what it is derived from: memlens' version and engine sources, the rule files (their
size and modification time, as Python keys bytecode), Python and ast-grep-py; the key is stored
in the file and compared whole. The folder is `$MEMLENS_CACHE_DIR`, else
`$XDG_CACHE_HOME/memlens`, else `~/.cache/memlens`; `MEMLENS_CACHE_DIR=` (empty) turns the
cache off. A pickle is code: a file is loaded only when it belongs to this user and nobody else
can write to it or its folder. Whatever goes wrong (no folder, a torn or foreign file), the
rules are derived as without it.
"""

from __future__ import annotations

import os
import pickle
import sys
import zlib
from pathlib import Path

from memlens import __version__
from memlens.engine.cache import user_cache_folder
from memlens.engine.compiled import CompiledRule
from memlens.engine.locality import CLASS_BODY, TOP_LEVEL
from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

FORMAT = 1
KEEP = 4  # files of different keys kept in the folder, the newest
_loaded: dict[str, CompiledRule] | None = None
# how this process got its rules: "loaded", "derived and stored", "derived" (for the tests)
outcome = ""


def builtin_rules() -> dict[str, CompiledRule]:
    """Rule id -> the built-in rule, compiled and with everything derived (shared by every
    engine of the process: what they cache on it depends on the rule alone)."""
    global _loaded, outcome
    if _loaded is not None:
        return _loaded
    key = cache_key()  # (stats every source file: once per process)
    path = cache_file(key)
    rules = _load(path, key) if path is not None else None
    if rules is not None:
        outcome = "loaded"
    else:
        rules = {rule.id: _derived(CompiledRule(rule))
                 for rule in load_rule_dir(builtin_rule_dir(), check=False)}
        outcome = "derived and stored" if path is not None and _store(path, key, rules) \
            else "derived"
    _loaded = rules
    return rules


def cache_folder() -> Path | None:
    return user_cache_folder()  # (the project caches' key lives there too: engine/cache.py)


def cache_file(key: str | None = None) -> Path | None:
    """Where the rules of `key` (default: `cache_key()`) are stored."""
    folder = cache_folder()
    if folder is None:
        return None
    key = cache_key() if key is None else key
    # (a CRC names the file, apart from other installs' files; the key inside it decides)
    return folder / f"rules-{zlib.crc32(key.encode()):08x}.pickle"


def cache_key() -> str:
    """What the stored rules are derived from: memlens' version and engine sources, the rule
    files (path, size and modification time, as for bytecode), Python and ast-grep-py."""
    import ast_grep_py

    engine = Path(__file__).resolve().parent
    # the flow package parses `metadata.flow` into the conditions stored with each rule
    files = sorted(engine.rglob("*.py")) + sorted((engine.parent / "flow").rglob("*.py")) + sorted(
        p for p in builtin_rule_dir().rglob("*") if p.suffix in (".yml", ".yaml", ".json"))
    stamps = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        stamps.append(f"{path}\0{st.st_size}\0{st.st_mtime_ns}")
    return "\n".join([f"{FORMAT}", __version__, sys.version,
                      getattr(ast_grep_py, "__version__", ""), *stamps])


def _derived(compiled: CompiledRule) -> CompiledRule:
    """Everything an engine would derive on first use, derived now (to be stored)."""
    _ = compiled.config, compiled.kinds, compiled.compile_ms  # (properties, cached on first read)
    compiled.local(TOP_LEVEL)
    compiled.local(CLASS_BODY)
    return compiled


def _private(path: Path) -> bool:
    """Owned by this user, and writable by nobody else."""
    st = path.stat()
    return (not hasattr(os, "getuid") or st.st_uid == os.getuid()) and not st.st_mode & 0o022


def _load(path: Path, key: str) -> dict[str, CompiledRule] | None:
    try:
        if not (_private(path.parent) and _private(path)):
            return None
        with open(path, "rb") as f:
            stored_key, rules = pickle.load(f)
    except Exception:  # missing, torn, from another version of a class: derive again
        return None
    if stored_key != key:
        return None  # another install's, under the same CRC
    if not isinstance(rules, dict) or not all(isinstance(c, CompiledRule)
                                              for c in rules.values()):
        return None
    return rules


def _store(path: Path, key: str, rules: dict[str, CompiledRule]) -> bool:
    """Write atomically (two processes may store at once: the last one wins, both whole), and
    drop all but the newest files of other keys."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(path.parent):
            return False
        import tempfile  # (not on the path of a process that finds its rules stored)

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rules-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump((key, rules), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        # other keys' files: an older install's, or another environment's in use (kept: two
        # environments used in turn must not derive their rules on every start)
        others = sorted((p for p in path.parent.glob("rules-*.pickle") if p != path),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[KEEP - 1:]:
            old.unlink(missing_ok=True)
        return True
    except Exception:
        return False

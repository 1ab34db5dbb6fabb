"""Whether the file a read names is one the project writes itself: a table the same file wrote
before the read (`df.to_csv("movie_data.csv")` then `pd.read_csv("movie_data.csv")`), or one
another file of the project writes (a feature-importance log `imp.to_csv(f"LOG/imp_{name}.csv")`
that the next scripts read back as `pd.read_csv("LOG/imp_801.py.csv")`).

Such files are the project's own results (submissions, predictions, logs, summaries): the code
that makes them shows what they hold, and reading them back whole is rarely the waste a read
of the input data is.

The writes are found in the text of the project's `.py` files and notebooks without parsing:
a call `.to_csv(`, `.to_json(`, `.to_excel(`, `.to_parquet(`, `.to_feather(`, `.to_pickle(`,
`.to_hdf(`, `savetxt(` or `open(..., "w")` whose first argument is a string literal; an
f-string's fields match anything (`LOG/imp_*.csv`). A read matches a write when the file names
match (the write's pattern has at least three literal characters before its extension: not
`{name}.csv`) and, when both name a folder, the last folders are the same.
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

_STRING = r"(?P<prefix>[rRfFbBuU]{0,2})(?P<quote>'|\")(?P<body>[^'\"\n]{1,300})(?P=quote)"
# each starts with a literal (a fast search), then the path literal; `open` with a write mode
_WRITES = (
    re.compile(r"\.to_(?:csv|json|excel|parquet|feather|pickle|hdf)\(\s*(?:path_or_buf\s*=\s*)?"
               + _STRING),
    re.compile(r"savetxt\(\s*" + _STRING),
    re.compile(r"open\(\s*" + _STRING + r"\s*,\s*(?:mode\s*=\s*)?['\"][wax]"),
)
_WORDS = (b".to_", b"savetxt(")  # (two passes over the bytes: each word costs one)
_OPEN_WRITE = re.compile(rb"open\([^)\n]{1,300}?,\s*(?:mode\s*=\s*)?\\?['\"][wax]")
_FIELD = re.compile(r"\{[^{}]*\}")
_SKIP_DIRS = frozenset({"node_modules", "site-packages", "__pycache__", "venv", "env",
                        "build", "dist"})
MAX_FILES = 5_000  # a project scanned is its first files in walk order
MAX_BYTES = 2_000_000  # each file is read up to this
MAX_TOTAL = 64_000_000  # and the scan stops after this much read (a check never waits long)
FRESH_SECONDS = 30.0  # a scan is reused this long (a long-lived server sees new writes later)
# what each file wrote, by (path, size, mtime): a later scan reads only the files that changed
# (a language server scans again every FRESH_SECONDS; a walk and a stat per file then)
_by_file: dict[str, tuple[tuple[int, int], tuple[tuple[str, int], ...]]] = {}


@dataclass(frozen=True)
class Write:
    pattern: str  # the path written, f-string fields as `*` (`LOG/imp_*.csv`)
    file: str  # the file that writes it (absolute), "" for the file being checked
    offset: int  # where in that file's text (the checked file: its tree's byte offset)

    def describe(self, root: str | None) -> str:
        if not self.file:
            return f"`{self.pattern}`, written earlier in this file"
        shown = os.path.relpath(self.file, root) if root else self.file
        return f"`{self.pattern}`, written by {shown.replace(os.sep, '/')}"


def writes_in(text: str) -> list[tuple[str, int]]:
    """The paths the text writes (as patterns) and where."""
    out = []
    for write in _WRITES:
        for m in write.finditer(text):
            pattern = _pattern(m.group("body"), "f" in m.group("prefix").lower())
            if pattern is not None:
                out.append((pattern, m.start()))
    return sorted(out, key=lambda found: found[1])


def _pattern(body: str, fstring: bool) -> str | None:
    if fstring:
        body = _FIELD.sub("*", body.replace("{{", "\ue000").replace("}}", "\ue001"))
        body = body.replace("\ue000", "{").replace("\ue001", "}")
        if "{" in body or "}" in body:
            return None
    body = body.replace("\\\\", "/").replace("\\", "/")
    base = posixpath.basename(body)
    stem = base.split(".", 1)[0]
    if len(stem.replace("*", "")) < 3 or "." not in base:
        return None  # `{name}.csv`, `out`: names too loose to tell one file from another
    return re.sub(r"\*+", "*", body)


def matches(read: str, pattern: str) -> bool:
    """Whether the path a read names is the one a write's pattern names."""
    read_parts = _parts(read)
    write_parts = _parts(pattern)
    if not read_parts or not write_parts:
        return False
    if not fnmatch.fnmatchcase(read_parts[-1], write_parts[-1]):
        return False
    if len(read_parts) > 1 and len(write_parts) > 1 and "*" not in write_parts[-2]:
        return read_parts[-2] == write_parts[-2]
    return True


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p not in ("", ".", "..")]


def written_by(read: str, node: SgNode, root: str | None) -> Write | None:
    """The write, in the checked file before `node` or in another file under `root`, of the
    path `read` names."""
    before = node.range().start.index
    for pattern, offset in sx.per_tree(node, _own_writes):  # (once per parsed file)
        if offset < before and matches(read, pattern):
            return Write(pattern, "", offset)
    if root is None:
        return None
    for write in project_writes(root):
        if matches(read, write.pattern):
            return write
    return None


def _own_writes(root: SgNode) -> list[tuple[str, int]]:
    # byte offsets of the tree (ast-grep's index is a character index: the same for the
    # ASCII text a path literal is in, and only compared with the read's own index)
    text = root.text()
    return writes_in(text) if _may_write(text.encode("utf-8", "replace")) else []


def _may_write(data: bytes) -> bool:
    """A fast test of a file's bytes (a notebook's JSON too) before any parse."""
    return any(word in data for word in _WORDS) or _OPEN_WRITE.search(data) is not None


_lock = threading.Lock()
_scans: dict[str, tuple[float, tuple[Write, ...]]] = {}


def project_writes(root: str) -> tuple[Write, ...]:
    """The writes of the project's files under `root` (cached for FRESH_SECONDS)."""
    root = os.path.abspath(root)
    now = time.monotonic()
    with _lock:
        cached = _scans.get(root)
        if cached is not None and now - cached[0] < FRESH_SECONDS:
            return cached[1]
    found = tuple(_scan(root))
    with _lock:
        _scans[root] = (now, found)
    return found


def forget() -> None:
    """Drop the cached scans (tests, a workspace that changed)."""
    with _lock:
        _scans.clear()
        _by_file.clear()


def _scan(root: str) -> Iterator[Write]:
    count = total = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            if not name.endswith((".py", ".ipynb")):
                continue
            count += 1
            if count > MAX_FILES:
                return
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            key = (st.st_size, st.st_mtime_ns)
            with _lock:
                known = _by_file.get(path)
            if known is None or known[0] != key:
                total += min(st.st_size, MAX_BYTES)
                if total > MAX_TOTAL:
                    return  # (what is known of the files before stays known)
                found = _writes_of(path, name.endswith(".ipynb"))
                if found is None:
                    continue
                with _lock:
                    _by_file[path] = (key, found)
                known = (key, found)
            for pattern, offset in known[1]:
                yield Write(pattern, path, offset)


def _writes_of(path: str, notebook: bool) -> tuple[tuple[str, int], ...] | None:
    """The writes in one file's text (None: it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES)
    except OSError:
        return None
    if not _may_write(data):
        return ()
    return tuple(writes_in(_source(data, notebook)))


def _source(data: bytes, notebook: bool) -> str:
    text = data.decode("utf-8", "replace")
    if not notebook:
        return text
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return ""
    out = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out.append("".join(source) if isinstance(source, list) else str(source))
    return "\n".join(out)

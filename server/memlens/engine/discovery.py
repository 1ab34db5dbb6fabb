"""Which files `memlens check PATH ...` looks at: Python files (and, for `memlens check`, Jupyter
notebooks) under the given paths, minus the configured `exclude` patterns, the usual tool
folders and (by default) what `.gitignore` ignores.

Like Ruff, a path named on the command line is always checked: exclusion and `.gitignore` apply
to what is found by walking below it. A pattern that matches a named folder itself does not
exclude what is inside it (`memlens check build/` checks `build/` even when `.gitignore` ignores
it).
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from memlens.engine.config import Settings, _glob_match
from memlens.engine.safe_read import Refused, read_text

PYTHON_SUFFIXES = (".py",)
# what `memlens check` walks for: notebooks are checked as their code cells (engine/notebooks.py)
CHECK_SUFFIXES = (".py", ".ipynb")
# An ignore file is a few KB; git itself stops at 100 MB.
MAX_IGNORE_FILE = 1 << 20

# Folders that are never code of the project (Ruff's default excludes, plus memlens' cache).
DEFAULT_EXCLUDES = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox",
    ".venv", ".vscode", "__pypackages__", "_build", "buck-out", "dist", "node_modules",
    "site-packages", "venv", "__pycache__", ".memlens_cache",
})


class MissingPathError(Exception):
    """A path named on the command line does not exist."""


@dataclass
class _Ignore:
    base: Path  # the folder of the .gitignore: its patterns are relative to it
    spec: pathspec.GitIgnoreSpec
    ignores_files: bool = True  # whether some pattern can match a `.py` or `.ipynb` file
    prefix: str = field(init=False)  # `base` with a separator: checked against every file found

    def __post_init__(self):
        self.prefix = os.path.join(str(self.base), "")


def find_git_root(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _read_gitignore(folder: Path, warn=None) -> _Ignore | None:
    """The folder's .gitignore: a regular file, not a symlink (as git reads it), at most
    MAX_IGNORE_FILE bytes; `warn(message)` hears about one that is not read."""
    path = folder / ".gitignore"
    try:
        text = read_text(path, MAX_IGNORE_FILE, follow=False, errors="replace")
    except Refused as exc:
        if warn is not None:
            warn(f"{path}: not read ({exc}): its patterns do not apply")
        return None
    except OSError:
        return None
    lines = text.splitlines()
    lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return None
    ignores_files = any(_may_match_source_file(line.strip()) for line in lines
                        if not line.startswith("!"))
    return _Ignore(folder, pathspec.GitIgnoreSpec.from_lines(lines), ignores_files)


def _may_match_source_file(pattern: str) -> bool:
    """Whether a .gitignore pattern can match a file named `*.py` or `*.ipynb`: not a
    folder-only pattern (`build/`), and not one whose name ends in another literal suffix
    (`*.vsix`). Folders are checked as the walk meets them; when no pattern can match such a
    file, the files in a folder need no check (a `!pattern` only re-includes what another
    pattern ignored)."""
    if pattern.endswith("/"):
        return False
    name = pattern.rstrip("/").rsplit("/", 1)[-1]
    tail = name
    for wildcard in "*?]":
        tail = tail.rsplit(wildcard, 1)[-1]
    if tail == name and not any(c in name for c in "*?["):
        # a plain name: that file, or a folder of that name
        return name.endswith(CHECK_SUFFIXES)
    return not tail or any(suffix.endswith(tail) or tail.endswith(suffix)
                           for suffix in CHECK_SUFFIXES)


def _gitignore_state(path: str, is_dir: bool, ignores: list[_Ignore], skip: set) -> bool | None:
    """True: ignored; False: re-included by a `!pattern`; None: no pattern speaks about it.
    `path`: absolute (strings, not Paths: this runs once per file found)."""
    state = None
    for i, ig in enumerate(ignores):
        prefix = ig.prefix
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix):]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        result = ig.spec.check_file(rel + "/" if is_dir else rel)
        if result.include is not None and (i, result.index) not in skip:
            state = result.include
    return state


def discover_files(paths: list[str | Path], settings: Settings, warn=None,
                   suffixes: tuple[str, ...] = PYTHON_SUFFIXES) -> list[Path]:
    """Every Python file to check under `paths`, sorted within each path, without duplicates.
    Raises MissingPathError for a path that does not exist. `warn(message)` hears about an
    ignore file that is not read (a symlink, a pipe, a device, a huge file). `suffixes`: the
    files a walk finds (CHECK_SUFFIXES: notebooks too); a file named is taken whatever its
    name."""
    return [Path(shown) for shown, _ in discover(paths, settings, warn, suffixes)]


def discover(paths: list[str | Path], settings: Settings, warn=None,
             suffixes: tuple[str, ...] = PYTHON_SUFFIXES) -> list[tuple[str, str]]:
    """`discover_files` as (path as shown, absolute path) strings: what a run needs of each
    file, without a Path object or an `abspath` call per file (most of a warm run)."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            raise MissingPathError(f"{raw}: no such file or directory")
        if not (root.is_file() or root.is_dir()):
            # a FIFO would block the read, a device never ends: neither is source code
            raise MissingPathError(f"{raw}: not a regular file or a folder (a pipe, a socket "
                                   "or a device): nothing to check")
        found = [(str(root), os.path.abspath(root))] if root.is_file() else \
            _walk(root, settings, warn, suffixes)
        for shown, absolute in found:
            if absolute not in seen:
                seen.add(absolute)
                out.append((shown, absolute))
    return out


def _walk(root: Path, settings: Settings, warn=None,
          suffixes: tuple[str, ...] = PYTHON_SUFFIXES):
    absolute_root = root.resolve()
    ignores: list[_Ignore] = []
    skip: set[tuple[int, int | None]] = set()
    if settings.respect_gitignore:
        git_root = find_git_root(absolute_root)
        if git_root is not None:
            # .gitignore files of the folders above the root, up to the repository's top.
            for folder in reversed([absolute_root, *absolute_root.parents]):
                if folder == absolute_root or not folder.is_relative_to(git_root):
                    continue
                ig = _read_gitignore(folder, warn)
                if ig is not None:
                    ignores.append(ig)
            # Patterns that ignore the named folder itself do not apply below it.
            for i, ig in enumerate(ignores):
                rel = absolute_root.relative_to(ig.base).as_posix() + "/"
                result = ig.spec.check_file(rel)
                if result.include:
                    skip.add((i, result.index))
    excluded_root = {p for p in settings.exclude if _excluded(absolute_root, (p,), settings)}
    exclude = _Exclude(tuple(p for p in settings.exclude if p not in excluded_root),
                       absolute_root, settings)

    found: list[tuple[str, str]] = []
    visited: set[tuple[int, int]] = set()  # folders by (device, inode): symlink loops end here
    real_root = os.path.realpath(absolute_root)

    def visit(folder: str, shown: str, depth_ignores: list[_Ignore]):
        """`shown`: the folder as the user named it (with a separator, or "" for ".")."""
        try:
            st = os.stat(folder)
        except OSError:
            return
        if (st.st_dev, st.st_ino) in visited:
            return
        visited.add((st.st_dev, st.st_ino))
        if settings.respect_gitignore:
            ig = _read_gitignore(Path(folder), warn)
            if ig is not None:
                depth_ignores = [*depth_ignores, ig]
        files_ignorable = any(ig.ignores_files for ig in depth_ignores)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir and entry.name in DEFAULT_EXCLUDES:
                continue
            if not is_dir and not entry.name.endswith(suffixes):
                continue
            path = entry.path
            if exclude.patterns and exclude.excludes(path, entry.name):
                continue
            if (is_dir or files_ignorable) and depth_ignores and _gitignore_state(
                    path, is_dir, depth_ignores, skip):
                continue
            if is_dir:
                # a symlink to a folder outside the one being checked (`up -> ..`) is not
                # followed: the check stays within what was named
                if entry.is_symlink() and not _within(os.path.realpath(path), real_root):
                    continue
                subdirs.append((path, shown + entry.name + os.sep))
            elif entry.is_file():
                found.append((shown + entry.name, path))
        for path, sub_shown in subdirs:
            visit(path, sub_shown, depth_ignores)

    shown_root = str(root)  # as pathlib spells it: `./a/` is `a`, `.` is nothing
    visit(str(absolute_root), "" if shown_root == "." else shown_root + os.sep, ignores)
    return found


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _Exclude:
    """The `exclude` patterns as one walk checks them, once per folder and file it meets: that
    entry's own path and name only (`_glob_match` also tries every parent folder, and the walk
    never enters an excluded one)."""

    def __init__(self, patterns: tuple[str, ...], absolute_root: Path, settings: Settings):
        stripped = [p.rstrip("/") for p in patterns]
        self.patterns = [(re.compile(fnmatch.translate(p)).match, "/" not in p) for p in stripped]
        self._root = str(absolute_root)
        base = settings.root or Path.cwd()
        try:
            rel = absolute_root.relative_to(base).as_posix()
        except ValueError:
            rel = absolute_root.as_posix()
        self._rel_root = "" if rel == "." else rel

    def excludes(self, path: str, name: str) -> bool:
        rel = path[len(self._root):].replace(os.sep, "/")
        rel = self._rel_root + rel if self._rel_root else rel.lstrip("/")
        return any(match(rel) or (by_name and match(name)) for match, by_name in self.patterns)


def _excluded(path: Path, patterns: tuple[str, ...], settings: Settings) -> bool:
    root = settings.root or Path.cwd()
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return any(_glob_match(rel, p) for p in patterns)

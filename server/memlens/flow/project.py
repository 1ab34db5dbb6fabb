"""The project around a file: which of its modules other modules import, and which files are
programs of their own (scripts, servers, notebooks) that nothing imports.

A load at a module's top level costs every process that imports the module, whether or not it
ever needs the loaded value: a training script that imports `model.py` for its class pays for
the weights `model.py` loads at import. In a file nothing imports (`app.py` started by
`uvicorn app:app`, `train.py`, a notebook) the module level is the program, and the load is its
job. The view is read from the text of the project's files, without parsing: their import
lines name dotted modules, which resolve to files by any suffix of their path (a script's
folder is on `sys.path`, and so is a package's parent).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

# `import a.b as c, d` / `from a.b import c, d` / `from . import x` / `from .m import (x,\n y)`
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)|"
    r"import[ \t]+([^\n#;]+))", re.M)
_NAME = re.compile(r"[A-Za-z_][\w.]*")
_MAIN_GUARD = re.compile(r"^if[ \t]+__name__[ \t]*==[ \t]*['\"]__main__['\"]", re.M)


def module_names(path: str) -> list[str]:
    """The dotted names a file can be imported by: every suffix of its path (`src/pkg/m.py` ->
    `src.pkg.m`, `pkg.m`, `m`; a package's `__init__.py` is the package)."""
    parts = path.replace("\\", "/").split("/")
    if not parts[-1].endswith(".py"):
        return []
    stem = parts[-1][:-3]
    parts = parts[:-1] if stem == "__init__" else [*parts[:-1], stem]
    parts = [p for p in parts if p and p != "."]
    return [".".join(parts[i:]) for i in range(len(parts)) if all(
        p.isidentifier() for p in parts[i:])]


def _import_items(text: str) -> Iterator[tuple[int, str | None, str, str]]:
    """Each name the text's import lines bring: (leading dots, the module of a `from` line or
    None for `import x`, the name, its alias or "")."""
    for m in _IMPORT.finditer(text):
        source, names, plain = m.group(1), m.group(2), m.group(3)
        if plain is not None:
            for item in plain.split(","):
                real, _, alias = (x.strip() for x in item.partition(" as "))
                yield 0, None, real, alias
            continue
        base = source.lstrip(".")
        for item in names.strip("()").replace("\n", " ").split(","):
            real, _, alias = (x.strip() for x in item.partition(" as "))
            yield len(source) - len(base), base, real, alias


def imported_names(text: str, path: str) -> set[str]:
    """The dotted modules a file's text imports, and for `from m import x` also `m.x` (x may be
    a module); relative imports resolved against the file's own folder."""
    out: set[str] = set()
    folder = [p for p in path.replace("\\", "/").split("/")[:-1] if p and p != "."]
    for dots, base, name, _ in _import_items(text):
        if base is None:
            if _NAME.fullmatch(name):
                out.add(name)
            continue
        if dots:
            up = folder[: len(folder) - (dots - 1)] if dots - 1 <= len(folder) else []
            base = ".".join([*up, base] if base else up)
        if base:
            out.add(base)
        if name.isidentifier():
            out.add(f"{base}.{name}" if base else name)
    return out


@dataclass(frozen=True)
class FileRole:
    """A file's place in its project, as the data-size rules need it."""

    notebook: bool = False  # its module level is the program, run cell by cell
    # the project's files that import it; None when the project was not read (stdin, one file)
    importers: tuple[str, ...] | None = None
    # the workspace the data files it names are read in (size evidence); None: none are read
    root: str | None = None
    # what a notebook's outputs printed of its values' sizes, by name (`flow.size.Printed`)
    printed: dict = field(default_factory=dict, compare=False, hash=False)
    # the data files the check read the metadata of, as (path, size, mtime_ns): the findings
    # depend on them as on the text (the project cache keys them so)
    consulted: list = field(default_factory=list, compare=False, hash=False)
    # (path, text) of the file itself: the functions it imports from the project's other
    # modules are looked up through its import lines (`helper`); None: not looked up
    source: tuple[str, str] | None = field(default=None, compare=False, hash=False)

    def helper(self, callee: str) -> str | None:
        """The source of the function of another module of the project that a call names
        (`read_pickles`, `utils.read_pickles`) through this file's imports, else None. The
        module's file is consulted (the findings depend on it as on a data file: not cached)."""
        if self.source is None:
            return None
        found = imported_function(self.source[1], self.source[0], callee, self.root)
        if found is None:
            return None
        if found[0] not in self.consulted:
            self.consulted.append(found[0])
        return found[1]

    @property
    def imported(self) -> bool | None:
        """Whether importing it costs other code anything: None when not known."""
        if self.notebook:
            return False
        return None if self.importers is None else bool(self.importers)


_HELPER_BYTES = 1_000_000  # a project module larger than this is not read for its helpers


def imported_function(text: str, path: str, callee: str,
                      root: str | None) -> tuple[tuple[str, int, int], str] | None:
    """((file, size, mtime_ns), source) of the top-level function `callee` names, when the
    file's import lines bring it (or its module) from a module that is a file of the project
    (looked for from the file's folder up to `root`); None for a name no import brings, or a
    module that is not a project file (a third-party package)."""
    module, _, name = callee.rpartition(".")
    if not name.isidentifier():
        return None
    target = _imported_from(text, module, name)
    if target is None:
        return None
    file = _module_file(target[0], target[1], path, root)
    if file is None:
        return None
    try:
        st = os.stat(file)
        if st.st_size > _HELPER_BYTES:
            return None
    except OSError:
        return None
    source = _function_source(file, st.st_size, st.st_mtime_ns, target[2])
    return ((file, st.st_size, st.st_mtime_ns), source) if source is not None else None


def _imported_from(text: str, module: str, name: str) -> tuple[int, str, str] | None:
    """(leading dots, dotted module, function name) that `module.name` (or `name`) refers to
    through the text's imports: `from m import name [as alias]`, `import m [as alias]`,
    `from p import m`, `from . import m`, `from .m import name`."""
    found: tuple[int, str, str] | None = None
    for dots, base, real, alias in _import_items(text):
        if base is None:
            if module and (alias or real) == module and _NAME.fullmatch(real):
                found = (0, real, name)
            continue
        if not real.isidentifier():
            continue
        if not module and (alias or real) == name and base:
            found = (dots, base, real)  # `from utils import read_pickles`
        elif module and (alias or real) == module:
            found = (dots, f"{base}.{real}" if base else real, name)  # `from py import utils`
    return found


def _module_file(dots: int, dotted: str, path: str, root: str | None) -> str | None:
    """The file of the project that `import dotted` reaches from `path`: relative to its
    folder (`dots` up), or looked for from its folder up to `root` (a script's folder, or the
    folder it is run from, is on `sys.path`)."""
    tail = os.path.join(*dotted.split("."))
    folder = os.path.dirname(os.path.abspath(path))
    if dots:
        for _ in range(dots - 1):
            folder = os.path.dirname(folder)
        top = folder
    else:
        top = os.path.abspath(root) if root else folder
    while True:
        for candidate in (f"{tail}.py", os.path.join(tail, "__init__.py")):
            full = os.path.join(folder, candidate)
            if os.path.isfile(full):
                return full
        if folder == top or not folder.startswith(top) or os.path.dirname(folder) == folder:
            return None
        folder = os.path.dirname(folder)


_SOURCES: dict[tuple[str, int, int], str] = {}


def _function_source(file: str, size: int, mtime_ns: int, name: str) -> str | None:
    """The text of the top-level `def name` in `file` (read once per version of the file)."""
    key = (file, size, mtime_ns)
    text = _SOURCES.get(key)
    if text is None:
        try:
            with open(file, "rb") as fh:
                text = fh.read(_HELPER_BYTES).decode("utf-8", "replace")
        except OSError:
            return None
        if len(_SOURCES) > 256:
            _SOURCES.clear()
        _SOURCES[key] = text
    found = re.compile(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(.*?(?=^[^\s#)]|\Z)",
                       re.M | re.S).findall(text)
    return found[0] if len(found) == 1 else None


def is_program(text: str) -> bool:
    """Whether the text says it runs as a program: an `if __name__ == "__main__":` block."""
    return _MAIN_GUARD.search(text) is not None


@dataclass
class ProjectView:
    """Who imports whom among a project's files (paths relative to its root, `/`-separated)."""

    files: set[str] = field(default_factory=set)
    imports: dict[str, set[str]] = field(default_factory=dict)  # file -> dotted names it imports

    @classmethod
    def from_texts(cls, texts: Iterable[tuple[str, str]]) -> ProjectView:
        view = cls()
        for path, text in texts:
            view.add(path, text)
        return view

    @classmethod
    def scan(cls, root: str, paths: Iterable[str], max_bytes: int = 2_000_000) -> ProjectView:
        """The view of the files `paths` (relative to `root`), each read up to `max_bytes`."""
        view = cls()
        for rel in paths:
            try:
                with open(os.path.join(root, rel), "rb") as fh:
                    data = fh.read(max_bytes)
            except OSError:
                continue
            view.add(rel, data.decode("utf-8", "replace"))
        return view

    def add(self, path: str, text: str) -> None:
        path = path.replace("\\", "/")
        self.files.add(path)
        if "import" in text:
            self.imports[path] = imported_names(text, path)

    def importers(self, path: str) -> list[str]:
        """The other files of the project that import `path`."""
        path = path.replace("\\", "/")
        names = set(module_names(path))
        if not names:
            return []
        return sorted(other for other, imported in self.imports.items()
                      if other != path and any(self.resolve(name, other) == path
                                               for name in imported & names))

    def resolve(self, name: str, importer: str) -> str | None:
        """The file of this project that `import name` in `importer` reaches: looked for from
        the importer's folder up to the root (a script's folder, or the folder it is run from,
        is on `sys.path`), else the one file whose path ends so (a `src/` layout)."""
        tail = name.replace(".", "/")
        folders = importer.split("/")[:-1]
        for depth in range(len(folders), -1, -1):
            base = "/".join(folders[:depth])
            for candidate in (f"{tail}.py", f"{tail}/__init__.py"):
                full = f"{base}/{candidate}" if base else candidate
                if full in self.files:
                    return full
        ends = [f for f in self.files
                if f.endswith((f"/{tail}.py", f"/{tail}/__init__.py"))]
        return ends[0] if len(ends) == 1 else None


def importers_among(targets: Iterable[str], files: Iterable[tuple[str, str]],
                    read: Callable[[str], str | None],
                    texts: dict[str, str] | None = None) -> dict[str, list[str]]:
    """The files (of `files`: (shown path, path to read)) that import each of `targets`
    (shown paths), reading only the files whose text names one of the targets' modules (a
    word search first: most files name none of them). `texts` gets the text of each file that
    names one."""
    targets = [t.replace("\\", "/") for t in targets]
    words = {name.rsplit(".", 1)[-1] for t in targets for name in module_names(t)}
    if not words:
        return {t: [] for t in targets}
    search = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b")
    view = ProjectView()
    for shown, path in files:
        shown = shown.replace("\\", "/")
        view.files.add(shown)
        text = read(path)
        if text and "import" in text and search.search(text):
            view.imports[shown] = imported_names(text, shown)
            if texts is not None:
                texts[shown] = text
    return {t: view.importers(t) for t in targets}

"""Settings: which rules run, at what severity, on which files; read from [tool.memlens]."""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from memlens.engine.model import Severity
from memlens.engine.safe_read import read_text, repository_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# A pyproject.toml is a few KB.
MAX_CONFIG_FILE = 1 << 20
SEVERITY_NAMES: dict[str, Severity] = {"error": "error", "warning": "warning", "info": "info",
                                       "information": "info", "hint": "hint"}


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] | None = None  # None: the rules that are on by default
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    rule_dirs: tuple[Path, ...] = ()
    respect_gitignore: bool = True
    # test code (context.py) is out of scope for the rules whose metadata.test-code is skip
    skip_test_code: bool = True
    # hints (the pattern is there, its size is not known) shown by `memlens check`
    show_hints: bool = False
    # a data file (or a printed size) under this many MiB makes a size-aware finding go away
    size_threshold_mib: float = 64.0
    config_file: Path | None = None
    root: Path | None = None  # the folder of the config file: per-file patterns are relative to it

    @classmethod
    def discover(cls, start: Path | str = ".", memo: dict | None = None) -> Settings:
        """Settings from the nearest pyproject.toml with a [tool.memlens] table, walking up.
        `memo` (folder -> its nearest config) spares the walk, and the parse, for folders
        already seen (many files named on one command line)."""
        start = Path(start).resolve()
        found = nearest_config(str(start if start.is_dir() else start.parent), memo)
        return cls() if found is None else cls.from_table(found[1], found[0])

    @classmethod
    def from_table(cls, table: dict, path: Path) -> Settings:
        def codes(key: str) -> tuple[str, ...]:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: key 'tool.memlens.{key}' must be a list of strings")
            return tuple(value)

        known = {"select", "ignore", "extend-select", "per-file-ignores", "exclude", "severity",
                 "rule-dirs", "respect-gitignore", "skip-test-code", "show-hints",
                 "size-threshold"}
        for key in table:
            if key not in known:
                raise ConfigError(f"{path}: unknown key 'tool.memlens.{key}'")
        pfi = table.get("per-file-ignores", {})
        if not isinstance(pfi, dict):
            raise ConfigError(f"{path}: key 'tool.memlens.per-file-ignores' must be a table")
        for pattern, ignored in pfi.items():
            # (a string would be read a character at a time: "ML101" ignoring every M rule)
            if not isinstance(ignored, list) or not all(isinstance(c, str) for c in ignored):
                raise ConfigError(f"{path}: key 'tool.memlens.per-file-ignores.\"{pattern}\"' "
                                  "must be a list of strings")
        sev = table.get("severity", {})
        if not isinstance(sev, dict):
            raise ConfigError(f"{path}: key 'tool.memlens.severity' must be a table")
        root = path.parent
        return cls(
            select=codes("select") if "select" in table else None,
            ignore=codes("ignore"),
            extend_select=codes("extend-select"),
            per_file_ignores={k: tuple(v) for k, v in pfi.items()},
            exclude=codes("exclude"),
            severity=parse_severity_map(sev, f"{path}: key 'tool.memlens.severity'"),
            rule_dirs=tuple(root / d for d in codes("rule-dirs")),
            respect_gitignore=_flag(table, "respect-gitignore", path),
            skip_test_code=_flag(table, "skip-test-code", path),
            show_hints=_flag(table, "show-hints", path, default=False),
            size_threshold_mib=_mib(table, "size-threshold", path),
            config_file=path,
            root=root,
        )

    def with_overrides(self, **changes) -> Settings:
        """Command-line flags (or editor settings) override the file; None means "not given"."""
        clean = {}
        for key, value in changes.items():
            if value is None:
                continue
            if key == "severity":
                value = {**self.severity, **parse_severity_map(value, "severity")}
            elif key in ("select", "ignore", "extend_select", "exclude"):
                value = tuple(value)
            elif key == "rule_dirs":
                value = tuple(Path(v) for v in value)
            clean[key] = value
        return replace(self, **clean)

    def per_file_ignored(self, path: str) -> tuple[str, ...]:
        if not self.per_file_ignores:
            return ()
        rel = _relative(path, self.root)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if _glob_match(rel, pattern):
                out.extend(codes)
        return tuple(out)

    def is_excluded(self, path: str) -> bool:
        rel = _relative(path, self.root)
        return any(_glob_match(rel, pattern) for pattern in self.exclude)


def nearest_config(folder: str, memo: dict | None = None) -> tuple[Path, dict] | None:
    """The pyproject.toml with a [tool.memlens] table in `folder` or the nearest folder above it,
    with that table. `memo` (folder -> answer) spares the walk for folders already seen."""
    if memo is not None and folder in memo:
        return memo[folder]
    pyproject = Path(folder) / "pyproject.toml"
    # (one that is there but no regular file, a FIFO or a link to a device, is an error to
    # say, not a file to pass over: the project's own rules and ignores would go unsaid)
    table = _read_table(pyproject) if os.path.lexists(pyproject) else None
    if table is not None:
        found: tuple[Path, dict] | None = (pyproject, table)
    else:
        parent = os.path.dirname(folder)
        found = None if parent == folder else nearest_config(parent, memo)
    if memo is not None:
        memo[folder] = found
    return found


def _mib(table: dict, key: str, path: Path, default: float = 64.0) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0 <= value < 2**40 or value != value:
        raise ConfigError(f"{path}: key 'tool.memlens.{key}' must be a number of MiB")
    return float(value)


def _flag(table: dict, key: str, path: Path, default: bool = True) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: key 'tool.memlens.{key}' must be true or false")
    return value


def parse_severity_map(raw: dict, where: str) -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    for code, name in raw.items():
        severity = SEVERITY_NAMES.get(name.lower()) if isinstance(name, str) else None
        if severity is None:
            raise ConfigError(f"{where}: {code} = {name!r} is not error, warning, info or hint")
        out[code] = severity
    return out


def _read_table(pyproject: Path, named: bool = False) -> dict | None:
    """The [tool.memlens] table of a pyproject.toml (None: it has none). A regular file of at
    most MAX_CONFIG_FILE bytes, and one found in a repository (not `named` on the command line)
    only when it lies in that repository, symlinks resolved (safe_read)."""
    within = None if named else repository_of(pyproject.parent)
    try:
        data = tomllib.loads(read_text(pyproject, MAX_CONFIG_FILE, within=within))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc}") from exc
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ConfigError(f"{pyproject}: cannot read: arrays or tables nested too deep") \
            from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{pyproject}: key 'tool' must be a table")
    table = tool.get("memlens")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: key 'tool.memlens' must be a table")
    return table


def _relative(path: str, root: Path | None) -> str:
    """`path` relative to the config's folder when it lies below it (a path relative to the
    current folder too: the config may live in another folder than the one memlens runs in),
    else as given."""
    p = Path(path)
    if root is not None:
        for absolute in (Path(os.path.abspath(path)), p.resolve()):  # symlinks: the second
            try:
                return absolute.relative_to(root).as_posix()
            except ValueError:
                continue
    return p.as_posix()


def _glob_match(rel: str, pattern: str) -> bool:
    """Ruff-like matching: a pattern matches the path, any parent folder, or the file name."""
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern + "/*"):
        return True
    parts = rel.split("/")
    return any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts))) or (
        "/" not in pattern and fnmatch.fnmatch(parts[-1], pattern)
    )

"""The settings of any file, resolved one way for `memlens check` and `memlens serve`.

A file's configuration is the nearest pyproject.toml with a [tool.memlens] table above it (as in
Ruff, a project nested in another keeps its own), or one fixed configuration (`--config`,
`--isolated`). The caller's `Overrides` go on top: the command line's flags, or the editor's
settings. Each configuration file gives one `Settings` object, so callers can key an engine, a
cache or a pool by it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from memlens.engine.config import Settings, nearest_config


@dataclass(frozen=True)
class Overrides:
    """What goes over every project's [tool.memlens]: `select` replaces it, `ignore` and
    `extend_select` add to it, `severity` is merged into it; None or empty: not given."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    respect_gitignore: bool | None = None

    def apply(self, base: Settings) -> Settings:
        """`base` with these on top (raises ConfigError for a severity that is not one)."""
        return base.with_overrides(
            select=self.select,
            ignore=_added(base.ignore, self.ignore),
            extend_select=_added(base.extend_select, self.extend_select),
            severity=dict(self.severity) or None,
            respect_gitignore=self.respect_gitignore,
        )


def _added(own: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...] | None:
    if not more:
        return None
    return tuple(own) + tuple(c for c in more if c not in own)


class Resolver:
    """Settings per folder: its nearest configuration (or `fixed`), with `overrides` on top.

    `trusted`: a workspace nobody vouched for loses its own rule folders (their rules would run
    on the word of whoever wrote it); `problems` says so. `default_root`: where per-file patterns
    and test paths are judged from when no configuration file is found.
    """

    def __init__(self, overrides: Overrides = Overrides(), fixed: Settings | None = None,
                 trusted: bool = True, default_root: str | os.PathLike | None = None):
        self.overrides, self.fixed, self.trusted = overrides, fixed, trusted
        self.default_root = Path(default_root) if default_root else None
        self.problems: list[str] = []
        self.folders: dict = {}  # folder -> its nearest config (nearest_config's memo)
        self._config_of: dict[str, Path | None] = {}  # folder -> that config, resolved
        self._by_config: dict[object, Settings] = {}

    def for_path(self, path: str | os.PathLike) -> Settings:
        """The settings of a file, or of a folder's own files."""
        path = os.path.abspath(path)
        return self.for_folder(path if os.path.isdir(path) else os.path.dirname(path))

    def for_folder(self, folder: str) -> Settings:
        if self.fixed is not None:
            return self._settings("fixed", lambda: self.fixed)
        config = self.config_of(folder)
        found = nearest_config(folder, self.folders)  # (remembered: config_of looked it up)
        if config is None or found is None:
            return self._settings(None, self._defaults)
        return self._settings(config, lambda: Settings.from_table(found[1], config))

    def config_of(self, folder: str) -> Path | None:
        """The configuration file that governs `folder` (None: none, or a fixed one); asked
        on every check of a document, so it is looked up once per folder."""
        if self.fixed is not None:
            return self.fixed.config_file
        if folder not in self._config_of:
            found = nearest_config(folder, self.folders)
            self._config_of[folder] = None if found is None else found[0].resolve()
        return self._config_of[folder]

    def _defaults(self) -> Settings:
        base = Settings()
        return base.with_overrides(root=self.default_root) if self.default_root else base

    def _settings(self, key, read) -> Settings:
        settings = self._by_config.get(key)
        if settings is None:
            base = read()
            if not self.trusted and base.rule_dirs:
                self.problems.append(
                    "memlens: this workspace is not trusted, so its rule-dirs "
                    f"({', '.join(str(d) for d in base.rule_dirs)}) are not loaded")
                base = base.with_overrides(rule_dirs=[])
            settings = self._by_config[key] = self.overrides.apply(base)
        return settings

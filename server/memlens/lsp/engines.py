"""The engines of a workspace: one for its own configuration, and one for each nested project with
its own `[tool.memlens]` (as `memlens check` finds them), each with the editor's settings on top.

`Engines` are built in the checker process, which checks. The language server itself keeps only a
`Workspace`: the settings (for the workspace check) and the rules' documentation (for hover),
read on first use. Both come from the same three facts: the workspace root, the editor's
settings, and whether the workspace is trusted.
"""

from __future__ import annotations

import os

from memlens.lsp import settings


def build(root: str | None, editor: settings.EditorSettings, trusted: bool, using=None):
    """(engine, problems): a bad selector or a broken rule dir is reported, and the default
    rules are used, so the editor keeps its diagnostics. `using`: the workspace's resolver."""
    from memlens.engine import Engine, Settings

    engine_settings, problems = settings.engine_settings(root, editor, trusted=trusted,
                                                         using=using)
    try:
        return Engine(engine_settings), problems
    except Exception as exc:
        problems.append(f"memlens: {exc}; using the default rules")
    try:
        return Engine(settings.engine_settings(root, settings.EditorSettings(),
                                               trusted=trusted)[0]), problems
    except Exception:
        return Engine(Settings()), problems


class Engines:
    def __init__(self, root: str | None, editor: settings.EditorSettings, trusted: bool):
        self.editor, self.trusted = editor, trusted
        self.resolver = settings.resolver(root, editor, trusted)  # also the nested projects'
        self.base, self.problems = build(root, editor, trusted, using=self.resolver)
        self._engines: dict[object, object] = {}  # a nested project's config -> its engine

    def for_path(self, path: str | None):
        """The engine of the nearest pyproject.toml with [tool.memlens] above `path`."""
        base = self.base
        if not path or not os.path.isabs(path):
            return base
        from memlens.engine import ConfigError

        folder = os.path.dirname(path)
        try:
            config = self.resolver.config_of(folder)
        except (ConfigError, OSError):  # that project's config is broken: the workspace's
            return base
        if config == base.settings.config_file:
            return base
        engine = self._engines.get(config)
        if engine is None:
            from memlens.engine import Engine

            try:
                engine = Engine(self.resolver.for_folder(folder))
            except Exception:  # that project's config is broken: the workspace's engine
                engine = base
            self._engines[config] = engine
        return engine


class Workspace:
    """What the server itself needs of the configuration. No engine: a rule is read (not
    compiled) the first time a hover shows its documentation."""

    def __init__(self, root: str | None, editor: settings.EditorSettings, trusted: bool):
        # (what is wrong with the configuration is the checker process's to report)
        self.resolver = settings.resolver(root, editor, trusted)
        self.settings = settings.engine_settings(root, editor, trusted, using=self.resolver)[0]
        self._rules: dict[tuple, object] = {}  # (configuration file, rule id) -> Rule or None

    def rules_named(self, codes, path: str | None) -> dict:
        """The rules of `codes` that can report in `path` (built-in, or its project's own)."""
        from memlens.engine import ConfigError

        chosen = self.settings
        if path and os.path.isabs(path):
            try:
                chosen = self.resolver.for_path(path)
            except (ConfigError, OSError):
                pass
        found = {}
        for code in codes:
            key = (chosen.config_file, code)
            if key not in self._rules:
                self._rules[key] = _read_rule(code, chosen.rule_dirs)
            if self._rules[key] is not None:
                found[code] = self._rules[key]
        return found


def _read_rule(code: str, rule_dirs) -> object:
    """Rule `code` from its file: `<id>.yml` among the built-in rules or in a rule folder (a
    folder whose files are named otherwise is read whole); None when there is none."""
    from memlens.engine import RuleError
    from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir, load_rule_file

    for directory in (builtin_rule_dir(), *rule_dirs):
        for suffix in (".yml", ".yaml"):
            candidate = os.path.join(directory, code + suffix)
            if os.path.isfile(candidate):
                try:
                    return load_rule_file(candidate, check=False)
                except RuleError:
                    return None
    for directory in rule_dirs:
        try:
            for rule in load_rule_dir(directory, check=False):
                if rule.id == code:
                    return rule
        except RuleError:  # the checker process reports it
            continue
    return None

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


def build(root: str | None, editor: settings.EditorSettings, trusted: bool):
    """(engine, problems): a bad selector or a broken rule dir is reported, and the default
    rules are used, so the editor keeps its diagnostics."""
    from memlens.engine import Engine, Settings

    engine_settings, problems = settings.engine_settings(root, editor, trusted=trusted)
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
        self.base, self.problems = build(root, editor, trusted)
        self.resolver = settings.resolver(root, editor, trusted)  # the nested projects'
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
    """What the server itself needs of the configuration. No engine: the rules are read (not
    compiled) the first time a hover shows their documentation."""

    def __init__(self, root: str | None, editor: settings.EditorSettings, trusted: bool):
        self.settings, self.problems = settings.engine_settings(root, editor, trusted)
        self.resolver = settings.resolver(root, editor, trusted)
        self._rules: dict[object, dict] = {}  # configuration file -> rule id -> Rule

    def rules_for(self, path: str | None) -> dict:
        """The rules that can report in `path`: the built-in ones and its project's own."""
        from memlens.engine import ConfigError, RuleError
        from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

        chosen = self.settings
        if path and os.path.isabs(path):
            try:
                chosen = self.resolver.for_path(path)
            except (ConfigError, OSError):
                pass
        rules = self._rules.get(chosen.config_file)
        if rules is None:
            rules = {r.id: r for r in load_rule_dir(builtin_rule_dir(), check=False)}
            for directory in chosen.rule_dirs:
                try:
                    rules.update({r.id: r for r in load_rule_dir(directory, check=False)})
                except RuleError:  # the checker process reports it
                    pass
            self._rules[chosen.config_file] = rules
        return rules

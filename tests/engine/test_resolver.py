"""One resolver of settings for `memlens check` and `memlens serve` (engine/resolver.py)."""

from __future__ import annotations

from pathlib import Path

from memlens.engine.config import Settings
from memlens.engine.resolver import Overrides, Resolver
from memlens.lsp import settings as editor_settings


def _tree(root: Path) -> None:
    (root / "pyproject.toml").write_text('[tool.memlens]\nignore = ["ML104"]\n'
                                         'rule-dirs = ["rules"]\n')
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "sub" / "pyproject.toml").write_text('[tool.memlens]\nselect = ["ML1"]\n')
    (root / "plain").mkdir()


def test_the_nearest_configuration_with_the_overrides_on_top(tmp_path):
    _tree(tmp_path)
    resolver = Resolver(Overrides(ignore=("ML105", "ML104"), extend_select=("ML4",)))
    top = resolver.for_path(tmp_path / "plain" / "a.py")
    nested = resolver.for_path(tmp_path / "sub" / "deep" / "b.py")
    assert top.config_file == (tmp_path / "pyproject.toml").resolve()
    assert top.ignore == ("ML104", "ML105") and top.extend_select == ("ML4",)
    assert nested.select == ("ML1",) and nested.ignore == ("ML105", "ML104")
    # one Settings object per configuration file: engines and caches are keyed by it
    assert resolver.for_folder(str(tmp_path)) is top
    assert resolver.for_path(tmp_path / "sub" / "c.py") is nested
    assert resolver.config_of(str(tmp_path / "sub" / "deep")) == nested.config_file


def test_select_replaces_and_a_fixed_configuration_wins(tmp_path):
    _tree(tmp_path)
    assert Resolver(Overrides(select=("ML2",))).for_path(tmp_path / "sub" / "x.py").select == \
        ("ML2",)
    isolated = Resolver(fixed=Settings())
    assert isolated.for_path(tmp_path / "sub" / "x.py").config_file is None
    assert isolated.for_path(tmp_path / "sub" / "x.py") is isolated.for_path(tmp_path / "y.py")


def test_an_untrusted_workspace_loses_its_rule_folders_and_says_so(tmp_path):
    _tree(tmp_path)
    resolver = Resolver(trusted=False)
    assert resolver.for_path(tmp_path / "a.py").rule_dirs == ()
    assert "not trusted" in resolver.problems[0]
    assert Resolver().for_path(tmp_path / "a.py").rule_dirs == ((tmp_path / "rules").resolve(),)


def test_without_a_configuration_paths_are_judged_from_the_workspace(tmp_path):
    resolver = Resolver(default_root=tmp_path)
    assert resolver.for_path(tmp_path / "a.py").root == tmp_path


def test_the_server_resolves_as_the_cli_does(tmp_path):
    _tree(tmp_path)
    editor = editor_settings.EditorSettings(ignore=("ML105",))
    server = editor_settings.resolver(str(tmp_path), editor)
    cli = Resolver(Overrides(ignore=("ML105",)))
    for path in (tmp_path / "a.py", tmp_path / "sub" / "deep" / "b.py"):
        assert server.for_path(path) == cli.for_path(path)

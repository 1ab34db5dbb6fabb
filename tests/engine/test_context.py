"""Context: test code and package data are out of scope for the data-size rules by default.

On the ecosystem corpus every data-size finding in tests, fixtures, `tests/results/*.py` data
modules and files shipped next to the code was false: their data is small by construction.
"""

from __future__ import annotations

import os
import textwrap

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.context import is_test_path
from memlens.engine.rulebook import TEST_CODE_SKIPPED, builtin_rule_dir, load_rule_dir

SLICED_LOAD = ("import numpy as np\nx = np.load('a.npy')\n"
               "for i in range(0, len(x), 10):\n    print(x[i:i + 10])\n")
GC_OFF = "import gc\ngc.disable()\nrun()\ngc.enable()\n"


def codes(src: str, path: str, **settings) -> list[str]:
    engine = Engine(Settings(**settings))
    return [f.code for f in engine.check_source(textwrap.dedent(src), path)]


@pytest.mark.parametrize("path", [
    "tests/test_io.py", "tests/helpers.py", "pkg/tests/results/expected.py", "test/data.py",
    "src/pkg/testing/fixtures.py", "test_loader.py", "loader_test.py", "conftest.py",
    "TTS/demos/app.py", "pkg/demo/run.py",
    "pkg/tests.py", "a/b/tests/c/d.py",
])
def test_test_paths(path):
    assert is_test_path(path)


@pytest.mark.parametrize("path", [
    "pkg/loader.py", "attest.py", "contest.py", "latest_model.py", "pkg/testdata_tools.py",
    "protest/app.py", "tests_report.py", "src/test.py",
])
def test_other_paths(path):
    assert not is_test_path(path)


def test_an_absolute_path_is_judged_below_the_project_root(tmp_path):
    root = tmp_path / "tests" / "project"  # the project itself sits in a folder named tests
    assert not is_test_path(str(root / "pkg" / "load.py"), str(root))
    assert is_test_path(str(root / "tests" / "load.py"), str(root))


def test_data_size_rules_skip_test_files_by_default():
    assert codes(SLICED_LOAD, "pkg/load.py") == ["ML102"]
    for path in ("tests/load.py", "test_load.py", "conftest.py", "tests/results/data.py"):
        assert codes(SLICED_LOAD, path) == [], path


@pytest.mark.parametrize("framework", ["import pytest", "import unittest",
                                       "from unittest import mock", "from hypothesis import given"])
def test_a_module_that_imports_a_test_framework_is_test_code(framework):
    assert codes(f"{framework}\n{SLICED_LOAD}", "pkg/check_data.py") == []


def test_the_setting_turns_it_off():
    assert codes(SLICED_LOAD, "tests/load.py", skip_test_code=False) == ["ML102"]
    assert codes(f"import pytest\n{SLICED_LOAD}", "pkg/x.py", skip_test_code=False) == ["ML102"]


def test_correctness_rules_still_run_on_test_code():
    assert codes(GC_OFF, "tests/test_gc.py") == ["ML601"]


def test_every_rule_says_what_context_it_skips():
    for rule in load_rule_dir(builtin_rule_dir()):
        docs = rule.docs_markdown()
        assert ("Test code:" in docs) != rule.checks_test_code, rule.id
    assert "skip-test-code = false" in TEST_CODE_SKIPPED


@pytest.mark.parametrize("src", [
    # __file__ inline
    """\
    import os
    import numpy as np
    x = np.load(os.path.join(os.path.dirname(__file__), "a.npy"))
    for i in range(0, len(x), 10):
        print(x[i:i + 10])
    """,
    # through a module-level variable
    """\
    from pathlib import Path
    import numpy as np
    here = Path(__file__).parent
    def load():
        x = np.load(here / "a.npy")
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    # through two variables
    """\
    from pathlib import Path
    import numpy as np
    HERE = Path(__file__).resolve().parent
    DATA = HERE / "data"
    def load():
        x = np.load(DATA / "a.npy")
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    # through a local variable
    """\
    import os
    import numpy as np
    def load():
        base_dir = os.path.dirname(os.path.abspath(__file__))
        x = np.load(os.path.join(base_dir, "a.npy"))
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
])
def test_package_data_is_out_of_scope(src):
    assert codes(src, "pkg/data.py") == []


def test_package_data_of_the_other_loaders():
    src = """\
    import os
    import pandas as pd
    import joblib
    here = os.path.dirname(__file__)
    MODEL = joblib.load(os.path.join(here, "model.joblib"))
    def table():
        df = pd.read_csv(os.path.join(here, "t.csv"))
        return df[["a", "b"]]
    def predict(x):
        return MODEL.predict(x)
    """
    assert codes(src, "pkg/data.py") == []


def test_a_path_unrelated_to_file_is_still_flagged():
    src = """\
    import os
    import numpy as np
    here = os.path.dirname(__file__)
    def load(root):
        x = np.load(os.path.join(root, "a.npy"))
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """
    assert codes(src, "pkg/data.py") == ["ML102"]


def test_cwd_relative_judgement_does_not_leak_the_folder_above(tmp_path, monkeypatch):
    project = tmp_path / "test" / "app"
    project.mkdir(parents=True)
    monkeypatch.chdir(project)
    assert codes(SLICED_LOAD, os.path.join(str(project), "load.py")) == ["ML102"]


def test_the_verdict_does_not_depend_on_how_the_path_is_written(tmp_path, monkeypatch):
    project = tmp_path / "tests" / "proj"  # a project that sits in a folder named tests
    project.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    root = str(project)
    for path in ("tests/proj/m.py", str(project / "m.py"), "./tests/proj/m.py"):
        assert not is_test_path(path, root), path
    monkeypatch.chdir(project.parent)
    assert not is_test_path("proj/m.py", root)
    assert is_test_path("proj/tests/m.py", root)

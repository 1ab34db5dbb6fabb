"""Import-aware matching: canonical names in rules, local spellings in files."""

from __future__ import annotations

from ast_grep_py import SgRoot

from memlens.engine.canonical import NEVER, rewrite_config, rewrite_text
from memlens.engine.imports import resolve_imports


def bindings(src: str):
    return resolve_imports(SgRoot(src, "python").root())


def test_resolves_aliases_and_from_imports():
    b = bindings(
        "import numpy as np, os.path\nimport pyarrow.parquet as pq\n"
        "from pandas import read_csv as rc, DataFrame\nfrom . import local\n"
        "def f():\n    import torch as th\n"
    )
    assert b["np"] == {"numpy"}
    assert b["os"] == {"os"}
    assert b["pq"] == {"pyarrow.parquet"}
    assert b["rc"] == {"pandas.read_csv"}
    assert b["th"] == {"torch"}
    assert "local" not in b


def test_rewrite_gives_every_local_spelling():
    b = bindings("import numpy as np\nfrom numpy import load\n")
    assert rewrite_text("numpy.load($P)", b) == ["load($P)", "np.load($P)"]


def test_rewrite_leaves_strings_and_attributes_alone():
    b = bindings("import numpy as np\n")
    assert rewrite_text('$X.astype("numpy.float64")', b) == ['$X.astype("numpy.float64")']
    assert rewrite_text("$M.numpy.load()", b) == ["$M.numpy.load()"]


def test_unimported_module_makes_rule_impossible():
    b = bindings("import yaml\n")
    assert rewrite_config({"rule": {"pattern": "numpy.load($P)"}}, b) is NEVER


def test_not_of_unimported_module_always_holds():
    b = bindings("import numpy as np\n")
    not_torch = {"inside": {"pattern": "torch.no_grad()"}}
    config = {"rule": {"pattern": "numpy.foo($P)", "not": not_torch}}
    assert rewrite_config(config, b) == {"rule": {"pattern": "np.foo($P)"}}


def test_any_keeps_possible_branches():
    b = bindings("import joblib\n")
    config = {"rule": {"any": [{"pattern": "numpy.load($P)"}, {"pattern": "joblib.load($P)"}]}}
    assert rewrite_config(config, b) == {"rule": {"any": [{"pattern": "joblib.load($P)"}]}}


def test_a_rewrite_says_when_a_branch_is_gone():
    """An `any` that loses a branch the file cannot match asks for more of the text (the engine
    then checks the variant's own text condition); one only respelled for aliases does not."""
    config = {"rule": {"any": [{"pattern": "numpy.load($$$A)"},
                               {"pattern": "transformers.pipeline($$$A)"}]}}
    dropped: list = []
    rewrite_config(config, bindings("import numpy as np\n"), dropped)
    assert dropped
    dropped = []
    rewrite_config(config, bindings("import numpy as np\nimport transformers\n"), dropped)
    assert not dropped

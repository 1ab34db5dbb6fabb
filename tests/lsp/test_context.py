"""The language server leaves test code to the correctness rules, as `memlens check` does, and
judges a path below the workspace folder when the project has no pyproject of its own."""

from __future__ import annotations

from pytest_lsp import LanguageClient

from .conftest import open_doc, pull

SLICED = ("import numpy as np\n\nx = np.load('a.npy')\n"
          "for i in range(0, len(x), 10):\n    print(x[i:i + 10])\n")


async def test_test_code_is_out_of_scope_for_the_data_size_rules(client: LanguageClient):
    # (the workspace pins ML102 and ML990; tests/cli and tests/engine check that the
    # correctness rules, such as ML601, still run on test code)
    root = client.root
    (root / "tests").mkdir(exist_ok=True)
    app = await pull(client, open_doc(client, root / "app_load.py", SLICED))
    assert [d.code for d in app] == ["ML102"]
    in_tests = await pull(client, open_doc(client, root / "tests" / "load_data.py", SLICED))
    assert [d.code for d in in_tests] == []
    named = await pull(client, open_doc(client, root / "test_load.py", SLICED))
    assert [d.code for d in named] == []
    pytest_module = await pull(client, open_doc(client, root / "check_data.py",
                                                "import pytest\n" + SLICED))
    assert [d.code for d in pytest_module] == []

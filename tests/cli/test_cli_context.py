"""`memlens check` as a user runs it on a project with tests: the data-size rules leave test code
alone unless `skip-test-code = false` says otherwise."""

from __future__ import annotations

from cli_helpers import run, write

SLICED = ("import numpy as np\n\nx = np.load('a.npy')\n"
          "for i in range(0, len(x), 10):\n    print(x[i:i + 10])\n")


def flagged(project, *args) -> list[tuple[str, str]]:
    r = run("check", "--output-format", "json", "--no-cache", *args, cwd=project)
    return sorted((f["filename"], f["code"]) for f in r.json())


def test_test_code_is_skipped_then_checked_on_request(project):
    write(project, {
        "pkg/load.py": SLICED,
        "tests/test_load.py": SLICED,
        "tests/results/expected.py": SLICED,
        "pkg/conftest.py": SLICED,
        "pkg/check.py": "import unittest\n" + SLICED,
        "pkg/gc_test.py": "import gc\ngc.disable()\nrun()\ngc.enable()\n",
    })
    assert flagged(project) == [("pkg/gc_test.py", "ML601"), ("pkg/load.py", "ML102")]
    write(project, {"pyproject.toml": "[tool.memlens]\nskip-test-code = false\n"})
    assert [name for name, code in flagged(project) if code == "ML102"] == [
        "pkg/check.py", "pkg/conftest.py", "pkg/load.py", "tests/results/expected.py",
        "tests/test_load.py"]


def test_a_bad_value_is_a_clear_error(project):
    write(project, {"pkg/load.py": SLICED,
                    "pyproject.toml": "[tool.memlens]\nskip-test-code = \"no\"\n"})
    r = run("check", cwd=project)
    assert r.returncode == 2
    assert "skip-test-code" in r.stderr and "true or false" in r.stderr

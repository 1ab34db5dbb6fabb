"""`memlens check` as a user runs it on a project with tests: the data-size rules leave test code
alone unless `skip-test-code = false` says otherwise."""

from __future__ import annotations

from cli_helpers import SHOWN, run, write

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
    write(project, {"pyproject.toml": "[tool.memlens]\nskip-test-code = false\n" + SHOWN})
    assert [name for name, code in flagged(project) if code == "ML102"] == [
        "pkg/check.py", "pkg/conftest.py", "pkg/load.py", "tests/results/expected.py",
        "tests/test_load.py"]


def test_a_bad_value_is_a_clear_error(project):
    write(project, {"pkg/load.py": SLICED,
                    "pyproject.toml": "[tool.memlens]\nskip-test-code = \"no\"\n"})
    r = run("check", cwd=project)
    assert r.returncode == 2
    assert "skip-test-code" in r.stderr and "true or false" in r.stderr


def test_an_eager_load_is_flagged_only_where_other_modules_import_the_file(project):
    """ML101: importers pay for a load at import time; a server's entry module that nothing
    imports runs the load as its program (the project's imports are read after the walk)."""
    write(project, {
        "app/model.py": "import joblib\n\nMODEL = joblib.load('model.pkl')\n\n\n"
                        "def predict(x):\n    return MODEL.predict(x)\n",
        "app/serve.py": "import joblib\nfrom flask import Flask\nfrom model import predict\n\n"
                        "app = Flask(__name__)\nSCALER = joblib.load('scaler.pkl')\n\n\n"
                        "@app.route('/')\ndef index():\n    return str(predict(SCALER.transform([[1]])))\n",
    })
    r = run("check", "--select", "ML101", "--output-format", "json", "--no-cache", ".",
            cwd=project)
    found = [(f["filename"], f["location"]["row"], f["fix"] is not None) for f in r.json()]
    assert found == [("app/model.py", 3, True)]
    # named alone, the file's project is not read: the code's own evidence stands
    r = run("check", "--select", "ML101", "--output-format", "json", "--no-cache",
            "app/serve.py", cwd=project)
    assert [f["filename"] for f in r.json()] == ["app/serve.py"]


def test_the_accessor_fix_is_not_offered_when_an_importer_uses_the_name(project):
    write(project, {
        "model.py": "import joblib\n\nMODEL = joblib.load('model.pkl')\n\n\n"
                    "def predict(x):\n    return MODEL.predict(x)\n",
        "report.py": "import model\n\nprint(model.MODEL.classes_)\n",
    })
    r = run("check", "--select", "ML101", "--output-format", "json", "--no-cache", ".",
            cwd=project)
    [f] = r.json()
    assert (f["filename"], f["fix"]) == ("model.py", None)

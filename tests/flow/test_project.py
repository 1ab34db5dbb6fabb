"""The project view: which modules other modules import, with the counterexamples (a file
that only shares a name, a relative import from elsewhere)."""

from __future__ import annotations

from memlens.flow.project import ProjectView, imported_names, is_program, module_names


def test_module_names_are_every_suffix():
    assert module_names("src/pkg/model.py") == ["src.pkg.model", "pkg.model", "model"]
    assert module_names("pkg/__init__.py") == ["pkg"]
    assert module_names("my-app/serve.py") == ["serve"]  # a folder that is no package name
    assert module_names("notebook.ipynb") == []


def test_imported_names():
    text = ("import numpy as np, os\nfrom pkg.model import Net, load as L\n"
            "from . import utils\nfrom ..core import (a,\n    b)\n# import fake\n")
    names = imported_names(text, "pkg/sub/m.py")
    assert {"numpy", "os", "pkg.model", "pkg.model.Net", "pkg.model.load", "pkg.sub",
            "pkg.sub.utils", "pkg.core", "pkg.core.a", "pkg.core.b"} <= names
    assert "fake" not in names


def test_importers():
    view = ProjectView.from_texts([
        ("app.py", "from model import predict\nimport uvicorn\n"),
        ("model.py", "import joblib\nMODEL = joblib.load('m.pkl')\n"),
        ("train.py", "import pkg.features\n"),
        ("pkg/features.py", "from .model import Net\n"),
        ("pkg/model.py", "import torch\n"),
        ("scripts/model_report.py", "print(1)\n"),
    ])
    assert view.importers("model.py") == ["app.py"]
    assert view.importers("app.py") == []
    assert view.importers("pkg/features.py") == ["train.py"]
    assert view.importers("pkg/model.py") == ["pkg/features.py"]
    # a file whose name only resembles an imported one
    assert view.importers("scripts/model_report.py") == []


def test_programs():
    assert is_program('x = 1\nif __name__ == "__main__":\n    main()\n')
    assert not is_program("def f():\n    if __name__ == '__main__': pass\n")

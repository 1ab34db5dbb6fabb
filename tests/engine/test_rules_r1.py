"""Lazy-loading rules (ML101-ML107, ML201-ML206): fixer outputs checked exactly, and the shapes
a fixer must decline."""

from __future__ import annotations

import ast
import textwrap

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.fixes import apply_edits

ENGINE = Engine(Settings(select=("ALL",)))


def _findings(code: str, src: str):
    return [f for f in ENGINE.check_source(src, "mod.py", prefilter=False) if f.code == code]


def _fixed(code: str, src: str) -> str:
    src = textwrap.dedent(src)
    found = _findings(code, src)
    assert len(found) == 1, found
    assert found[0].fix is not None, f"{code} offered no fix"
    out = apply_edits(src, found[0].fix.edits)
    ast.parse(out)
    return out


def _declines(code: str, src: str) -> None:
    src = textwrap.dedent(src)
    found = _findings(code, src)
    assert found, f"{code} did not flag"
    assert all(f.fix is None for f in found)


# --- ML101 ---------------------------------------------------------------------------------


def test_ml101_accessor_rewrites_every_read():
    out = _fixed("ML101", """\
        import joblib

        model = joblib.load("model.pkl")


        def predict(rows):
            return model.predict(rows)


        def score(rows, y):
            return model.score(rows, y)
        """)
    assert out == textwrap.dedent("""\
        import functools
        import joblib

        @functools.cache
        def get_model():
            return joblib.load("model.pkl")


        def predict(rows):
            return get_model().predict(rows)


        def score(rows, y):
            return get_model().score(rows, y)
        """)


def test_ml101_uses_existing_cache_import_and_keeps_docstring_first():
    out = _fixed("ML101", '''\
        """Doc."""
        from functools import cache
        from joblib import load
        MODEL = load("m.pkl")
        def f():
            return MODEL
        ''')
    assert out == textwrap.dedent('''\
        """Doc."""
        from functools import cache
        from joblib import load
        @cache
        def get_model():
            return load("m.pkl")
        def f():
            return get_model()
        ''')


@pytest.mark.parametrize("src", [
    # reassigned
    """\
    import joblib
    model = joblib.load("a.pkl")
    def f():
        return model
    model = None
    """,
    # global
    """\
    import joblib
    model = joblib.load("a.pkl")
    def f():
        global model
        return model
    """,
    # shadowed by a parameter
    """\
    import joblib
    model = joblib.load("a.pkl")
    def f(model=None):
        return model
    def g():
        return model
    """,
    # exported
    """\
    import joblib
    __all__ = ["model"]
    model = joblib.load("a.pkl")
    def f():
        return model
    """,
    # conditional binding
    """\
    import pandas as pd
    try:
        lookup = pd.read_parquet("lookup.parquet")
    except OSError:
        lookup = None
    def find(key):
        return lookup.loc[key]
    """,
])
def test_ml101_declines(src):
    _declines("ML101", src)


# --- ML104 ---------------------------------------------------------------------------------


def test_ml104_path_gets_mmap_stream_does_not():
    assert _fixed("ML104", 'import torch\ns = torch.load("c.pt")\n') == \
        'import torch\ns = torch.load("c.pt", map_location="cpu", mmap=True)\n'
    assert _fixed("ML104", 'import torch, io\ns = torch.load(io.BytesIO(b))\n') == \
        'import torch, io\ns = torch.load(io.BytesIO(b), map_location="cpu")\n'
    src = 'import torch\nwith open(p, "rb") as f:\n    s = torch.load(f)\n'
    assert _fixed("ML104", src) == \
        'import torch\nwith open(p, "rb") as f:\n    s = torch.load(f, map_location="cpu")\n'


# --- ML106 ---------------------------------------------------------------------------------


def test_ml106_wraps_statement_in_with():
    out = _fixed("ML106", """\
        import pickle
        def read(path):
            model = pickle.load(open(path, "rb"))
            return model
        """)
    assert out == textwrap.dedent("""\
        import pickle
        def read(path):
            with open(path, "rb") as fh:
                model = pickle.load(fh)
            return model
        """)


def test_ml106_multiline_and_fresh_handle_name():
    out = _fixed("ML106", """\
        import json
        fh = 1
        def read(path):
            return json.load(
                open(path),
            )
        """)
    assert out == textwrap.dedent("""\
        import json
        fh = 1
        def read(path):
            with open(path) as f:
                return json.load(
                    f,
                )
        """)


@pytest.mark.parametrize("src", [
    "import json\nrows = [json.load(open(p)) for p in paths]\n",
    "import json\ncfg = json.load(open(p)) if p else {}\n",
    "import json\nload = lambda p: json.load(open(p))\n",
    "import json\nif p: cfg = json.load(open(p))\n",
])
def test_ml106_declines(src):
    _declines("ML106", src)


# --- ML107 ---------------------------------------------------------------------------------


def test_ml107_hoists_into_cached_loader():
    out = _fixed("ML107", """\
        import joblib
        from flask import Flask
        app = Flask(__name__)

        @app.route("/predict")
        def predict():
            model = joblib.load("model.pkl")
            return model.predict(x)
        """)
    assert out == textwrap.dedent("""\
        import functools
        import joblib
        from flask import Flask
        app = Flask(__name__)

        @functools.cache
        def _load_model():
            return joblib.load("model.pkl")


        @app.route("/predict")
        def predict():
            model = _load_model()
            return model.predict(x)
        """)


def test_ml107_declines_when_load_uses_request_values():
    _declines("ML107", """\
        import joblib
        @app.get("/m/{name}")
        def predict(name: str):
            model = joblib.load(f"models/{name}.pkl")
            return model
        """)


# --- ML103 / ML105 / ML205: template and add-keyword fixes ---------------------------------


def test_ml103_adds_mmap_mode():
    assert _fixed("ML103", 'import joblib\nm = joblib.load("f.joblib")\n') == \
        'import joblib\nm = joblib.load("f.joblib", mmap_mode="r")\n'


def test_ml105_adds_torch_dtype():
    src = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("x")\n'
    assert _fixed("ML105", src) == \
        'from transformers import AutoModel\nm = AutoModel.from_pretrained("x", torch_dtype="auto")\n'


def test_ml205_iterates_the_file():
    src = "with open(p) as f:\n    for line in f.readlines():\n        print(line)\n"
    assert _fixed("ML205", src) == "with open(p) as f:\n    for line in f:\n        print(line)\n"


def test_ml101_and_ml106_fixes_compose():
    """Both fixes on one statement: applied over rounds, the result still parses."""
    src = textwrap.dedent("""\
        import pickle
        model = pickle.load(open("m.pkl", "rb"))
        def predict(x):
            return model.predict(x)
        """)
    out, applied = ENGINE.fix_source(src, "mod.py", unsafe=True)
    assert {f.code for f in applied} >= {"ML101", "ML106"}
    ast.parse(out)
    assert "def get_model():" in out and "with open(" in out and "get_model().predict" in out


def test_ml101_declines_when_module_level_code_reads_the_value():
    _declines("ML101", """\
        from transformers import AutoModelForSequenceClassification
        model = AutoModelForSequenceClassification.from_pretrained("x", torch_dtype="auto")
        model.eval()
        def predict(inputs):
            return model(**inputs)
        """)


def test_ml101_flags_a_module_level_registry_without_a_fix():
    _declines("ML101", """\
        import joblib
        models = {}
        models["crop"] = joblib.load("crop.joblib")
        def predict(x):
            return models["crop"].predict(x)
        """)


def test_ml107_class_based_view_is_flagged_without_a_fix():
    _declines("ML107", """\
        import joblib
        from django.views.generic import TemplateView
        class Result(TemplateView):
            def get(self, request):
                model = joblib.load("model_1.pkl")
                return model.predict(request.GET)
        """)


def test_ml107_plain_class_method_named_get_is_not_a_handler():
    src = textwrap.dedent("""\
        import joblib
        class Cache:
            def get(self, key):
                return joblib.load(key + ".pkl")
        """)
    assert not _findings("ML107", src)


def test_ml107_two_handlers_share_one_loader():
    src = textwrap.dedent("""\
        import joblib

        @app.route("/a")
        def a():
            model = joblib.load("model.pkl")
            return model.a()

        @app.route("/b")
        def b():
            clf = joblib.load("model.pkl")
            return clf.b()
        """)
    out, applied = ENGINE.fix_source(src, "mod.py", unsafe=True)
    assert [f.code for f in applied].count("ML107") == 2
    assert out.count("def _load_model():") == 1
    assert "model = _load_model()" in out and "clf = _load_model()" in out
    ast.parse(out)

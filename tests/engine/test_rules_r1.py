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
    return [f for f in ENGINE.check_source(src, "mod.py", parse_whole=True) if f.code == code]


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


DEFAULT = Engine()
AUDIT = Engine(Settings(select=("AUDIT",)))


def _hint_without_a_file(code: str, src: str) -> None:
    """A size-aware rule: on by default, and with no data file to read (nor a notebook's
    output) its finding is a hint: the pattern is there, its size is not known."""
    src = textwrap.dedent(src)
    found = [f for f in DEFAULT.check_source(src, "mod.py") if f.code == code]
    assert found and all((f.severity, f.evidence) == ("hint", "pattern") for f in found), found


def _hint_only_when_named(code: str, src: str) -> None:
    """A size-aware rule whose unsized findings are opt-in (`metadata.unsized: opt-in`): with no
    data file, nothing among the default rules, and a hint when a selector names the rule."""
    src = textwrap.dedent(src)
    assert code not in [f.code for f in DEFAULT.check_source(src, "mod.py")], src
    for selector in (code, code[:3], "ALL"):
        named = Engine(Settings(select=(selector,))).check_source(src, "mod.py")
        found = [f for f in named if f.code == code]
        assert found and all((f.severity, f.evidence) == ("hint", "pattern") for f in found), (
            selector, found)
    extended = Engine(Settings(extend_select=(code,))).check_source(src, "mod.py")
    assert code in [f.code for f in extended], src


def _audit_only(code: str, src: str) -> None:
    """An audit rule: on when the audit group is selected, off by default."""
    src = textwrap.dedent(src)
    assert code in [f.code for f in AUDIT.check_source(src, "mod.py")], f"{code} not in AUDIT"
    assert code not in [f.code for f in DEFAULT.check_source(src, "mod.py")], f"{code} default"


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


def test_ml104_flags_a_checkpoint_cut_to_one_entry_without_a_fix():
    # whether the rest of the checkpoint is large the code does not say (a hint when the rule is
    # named, nothing among the default rules, unless the file is read), and mmap=True / map_location are the author's call (a fix never changes the
    # device)
    for src in ('import torch\ns = torch.load("c.pt")["model"]\n',
                'import torch\nckpt = torch.load(path)\nmodel.load_state_dict(ckpt["model"])\n'):
        _declines("ML104", src)
        _hint_only_when_named("ML104", src)
    # used whole, or read from a stream or buffer (mmap needs a file name): not flagged
    for src in ('import torch\ns = torch.load("c.pt")\nmodel.load_state_dict(s)\n',
                'import torch, io\ns = torch.load(io.BytesIO(b))["model"]\n',
                'import torch\nwith open(p, "rb") as f:\n    s = torch.load(f)["model"]\n'):
        assert not _findings("ML104", src), src


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


# --- ML103 / ML105 / ML205: audit rules ----------------------------------------------------


def test_ml103_is_an_audit_rule_without_a_fix():
    # a joblib file holds a model as often as arrays: flagged on request, not rewritten
    src = 'import joblib\nm = joblib.load("f.joblib")\n'
    _declines("ML103", src)
    _audit_only("ML103", src)


def test_ml105_is_opt_in_without_a_fix():
    # a fix never changes a dtype; off by default (user code: 0 of 8 findings true), and
    # selected, with no model folder to read, a hint
    src = 'from transformers import AutoModel\nm = AutoModel.from_pretrained("x")\n'
    _declines("ML105", src)
    assert not [f for f in DEFAULT.check_source(src, "mod.py") if f.code == "ML105"]
    selected = Engine(Settings(select=("ML105",))).check_source(src, "mod.py")
    found = [f for f in selected if f.code == "ML105"]
    assert found and all((f.severity, f.evidence) == ("hint", "pattern") for f in found), found


def test_ml205_iterates_the_file():
    src = "with open(p) as f:\n    for line in f.readlines():\n        print(line)\n"
    assert _fixed("ML205", src) == "with open(p) as f:\n    for line in f:\n        print(line)\n"
    _audit_only("ML205", src)


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

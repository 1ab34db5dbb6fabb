"""Every fixer against the counterexamples that broke fixes on real code: a fix is offered only
when the code proves what it needs, and where it can be run, the fixed code is run on real data
and gives what the original gave.

The shapes come from the ecosystem corpus (benchmarks/ecosystem): streams and buffers, `.npz`
archives, `**kwargs` pass-through, optional imports, float64-only consumers, kept devices,
Index objects, warn-once caches.
"""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pandas as pd
import pytest

from memlens.engine import Engine, Settings
from memlens.engine.fixes import apply_edits
from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

ENGINE = Engine(Settings(select=("ALL",)))


def findings(code: str, src: str):
    src = textwrap.dedent(src)
    return [f for f in ENGINE.check_source(src, "mod.py", parse_whole=True) if f.code == code]


def fixed(code: str, src: str) -> str:
    src = textwrap.dedent(src)
    found = findings(code, src)
    assert len(found) == 1, found
    assert found[0].fix is not None, f"{code} offered no fix"
    out = apply_edits(src, found[0].fix.edits)
    ast.parse(out)
    return out


def no_fix(code: str, src: str) -> None:
    """The finding stays, without a fix."""
    found = findings(code, src)
    assert found, f"{code} did not flag it"
    assert all(f.fix is None for f in found), [f.fix for f in found]


def silent(code: str, src: str) -> None:
    assert findings(code, src) == []


def run(src: str, **names):
    """Run module code; return its namespace (the tests' own code: never the server's)."""
    namespace = dict(names)
    exec(compile(textwrap.dedent(src), "<fixture>", "exec"), namespace)
    return namespace


# --- ML102 memory-map: only a path to a .npy file, never a stream --------------------------


@pytest.mark.parametrize("src", [
    # an in-memory buffer and an open file cannot be memory-mapped
    """\
    import io
    import numpy as np
    x = np.load(io.BytesIO(blob))
    for i in range(0, len(x), 10):
        print(x[i:i + 10])
    """,
    """\
    import numpy as np
    with open("a.npy", "rb") as f:
        x = np.load(f)
        for i in range(0, len(x), 10):
            print(x[i:i + 10])
    """,
    """\
    import numpy as np
    def read(fh):
        x = np.load(fh)
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    # .npz archives ignore mmap_mode
    """\
    import numpy as np
    x = np.load("splits.npz")
    for i in range(0, 100, 10):
        print(x["train"][i:i + 10])
    """,
    # **kwargs may already say how to load it
    """\
    import numpy as np
    def load(path, **kwargs):
        x = np.load(path, **kwargs)
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    # pickled object arrays cannot be memory-mapped
    """\
    import numpy as np
    x = np.load("ragged.npy", allow_pickle=True)
    for i in range(0, len(x), 10):
        print(x[i:i + 10])
    """,
    # already memory-mapped, positionally
    """\
    import numpy as np
    x = np.load("a.npy", "r")
    for i in range(0, len(x), 10):
        print(x[i:i + 10])
    """,
])
def test_ml102_is_silent_where_mmap_cannot_apply(src):
    silent("ML102", src)


@pytest.mark.parametrize("src", [
    # not visibly a path: it may be a file object at run time
    """\
    import numpy as np
    def rows(source):
        x = np.load(source)
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    # a literal that names no .npy file
    """\
    import numpy as np
    x = np.load("features.bin")
    for i in range(0, len(x), 10):
        print(x[i:i + 10])
    """,
    # something writes into the array: a read-only map would raise
    """\
    import numpy as np
    def normalised(path):
        x = np.load(path)
        x[x < 0] = 0
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    """\
    import numpy as np
    def shuffled(path):
        x = np.load(path)
        np.random.shuffle(x)
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    """\
    import numpy as np
    def scaled(path):
        x = np.load(path)
        x /= 255.0
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
    """\
    import numpy as np
    def ordered(path):
        x = np.load(path)
        x.sort()
        return [x[i:i + 10] for i in range(0, len(x), 10)]
    """,
])
def test_ml102_offers_no_fix_without_proof(src):
    no_fix("ML102", src)


def test_ml102_fix_on_real_data_reads_the_same_values(tmp_path):
    data = np.arange(10_000, dtype=np.float64).reshape(1000, 10)
    path = tmp_path / "features.npy"
    np.save(path, data)
    src = """\
    import numpy as np
    def batches(path):
        features = np.load(path)
        return [features[i:i + 64, :3] for i in range(0, len(features), 64)]
    """
    after = fixed("ML102", src)
    assert 'np.load(path, mmap_mode="r")' in after
    want = run(src)["batches"](str(path))
    got = run(after)["batches"](str(path))
    assert all(isinstance(b, np.memmap) for b in got)  # mapped: only the pages read are loaded
    assert len(got) == len(want) == 16
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(a), b)


# --- ML104 (audit): no fix at all; never a device change --------------------------------


def test_ml104_offers_no_fix_and_keeps_the_device():
    src = """\
    import torch
    def weights(path, device):
        ckpt = torch.load(path, map_location=device)
        return ckpt["model"]
    """
    no_fix("ML104", src)


@pytest.mark.parametrize("src", [
    """\
    import io
    import torch
    state = torch.load(io.BytesIO(blob))["model"]
    """,
    """\
    import torch
    def restore(path, **kwargs):
        return torch.load(path, **kwargs)["model"]
    """,
    """\
    import torch
    ckpt = torch.load("last.pt")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    resume(ckpt)
    """,
])
def test_ml104_is_silent_on_streams_kwargs_and_whole_use(src):
    silent("ML104", src)


# --- no fix changes dtype or device, anywhere in the catalog -----------------------------

_DTYPE_OR_DEVICE = ("float32", "float16", "bfloat16", "torch_dtype", "dtype=", "map_location",
                    ".cpu()", "device=", '.to("cpu")', ".half()")


@pytest.mark.parametrize("rule", [r for r in load_rule_dir(builtin_rule_dir()) if r.fix],
                         ids=lambda r: r.id)
def test_no_fix_changes_dtype_or_device(rule):
    for snippet in rule.invalid:
        for f in ENGINE.check_source(snippet, "snippet.py", parse_whole=True):
            if f.code != rule.id or f.fix is None:
                continue
            after = apply_edits(snippet, f.fix.edits)
            # moving the author's own call (ML107 hoists a load) keeps its arguments
            added = [t for t in _DTYPE_OR_DEVICE if after.count(t) > snippet.count(t)]
            assert not added, (rule.id, added, after)


# --- optional imports: no fix makes an optional package required ------------------------


@pytest.mark.parametrize("src", [
    # torch imported only inside functions: the module works without it
    """\
    def evaluate(model, loader):
        import torch
        model.eval()
        return [model(batch) for batch in loader]
    """,
    # torch imported under try: optional
    """\
    try:
        import torch
    except ImportError:
        torch = None
    def evaluate(model, loader):
        model.eval()
        outs = []
        for batch in loader:
            outs.append(model(batch))
        return outs
    """,
])
def test_ml501_never_adds_a_module_level_torch_import(src):
    no_fix("ML501", src)


def test_ml501_decorates_when_torch_is_imported_at_the_top():
    after = fixed("ML501", """\
    import torch
    def evaluate(model, loader):
        model.eval()
        outs = []
        for batch in loader:
            outs.append(model(batch))
        return outs
    """)
    assert "@torch.no_grad()\ndef evaluate" in after
    assert after.count("import torch") == 1


def test_ml501_never_decorates_a_function_that_trains():
    # a target's forward pass detached in a training step: no_grad over the step would stop
    # the generator's gradients; the finding stays, without a fix
    no_fix("ML501", """\
    import torch
    vgg = torchvision.models.vgg19(pretrained=True)
    def run(loader):
        for lr, hr in loader:
            real = vgg(hr).detach()
            loss = crit(vgg(generator(lr)), real)
            loss.backward()
            optimizer.step()
    """)


@pytest.mark.parametrize("src", [
    # shap imported only in another function: `shap.sample` would raise NameError here
    """\
    def available():
        import shap
        return shap
    def explain(model, X_train):
        return shap.KernelExplainer(model.predict, X_train)
    """,
    # shap not imported at all (the class came from elsewhere)
    """\
    from explainers import KernelExplainer
    def explain(model, X_train):
        return KernelExplainer(model.predict, X_train)
    """,
])
def test_explainer_fix_needs_shap_visible_at_the_call(src):
    for f in findings("ML301", src):
        assert f.fix is None


def test_explainer_fix_uses_the_local_import_and_samples_rows():
    after = fixed("ML301", """\
    def explain(model, X_train):
        import shap as sh
        return sh.KernelExplainer(model.predict, X_train)
    """)
    # shap.sample keeps real rows; shap.kmeans would average integer ID columns
    assert "sh.sample(X_train, 100)" in after
    assert "kmeans" not in after


# --- ML401/ML402 grow-to-list: the same result on real data, or no fix -------------------


def test_ml401_fix_on_real_arrays_gives_the_same_array():
    src = """\
    import numpy as np
    def stack(loader):
        features = np.empty((0, 3))
        for batch in loader:
            features = np.concatenate([features, batch * 2], axis=0)
        return features
    """
    after = fixed("ML401", src)
    batches = [np.full((4, 3), i, dtype=float) for i in range(5)]
    np.testing.assert_array_equal(run(after)["stack"](batches), run(src)["stack"](batches))


def test_ml402_fix_on_real_frames_gives_the_same_frame():
    src = """\
    import pandas as pd
    def per_group(df):
        out = pd.DataFrame()
        for key, group in df.groupby("k"):
            out = pd.concat([out, group.sum().to_frame().T])
        return out
    """
    after = fixed("ML402", src)
    df = pd.DataFrame({"k": [1, 1, 2, 3], "v": [1.0, 2.0, 3.0, 4.0]})
    pd.testing.assert_frame_equal(run(after)["per_group"](df), run(src)["per_group"](df))


def test_ml402_no_fix_for_an_index_append():
    # Index.append is not DataFrame.append: pd.concat of Index objects raises TypeError
    no_fix("ML402", """\
    import pandas as pd
    def merge(files):
        index = pd.Index([])
        for path in files:
            index = index.append(pd.Index(read(path)))
        return index
    """)


def test_ml402_append_method_fix_when_the_frame_is_visible():
    # DataFrame.append is gone from pandas 2; the fix is checked as code and by shape
    after = fixed("ML402", """\
    import pandas as pd
    def merge(files):
        out = pd.DataFrame()
        for path in files:
            out = out.append(pd.read_csv(path))
        return out
    """)
    assert "out = pd.concat(out_parts)" in after


# --- ML101 cached-accessor: never breaks importers it cannot see -------------------------


def test_ml101_no_fix_for_a_load_other_modules_import():
    no_fix("ML101", """\
    import joblib
    model = joblib.load("model.pkl")
    """)


def test_ml101_fix_runs_and_loads_lazily(tmp_path):
    path = tmp_path / "table.npy"
    np.save(path, np.arange(6))
    src = f"""\
    import numpy as np
    TABLE = np.load({str(path)!r})
    def lookup(i):
        return int(TABLE[i])
    """
    after = fixed("ML101", src)
    assert "TABLE = " not in after  # nothing loads at import
    assert run(after)["lookup"](4) == run(src)["lookup"](4) == 4


# --- ML702: no fix (bounding a warn-once cache would change what it does) --------------


def test_ml702_offers_no_fix():
    no_fix("ML702", """\
    import functools
    @functools.cache
    def warn_once(layer):
        print(type(layer).__name__)
    """)


# --- ML205 (audit): the safe fix reads the same lines -------------------------------------


def test_ml205_fix_reads_the_same_lines(tmp_path):
    path = tmp_path / "manifest.tsv"
    path.write_text("a\t1\nb\t2\nc\t3\n")
    src = """\
    def keys(path):
        out = []
        with open(path) as f:
            for line in f.readlines():
                out.append(line.split("\\t")[0])
        return out
    """
    after = fixed("ML205", src)
    assert run(after)["keys"](path) == run(src)["keys"](path) == ["a", "b", "c"]


def test_ml205_no_fix_when_the_loop_uses_the_file():
    silent("ML205", """\
    with open("a.txt") as f:
        for line in f.readlines():
            f.seek(0)
    """)

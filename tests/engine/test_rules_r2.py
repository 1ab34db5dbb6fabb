"""Explainers, arrays and torch rules (ML3xx-ML5xx): exact fixer outputs and precision
regressions taken from shapes seen in real code (scipy, transformers, alibi, captum users)."""

from __future__ import annotations

import textwrap

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.fixes import apply_edits

ENGINE = Engine(Settings(select=("ML3", "ML4", "ML5")))


def _codes(src: str) -> list[str]:
    return [f.code for f in ENGINE.check_source(textwrap.dedent(src), "t.py", parse_whole=True)]


def _fixed(src: str, code: str) -> str:
    src = textwrap.dedent(src)
    findings = [f for f in ENGINE.check_source(src, "t.py") if f.code == code]
    assert len(findings) == 1, findings
    assert findings[0].fix is not None
    return apply_edits(src, findings[0].fix.edits)


def test_grow_to_list_concatenate_keeps_keywords():
    src = """\
    import numpy as np
    def collect(loader):
        feats = np.empty((0, 8))
        for batch in loader:
            feats = np.concatenate([feats, encode(batch)], axis=0)
        return feats
    """
    assert _fixed(src, "ML401") == textwrap.dedent("""\
    import numpy as np
    def collect(loader):
        feats = np.empty((0, 8))
        feats_parts = [feats]
        for batch in loader:
            feats_parts.append(encode(batch))
        feats = np.concatenate(feats_parts, axis=0)
        return feats
    """)


def test_grow_to_list_np_append_without_axis_flattens():
    src = """\
    import numpy as np
    a = np.array([])
    for row in rows:
        a = np.append(a, row)
    """
    assert _fixed(src, "ML401") == textwrap.dedent("""\
    import numpy as np
    a = np.array([])
    a_parts = [a]
    for row in rows:
        a_parts.append(row)
    a = np.concatenate([np.ravel(p) for p in a_parts])
    """)


def test_grow_to_list_pandas_append_method():
    src = """\
    import pandas as pd
    df = pd.DataFrame()
    for path in paths:
        piece = pd.read_csv(path)
        df = df.append(piece, ignore_index=True)
    """
    assert _fixed(src, "ML402") == textwrap.dedent("""\
    import pandas as pd
    df = pd.DataFrame()
    df_parts = [df]
    for path in paths:
        piece = pd.read_csv(path)
        df_parts.append(piece)
    df = pd.concat(df_parts, ignore_index=True)
    """)


@pytest.mark.parametrize("piece", ["row", "[[text, label]]", "{'a': 1}", "pd.Series(x)"])
def test_grow_to_list_pandas_append_declines_a_piece_that_is_not_visibly_a_frame(piece):
    # DataFrame.append took rows, lists and dicts; pd.concat of those raises TypeError
    src = ("import pandas as pd\ndf = pd.DataFrame()\nfor text, row in rows:\n"
           f"    df = df.append({piece}, ignore_index=True)\n")
    findings = [f for f in ENGINE.check_source(src, "t.py") if f.code == "ML402"]
    assert findings and findings[0].fix is None


def test_grow_to_list_pandas_append_method_declines_unless_a_frame_is_visible():
    # `.append` of an Index or a list means something else, and pd.concat of those raises
    src = "import pandas as pd\nfor row in rows:\n    df = df.append(row, ignore_index=True)\n"
    findings = [f for f in ENGINE.check_source(src, "t.py") if f.code == "ML402"]
    assert findings and findings[0].fix is None


@pytest.mark.parametrize("body", [
    "a = np.append(a, x)\n        print(a.shape)",  # the array is read in the loop
    "a = np.append(a, x)\n        if x:\n            return a",  # the final concat could be skipped
])
def test_grow_to_list_declines(body):
    src = f"import numpy as np\ndef f(rows, a):\n    for x in rows:\n        {body}\n"
    findings = [f for f in ENGINE.check_source(src, "t.py") if f.code == "ML401"]
    assert findings and findings[0].fix is None


def test_no_grad_goes_below_staticmethod():
    src = """\
    import torch as th
    class Runner:
        @staticmethod
        def run(net, loader):
            net.eval()
            return [net(batch) for batch in loader]
    """
    assert _fixed(src, "ML501") == textwrap.dedent("""\
    import torch as th
    class Runner:
        @staticmethod
        @th.no_grad()
        def run(net, loader):
            net.eval()
            return [net(batch) for batch in loader]
    """)


def test_sample_fix_declines_when_only_the_class_is_imported():
    # `shap` is not bound: the fix would have to add `import shap`, and it never adds an import
    # of a package outside the standard library
    src = """\
    from __future__ import annotations
    from shap import KernelExplainer
    e = KernelExplainer(f, X_train)
    """
    findings = [f for f in ENGINE.check_source(textwrap.dedent(src), "t.py") if f.code == "ML301"]
    assert findings and findings[0].fix is None


def test_sample_fix_when_the_file_imports_shap():
    src = """\
    from __future__ import annotations
    import shap
    e = shap.KernelExplainer(f, X_train)
    """
    assert _fixed(src, "ML301") == textwrap.dedent("""\
    from __future__ import annotations
    import shap
    e = shap.KernelExplainer(f, shap.sample(X_train, 100))
    """)


def test_accumulated_loss_fixes():
    src = """\
    for x in loader:
        loss = model(x)
        loss.backward()
        losses.append(loss)
    """
    assert "losses.append(loss.detach())" in _fixed(src, "ML502")
    assert "loss.backward()" in _fixed(src, "ML502")


# Each loop is a data loop (the evidence ML401 and ML501 now need), so that only the exclusion
# the case is about keeps it quiet.
@pytest.mark.parametrize("src", [
    # transformers SAM processor: each loop item padded once
    """\
    import numpy as np
    for i, point in enumerate(samples):
        if point.shape[0] != n:
            point = np.concatenate([point, np.zeros((n - point.shape[0], 2))], axis=0)
            labels[i] = np.append(labels[i], [pad])
    """,
    # torchmetrics dnsmos: doubling until long enough
    """\
    import numpy as np
    while audio.shape[-1] < n:
        audio = np.concatenate([audio, audio], axis=-1)
    """,
    # sklearn LARS: appended and deleted in the same loop, constant size
    """\
    import numpy as np
    for idx in rows:
        sign_active = np.delete(sign_active, idx)
        sign_active = np.append(sign_active, 0.0)
    """,
    # alibi wrapper: background summarised positionally
    """\
    import alibi
    explainer = alibi.explainers.KernelShap(predictor)
    explainer.fit(self.X, summarise_background, n_background_samples)
    """,
    # captum with a single integration step
    """\
    from captum.attr import IntegratedGradients
    ig = IntegratedGradients(model2)
    attributions, delta = ig.attribute(vec, n_steps=1, target=3)
    """,
    # a training function: gradients are used
    """\
    import torch
    def step(model, loader, opt):
        model.eval()
        for x in loader:
            loss = model(x).sum()
            loss.backward()
            opt.step()
    """,
])
def test_precision_regressions(src):
    assert not _codes(src)


@pytest.mark.parametrize("src,code", [
    # scipy pyprima: constraint matrices grown row block by row block (here over data chunks:
    # the rule needs evidence that the loop runs once per data item)
    ("""\
    import numpy as np
    for chunk in chunks:
        full_A = np.concatenate((full_A, chunk.A), axis=0)
    """, "ML401"),
    ("""\
    import numpy as np
    for i in range(n_samples):
        args["A"] = np.concatenate((args["A"], A[i:i+1, :]), axis=0)
    """, "ML401"),
    # pandas tests: chunked SQL reads
    ("""\
    import pandas as pd
    reader = pd.read_sql_query(q, conn, chunksize=5)
    for chunk in reader:
        res = pd.concat([res, chunk], ignore_index=True)
    """, "ML402"),
    # shap teacher forcing: first batch set up under `if ... is None`, then grown
    ("""\
    import numpy as np
    for batch in batches:
        if output_batch is None:
            output_batch = logodds
        else:
            output_batch = np.concatenate((output_batch, logodds))
    """, "ML401"),
    ("""\
    import pandas as pd
    for x in chunks:
        if out is None:
            out = x
        else:
            out = pd.concat([out, x])
    """, "ML402"),
])
def test_real_world_growth_is_flagged(src, code):
    assert code in _codes(src)

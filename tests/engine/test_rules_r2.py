"""Explainers, arrays and torch rules (ML3xx-ML5xx): exact fixer outputs and precision
regressions taken from shapes seen in real code (scipy, transformers, alibi, captum users)."""

from __future__ import annotations

import textwrap

import pytest

from memlens.engine import Engine, Settings
from memlens.engine.fixes import apply_edits

ENGINE = Engine(Settings(select=("ML3", "ML4", "ML5")))


def _codes(src: str) -> list[str]:
    return [f.code for f in ENGINE.check_source(textwrap.dedent(src), "t.py", prefilter=False)]


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
    for x in xs:
        a = np.append(a, x)
    """
    assert _fixed(src, "ML401") == textwrap.dedent("""\
    import numpy as np
    a = np.array([])
    a_parts = [a]
    for x in xs:
        a_parts.append(x)
    a = np.concatenate([np.ravel(p) for p in a_parts])
    """)


def test_grow_to_list_pandas_append_method():
    src = """\
    import pandas as pd
    for row in rows:
        df = df.append(row, ignore_index=True)
    """
    assert _fixed(src, "ML402") == textwrap.dedent("""\
    import pandas as pd
    df_parts = [df]
    for row in rows:
        df_parts.append(row)
    df = pd.concat(df_parts, ignore_index=True)
    """)


@pytest.mark.parametrize("body", [
    "a = np.append(a, x)\n        print(a.shape)",  # the array is read in the loop
    "a = np.append(a, x)\n        if x:\n            return a",  # the final concat could be skipped
])
def test_grow_to_list_declines(body):
    src = f"import numpy as np\ndef f(xs, a):\n    for x in xs:\n        {body}\n"
    findings = [f for f in ENGINE.check_source(src, "t.py") if f.code == "ML401"]
    assert findings and findings[0].fix is None


def test_no_grad_goes_below_staticmethod():
    src = """\
    import torch as th
    class Runner:
        @staticmethod
        def run(net, batch):
            net.eval()
            return net(batch)
    """
    assert _fixed(src, "ML501") == textwrap.dedent("""\
    import torch as th
    class Runner:
        @staticmethod
        @th.no_grad()
        def run(net, batch):
            net.eval()
            return net(batch)
    """)


def test_kmeans_fix_adds_import_when_only_the_class_is_imported():
    src = """\
    from __future__ import annotations
    from shap import KernelExplainer
    e = KernelExplainer(f, X_train)
    """
    assert _fixed(src, "ML301") == textwrap.dedent("""\
    from __future__ import annotations
    import shap
    from shap import KernelExplainer
    e = KernelExplainer(f, shap.kmeans(X_train, 50))
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


@pytest.mark.parametrize("src", [
    # transformers SAM processor: each loop item padded once
    """\
    import numpy as np
    for i, point in enumerate(points):
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
    for idx in drops:
        sign_active = np.delete(sign_active, idx)
        sign_active = np.append(sign_active, 0.0)
    """,
    # transformers Trainer: periodic cache release
    """\
    import torch
    for step, inputs in enumerate(loader):
        run(inputs)
        if (step + 1) % accumulation_steps == 0:
            torch.cuda.empty_cache()
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
    def step(model, x, opt):
        model.eval()
        loss = model(x).sum()
        loss.backward()
        opt.step()
    """,
])
def test_precision_regressions(src):
    assert not _codes(src)


@pytest.mark.parametrize("src,code", [
    # scipy pyprima: constraint matrices grown row block by row block
    ("""\
    import numpy as np
    for constraint in constraints[1:]:
        full_A = np.concatenate((full_A, constraint.A), axis=0)
    """, "ML401"),
    ("""\
    import numpy as np
    for i in range(n):
        args["A"] = np.concatenate((args["A"], A[i:i+1, :]), axis=0)
    """, "ML401"),
    # pandas tests: chunked SQL reads
    ("""\
    import pandas as pd
    for chunk in pd.read_sql_query(q, conn, chunksize=5):
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
    for x in xs:
        if out is None:
            out = x
        else:
            out = pd.concat([out, x])
    """, "ML402"),
])
def test_real_world_growth_is_flagged(src, code):
    assert code in _codes(src)

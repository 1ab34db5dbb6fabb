"""The loop around a node: a handful the code lists, or as many items as the data holds."""

from __future__ import annotations

import pytest
from flow_helpers import node_of

from memlens.flow.loops import loop_around

GROW = "df = pd.concat([df, $X])"


@pytest.mark.parametrize("source", [
    "for i in range(n):\n    df = pd.concat([df, row(i)])",
    "for i in range(len(X)):\n    df = pd.concat([df, X[i]])",
    "for i in X.index:\n    df = pd.concat([df, f(i)])",
    "def f(items):\n    for it in items:\n        df = pd.concat([df, g(it)])",
    "for i, name in enumerate(os.listdir(p)):\n    df = pd.concat([df, r(name)])",
    "for i in range(194_000):\n    df = pd.concat([df, x])",
    "while more():\n    df = pd.concat([df, x])",
    "for k, g in df0.groupby('k'):\n    df = pd.concat([df, g])",
    "for p in tqdm(paths):\n    df = pd.concat([df, load(p)])",
    # a list built elsewhere (its length is the data's)
    "urls = get_urls()\nfor u in urls:\n    df = pd.concat([df, fetch(u)])",
])
def test_loops_over_the_data(source):
    loop = loop_around(node_of(source, GROW)[1])
    assert loop is not None and not loop.handful


@pytest.mark.parametrize("source, count", [
    ("for m in [a, b, c]:\n    df = pd.concat([df, m.score()])", 3),
    ("for i in range(3):\n    df = pd.concat([df, x])", 3),
    ("for i in range(2, 10, 2):\n    df = pd.concat([df, x])", 4),
    ("models = (a, b)\nfor m in models:\n    df = pd.concat([df, m.score()])", 2),
    ("for i, m in enumerate(['lr', 'rf']):\n    df = pd.concat([df, x])", 2),
    ("for y in zip(range(5), items):\n    df = pd.concat([df, x])", 5),
])
def test_a_handful_by_construction(source, count):
    loop = loop_around(node_of(source, GROW)[1])
    assert loop is not None and loop.handful and loop.count == count


def test_no_loop_and_the_iterable_itself():
    assert loop_around(node_of("df = pd.concat([df, x])", GROW)[1]) is None
    # a loop in another function does not count
    source = "for i in range(n):\n    pass\ndef f():\n    df = pd.concat([df, x])"
    assert loop_around(node_of(source, GROW)[1]) is None
    # the iterable runs once
    source = "for x in pd.concat([df, y]):\n    pass"
    root, node = node_of(source, "pd.concat($$$)")
    assert loop_around(node) is None


def test_a_large_literal_range_is_not_a_handful():
    loop = loop_around(node_of("for i in range(1000):\n    df = pd.concat([df, x])", GROW)[1])
    assert loop.count == 1000 and not loop.handful


@pytest.mark.parametrize("source", [
    "for fold in folds:\n    df = pd.concat([df, x])",
    "for name, model in models.items():\n    df = pd.concat([df, x])",
    "for tr, va in kf.split(X):\n    df = pd.concat([df, x])",
    "for tr, va in StratifiedKFold(5).split(X, y):\n    df = pd.concat([df, x])",
    "for s in self.seeds:\n    df = pd.concat([df, x])",
])
def test_a_few_by_name(source):
    loop = loop_around(node_of(source, GROW)[1])
    assert loop.handful and loop.over == "few"


@pytest.mark.parametrize("source", [
    "for f in files:\n    df = pd.concat([df, x])",
    "for batch in model_batches:\n    df = pd.concat([df, x])",
    "for row in rows:\n    df = pd.concat([df, x])",
])
def test_names_of_data_are_not_a_few(source):
    assert not loop_around(node_of(source, GROW)[1]).handful


def test_a_comprehension_is_a_loop_over_its_iterable():
    root, node = node_of("preds = [model(b) for b in loader]", "model($X)")
    loop = loop_around(node)
    assert loop is not None and not loop.handful
    root, node = node_of("preds = [model(b) for b in [x, y]]", "model($X)")
    assert loop_around(node).handful
    # the comprehension's own iterable runs once
    root, node = node_of("preds = [b for b in model(x)]", "model($X)")
    assert loop_around(node) is None


@pytest.mark.parametrize("source", [
    "for k, g in df0.groupby('k'):\n    df = pd.concat([df, g])",
    "for i, row in df0.iterrows():\n    df = pd.concat([df, x])",
    "for p in tqdm(glob.glob('*.csv')):\n    df = pd.concat([df, x])",
    "for chunk in pd.read_csv(p, chunksize=10_000):\n    df = pd.concat([df, chunk])",
    "for batch in loader:\n    df = pd.concat([df, x])",
    "for i in range(n_samples):\n    df = pd.concat([df, x])",
    "while True:\n    line = f.readline()\n    df = pd.concat([df, x])",
])
def test_a_loop_evidently_over_the_data(source):
    assert loop_around(node_of(source, GROW)[1]).evident


@pytest.mark.parametrize("source", [
    "for i in range(n):\n    df = pd.concat([df, x])",
    "def f(items):\n    for it in items:\n        df = pd.concat([df, x])",
    "for i in X.index:\n    df = pd.concat([df, x])",
    "for m in [a, b]:\n    df = pd.concat([df, x])",
    "while not done:\n    df = pd.concat([df, x])",
])
def test_a_loop_that_may_be_long_is_not_evident(source):
    assert not loop_around(node_of(source, GROW)[1]).evident

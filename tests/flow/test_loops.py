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


@pytest.mark.parametrize("source", [
    # one row (or a chunk) per iteration until a frame's length: once per row
    "i = 0\nwhile i < len(rows):\n    df = pd.concat([df, x])\n    i += 1",
    "while len(df) < n:\n    df = pd.concat([df, read(f, 1000)])",
    # the measured frame shrinks by one row per step: still once per row
    "while q.shape[0] > 0:\n    df = pd.concat([df, q.iloc[:1]])\n    q = q.iloc[1:]",
])
def test_a_while_loop_bounded_by_a_length_is_evident(source):
    assert loop_around(node_of(source, GROW)[1]).evident


@pytest.mark.parametrize("source", [
    # Clean Up Prev Forwards (home-credit): drains a frame by filtering it, once per round
    # (as many as the largest count), not once per row
    "while base.shape[0] > 0:\n    aug = aug.append(base)\n    base.need -= 1\n"
    "    base = base[base.need > 0]",
    "while len(todo):\n    df = pd.concat([df, todo])\n    todo = todo.loc[todo.left > 1]",
    "while todo.size > 0:\n    df = pd.concat([df, x])\n    todo = todo.query('n > 0')",
])
def test_a_while_loop_draining_a_frame_by_a_filter_is_not_evident(source):
    pattern = "aug = aug.append($X)" if "aug" in source else GROW
    loop = loop_around(node_of(source, pattern)[1])
    assert not loop.evident and not loop.handful


@pytest.mark.parametrize("source, count", [
    # a constant the file names (home-credit's 10X_prev_concat-DL1.py: LOOP_ORDER = 3)
    ("LOOP_ORDER = 3\nfor i in range(LOOP_ORDER):\n    df = pd.concat([df, x])", 3),
    ("N = 4\ndef f():\n    for i in range(1, N):\n        df = pd.concat([df, x])", 3),
    # the list the loop iterates is the literal assigned last before it (_601_bureau-balance:
    # `col_cat = []` filled earlier, then `col_cat = ['bb_MONTH_0', ... 5 names]`)
    ("cols = []\nfor i in range(n):\n    cols.append(i)\nuse(cols)\n"
     "cols = ['a', 'b', 'c', 'd', 'e']\nfor c in cols:\n    df = pd.concat([df, x])", 5),
])
def test_a_handful_through_a_name(source, count):
    loop = loop_around(node_of(source, GROW)[1])
    assert loop.handful and loop.count == count


@pytest.mark.parametrize("source", [
    # a constant rebound elsewhere, a count the data gives, a parameter of the same name
    "N = 3\nN = len(rows)\nfor i in range(N):\n    df = pd.concat([df, x])",
    "def f(N):\n    for i in range(N):\n        df = pd.concat([df, x])\nN = 3",
    # the literal is extended before the loop, or rebound inside an enclosing loop
    "cols = ['a', 'b']\ncols.extend(more)\nfor c in cols:\n    df = pd.concat([df, x])",
    "cols = ['a', 'b']\ncols += more\nfor c in cols:\n    df = pd.concat([df, x])",
    # (the first loop runs over ['a']; the second over what `rows` holds)
    "cols = ['a']\nfor c in cols:\n    pass\ncols = rows\nfor c in cols:\n    df = pd.concat([df, x])",
    "for r in runs:\n    cols = ['a']\n    for c in cols:\n        df = pd.concat([df, x])\n"
    "    cols = rows",
    "if a:\n    cols = ['a']\nelse:\n    cols = rows\nfor c in cols:\n    df = pd.concat([df, x])",
])
def test_not_a_handful_through_a_name(source):
    assert not loop_around(node_of(source, GROW)[1]).handful


@pytest.mark.parametrize("source", [
    # a table's columns: as many as its schema, not its rows (gp1.py: 16 categorical columns;
    # instacart's compress(): the non-id columns)
    "cats = [f for f in prev.columns if prev[f].dtype == 'object']\nfor f in cats:\n"
    "    df = pd.concat([df, pd.get_dummies(prev[f])], axis=1)",
    "def compress(df, key):\n    cols = [c for c in df.columns if '_id' not in c]\n"
    "    for c in cols:\n        df = pd.concat([df, x], axis=1)",
    "for c in X.select_dtypes('O').columns:\n    df = pd.concat([df, x], axis=1)",
    "for i, c in enumerate(list(X.columns)):\n    df = pd.concat([df, x], axis=1)",
    "for fi in range(len(X.columns)):\n    df = pd.concat([df, x], axis=1)",
])
def test_a_loop_over_the_columns_of_a_table_is_a_few(source):
    loop = loop_around(node_of(source, "df = pd.concat($$$)")[1])
    assert loop.handful and loop.over == "columns" and not loop.evident


@pytest.mark.parametrize("source", [
    # rows, or what the columns' values hold
    "for fi in range(X.shape[0]):\n    df = pd.concat([df, x])",
    # an array's second axis: as often frames or time steps (sadtalker's make_animation)
    "for t in range(video.shape[1]):\n    df = pd.concat([df, x])",
    "for v in X[cols].values:\n    df = pd.concat([df, x])",
    "for v in df.columns.map(f):\n    df = pd.concat([df, x])",
    "for c in X.columns:\n    for v in X[c]:\n        df = pd.concat([df, x])",
    "for r in [x for x in rows if x]:\n    df = pd.concat([df, x])",
])
def test_rows_and_values_are_not_columns(source):
    loop = loop_around(node_of(source, GROW)[1])
    assert loop.over != "columns" and not loop.handful

"""Whether the value a name is bound to is first used by a call that remakes it under the same
name (`remade`): examples, and beside them values used first, discarded, remade in place, under
another name, or by a loop."""

from __future__ import annotations

import pytest
from flow_helpers import name_marked, node_of

from memlens.flow.conditions import FileFlow, parse_flow
from memlens.flow.remade import remade_by

DROP = frozenset({"drop"})


@pytest.mark.parametrize("source, line", [
    # instacart's 500_xgb_cv.py: other statements between, none reads X
    ('''
     X = data.drop("reordered", axis=1)  # <-
     y = data["reordered"]
     drop_cols = ["order_id", "user_id", "product_id"]
     X = X.drop(columns=drop_cols)
     ''', 5),
    # a parameter dropped twice; its columns read between (instacart's 502_xgb_predict.py)
    ('''
     def pipe(X):
         X = X.drop(["order_id", "user_id"], axis=1)  # <-
         if "reordered" in X.columns:
             X = X.drop("reordered", axis=1)
         return X
     ''', 5),
    # both in the same pass of a loop
    ('''
     for df in frames:
         out = df.drop(columns=["a"])  # <-
         out = out.drop(columns=["b"])
         use(out)
     ''', 4),
])
def test_remade_before_any_use(source, line):
    call = remade_by(name_marked(source), DROP)
    assert call is not None and call.range().start.line + 1 == line


@pytest.mark.parametrize("source", [
    # used before the second drop
    '''
    X = data.drop("reordered", axis=1)  # <-
    fit(X)
    X = X.drop(columns=["id"])
    ''',
    # first used by something else
    '''
    X = data.drop("a", axis=1)  # <-
    X = X.fillna(0)
    ''',
    # remade in place: no second copy
    '''
    X = data.drop("a", axis=1)  # <-
    X = X.drop(columns=["id"], inplace=False)
    ''',
    # under another name: the first result may be used again
    '''
    X = data.drop("a", axis=1)  # <-
    Z = X.drop(columns=["id"])
    ''',
    # the second drop runs in a loop: from the second pass on, X is its own result
    '''
    X = data.drop("a", axis=1)  # <-
    for c in cols:
        X = X.drop(columns=[c])
    ''',
    # read by a nested function first
    '''
    X = data.drop("a", axis=1)  # <-
    show = lambda: print(X)
    X = X.drop(columns=["id"])
    ''',
    # discarded unused: rebound to something else
    '''
    X = data.drop("a", axis=1)  # <-
    X = other
    X = X.drop(columns=["id"])
    ''',
    # never used again
    '''
    X = data.drop("a", axis=1)  # <-
    run()
    ''',
])
def test_used_first_or_not_remade(source):
    assert remade_by(name_marked(source), DROP) is None


def test_the_condition_names_the_call_and_its_line():
    root, node = node_of('''
        X = data.drop("reordered", axis=1)
        X = X.drop(columns=["id"])
        ''', "$B = $A.drop($$$)")
    said = parse_flow([{"remade": "drop", "of": "B"}]).holds(node, FileFlow(root))
    assert said == {"remade": "drop() on line 3"}

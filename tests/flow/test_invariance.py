"""The same value on every iteration of a loop, or on every call of a function."""

from __future__ import annotations

import pytest
from flow_helpers import node_of

from memlens.flow.invariance import invariant_in_call, invariant_in_loop

SEL = "test[cols]"


@pytest.mark.parametrize("source", [
    '''
    for fold, (tr, va) in enumerate(folds.split(X, y)):
        clf = make().fit(X.iloc[tr], y.iloc[tr])
        pred += clf.predict(test[cols]) / 5
    ''',
    '''
    def cv(test, cols, models):
        for m in models:
            out.append(m.predict(test[cols]))
    ''',
])
def test_invariant_in_the_loop(source):
    assert invariant_in_loop(node_of(source, SEL)[1]).invariant


@pytest.mark.parametrize("source", [
    # the frame or the columns change in the loop
    '''
    for cols in feature_sets:
        pred = clf.predict(test[cols])
    ''',
    '''
    for i in range(5):
        test = load(i)
        pred = clf.predict(test[cols])
    ''',
    '''
    for i in range(5):
        test["f"] = i
        pred = clf.predict(test[cols])
    ''',
    '''
    for i in range(5):
        cols.append(i)
        pred = clf.predict(test[cols])
    ''',
    '''
    for i in range(5):
        test.fillna(i, inplace=True)
        pred = clf.predict(test[cols])
    ''',
    # not in a loop
    "pred = clf.predict(test[cols])",
])
def test_not_invariant_in_the_loop(source):
    assert not invariant_in_loop(node_of(source, SEL)[1]).invariant


def test_a_volatile_call_is_never_invariant():
    source = "for i in range(3):\n    x = f(random.sample(pool, 3))\n"
    assert not invariant_in_loop(node_of(source, "f($$$)")[1]).invariant


DOCS = "BM25Okapi($$$)"


@pytest.mark.parametrize("source", [
    '''
    CORPUS = load_corpus()
    @app.get("/search")
    def search(q: str):
        bm25 = BM25Okapi([d.split() for d in CORPUS])
        return bm25.get_top_n(q.split(), CORPUS)
    ''',
    # a name imported in the function is the same object on every call
    '''
    def split_text(self, text):
        from rank_bm25 import BM25Okapi
        return BM25Okapi(CORPUS)
    ''',
])
def test_invariant_in_the_call(source):
    assert invariant_in_call(node_of(source, DOCS)[1]).invariant


@pytest.mark.parametrize("source", [
    '''
    def search(q, docs):
        return BM25Okapi(docs).get_top_n(q, docs)
    ''',
    '''
    def search(q):
        docs = fetch(q)
        return BM25Okapi(docs)
    ''',
    '''
    class S:
        def search(self, q):
            return BM25Okapi(self.docs)
    ''',
    '''
    BM25Okapi(CORPUS)
    ''',
])
def test_not_invariant_in_the_call(source):
    assert not invariant_in_call(node_of(source, DOCS)[1]).invariant

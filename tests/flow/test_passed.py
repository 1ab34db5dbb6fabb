"""Where a value goes: every use passes it whole to calls of some names (`passed`)."""

from __future__ import annotations

import pytest
from flow_helpers import node_of

from memlens.flow.conditions import FileFlow, parse_flow

RECORDS = "$D.to_dict(orient='records')"
TO_VECTORIZER = parse_flow([{"passed": "fit|transform|fit_transform"}])


def passed(source: str):
    root, node = node_of(source, RECORDS)
    return TO_VECTORIZER.holds(node, FileFlow(root))


@pytest.mark.parametrize("source, said", [
    ('''
     dicts = df[cols].to_dict(orient='records')
     X = dv.fit_transform(dicts)
     ''', "`dv.fit_transform`"),
    # fitted, then transformed; display between does not count
    ('''
     train_dicts = df[cols].to_dict(orient='records')
     print(len(train_dicts))
     dv.fit(train_dicts)
     X = dv.transform(X=train_dicts)
     ''', "`dv.fit`, `dv.transform`"),
    # straight into the call, and through a helper of the same file
    ("X = dv.transform(df.to_dict(orient='records'))", "`dv.transform`"),
    ('''
     def encode(dicts):
         return dv.transform(dicts)
     X = encode(df.to_dict(orient='records'))
     ''', "`dv.transform`"),
])
def test_passed_to_the_named_calls(source, said):
    assert passed(source) == {"passed": said}


@pytest.mark.parametrize("source", [
    # also kept, indexed, returned, or passed elsewhere
    '''
     dicts = df.to_dict(orient='records')
     X = dv.fit_transform(dicts)
     store.save(dicts)
     ''',
    '''
     dicts = df.to_dict(orient='records')
     first = dicts[0]
     X = dv.transform(dicts)
     ''',
    '''
     def records(df):
         return df.to_dict(orient='records')
     ''',
    # never used
    "dicts = df.to_dict(orient='records')",
])
def test_not_only_passed_to_them(source):
    assert passed(source) is None

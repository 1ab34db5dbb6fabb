"""Whether a frame is made only to take the rows of one key (or to read its columns): examples,
and beside each the counterexample that must not read as it."""

from __future__ import annotations

import pytest
from flow_helpers import name_marked

from memlens.flow.selection import rows_selected


@pytest.mark.parametrize("source,said", [
    ("""
    def cb(store, key):
        df = pd.DataFrame(store)  # <-
        return df[df["id"] == key]
    """, 'only to take the rows where `df["id"] == key`'),
    # through a copy, then rebound to the cut; the columns read besides
    ("""
    def cb(store, key, ts):
        df = pd.DataFrame(store)  # <-
        f = df.copy()
        f = f[(f["id"] == key) & (f.ts == ts)]
        names = [c for c in df.columns if c.endswith("_shap")]
        return f[names].to_numpy()
    """, "only to take the rows where `(f[\"id\"] == key) & (f.ts == ts)`"),
    ("""
    def cb(store, key):
        df = pd.DataFrame(store)  # <-
        rows = df.loc[df.id == key]
        return rows.mean()
    """, "only to take the rows where `df.id == key`"),
    # only its columns
    ("""
    def cb(store):
        df = pd.DataFrame(store)  # <-
        return [c for c in df.columns if c.endswith("_shap")]
    """, "only to read its columns"),
])
def test_frames_cut_to_one_keys_rows(source, said):
    found = rows_selected(name_marked(source))
    assert found is not None
    assert found.describe() == said


@pytest.mark.parametrize("source", [
    # used whole besides the cut
    """
    def cb(store, key):
        df = pd.DataFrame(store)  # <-
        sel = df[df["id"] == key]
        return px.histogram(df, x="age"), sel
    """,
    # a cut by another comparison keeps many rows
    """
    def cb(store, t):
        df = pd.DataFrame(store)  # <-
        return df[df["age"] > t]
    """,
    # the copy is used whole
    """
    def cb(store, key):
        df = pd.DataFrame(store)  # <-
        f = df.copy()
        f["x"] = 1
        return f
    """,
    # the copy is cut only on one branch: the whole copy may be what is used
    """
    def cb(store, key):
        df = pd.DataFrame(store)  # <-
        f = df.copy()
        if key is not None:
            f = f[f["id"] == key]
        return f.to_dict("records")
    """,
    # read by a nested function
    """
    def cb(store, key):
        df = pd.DataFrame(store)  # <-
        def pick():
            return df[df["id"] == key]
        return pick()
    """,
    # never read
    """
    def cb(store):
        df = pd.DataFrame(store)  # <-
        return None
    """,
    # a loop: the next iteration may read the last value
    """
    def cb(stores, key):
        for store in stores:
            out = df[df["id"] == key] if seen else None
            df = pd.DataFrame(store)  # <-
    """,
    # returned whole
    """
    def cb(store):
        df = pd.DataFrame(store)  # <-
        n = len(df)
        return df
    """,
])
def test_frames_used_otherwise(source):
    assert rows_selected(name_marked(source)) is None

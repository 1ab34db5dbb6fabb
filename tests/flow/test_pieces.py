"""What a regrowth adds each time: rows the code writes out (a dict or list display, `[[a, b]]`,
a frame built from one, directly or through a name the loop binds so), beside the
counterexamples whose pieces may be large."""

from __future__ import annotations

import textwrap

import pytest
from ast_grep_py import SgRoot

from memlens.flow.pieces import adds_rows, pieces


def _marked(source: str):
    """The assignment on the line marked `# <-`."""
    source = textwrap.dedent(source)
    root = SgRoot(source, "python").root()
    number = next(i for i, line in enumerate(source.splitlines()) if "# <-" in line)
    return next(n for n in root.find_all(kind="assignment")
                if n.range().start.line == number)


@pytest.mark.parametrize("source", [
    # a dict of scalars per bin (iml-jphall's partial dependence)
    """
    for j in bins:
        out = out.append({xs: j, "pd": mean}, ignore_index=True)  # <-
    """,
    # a list row (ml-book's IMDb loader, old pandas)
    """
    for file in files:
        df = df.append([[txt, label]], ignore_index=True)  # <-
    """,
    # a frame built from a written-out row, through a name the loop binds
    """
    for file in files:
        x = pd.DataFrame([[txt, label]], columns=["review", "sentiment"])
        df = pd.concat([df, x], ignore_index=False)  # <-
    """,
    # a Series of literals, a scalar to an array
    """
    for i in range(n):
        s = pd.concat([s, pd.Series([i, 2 * i])])  # <-
    """,
    """
    for x in xs:
        a = np.append(a, 0.5)  # <-
    """,
    # a frame of literal columns: one row
    """
    for k in keys:
        df = pd.concat((df, pd.DataFrame({"a": 1, "b": "x"}, index=[0])))  # <-
    """,
])
def test_written_out_rows(source):
    assert adds_rows(_marked(source)) is not None


@pytest.mark.parametrize("source", [
    # a frame read per file
    """
    for path in paths:
        df = pd.concat([df, pd.read_csv(path)])  # <-
    """,
    # a group: as many rows as it holds
    """
    for key, group in frame.groupby("id"):
        out = pd.concat([out, group.head(5)])  # <-
    """,
    # a dict of columns (neuralprophet's per-ID trend frames)
    """
    for df_name, df_i in df.groupby("ID"):
        df_aux = pd.DataFrame({"ds": df_i["ds"], "trend": trend, "ID": df_name})
        df_trend = pd.concat((df_trend, df_aux), ignore_index=True)  # <-
    """,
    # a name the code does not show, a loop variable
    """
    for row in rows:
        df = df.append(row, ignore_index=True)  # <-
    """,
    # a frame built from a name: as many rows as it holds
    """
    for batch in loader:
        df = pd.concat([df, pd.DataFrame(batch)])  # <-
    """,
    # a name bound to a frame read, then to a row later in the loop: the binding before counts
    """
    for path in paths:
        x = pd.read_csv(path)
        df = pd.concat([df, x])  # <-
        x = {"a": 1}
    """,
    # a list of rows built at run time
    """
    for chunk in chunks:
        df = df.append([r for r in chunk])  # <-
    """,
])
def test_pieces_that_may_be_large(source):
    assert adds_rows(_marked(source)) is None


def test_the_pieces_leave_out_the_target():
    node = _marked("""
    for p in paths:
        df = pd.concat([df, a, b], axis=1)  # <-
    """)
    assert [p.text() for p in pieces(node)] == ["a", "b"]

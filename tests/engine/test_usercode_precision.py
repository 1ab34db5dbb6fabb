"""Shapes of the user-code corpus whose findings were judged false (benchmarks/usercode), each
now reported less: one finding where there was a duplicate."""

from __future__ import annotations

import textwrap

from memlens.engine import Engine, Settings

ENGINE = Engine(Settings(select=("ALL",)))


def _lines(src: str, code: str) -> list[int]:
    found = ENGINE.check_source(textwrap.dedent(src), "m.py")
    return [f.start.line + 1 for f in found if f.code == code]


def test_regrowth_in_both_branches_of_a_version_check_is_one_finding():
    # ml-book's IMDb loader: concat for pandas >= 1.3.2, append before; one of them runs
    assert _lines("""\
        import pandas as pd
        df = pd.DataFrame()
        for path in paths:
            if pd.__version__ >= "1.3.2":
                df = pd.concat([df, pd.read_csv(path)])
            else:
                df = df.append(pd.read_csv(path))
        """, "ML402") == [5]


def test_regrowth_in_an_elif_after_a_branch_that_does_not_regrow_is_found():
    assert _lines("""\
        import pandas as pd
        df = pd.DataFrame()
        for path in paths:
            if path.endswith(".txt"):
                continue
            elif path.endswith(".csv"):
                df = pd.concat([df, pd.read_csv(path)])
        """, "ML402") == [7]

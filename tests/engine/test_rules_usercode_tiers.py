"""Tiers of ML402 on shapes the user-code benchmark judged (issue 18): what the code shows
about how often a loop runs decides the tier."""

from __future__ import annotations

import textwrap

from memlens.engine import Engine

DEFAULT = Engine()


def _tiers(code: str, src: str) -> list[str]:
    src = textwrap.dedent(src)
    return [f.severity for f in DEFAULT.check_source(src, "mod.py", parse_whole=True)
            if f.code == code]


def test_ml402_a_while_loop_draining_a_frame_by_a_filter_is_a_hint():
    # home-credit's Clean Up Prev Forwards: rounds of a filter (as many as the largest count),
    # not one per row: the pattern without a size
    src = """
        import pandas as pd
        aug = pd.DataFrame()
        while base.shape[0] > 0:
            aug = aug.append(base.drop('need', axis=1))
            base.need -= 1
            base = base[base.need > 0]
        """
    assert _tiers("ML402", src) == ["hint"]


def test_ml402_a_while_loop_over_a_frame_row_by_row_is_a_warning():
    src = """
        import pandas as pd
        out = pd.DataFrame()
        i = 0
        while i < len(df):
            out = pd.concat([out, df.iloc[[i]]])
            i += 1
        """
    assert _tiers("ML402", src) == ["warning"]
    src = """
        import pandas as pd
        out = pd.DataFrame()
        while queue.shape[0] > 0:
            out = pd.concat([out, queue.iloc[:1]])
            queue = queue.iloc[1:]
        """
    assert _tiers("ML402", src) == ["warning"]

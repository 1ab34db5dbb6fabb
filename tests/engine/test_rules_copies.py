"""The copies family (ML420-ML424): exact fixer outputs, where the fixes decline, and shapes
seen in real code (sadtalker, rvc-webui, whisper, iml-packt, nfl-contact)."""

from __future__ import annotations

import textwrap

from memlens.engine import Engine, Settings
from memlens.engine.fixes import apply_edits

ENGINE = Engine(Settings(select=("ML420", "ML421", "ML422", "ML423", "ML424")))


def _findings(src: str, code: str):
    return [f for f in ENGINE.check_source(textwrap.dedent(src), "t.py") if f.code == code]


def _fixed(src: str, code: str) -> str:
    src = textwrap.dedent(src)
    findings = _findings(src, code)
    assert len(findings) == 1, findings
    assert findings[0].fix is not None
    return apply_edits(src, findings[0].fix.edits)


def test_del_after_a_converted_copy_of_frames():
    src = """\
    import cv2
    def read_video(capture):
        full_frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            full_frames.append(frame)
        x_full_frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in full_frames]  # RGB
        return crop(x_full_frames)
    """
    assert _fixed(src, "ML420") == textwrap.dedent("""\
    import cv2
    def read_video(capture):
        full_frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            full_frames.append(frame)
        x_full_frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in full_frames]  # RGB
        del full_frames
        return crop(x_full_frames)
    """)


def test_del_after_a_join_spanning_lines_at_the_end_of_the_file():
    src = """\
    import numpy as np
    def build(paths):
        parts = [np.load(p) for p in paths]
        big = np.concatenate(
            parts, axis=0)
        index.add(big)"""
    assert _fixed(src, "ML421") == textwrap.dedent("""\
    import numpy as np
    def build(paths):
        parts = [np.load(p) for p in paths]
        big = np.concatenate(
            parts, axis=0)
        del parts
        index.add(big)""")


def test_del_after_declines_where_it_cannot_stand_alone_or_would_break_other_code():
    # module level: a later cell, or another module, may read it
    notebook = """\
    import numpy as np
    if __name__ == "__main__":
        run()
    parts = [np.load(p) for p in paths]
    big = np.concatenate(parts)
    index.add(big)
    """
    found = _findings(notebook, "ML421")
    assert len(found) == 1 and found[0].fix is None
    # two statements on the line
    shared_line = """\
    import numpy as np
    def build(paths):
        parts = [np.load(p) for p in paths]
        big = np.concatenate(parts); n = len(big)
        return index.add(big, n)
    """
    found = _findings(shared_line, "ML421")
    assert len(found) == 1 and found[0].fix is None
    # the body of a one-line `if`
    one_line_if = """\
    import numpy as np
    def build(paths, flag):
        parts = [np.load(p) for p in paths]
        if flag: big = np.concatenate(parts)
        return index.add(big)
    """
    found = _findings(one_line_if, "ML421")
    assert len(found) == 1 and found[0].fix is None


def test_no_finding_when_the_source_is_read_later_in_the_loop():
    src = """\
    import numpy as np
    def build(paths):
        parts = [np.load(p) for p in paths]
        for i in range(3):
            big = np.concatenate(parts)
            index.add(big)
        return index
    """
    assert _findings(src, "ML421") == []


def test_redundant_copy_after_drop_is_dropped():
    src = """\
    import pandas as pd
    aad18_df = pd.read_csv("flights.csv")
    X = aad18_df.drop(['CARRIER_DELAY'], axis=1).copy()
    """
    assert _fixed(src, "ML422") == textwrap.dedent("""\
    import pandas as pd
    aad18_df = pd.read_csv("flights.csv")
    X = aad18_df.drop(['CARRIER_DELAY'], axis=1)
    """)


def test_flatten_then_astype_becomes_ravel():
    src = """\
    import numpy as np
    def load_audio(out):
        return np.frombuffer(out, np.int16).flatten().astype(np.float32) / 32768.0
    """
    assert _fixed(src, "ML422") == textwrap.dedent("""\
    import numpy as np
    def load_audio(out):
        return np.frombuffer(out, np.int16).ravel().astype(np.float32) / 32768.0
    """)


def test_a_copy_pandas_may_mark_as_a_view_is_kept():
    # boolean indexing and column lists: the copy silences SettingWithCopyWarning
    src = """\
    import pandas as pd
    df = pd.read_csv("a.csv")
    sub = df[df.x > 0].copy()
    cols = df[["a", "b"]].reset_index().copy()
    """
    found = _findings(src, "ML422")
    assert [f.start.line for f in found] == [3]  # reset_index() is new; df[...] is not


def test_messages_name_the_read_and_the_value():
    src = """\
    import pandas as pd
    def main(path):
        input_data = pd.read_json(path)
        final = input_data.drop(columns=["prompt"])
        final.to_json("out.json")
    """
    (finding,) = _findings(src, "ML420")
    assert finding.message.startswith("input_data (read by pd.read_json (line 3)) is not used")

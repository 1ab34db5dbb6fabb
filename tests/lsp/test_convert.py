"""Engine columns (code points) -> LSP columns: the fast encoder agrees with pygls' codec."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from memlens.lsp.convert import SEVERITY, Encoder, whole_text_edit

text_line = st.text(alphabet=st.sampled_from(list("ab (x=1)\t") + ["é", "😀", "中", "𝔘"]),
                    max_size=30)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(lines=st.lists(text_line, min_size=1, max_size=5), data=st.data())
def test_encoder_matches_pygls_codec(lines, data):
    line = data.draw(st.integers(0, len(lines) - 1))
    column = data.draw(st.integers(0, len(lines[line])))
    for encoding in ("utf-16", "utf-8", "utf-32"):
        ours = Encoder(encoding).to_client(lines, line, column)
        theirs = PositionCodec(types.PositionEncodingKind(encoding)).position_to_client_units(
            lines, types.Position(line=line, character=column))
        assert (ours["line"], ours["character"]) == (theirs.line, theirs.character)
        back = Encoder(encoding).from_client(lines, ours["line"], ours["character"])
        assert back == (line, column)


def test_severity_map():
    assert SEVERITY["warning"] == types.DiagnosticSeverity.Warning
    assert SEVERITY["info"] == types.DiagnosticSeverity.Information
    assert SEVERITY["hint"] == types.DiagnosticSeverity.Hint
    assert SEVERITY["error"] == types.DiagnosticSeverity.Error


@given(st.text(alphabet="ab\n", max_size=20), st.text(alphabet="ab\n", max_size=20))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_whole_text_edit_turns_one_text_into_the_other(old, new):
    edit = whole_text_edit(old, new, Encoder("utf-16"))
    lines = old.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def off(p):
        return min(offsets[p["line"]] + p["character"], len(old))

    result = old[:off(edit["range"]["start"])] + edit["newText"] + old[off(edit["range"]["end"]):]
    assert result == new


def _reference_column(text: str, character: int, encoding: str) -> int:
    """The first code point at or past `character` units, counted one by one."""
    count = 0
    for i, c in enumerate(text):
        if count >= character:
            return i
        count += {"utf-8": len(c.encode("utf-8", "surrogatepass")), "utf-32": 1}.get(
            encoding, 2 if ord(c) > 0xFFFF else 1)
    return len(text)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from(["a", "é", "中", "😀", "𝔘", "\ud800", "\udc00"]),
               max_size=40), st.integers(0, 200))
def test_client_columns_to_code_points_without_a_loop_over_the_line(text, character):
    for encoding in ("utf-16", "utf-8", "utf-32"):
        assert Encoder(encoding).from_client([text], 0, character) == \
            (0, _reference_column(text, character, encoding))

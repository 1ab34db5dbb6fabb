"""The server's copy of a document follows LSP's line model (a line ends at \\r\\n, \\r or \\n
only): random text with every line-break character and random incremental edits leave it equal
to the client's; a form feed no longer shifts a quick fix; a CR-only file gets diagnostics and
fixes in the right place, written with its own line ending."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import PositionCodec
from pytest_lsp import LanguageClient

from fuzz.harness import ODD_BREAKS, client_apply  # the client's line model, as the fuzzer has it
from memlens.lsp.document import LspTextDocument

from .conftest import open_doc, pull

# every character str.splitlines breaks at, and LSP's three line endings
ALPHABET = st.sampled_from(["a", "b", " ", "é", "😀", "\n", "\r\n", "\r", *ODD_BREAKS])


@st.composite
def edits(draw):
    text = "".join(draw(st.lists(ALPHABET, max_size=40)))
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        lines = draw(st.integers(0, 8))
        start = (draw(st.integers(0, lines)), draw(st.integers(0, 6)))
        end = (draw(st.integers(start[0], lines)), draw(st.integers(0, 6)))
        if end < start:
            end = start
        steps.append((start, end, "".join(draw(st.lists(ALPHABET, max_size=6)))))
    return text, steps


@settings(max_examples=300, deadline=None)
@given(edits())
def test_the_server_copy_equals_the_client_copy(case):
    text, steps = case
    doc = LspTextDocument("file:///t.py", source=text, version=0,
                          position_codec=PositionCodec(types.PositionEncodingKind.Utf16))
    want = text
    for start, end, new in steps:
        doc.apply_change(types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(*start), end=types.Position(*end)),
            text=new))
        want = client_apply(want, start, end, new)
        assert doc.source == want


@settings(max_examples=1000, deadline=None)
@given(edits())
def test_the_line_index_across_chunk_boundaries(case):
    # chunks of 2 lines: every edit crosses, splits and merges chunks
    import memlens.lsp.line_index as line_index

    saved = line_index.CHUNK
    line_index.CHUNK = 2
    try:
        test_the_server_copy_equals_the_client_copy.hypothesis.inner_test(case)
        text, steps = case
        doc = LspTextDocument("file:///t.py", source=text, version=0,
                              position_codec=PositionCodec(types.PositionEncodingKind.Utf16))
        for start, end, new in steps:
            doc.apply_change(types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(*start), end=types.Position(*end)),
                text=new))
            fresh = line_index.LineIndex(doc.source)
            index = doc._line_index(doc.source)
            assert [index.line_start(i) for i in range(fresh.line_count + 1)] == \
                [fresh.line_start(i) for i in range(fresh.line_count + 1)]
    finally:
        line_index.CHUNK = saved


async def test_a_form_feed_does_not_shift_the_servers_copy(client: LanguageClient):
    text = "import pickle\n\f# a page break\ndef f(fh):\n    x = 1\n    return x\n"
    uri = open_doc(client, client.root / "ff.py", text)
    want = text
    version = 1
    for start, end, new in [((3, 4), (3, 9), "features_x"), ((4, 11), (4, 12), "features_x"),
                            ((1, 0), (1, 1), "\f\u2028")]:
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(*start), end=types.Position(*end)),
                text=new)]))
        want = client_apply(want, start, end, new)
        got = await client.protocol.send_request_async("memlens/documentText", {"uri": uri})
        assert got.text == want if hasattr(got, "text") else got["text"] == want


async def test_a_cr_only_file_gets_right_positions_and_fixes(client: LanguageClient):
    text = ("import numpy as np\r\rdef f(path):\r    x = np.load(path)\r"
            "    for i in range(0, len(x), 8):\r        print(x[i:i + 8])\r")
    uri = open_doc(client, client.root / "cr.py", text)
    found = [d for d in await pull(client, uri) if d.code == "ML102"]
    assert len(found) == 1
    assert found[0].range.start == types.Position(line=3, character=8)
    assert found[0].range.end == types.Position(line=3, character=21)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=found[0].range,
        context=types.CodeActionContext(diagnostics=found)))
    edit = next(a for a in actions if "mmap" in a.title).edit
    (change,) = edit.document_changes[0].edits if edit.document_changes else edit.changes[uri]
    fixed = client_apply(text, (change.range.start.line, change.range.start.character),
                         (change.range.end.line, change.range.end.character), change.new_text)
    assert 'x = np.load(path, mmap_mode="r")\r' in fixed
    assert "\n" not in fixed

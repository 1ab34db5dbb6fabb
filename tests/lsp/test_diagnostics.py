"""Diagnostics: pull and push, their fields, syntax errors, close, outdated versions."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import change_doc, open_doc, pull, uri_of, wait_pushed


async def test_initialize_advertises_the_features(client: LanguageClient):
    # pull mode: VS Code (languageclient 11) pulls, so the server must not push as well
    caps = client.protocol.server_capabilities if hasattr(client.protocol,
                                                          "server_capabilities") else None
    del caps
    uri = open_doc(client, client.root / "pipeline.py")
    items = await pull(client, uri)
    assert {d.code for d in items} >= {"ML102", "ML990"}
    await asyncio.sleep(0.2)
    assert uri not in client.diagnostics, "a pull client must not get pushed duplicates"


async def test_pulled_diagnostic_fields(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    items = await pull(client, uri)
    ml102 = [d for d in items if d.code == "ML102"]
    assert len(ml102) == 2
    d = ml102[0]
    assert d.source == "memlens"
    # ML102 is an "info" rule, but no a.npy tells its size: a hint (faint dots, hover explains)
    assert d.severity == types.DiagnosticSeverity.Hint
    assert d.code_description is not None and "ml102" in d.code_description.href
    assert d.range.start == types.Position(line=5, character=15)
    assert d.range.end == types.Position(line=5, character=28)
    assert d.data["fix"]["message"] == 'Memory-map the array with mmap_mode="r"'
    ml990 = next(d for d in items if d.code == "ML990")
    assert ml990.severity == types.DiagnosticSeverity.Warning
    assert ml990.data["fix"]["applicability"] == "safe"


async def test_pull_returns_unchanged_for_the_same_result(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    first = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    again = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=first.result_id))
    assert again.kind == "unchanged" and again.result_id == first.result_id


async def test_push_diagnostics_open_change_close(push_client: LanguageClient):
    client = push_client
    path = client.root / "pipeline.py"
    uri = open_doc(client, path)
    diags = await wait_pushed(client, uri, lambda d: len(d) == 3)
    assert sorted(d.code for d in diags) == ["ML102", "ML102", "ML990"]
    text = path.read_text().replace("features = np.load(path)\n",
                                    "features = np.load(path, mmap_mode='r')\n")
    change_doc(client, uri, 2, text)
    diags = await wait_pushed(client, uri, lambda d: len(d) == 2)
    assert sorted(d.code for d in diags) == ["ML102", "ML990"]
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_pushed(client, uri, lambda d: len(d) == 0)


async def test_syntax_error_gives_one_clear_diagnostic(client: LanguageClient):
    text = "import numpy as np\n\ndef f(:\n    x = np.load('a.npy')\n    return (x\n"
    uri = open_doc(client, client.root / "broken.py", text=text)
    items = await pull(client, uri)
    errors = [d for d in items if d.code == "syntax-error"]
    assert len(errors) == 1
    assert errors[0].severity == types.DiagnosticSeverity.Error
    assert "SyntaxError" in errors[0].message


async def test_outdated_versions_are_never_published(push_client: LanguageClient):
    client = push_client
    path = client.root / "pipeline.py"
    base = path.read_text()
    uri = open_doc(client, path)
    await wait_pushed(client, uri)
    # 60 quick edits: version v adds v - 1 np.load lines (each array then read a slice at a
    # time); every publish must match its version
    for v in range(2, 62):
        extra = "".join(f"y{i} = np.load('f{i}.npy')\n"
                        f"parts{i} = [y{i}[j:j + 8] for j in range(0, len(y{i}), 8)]\n"
                        for i in range(v - 1))
        change_doc(client, uri, v, base + extra)
    final = await wait_pushed(client, uri, lambda d: sum(x.code == "ML102" for x in d) == 2 + 60)
    assert len(final) == 63
    versions = [v for u, v, _ in client.published if u == uri]
    assert versions == sorted(versions), "an older version was published after a newer one"
    for u, v, diags in client.published:
        if u == uri:
            assert sum(d.code == "ML102" for d in diags) == 2 + (v - 1), f"version {v}"
    assert versions[-1] == 61


async def test_change_for_a_document_never_opened(push_client: LanguageClient):
    client = push_client
    ghost = uri_of(client.root / "never_opened.py")
    change_doc(client, ghost, 7, "x = 1\n")
    uri = open_doc(client, client.root / "pipeline.py")
    await wait_pushed(client, uri, lambda d: len(d) == 3)  # the server is still up
    assert ghost not in client.diagnostics


async def test_module_level_edit_is_settled_by_a_whole_file_check(push_client: LanguageClient):
    """ML101 asks whether the file is a script (top-level calls): an edit at the bottom of the
    file changes the verdict for a line at the top, which the quick region check cannot see;
    the whole-file re-check after the pause corrects it."""
    client = push_client
    client.set_configuration({"memlens": {"debounceMs": 0, "select": ["ML101"], "settleMs": 100}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.5)
    script = ('import joblib\n\nBASELINE = joblib.load("m.joblib")\n\n\ndef use():\n'
              '    return BASELINE\n\n\nprint(use())\n')
    uri = open_doc(client, client.root / "service.py", text=script)
    assert await wait_pushed(client, uri) == []  # a script: loading at import is its job
    change_doc(client, uri, 2, script.replace("\n\nprint(use())\n", "\n"))
    diags = await wait_pushed(client, uri, lambda d: len(d) == 1)
    assert diags[0].code == "ML101" and diags[0].range.start.line == 2

"""Code actions (quick fix, noqa, fixAll), hover, code lenses, settings reload, workspace check."""

from __future__ import annotations

import ast
import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import open_doc, pull, uri_of, wait_pushed


def apply(text: str, edits) -> str:
    """Apply LSP TextEdits (ASCII text) to `text`."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def off(p):
        return min(offsets[p.line] + p.character, len(text))

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True):
        text = text[:off(e.range.start)] + e.new_text + text[off(e.range.end):]
    return text


def edits_of(action: types.CodeAction, uri: str):
    edit = action.edit
    if edit.document_changes:
        return [e for dc in edit.document_changes if dc.text_document.uri == uri for e in dc.edits]
    return edit.changes[uri]


async def actions_at(client, uri, line, character, only=None, diagnostics=()):
    pos = types.Position(line=line, character=character)
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=pos, end=pos),
        context=types.CodeActionContext(diagnostics=list(diagnostics), only=only)))


async def test_quick_fix_and_noqa(client: LanguageClient):
    path = client.root / "pipeline.py"
    text = path.read_text()
    uri = open_doc(client, path)
    diags = await pull(client, uri)
    ml990 = next(d for d in diags if d.code == "ML990")
    actions = await actions_at(client, uri, 11, 16, diagnostics=[ml990])
    titles = [a.title for a in actions]
    assert "Iterate the range without building a list" in titles
    assert "Ignore ML990 on this line" in titles
    fix = next(a for a in actions if a.title.startswith("Iterate"))
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    fixed = apply(text, edits_of(fix, uri))
    assert "for i in range(n):" in fixed
    ast.parse(fixed)
    noqa = next(a for a in actions if a.title == "Ignore ML990 on this line")
    assert "for i in list(range(n)):  # noqa: ML990" in apply(text, edits_of(noqa, uri))

    # an unsafe (suggestion) fix is offered but not preferred
    actions = await actions_at(client, uri, 5, 20)
    load = next(a for a in actions if a.title == 'Memory-map the array with mmap_mode="r"')
    assert not load.is_preferred
    assert 'np.load(path, mmap_mode="r")' in apply(text, edits_of(load, uri))


async def test_noqa_merges_with_an_existing_noqa(client: LanguageClient):
    text = ("import numpy as np\nx = np.load('a.npy')  # noqa: E501\n"
            "for i in range(0, len(x), 256):\n    batch = x[i:i + 256]\n")
    uri = open_doc(client, client.root / "noqa.py", text=text)
    await pull(client, uri)
    actions = await actions_at(client, uri, 1, 6)
    noqa = next(a for a in actions if a.title == "Ignore ML102 on this line")
    new = apply(text, edits_of(noqa, uri))
    assert new.splitlines()[1] == "x = np.load('a.npy')  # noqa: E501, ML102"
    uri2 = open_doc(client, client.root / "noqa2.py", text=new)
    assert [d for d in await pull(client, uri2) if d.code == "ML102"] == []


async def test_fix_all_applies_the_safe_fixes_via_resolve(client: LanguageClient):
    path = client.root / "pipeline.py"
    text = path.read_text()
    uri = open_doc(client, path)
    await pull(client, uri)
    actions = await actions_at(client, uri, 0, 0, only=["source.fixAll.memlens"])
    assert [a.kind for a in actions] == ["source.fixAll.memlens"]
    action = actions[0]
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    fixed = apply(text, edits_of(action, uri))
    ast.parse(fixed)
    assert "for i in range(n):" in fixed
    assert "np.load(path)" in fixed  # unsafe fixes stay out of fixAll


async def test_hover_shows_the_rule_docs(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    await pull(client, uri)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=5, character=20)))
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("# ML102")
    assert "## What it does" in hover.contents.value
    assert "(https://" in hover.contents.value
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=0, character=2)))
    assert nothing is None


async def test_code_lenses_profile_every_function_and_method(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    titles = {(lens.range.start.line, lens.command.title) for lens in lenses}
    assert titles == {(4, "Profile memory"), (9, "Profile memory"), (17, "Profile memory"),
                      (22, "Profile memory")}
    by_line = {lens.range.start.line: lens.command for lens in lenses}
    assert by_line[17].command == "memlens.profileFunction"
    args = by_line[17].arguments[0]
    assert args["qualname"] == "Loader.load" and args["uri"] == uri and args["line"] == 17
    assert args["needsCall"] is True
    assert by_line[22].arguments[0]["needsCall"] is False  # allocate() takes no arguments


async def test_settings_reload_from_configuration_and_pyproject(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    assert {d.code for d in await pull(client, uri)} == {"ML102", "ML990"}
    # the editor ignores ML990 and makes ML102 a warning
    client.set_configuration({"memlens": {"debounceMs": 0, "ignore": ["ML990"],
                                          "severity": {"ML102": "warning"}}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    for _ in range(300):
        items = await pull(client, uri)
        if {d.code for d in items} == {"ML102"}:
            break
        await asyncio.sleep(0.05)
    assert {d.code for d in items} == {"ML102"}
    assert all(d.severity == types.DiagnosticSeverity.Warning for d in items)
    # pyproject.toml changes: ML102 ignored there too
    pyproject = client.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'ignore = ["ML102"]\n')
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=uri_of(pyproject), type=types.FileChangeType.Changed)]))
    for _ in range(300):
        items = await pull(client, uri)
        if not items:
            break
        await asyncio.sleep(0.05)
    assert items == []


async def test_a_broken_setting_is_reported_not_fatal(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"memlens": {"select": ["NOPE1"], "debounceMs": "soon"}}))
    for _ in range(300):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    assert any("NOPE1" in m.message for m in client.messages)
    assert {d.code for d in await pull(client, uri)} == {"ML102", "ML990"}


async def test_check_workspace_publishes_and_reports_progress(push_client: LanguageClient):
    client = push_client
    sliced = "for i in range(0, len(x), 256):\n    batch = x[i:i + 256]\n"
    (client.root / "more.py").write_text("import numpy as np\nx = np.load('x.npy')\n" + sliced)
    (client.root / "ignored").mkdir()
    (client.root / "ignored" / "skip.py").write_text("import numpy as np\nx = np.load('y')\n"
                                                     + sliced)
    (client.root / ".gitignore").write_text("ignored/\n")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="memlens.checkWorkspace"))
    assert result["files"] == 3 and result["findings"] == 5  # pipeline, profiled, more
    more = uri_of(client.root / "more.py")
    assert [d.code for d in await wait_pushed(client, more)] == ["ML102"]
    assert uri_of(client.root / "ignored" / "skip.py") not in client.diagnostics
    kinds = [p.kind for reports in client.progress_reports.values() for p in reports]
    assert kinds[0] == "begin" and kinds[-1] == "end"


async def test_nested_project_config_and_exclude(push_client: LanguageClient):
    """Like `memlens check`: the nearest pyproject.toml with [tool.memlens] applies to a file,
    and a file its `exclude` names shows nothing."""
    client = push_client
    sub = client.root / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.memlens]\nselect = ["ML990"]\n'
                                        'rule-dirs = ["../rules"]\nexclude = ["skipped.py"]\n')
    text = ("import numpy as np\nx = np.load('a.npy')\nfor i in list(range(3)):\n"
            "    batch = x[i:i + 256]\n")
    (sub / "mod.py").write_text(text)
    uri = open_doc(client, sub / "mod.py")
    assert [d.code for d in await wait_pushed(client, uri)] == ["ML990"]  # no ML102 here
    skipped = open_doc(client, sub / "skipped.py", text=text)
    assert await wait_pushed(client, skipped) == []
    top = open_doc(client, client.root / "top.py", text=text)
    assert sorted(d.code for d in await wait_pushed(client, top)) == ["ML102", "ML990"]
    # the nested project's own rule is documented on hover too (read without an engine)
    found = [d for d in client.diagnostics[uri] if d.code == "ML990"]
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=found[0].range.start))
    assert hover is not None and hover.contents.value.startswith("# ML990")


async def test_check_workspace_decodes_as_the_cli_does(push_client: LanguageClient):
    """A file that is not UTF-8 gets one io-error diagnostic that says where (never a guess at
    its broken byte); one that declares its encoding is checked; a nested project's exclude
    holds."""
    client = push_client
    sliced = "for i in range(0, len(x), 256):\n    batch = x[i:i + 256]\n"
    body = "import numpy as np\nx = np.load('caf\u00e9.npy')\n" + sliced
    (client.root / "latin.py").write_bytes(body.encode("latin-1"))
    (client.root / "declared.py").write_bytes(("# -*- coding: latin-1 -*-\n" + body)
                                              .encode("latin-1"))
    sub = client.root / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.memlens]\nexclude = ["skipped.py"]\n')
    (sub / "skipped.py").write_text(body)
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="memlens.checkWorkspace"))
    latin = await wait_pushed(client, uri_of(client.root / "latin.py"))
    assert [d.code for d in latin] == ["io-error"]
    assert "not UTF-8: invalid byte 0xe9 at line 2" in latin[0].message
    declared = await wait_pushed(client, uri_of(client.root / "declared.py"))
    assert [d.code for d in declared] == ["ML102"]
    assert uri_of(sub / "skipped.py") not in client.diagnostics

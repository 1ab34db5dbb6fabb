"""Problems the VS Code client reported: a settings change must make the client pull again,
`$/cancelRequest` of a profile run must kill its process, empty lists in the settings mean
"not given", and a hover heads with the finding's own message."""

from __future__ import annotations

import asyncio
import os

import psutil
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import needs_numpy, needs_profiler, open_doc, pull, uri_of, wait_pushed


async def until(predicate, timeout=15.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def codes_become(client, uri, wanted):
    for _ in range(300):
        codes = {d.code for d in await pull(client, uri)}
        if codes == wanted:
            return codes
        await asyncio.sleep(0.05)
    return codes


async def test_configuration_change_asks_a_pull_client_to_pull_again(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    assert {d.code for d in await pull(client, uri)} == {"ML102", "ML990"}
    before = client.diagnostic_refresh_count
    client.set_configuration({"memlens": {"debounceMs": 0, "ignore": ["ML990"]}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert await until(lambda: client.diagnostic_refresh_count > before)
    # the pull the refresh asks for sees the new settings at once
    assert {d.code for d in await pull(client, uri)} == {"ML102"}


async def test_pyproject_change_asks_a_pull_client_to_pull_again(client: LanguageClient):
    uri = open_doc(client, client.root / "pipeline.py")
    assert {d.code for d in await pull(client, uri)} == {"ML102", "ML990"}
    await asyncio.sleep(0.3)
    before = client.diagnostic_refresh_count
    pyproject = client.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'ignore = ["ML102"]\n')
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=uri_of(pyproject), type=types.FileChangeType.Changed)]))
    assert await until(lambda: client.diagnostic_refresh_count > before)
    assert {d.code for d in await pull(client, uri)} == {"ML990"}


async def test_configuration_change_republishes_to_a_push_client(push_client: LanguageClient):
    client = push_client
    uri = open_doc(client, client.root / "pipeline.py")
    await wait_pushed(client, uri, lambda d: {x.code for x in d} == {"ML102", "ML990"})
    client.set_configuration({"memlens": {"debounceMs": 0, "ignore": ["ML990"]}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await wait_pushed(client, uri, lambda d: {x.code for x in d} == {"ML102"})


async def test_empty_lists_in_the_settings_leave_the_project_lists(client: LanguageClient):
    pyproject = client.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'ignore = ["ML990"]\n')
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=uri_of(pyproject), type=types.FileChangeType.Changed)]))
    uri = open_doc(client, client.root / "pipeline.py")
    assert await codes_become(client, uri, {"ML102"}) == {"ML102"}
    # what VS Code sends for untouched list settings: [] must not replace [tool.memlens]
    client.set_configuration({"memlens": {"debounceMs": 0, "select": [], "ignore": [],
                                          "extendSelect": []}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.5)
    assert {d.code for d in await pull(client, uri)} == {"ML102"}
    # pushed settings too
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"memlens": {"select": [], "ignore": [], "extendSelect": []}}))
    await asyncio.sleep(0.5)
    assert {d.code for d in await pull(client, uri)} == {"ML102"}


def _profiler_children() -> list[psutil.Process]:
    out = []
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if any("runner.py" in part for part in proc.cmdline()):
                out.append(proc)
        except psutil.Error:
            pass
    return out


@needs_profiler
@needs_numpy
async def test_cancel_request_kills_the_profiled_process(client: LanguageClient):
    uri = open_doc(client, client.root / "profiled.py")
    params = types.ExecuteCommandParams(command="memlens.profileFunction",
                                        arguments=[{"uri": uri, "qualname": "slow", "line": 30}])
    # VS Code numbers its requests
    future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=4242)
    assert await until(lambda: _profiler_children(), timeout=30)
    children = _profiler_children()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=4242))
    try:
        await asyncio.wait_for(asyncio.wrap_future(future), 20)
    except Exception:
        pass  # cancelled: an error or a "cancelled" result, either is fine
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"the profiled process still runs: {alive}"
    # and the next run starts (not refused as busy)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="memlens.profileFunction",
        arguments=[{"uri": uri, "qualname": "allocate", "line": 8}]))
    assert result["status"] == "ok"


async def test_hover_heads_with_the_findings_own_message(client: LanguageClient):
    client.set_configuration({"memlens": {"debounceMs": 0, "select": ["ML401"]}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    # ML401 needs a data loop (one pass per batch)
    text = ("import numpy as np\n\n\ndef build(loader):\n    grown = np.empty(0)\n"
            "    for batch in loader:\n        grown = np.concatenate([grown, batch])\n"
            "    return grown\n")
    path = client.root / "grow.py"
    path.write_text(text)
    uri = open_doc(client, path)
    assert "ML401" in await codes_become(client, uri, {"ML401"})
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=6, character=20)))
    value = hover.contents.value
    heading = value.splitlines()[0]
    assert heading.startswith("# ML401: grown is regrown by copying in a loop"), heading
    assert "$" not in heading
    assert "## What it does" in value  # then the rule's documentation

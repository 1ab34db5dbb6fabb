"""memlens.profileFunction end to end: a real profile (in a subprocess), then inlay hints, hot-line
diagnostics, the measured figure on static findings, the updated lens, hover, refresh requests,
results shifted or cleared on edits, cancel (both ways) and a refused second run."""

from __future__ import annotations

import asyncio
import re

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from .conftest import change_doc, needs_numpy, needs_profiler, open_doc, pull

pytestmark = [needs_profiler, needs_numpy]


def mib(text: str) -> float:
    """The first signed MiB figure in a label or message ("+76.3 MiB" -> 76.3)."""
    found = re.search(r"\+([0-9.]+) MiB", text)
    assert found, text
    return float(found.group(1))


def command(uri: str, qualname: str, **extra) -> types.ExecuteCommandParams:
    return types.ExecuteCommandParams(command="memlens.profileFunction",
                                      arguments=[{"uri": uri, "qualname": qualname, **extra}])


async def hints(client, uri, last_line=200):
    found = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0),
                          end=types.Position(line=last_line, character=0))))
    return list(found or [])


async def lenses(client, uri):
    return await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))


async def until(predicate, timeout=10.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_profile_function_updates_hints_lenses_and_diagnostics(client: LanguageClient):
    client.set_configuration({"memlens": {"debounceMs": 0, "profile": {"hotLineThresholdMb": 10}}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    path = client.root / "profiled.py"
    text = path.read_text()
    uri = open_doc(client, path)
    assert await hints(client, uri) == []
    result = await client.workspace_execute_command_async(command(uri, "allocate", line=8))
    assert result["status"] == "ok", result.get("error")
    assert result["peak_mib"] > 76
    assert await until(lambda: client.refreshes["inlay"] >= 1 and client.refreshes["lens"] >= 1)
    assert client.diagnostic_refresh_count >= 1

    found = {h.position.line: h for h in await hints(client, uri)}
    big = found[9]  # big = np.ones(10_000_000): 76.3 MiB
    assert 75.0 <= mib(big.label) <= 79.0 and big.label.endswith(" MiB")  # 76.3 MiB allocated
    assert big.position.character == len(text.splitlines()[9])

    items = await pull(client, uri)
    hot = [d for d in items if d.code == "memory-hotspot"]
    assert [d.range.start.line for d in hot] == [9]
    assert hot[0].severity == types.DiagnosticSeverity.Information
    assert 75.0 <= mib(hot[0].message) <= 79.0

    titles = {lens.command.title for lens in await lenses(client, uri)
              if lens.range.start.line == 8}
    assert "Clear" in titles
    title = next(t for t in titles if t != "Clear")
    assert title.startswith("peak ") and " MiB at line 10" in title and title.endswith(" s")
    assert 75.0 <= mib(title.split("·")[1]) <= 79.0

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=9, character=6)))
    value = hover.contents.value
    assert "Mem usage" in value and "Increment" in value and "GC:" in value
    assert "big = np.ones(10_000_000)" in value

    # occurrences and the measured figure on a static finding
    result = await client.workspace_execute_command_async(command(uri, "grow", line=15))
    assert result["status"] == "ok"
    labels = {h.position.line: h.label for h in await hints(client, uri)}
    assert labels[18].endswith(" MiB ×5")
    result = await client.workspace_execute_command_async(command(uri, "roundtrip", line=22))
    assert result["status"] == "ok"
    items = await pull(client, uri)
    ml102 = next(d for d in items if d.code == "ML102")
    assert ml102.range.start.line == 25
    # np.load of 2M float64 is 15.3 MiB; RSS also counts the allocator's and page cache's slack.
    measured = re.search(r"\(measured \+([0-9.]+) MiB here\)$", ml102.message)
    assert measured and 15.0 <= float(measured.group(1)) <= 18.0, ml102.message

    # Clear
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="memlens.clearProfileResults", arguments=[{"uri": uri, "qualname": "allocate"}]))
    assert 9 not in {h.position.line for h in await hints(client, uri)}
    assert 18 in {h.position.line for h in await hints(client, uri)}


async def test_results_shift_with_lines_above_and_go_stale_on_own_edit(client: LanguageClient):
    path = client.root / "profiled.py"
    text = path.read_text()
    uri = open_doc(client, path)
    result = await client.workspace_execute_command_async(command(uri, "allocate", line=8))
    assert result["status"] == "ok"
    assert 9 in {h.position.line for h in await hints(client, uri)}
    # two lines inserted above the function: the hints move down by two
    shifted = text.replace("import numpy as np\n", "import numpy as np\n# one\n# two\n")
    change_doc(client, uri, 2, shifted)
    await pull(client, uri)
    lines = {h.position.line for h in await hints(client, uri)}
    assert 11 in lines and 9 not in lines
    title = next(lens.command.title for lens in await lenses(client, uri)
                 if lens.range.start.line == 10 and lens.command.title != "Clear")
    assert "at line 12" in title
    # an edit inside the function: its measurement no longer applies, and the lens says so
    edited = shifted.replace("big = np.ones(10_000_000)", "big = np.ones(20_000_000)")
    change_doc(client, uri, 3, edited)
    await pull(client, uri)
    assert await hints(client, uri) == []
    titles = {lens.range.start.line: lens.command.title for lens in await lenses(client, uri)}
    assert titles[10] == "Profile memory (the last profile is stale: the function changed)"
    assert all(t == "Profile memory" for line, t in titles.items() if line != 10)
    # the measurement is keyed by the function's text: undone, the edit gives it back
    change_doc(client, uri, 4, shifted)
    await pull(client, uri)
    assert 11 in {h.position.line for h in await hints(client, uri)}


async def test_results_stay_when_a_form_feed_or_separator_is_typed_above(client: LanguageClient):
    """A form feed or a U+2028 is no line break (Python, LSP): the measured lines still match,
    shifted by the real lines only (they hid the results, and dropped them for good)."""
    path = client.root / "profiled.py"
    text = path.read_text()
    uri = open_doc(client, path)
    result = await client.workspace_execute_command_async(command(uri, "allocate", line=8))
    assert result["status"] == "ok"
    assert 9 in {h.position.line for h in await hints(client, uri)}
    shifted = text.replace("import numpy as np\n",
                           "import numpy as np\nNOTE = 'a\u2028b\u2029c'\n\x0c\n")
    change_doc(client, uri, 2, shifted)
    await pull(client, uri)
    assert 11 in {h.position.line for h in await hints(client, uri)}
    assert any("at line 12" in lens.command.title for lens in await lenses(client, uri)
               if lens.range.start.line == 10)
    change_doc(client, uri, 3, text)  # and back: still there, where it was
    await pull(client, uri)
    assert 9 in {h.position.line for h in await hints(client, uri)}


async def test_cancel_request_kills_the_run(client: LanguageClient):
    uri = open_doc(client, client.root / "profiled.py")
    future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND,
                                          command(uri, "slow", line=30), msg_id="profile-slow")
    assert await until(lambda: any(
        r.kind == "report" for reports in client.progress_reports.values() for r in reports),
        timeout=20)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="profile-slow"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(asyncio.wrap_future(future), 20)
    # the run is over: a new one starts (and is not refused as busy)
    result = await client.workspace_execute_command_async(command(uri, "allocate", line=8))
    assert result["status"] == "ok"


async def test_progress_cancel_kills_the_run_and_a_second_run_is_refused(client: LanguageClient):
    uri = open_doc(client, client.root / "profiled.py")
    first = asyncio.ensure_future(client.workspace_execute_command_async(
        command(uri, "slow", line=30)))
    assert await until(lambda: any(
        r.kind == "begin" for reports in client.progress_reports.values() for r in reports),
        timeout=20)
    second = await client.workspace_execute_command_async(command(uri, "allocate", line=8))
    assert second["status"] == "busy" and second["error"]["kind"] == "busy"
    assert "already profiling slow" in second["error"]["message"]
    token = next(iter(client.progress_reports))
    begin = client.progress_reports[token][0]
    assert begin.cancellable and "slow" in begin.title
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(first, 20)
    assert result["status"] == "cancelled"
    assert client.progress_reports[token][-1].kind == "end"


async def test_a_cancelled_run_leaves_no_result_lens(client: LanguageClient):
    """The user stopped the run: its partial rows ("cancelled: peak 40 MiB · 0.1 s") are no
    result to show; the lens still offers "Profile memory"."""
    uri = open_doc(client, client.root / "profiled.py")
    first = asyncio.ensure_future(client.workspace_execute_command_async(
        command(uri, "slow", line=30)))
    assert await until(lambda: any(
        r.kind == "report" for reports in client.progress_reports.values() for r in reports),
        timeout=20)
    await asyncio.sleep(2.5)  # the runner has written a snapshot of the lines so far
    token = next(iter(client.progress_reports))
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(first, 20)
    assert result["status"] == "cancelled", result
    titles = [lens.command.title for lens in await lenses(client, uri)
              if lens.range.start.line == 30]
    assert titles == ["Profile memory"], titles
    assert not await hints(client, uri)


async def test_bad_arguments_and_unsaved_files_are_clear_errors(client: LanguageClient):
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="memlens.profileFunction", arguments=[{"qualname": "f"}]))
    assert result["status"] == "setup_error" and "uri" in result["error"]["message"]
    assert result["error"]["kind"] == "bad_arguments"
    result = await client.workspace_execute_command_async(command(
        "untitled:Untitled-1", "f", line=0))
    assert result["status"] == "setup_error" and "save" in result["error"]["message"]
    assert result["error"]["kind"] == "not_a_file"
    uri = open_doc(client, client.root / "profiled.py")
    result = await client.workspace_execute_command_async(command(uri, "nope", line=0))
    assert result["status"] == "not_found" and "allocate" in result["error"]["message"]


async def test_profile_runs_in_the_workspace_or_the_file_folder(client: LanguageClient):
    sub = client.root / "sub"
    sub.mkdir()
    (sub / "job.py").write_text((client.root / "profiled.py").read_text())
    uri = open_doc(client, sub / "job.py")
    result = await client.workspace_execute_command_async(command(uri, "where", line=36))
    assert result["status"] == "ok", result.get("error")
    assert (client.root / "cwd.txt").read_text() == str(client.root)
    result = await client.workspace_execute_command_async(command(uri, "where", line=36,
                                                                  cwd="file"))
    assert result["status"] == "ok"
    assert (sub / "cwd.txt").read_text() == str(sub)

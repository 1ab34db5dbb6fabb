"""The server's own trust boundary, driven over stdio: only files inside the workspace folders
are profiled (after `..` and symlinks), in a working folder inside them; an untrusted workspace
gets no profiling and none of its own rule folders until the client says it is trusted; and no
setting a workspace can write turns trust on."""

from __future__ import annotations

import asyncio
import os

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import CONFIG, make_workspace, needs_profiler, open_doc, pull, start, uri_of

TARGET = "def work():\n    return sum(range(10))\n"


def command(uri: str, qualname: str, **extra) -> types.ExecuteCommandParams:
    return types.ExecuteCommandParams(command="memlens.profileFunction",
                                      arguments=[{"uri": uri, "qualname": qualname,
                                                  "call": "work()", **extra}])


@pytest_lsp.fixture(config=CONFIG)
async def untrusted(lsp_client: LanguageClient, tmp_path):
    lsp_client.root = make_workspace(tmp_path)
    await start(lsp_client, lsp_client.root, trusted=False,
                settings={"workspaceTrusted": True})  # a workspace setting cannot grant trust
    yield
    await lsp_client.shutdown_session()


async def test_files_outside_the_workspace_are_not_profiled(client: LanguageClient):
    outside = client.root.parent / "outside.py"
    outside.write_text(TARGET)
    dotted = client.root / ".." / "outside.py"  # ws/../outside.py
    result = await client.workspace_execute_command_async(command(uri_of(dotted), "work"))
    assert result["status"] == "setup_error"
    assert result["error"]["type"] == "OutsideWorkspace", result
    assert result["error"]["kind"] == "refused"
    link = client.root / "link.py"
    os.symlink(outside, link)
    result = await client.workspace_execute_command_async(command(uri_of(link), "work"))
    assert result["error"]["type"] == "OutsideWorkspace", result


async def test_the_working_folder_must_stay_inside(client: LanguageClient):
    inside = client.root / "job.py"
    inside.write_text(TARGET)
    result = await client.workspace_execute_command_async(command(uri_of(inside), "work",
                                                                  cwd="/"))
    assert result["error"]["type"] == "OutsideWorkspace", result
    assert "working folder" in result["error"]["message"]


@needs_profiler
async def test_inside_the_workspace_profiling_runs(client: LanguageClient):
    inside = client.root / "job.py"
    inside.write_text(TARGET)
    result = await client.workspace_execute_command_async(command(uri_of(inside), "work"))
    assert result["status"] == "ok", result.get("error")


async def test_an_untrusted_workspace_gets_no_profiling_and_no_rule_dirs(
        untrusted: LanguageClient):
    client = untrusted
    job = client.root / "job.py"
    job.write_text(TARGET)
    result = await client.workspace_execute_command_async(command(uri_of(job), "work"))
    assert result["error"]["type"] == "Untrusted", result
    # ML990 comes from the workspace's own rule-dirs: not loaded while untrusted
    uri = open_doc(client, client.root / "pipeline.py")
    codes = {d.code for d in await pull(client, uri)}
    assert "ML990" not in codes and "ML102" in codes
    # the client grants trust: the rule folder loads, profiling is allowed
    client.protocol.notify("memlens/workspaceTrust", {"trusted": True})
    for _ in range(50):
        await asyncio.sleep(0.1)
        codes = {d.code for d in await pull(client, uri)}
        if "ML990" in codes:
            break
    assert "ML990" in codes
    result = await client.workspace_execute_command_async(command(uri_of(job), "work"))
    assert (result.get("error") or {}).get("type") != "Untrusted", result

"""Findings confirmed by measurement in the editor: a hint on a line that `memlens.profileFunction`
measured at or over the hot-line threshold becomes a warning ("measured +32.0 MiB here"), its
hover says which evidence it rests on; the measurement is kept (by the function's text) across a
restart of the server, and goes stale when the function changes."""

from __future__ import annotations

import os
import re
import sys
import time

import pytest

from .conftest import needs_numpy, needs_profiler
from .rpc import Server
from .test_robustness import caps

pytestmark = [needs_profiler, needs_numpy]

SOURCE = """\
import numpy as np


def build(path="data.npy"):
    x = np.load(path)
    for i in range(0, len(x), 256):
        batch = x[i:i + 256]
    return x
"""
LOAD_LINE = 4  # 0-based: x = np.load(path)
SETTINGS = {"profile": {"hotLineThresholdMb": 16}}  # the load reads 32 MiB
HINT, WARNING = 4, 2


@pytest.fixture
def workspace(tmp_path):
    import numpy as np

    root = tmp_path / "ws"
    root.mkdir()
    (root / "measured.py").write_text(SOURCE)
    np.save(root / "data.npy", np.ones((2048, 2048)))  # 32 MiB
    return root, tmp_path / "cache"


def start(root, cache) -> Server:
    env = dict(os.environ, MEMLENS_CACHE_DIR=str(cache))
    return Server(root, caps(pull=False), settings=SETTINGS, env=env, stderr=sys.stderr)


def open_file(server: Server, path, text=SOURCE) -> str:
    uri = path.as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})
    return uri


def ml102(server: Server, uri: str, predicate, timeout=30.0) -> dict:
    """The ML102 diagnostic of the latest publish for `uri`, once it satisfies `predicate`
    (publishes read while a request waited for its answer count too)."""
    def latest(message) -> dict | None:
        if message.get("method") != "textDocument/publishDiagnostics" or \
                message["params"]["uri"] != uri:
            return None
        return next((d for d in message["params"]["diagnostics"] if d["code"] == "ML102"), None)

    for message in reversed(server.notifications):
        if message.get("method") == "textDocument/publishDiagnostics" and \
                message["params"]["uri"] == uri:
            d = latest(message)
            if d is not None and predicate(d):
                return d
            break
    message = server.pump(lambda m: (d := latest(m)) is not None and predicate(d), timeout)
    return latest(message)


def hover(server: Server, uri: str) -> str:
    answer = server.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                   "position": {"line": LOAD_LINE,
                                                                "character": 10}})
    return answer["contents"]["value"]


def measured_mib(message: str) -> float:
    found = re.search(r"\(measured \+([0-9.]+) MiB here\)$", message)
    assert found, message
    return float(found.group(1))


def lens_titles(server: Server, uri: str) -> set[str]:
    return {lens["command"]["title"] for lens in server.request(
        "textDocument/codeLens", {"textDocument": {"uri": uri}})}


def test_a_hint_measured_big_is_a_warning_and_stays_so_after_a_restart(workspace):
    root, cache = workspace
    path = root / "measured.py"
    server = start(root, cache)
    try:
        uri = open_file(server, path)
        before = ml102(server, uri, lambda d: True)
        assert before["severity"] == HINT and "measured" not in before["message"]
        assert "*evidence: pattern (size unknown)*" in hover(server, uri)

        result = server.request("workspace/executeCommand", {
            "command": "memlens.profileFunction",
            "arguments": [{"uri": uri, "qualname": "build", "line": 3}]}, timeout=60)
        assert result["status"] == "ok", result.get("error")
        after = ml102(server, uri, lambda d: d["severity"] == WARNING)
        assert 31.0 <= measured_mib(after["message"]) <= 36.0
        assert after["data"]["evidence"] == "measured"
        text = hover(server, uri)
        said = re.search(r"\*evidence: measured \+([0-9.]+) MiB on this line by a profile run "
                         r"of `build` at (\d\d:\d\d)\*", text)
        assert said, text
        assert said.group(2) == time.strftime("%H:%M", time.localtime(result["started_at"]))
    finally:
        server.close()

    # a new server, the same file: the kept measurement applies again
    server = start(root, cache)
    try:
        uri = open_file(server, path)
        again = ml102(server, uri, lambda d: d["severity"] == WARNING)
        assert measured_mib(again["message"]) == measured_mib(after["message"])
        # the function edited: the measurement no longer holds
        edited = SOURCE.replace("x[i:i + 256]", "x[i:i + 512]")
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": edited}]})
        changed = ml102(server, uri, lambda d: d["severity"] == HINT)
        assert "measured" not in changed["message"]
        stale = hover(server, uri)
        assert "*evidence: pattern (size unknown); the profile run of `build` at " in stale
        assert "is stale: the function changed since*" in stale
    finally:
        server.close()

    # a new server opening the edited function: not applied, and its lens says why
    server = start(root, cache)
    try:
        uri = open_file(server, path, edited)
        stale_title = "Profile memory (the last profile is stale: the function changed)"
        deadline = time.monotonic() + 20
        while stale_title not in lens_titles(server, uri) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stale_title in lens_titles(server, uri)
        hinted = ml102(server, uri, lambda d: True)
        assert hinted["severity"] == HINT and "measured" not in hinted["message"]
    finally:
        server.close()


def test_clear_forgets_the_kept_measurement(workspace):
    root, cache = workspace
    path = root / "measured.py"
    server = start(root, cache)
    try:
        uri = open_file(server, path)
        ml102(server, uri, lambda d: True)
        result = server.request("workspace/executeCommand", {
            "command": "memlens.profileFunction",
            "arguments": [{"uri": uri, "qualname": "build", "line": 3}]}, timeout=60)
        assert result["status"] == "ok", result.get("error")
        ml102(server, uri, lambda d: d["severity"] == WARNING)
        server.request("workspace/executeCommand", {
            "command": "memlens.clearProfileResults",
            "arguments": [{"uri": uri, "qualname": "build"}]})
        ml102(server, uri, lambda d: d["severity"] == HINT)
        time.sleep(0.3)  # (the kept copy is dropped off the event loop)
    finally:
        server.close()
    server = start(root, cache)
    try:
        uri = open_file(server, path)
        ml102(server, uri, lambda d: True)
        time.sleep(1.0)  # a restore would publish again by now
        titles = lens_titles(server, uri)
        assert titles == {"Profile memory"}
        assert not any(
            m.get("method") == "textDocument/publishDiagnostics" and any(
                d["severity"] == WARNING for d in m["params"]["diagnostics"])
            for m in server.notifications)
    finally:
        server.close()

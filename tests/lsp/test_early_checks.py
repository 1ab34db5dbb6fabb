"""The bootstrap's head start: stdin read by a pump (every byte reaches pygls, in order), and
the documents opened while pygls imports checked in the checker process meanwhile, with the
configuration the server then confirms (nothing checked twice, nothing stale shown)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from memlens.lsp.bootstrap import MessagePump, file_path
from memlens.lsp.stdio import FdStream, MessageReader

from .rpc import Server
from .test_robustness import caps


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize("wanted", [40, 3])  # handed every message, or only the first three
def test_the_pump_gives_every_message_in_order_and_hands_each_over_once(wanted):
    messages = [{"jsonrpc": "2.0", "method": "m", "params": {"n": n, "pad": "é" * n * 50}}
                for n in range(40)]
    bodies = [json.dumps(m).encode() for m in messages] + [b"not j"]
    data = b"".join(_frame(m) for m in messages) + b"Content-Length: 5\r\n\r\nnot j"
    read_fd, write_fd = os.pipe()

    def feed():  # in ragged pieces, as a pipe delivers them
        for start in range(0, len(data), 777):
            os.write(write_fd, data[start:start + 777])
            time.sleep(0.001)
        os.close(write_fd)

    seen = []
    pump = MessagePump([], MessageReader(FdStream(read_fd)),
                       lambda m: seen.append(m) or len(seen) < wanted)
    threading.Thread(target=feed, daemon=True).start()
    out = []
    while (body := pump.next_body()) is not None:  # as the server's loop reads
        out.append(body)
    assert out == bodies
    assert seen == messages[:wanted]  # the broken last body is passed on, not handed over


def test_file_paths_as_pygls_gives_them():
    from pygls.uris import to_fs_path

    for path in ("/tmp/a b/x.py", "/tmp/ü/%41.py", "/x.py"):
        uri = Path(path).as_uri()
        assert file_path(uri) == to_fs_path(uri)
    assert file_path("untitled:Untitled-1") is None


def test_documents_opened_at_once_are_checked_right(tmp_path: Path):
    """didOpen and didChange sent before the server has even imported pygls: the diagnostics
    are those of the changed text, and a nested project's configuration applies."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[tool.memlens]\nignore = ["ML102"]\n')
    sliced = "for i in range(0, len(x), 256):\n    batch = x[i:i + 256]\n"
    text = "import numpy as np\nx = np.load('a.npy')\n" + sliced
    srv = Server(tmp_path, caps(pull=False))
    try:
        top, nested = (tmp_path / "top.py").as_uri(), (tmp_path / "pkg" / "m.py").as_uri()
        for uri in (top, nested):
            srv.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": text}})
        srv.notify("textDocument/didChange", {"textDocument": {"uri": top, "version": 2},
                                              "contentChanges": [{"text": "x = 1\n" + text}]})

        def published(uri, version):
            def matches(m):
                return (m.get("method") == "textDocument/publishDiagnostics"
                        and m["params"]["uri"] == uri and m["params"].get("version") == version)

            seen = [m for m in srv.notifications if matches(m)]
            return (seen[-1] if seen else srv.pump(matches))["params"]["diagnostics"]

        changed = published(top, 2)
        assert [(d["code"], d["range"]["start"]["line"]) for d in changed] == [("ML102", 2)]
        assert published(nested, 1) == []
    finally:
        srv.close()


SLICED = "import numpy as np\nx = np.load('a.npy')\nfor i in range(0, len(x), 256):\n" \
         "    batch = x[i:i + 256]\n"


def _opened_on_a_slow_start(tmp_path: Path, seconds: int) -> tuple[Server, str, float]:
    """A server that takes `seconds` to import pygls, and a document (SLICED) opened at once:
    the server, the document's URI, and when the server was started."""
    env = dict(os.environ, MEMLENS_FAULT_SLOW_START=str(seconds))
    started = time.monotonic()
    srv = Server(tmp_path, caps(pull=False), env=env)
    uri = (tmp_path / "m.py").as_uri()
    srv.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": SLICED}})
    return srv, uri, started


def _publishes(srv, uri):
    return [m["params"] for m in srv.notifications
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri]


def test_the_first_diagnostics_do_not_wait_for_pygls(tmp_path: Path):
    """On a machine where the server takes seconds to import pygls, an opened document's
    diagnostics come from the bootstrap as soon as its check is done, once: the server does
    not publish the same again."""
    srv, uri, started = _opened_on_a_slow_start(tmp_path, 4)
    try:
        first = srv.pump(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        assert time.monotonic() - started < 4  # before the server could have published it
        assert first["params"]["version"] == 1
        assert [d["code"] for d in first["params"]["diagnostics"]] == ["ML102"]
        # the server is up and has checked the document too (a hover needs its result)
        srv.request("textDocument/hover", {"textDocument": {"uri": uri},
                                           "position": {"line": 1, "character": 5}})
        assert _publishes(srv, uri) == [first["params"]]
    finally:
        srv.close()


def test_a_document_changed_early_gets_no_stale_diagnostics(tmp_path: Path):
    """didOpen then didChange while pygls imports: the bootstrap never publishes its check of
    the first text (positions would be off); the changed text's diagnostics come from the
    server."""
    srv, uri, started = _opened_on_a_slow_start(tmp_path, 3)
    try:
        # (sent at once: the early check of version 1 is still running when this arrives)
        srv.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                              "contentChanges": [{"text": "\n\n" + SLICED}]})
        first = srv.pump(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        assert time.monotonic() - started > 3  # none from the bootstrap
        got = first if first["params"]["version"] == 2 else srv.pump(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["version"] == 2)
        assert [(d["code"], d["range"]["start"]["line"]) for d in got["params"]["diagnostics"]] \
            == [("ML102", 3)]
    finally:
        srv.close()


def test_a_check_timeout_on_open_is_paid_once(tmp_path: Path):
    """A document opened while pygls imports whose check overruns checkTimeoutSeconds (4 s): the
    server takes the bootstrap's outcome for that text instead of checking it again, and says
    so once, after about 4 s (before, after the bootstrap's 4 s and then its own: over 8 s)."""
    hang = "# hang-the-checker"
    env = dict(os.environ, MEMLENS_FAULT_SLOW_START="1", MEMLENS_FAULT_HANG_ON=hang)
    srv = Server(tmp_path, caps(pull=False), env=env, settings={"checkTimeoutSeconds": 4})
    try:
        uri = (tmp_path / "m.py").as_uri()
        opened = time.monotonic()
        srv.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": SLICED + hang + "\n"}})
        published = srv.pump(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                             and m["params"]["uri"] == uri, timeout=30)
        took = time.monotonic() - opened
        assert [d["code"] for d in published["params"]["diagnostics"]] == ["check-timeout"]
        assert took < 7, f"the timeout was paid twice: {took:.1f} s"
        srv.request("textDocument/hover", {"textDocument": {"uri": uri},
                                           "position": {"line": 1, "character": 5}})
        assert len(_publishes(srv, uri)) == 1
    finally:
        srv.close()

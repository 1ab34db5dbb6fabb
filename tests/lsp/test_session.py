"""A session's edges over stdio, as `memlens serve` reads them: the framing of every message, bodies
that are not JSON, an `initialize` that pygls refuses, settings no one means, and the end of a
session (`shutdown`, `exit`). The bootstrap answers `initialize` before pygls is imported
(`lsp/bootstrap.py`); with `MEMLENS_LSP_BOOTSTRAP=0` pygls answers it: both must agree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .rpc import RawSession, Server
from .test_robustness import caps

DEEP = b'{"jsonrpc": "2.0", "id": 7, "method": "textDocument/hover", "params": ' + \
    b"[" * 5000 + b"]" * 5000 + b"}"
LOADS = "import numpy as np\nx = np.load('a.npy')\nfor i in range(0, len(x), 256):\n" \
        "    batch = x[i:i + 256]\n"


def _env(bootstrap: bool = True, **extra) -> dict:
    return dict(os.environ, MEMLENS_LSP_BOOTSTRAP="1" if bootstrap else "0", **extra)


def _initialize(params, msg_id=1) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "initialize", "params": params}


def _params(root: Path, **changes) -> dict:
    uri = root.as_uri()
    return {"processId": None, "rootUri": uri, "capabilities": {},
            "workspaceFolders": [{"uri": uri, "name": "ws"}],
            "initializationOptions": {"settings": {"debounceMs": 0}}, **changes}


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _started(session: RawSession, root: Path) -> None:
    session.send(_initialize(_params(root)))
    reply = session.answer(1)
    assert reply is not None and "result" in reply, reply
    session.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})


def _still_answers(session: RawSession, msg_id: int = 90) -> None:
    """The server answers a request (a lens request on a file that is not open: [])."""
    session.send({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/codeLens",
                  "params": {"textDocument": {"uri": "file:///nowhere.py"}}})
    reply = session.answer(msg_id)
    assert reply is not None, "the server no longer answers"
    assert reply.get("result") == [], reply


def _parse_error(session: RawSession) -> dict | None:
    return session.next(lambda m: "method" not in m and m.get("id") is None and "error" in m)


# -- bodies that are not JSON --------------------------------------------------------------


def test_deep_json_while_the_bootstrap_reads_is_a_parse_error_and_the_server_goes_on(
        tmp_path: Path):
    """A well-framed body nested 5,000 deep, sent while pygls still imports (the bootstrap's
    pump reads it): answered -32700, and the server answers what follows (before, the pump
    died on a RecursionError and the server never answered again)."""
    session = RawSession(env=_env(MEMLENS_FAULT_SLOW_START="2"))
    try:
        _started(session, tmp_path)
        session.write(_frame(DEEP))
        error = _parse_error(session)
        assert error is not None and error["error"]["code"] == -32700, error
        _still_answers(session)
    finally:
        session.close()


def test_deep_json_as_the_first_message(tmp_path: Path):
    """The first message nested 5,000 deep: -32700, then the session starts as usual (before,
    the server exited with a traceback)."""
    session = RawSession(env=_env())
    try:
        session.write(_frame(DEEP))
        error = _parse_error(session)
        assert error is not None and error["error"]["code"] == -32700, error
        assert "\n" not in error["error"]["message"]
        _started(session, tmp_path)
        _still_answers(session)
    finally:
        session.close()


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b"[" * 5000])
def test_a_body_that_is_not_json_is_answered_parse_error(tmp_path: Path, body: bytes):
    session = RawSession(env=_env())
    try:
        _started(session, tmp_path)
        _still_answers(session, 80)  # pygls runs now: this is its reader's business
        session.write(_frame(body))
        error = _parse_error(session)
        assert error is not None and error["error"]["code"] == -32700, error
        _still_answers(session)
    finally:
        session.close()


# -- initialize: what pygls refuses is refused ---------------------------------------------


REFUSED = {  # params pygls refuses: -32602
    "process id not a number": {"processId": "abc"},
    "bogus trace": {"trace": "bogus"},
    "capabilities null": {"capabilities": None},
    "a workspace folder without uri and name": {"workspaceFolders": [{}]},
    "no capabilities": {"capabilities": "__drop__"},
    "params null": None,
}
ODD = {  # messages pygls takes, or answers otherwise: the bootstrap must answer the same
    "empty capabilities": ({"capabilities": {}}, "result"),
    "will-save stated": ({"capabilities": {"textDocument": {"synchronization": {
        "willSave": True, "willSaveWaitUntil": False}}}}, "result"),
    "an id pygls cannot hash": ({"__id__": [1]}, -32603),
    "not JSON-RPC 2.0": ({"__jsonrpc__": "1.0"}, None),
}


def _message(tmp_path: Path, changes) -> dict:
    if changes is None:
        return _initialize(None)
    changes = dict(changes)
    msg_id = changes.pop("__id__", 1)
    version = changes.pop("__jsonrpc__", "2.0")
    params = {k: v for k, v in _params(tmp_path, **changes).items() if v != "__drop__"}
    return {"jsonrpc": version, "id": msg_id, "method": "initialize", "params": params}


def _answers(message: dict, check=None) -> list[dict | None]:
    """The answer to `message` with the bootstrap, then without it (pygls' own); `check(session,
    answer)` runs on the bootstrap's session after its answer."""
    answers = []
    for bootstrap in (True, False):
        session = RawSession(env=_env(bootstrap))
        try:
            session.send(message)
            if check is None:
                # a well-formed initialize after it: its answer coming first shows that `message`
                # got none (answers keep the order of requests), without waiting out a timeout
                session.send(dict(message, jsonrpc="2.0", id="probe"))
            answer = session.next(lambda m: "method" not in m, timeout=10)
            answers.append(None if answer is not None and answer.get("id") == "probe"
                           else answer)
            if bootstrap and check is not None:
                check(session, answer)
        finally:
            session.close()
    return answers


@pytest.mark.parametrize("name", list(REFUSED))
def test_an_initialize_pygls_refuses_gets_pygls_error_and_the_client_can_try_again(
        tmp_path: Path, name: str):
    """The bootstrap answers exactly what pygls answers (it answered success before, and the
    server never initialised: no document stored, every request answered empty)."""

    def then_a_valid_one(session: RawSession, answer) -> None:
        assert answer is not None and answer.get("error", {}).get("code") == -32602, answer
        # a valid initialize then starts the session: documents are kept and checked
        session.send(_initialize(_params(tmp_path), msg_id=2))
        assert "result" in (session.answer(2) or {})
        session.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        uri = (tmp_path / "m.py").as_uri()
        session.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": LOADS}}})
        session.send({"jsonrpc": "2.0", "id": 3, "method": "memlens/documentText",
                      "params": {"uri": uri}})
        assert (session.answer(3) or {}).get("result", {}).get("text") == LOADS

    answers = _answers(_message(tmp_path, REFUSED[name]), then_a_valid_one)
    assert answers[0] == answers[1]


@pytest.mark.parametrize("name", list(ODD))
def test_the_bootstrap_answers_initialize_as_pygls_does(tmp_path: Path, name: str):
    changes, expected = ODD[name]
    answers = _answers(_message(tmp_path, changes))
    assert answers[0] == answers[1]
    got = answers[0]
    assert (got if got is None else "result" if "result" in got else got["error"]["code"]) \
        == expected, got


# -- framing: every message read the same way ----------------------------------------------


FRAMINGS = {
    "lower-case name": b"content-length: %d\r\n\r\n",
    "no space after the colon": b"Content-Length:%d\r\n\r\n",
    "LF line ends": b"Content-Length: %d\n\n",
    "a content type too": b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                          b"Content-Length: %d\r\n\r\n",
}


@pytest.mark.parametrize("bootstrap", [True, False])
@pytest.mark.parametrize("name", list(FRAMINGS))
def test_every_message_is_framed_as_the_first(tmp_path: Path, name: str, bootstrap: bool):
    """A framing the first message is taken in is taken in every later message too (before,
    `initialize` was answered in it and every later message was ignored)."""
    header = FRAMINGS[name]
    session = RawSession(env=_env(bootstrap))
    try:
        session.send(_initialize(_params(tmp_path)), header)
        assert "result" in (session.answer(1) or {})
        session.send({"jsonrpc": "2.0", "method": "initialized", "params": {}}, header)
        uri = (tmp_path / "m.py").as_uri()
        session.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "python", "version": 1,
                             "text": LOADS}}}, header)
        published = session.next(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                                 and m["params"]["uri"] == uri)
        assert published is not None, "no diagnostics: the later messages were not read"
        assert [d["code"] for d in published["params"]["diagnostics"]] == ["ML102"]
        session.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}, header)
        assert session.answer(2) == {"jsonrpc": "2.0", "id": 2, "result": None}
        session.send({"jsonrpc": "2.0", "method": "exit"}, header)
        assert session.proc.wait(10) == 0
    finally:
        session.close()


# -- settings no one means --------------------------------------------------------------------


@pytest.mark.parametrize("settings", [
    {"debounceMs": "inf"},
    {"maxFileSizeKb": float("inf")},  # the JSON literal Infinity
    {"settleMs": float("inf")},
    {"checkTimeoutSeconds": float("inf"), "debounceMs": float("nan"), "settleMs": -5,
     "maxFileSizeKb": 1e300, "profile": {"timeoutSeconds": "-inf", "memoryLimitMb": 1e400,
                                         "hotLineThresholdMb": float("nan")}},
], ids=["debounce-inf-string", "max-file-size-Infinity", "settle-Infinity", "all-bad"])
def test_settings_of_infinity_fall_back_to_the_defaults(tmp_path: Path, settings: dict):
    """Before, `memlens serve` exited with a traceback before it answered initialize."""
    server = Server(tmp_path, caps(pull=False), settings=settings)
    try:
        uri = (tmp_path / "m.py").as_uri()
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": LOADS}})
        published = server.pump(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                                and m["params"]["uri"] == uri, timeout=30)
        assert [d["code"] for d in published["params"]["diagnostics"]] == ["ML102"]
    finally:
        server.close()


# -- the end of a session ---------------------------------------------------------------------


def test_a_request_after_shutdown_is_an_invalid_request(tmp_path: Path):
    session = RawSession(env=_env())
    try:
        _started(session, tmp_path)
        session.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        assert session.answer(2) == {"jsonrpc": "2.0", "id": 2, "result": None}
        session.send({"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens",
                      "params": {"textDocument": {"uri": "file:///nowhere.py"}}})
        reply = session.answer(3, timeout=10)
        assert reply is not None, "a request after shutdown was never answered"
        assert reply["error"]["code"] == -32600, reply
        session.send({"jsonrpc": "2.0", "method": "exit"})
        assert session.proc.wait(10) == 0
    finally:
        session.close()


def test_exit_without_shutdown_ends_with_code_one(tmp_path: Path):
    session = RawSession(env=_env())
    try:
        _started(session, tmp_path)
        _still_answers(session)
        session.send({"jsonrpc": "2.0", "method": "exit"})
        assert session.proc.wait(10) == 1
    finally:
        session.close()


def test_the_parse_error_answer_is_one_json_rpc_message(tmp_path: Path):
    """(The -32700 answer is a whole JSON-RPC response: id null, code, one-line message.)"""
    session = RawSession(env=_env())
    try:
        session.write(_frame(b"{not json"))
        error = _parse_error(session)
        assert error is not None
        assert set(error) == {"jsonrpc", "id", "error"} and json.dumps(error)
        assert error["error"]["code"] == -32700 and error["error"]["message"]
    finally:
        session.close()


def test_initialize_is_answered_without_lsprotocol_when_it_is_plainly_valid():
    """The bootstrap judges a plain initialize request without importing lsprotocol (0.4 s idle,
    seconds on a loaded machine, before the answer), and only an unusual one with it."""
    import subprocess
    import sys

    code = ("import json, sys\nfrom memlens.lsp.bootstrap import plainly_valid\n"
            "m = {'jsonrpc': '2.0', 'id': 1, 'method': 'initialize', 'params': "
            "{'processId': 7, 'rootUri': 'file:///w', 'capabilities': {'textDocument': {}},"
            " 'clientInfo': {'name': 'nvim'}, 'trace': 'off',"
            " 'workspaceFolders': [{'uri': 'file:///w', 'name': 'w'}]}}\n"
            "assert plainly_valid(m)\n"
            "print(json.dumps(sorted(k for k in sys.modules if k.startswith('lsprotocol'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize("changes", [
    {"processId": "abc"}, {"trace": "bogus"}, {"capabilities": None}, {"capabilities": 5},
    {"workspaceFolders": [{}]}, {"capabilities": {"textDocument": 5}},
    {"clientInfo": {"version": "1"}}, {"rootUri": 5},
])
def test_plainly_valid_is_stricter_than_pygls(tmp_path: Path, changes: dict):
    """Whatever pygls refuses at the top, the fast judge refuses too (it then asks pygls)."""
    from memlens.lsp.bootstrap import plainly_valid

    assert not plainly_valid(_initialize(_params(tmp_path, **changes)))


def test_capabilities_pygls_refuses_deep_inside_leave_a_working_session(tmp_path: Path):
    """A request the fast judge lets through but pygls refuses deep in the capabilities: the
    client got its answer, and pygls is set up without the capabilities: documents are kept."""
    params = _params(tmp_path, capabilities={"textDocument": {"synchronization": 5}})
    session = RawSession(env=_env())
    try:
        session.send(_initialize(params))
        assert "result" in (session.answer(1) or {})
        session.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        uri = (tmp_path / "m.py").as_uri()
        session.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": LOADS}}})
        session.send({"jsonrpc": "2.0", "id": 3, "method": "memlens/documentText",
                      "params": {"uri": uri}})
        assert (session.answer(3) or {}).get("result", {}).get("text") == LOADS
    finally:
        session.close()

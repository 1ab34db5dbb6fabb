"""Answer `initialize` before pygls is even imported.

Importing pygls and lsprotocol takes 0.3-0.6 s here, most of the time to the `initialize` answer.
Over stdio, this module reads the first message with the standard library only, answers it from
the capability table below, and then hands the session to pygls: the initialize request is
replayed into pygls (which sets up the workspace, the client capabilities and the settings as
usual) and pygls' own answer to it is dropped. Everything after `initialize` waits in the pipe
until pygls runs. tests/lsp check that this table equals what pygls computes.

No pygls, lsprotocol or engine import here.
"""

from __future__ import annotations

import json
import os
import sys
import threading

from memlens import __version__
from memlens.lsp import settings

COMMANDS = ["memlens.profileFunction", "memlens.clearProfileResults", "memlens.checkWorkspace"]
FIX_ALL = "source.fixAll.memlens"
ENCODINGS = ("utf-8", "utf-16", "utf-32")


def _get(node, path: str):
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def diagnostic_mode(params: dict) -> str:
    """Push or pull (see server._choose_mode, which decides the same from typed values)."""
    wanted = settings.parse(settings.unwrap(params.get("initializationOptions"))).diagnostic_mode
    if wanted in ("push", "pull"):
        return wanted
    caps = params.get("capabilities") or {}
    pulls = _get(caps, "textDocument.diagnostic") is not None
    refresh = bool(_get(caps, "workspace.diagnostics.refreshSupport"))
    return "pull" if pulls and refresh else "push"


def position_encoding(params: dict) -> str:
    for encoding in _get(params.get("capabilities") or {}, "general.positionEncodings") or []:
        if encoding in ENCODINGS:
            return encoding
    return "utf-16"


def initialize_result(params: dict) -> dict:
    caps = params.get("capabilities") or {}
    file_operations = {}
    capabilities = {
        "positionEncoding": position_encoding(params),
        "textDocumentSync": {"openClose": True, "change": 2, "willSave": False,
                             "willSaveWaitUntil": False, "save": True},
        "hoverProvider": True,
        "codeActionProvider": {"codeActionKinds": ["quickfix", "source.fixAll", FIX_ALL],
                               "resolveProvider": True},
        "codeLensProvider": {"resolveProvider": False},
        "executeCommandProvider": {"commands": list(COMMANDS)},
        "inlayHintProvider": {"resolveProvider": False},
        "workspace": {"workspaceFolders": {"supported": True, "changeNotifications": True},
                      "fileOperations": file_operations},
    }
    if diagnostic_mode(params) == "pull":
        capabilities["diagnosticProvider"] = {"identifier": "memlens",
                                              "interFileDependencies": False,
                                              "workspaceDiagnostics": False}
    del caps
    return {"capabilities": capabilities, "serverInfo": {"name": "memlens",
                                                          "version": __version__}}


def read_message(stream) -> tuple[bytes, dict | None]:
    """One framed message: its raw bytes (headers included) and its JSON (None if unreadable)."""
    raw = b""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return raw, None
        raw += line
        if line in (b"\r\n", b"\n"):
            break
        key, _, value = line.decode("ascii", "replace").partition(":")
        if key.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return raw, None
    if length is None:
        return raw, None
    body = stream.read(length)
    raw += body
    try:
        return raw, json.loads(body)
    except ValueError:
        return raw, None


class PrefixedReader:
    """A binary stream that first gives back bytes already read, then the real stream."""

    def __init__(self, prefix: bytes, stream):
        self._prefix = prefix
        self._stream = stream
        self._lock = threading.Lock()

    def readline(self) -> bytes:
        with self._lock:
            if self._prefix:
                end = self._prefix.find(b"\n")
                if end >= 0:
                    line, self._prefix = self._prefix[:end + 1], self._prefix[end + 1:]
                    return line
                line, self._prefix = self._prefix, b""
                return line + self._stream.readline()
        return self._stream.readline()

    def read(self, n: int = -1) -> bytes:
        with self._lock:
            if self._prefix:
                head, self._prefix = self._prefix[:n], self._prefix[n:]
                if len(head) < n:
                    head += self._stream.read(n - len(head))
                return head
        return self._stream.read(n)


class DroppingWriter:
    """stdout for pygls, minus its answer to the initialize request we already answered."""

    def __init__(self, stream, drop_id):
        self._stream = stream
        self._drop_id = drop_id
        self.dropped: dict | None = None

    def write(self, data: bytes) -> None:
        if self._drop_id is not None:
            _, _, body = data.partition(b"\r\n\r\n")
            try:
                message = json.loads(body)
            except ValueError:
                message = {}
            if message.get("id") == self._drop_id and "method" not in message:
                self._drop_id = None
                self.dropped = message
                return
        self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


def serve_stdio() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    drop_id = None
    raw, message = read_message(stdin)
    if isinstance(message, dict) and message.get("method") == "initialize" and \
            "id" in message and os.environ.get("MEMLENS_LSP_BOOTSTRAP", "1") != "0":
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        body = json.dumps({"jsonrpc": "2.0", "id": message["id"],
                           "result": initialize_result(params)}).encode("utf-8")
        stdout.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdout.flush()
        drop_id = message["id"]

    from memlens.lsp.server import create_server

    server = create_server()
    writer = DroppingWriter(stdout, drop_id)
    server.start_io(PrefixedReader(raw, stdin), writer)

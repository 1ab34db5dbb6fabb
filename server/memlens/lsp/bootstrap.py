"""Answer `initialize` before pygls is even imported, and start checking meanwhile.

Importing pygls and lsprotocol takes 0.5-0.6 s here, most of the time to the `initialize` answer.
Over stdio, this module reads the first message (`stdio.MessageReader`, the one reader of every
message), judges its params as pygls will, answers it from the capability table below, and
then hands the session to pygls: the initialize request is replayed into pygls (which sets up
the workspace, the client capabilities and the settings as usual) and pygls' own answer to it
is dropped. A plain request (every field the specification types, of its type) is judged
without lsprotocol (`plainly_valid`: importing it costs 0.4 s idle and seconds on a busy
machine); any other has lsprotocol's converter judge it (`pygls_takes`), and one pygls refuses
is not answered here: pygls answers it, with its own error. What the plain judge lets through
that pygls would refuse deep in the capabilities is replayed without them (`replayable`), so
the session the client was told of exists. tests/lsp check that this table equals what pygls
computes, and that both give the same answer to a refused one.

While pygls imports, the checker process starts with the configuration the initialize request
gives, and a pump (reading stdin ahead until then) hands the text of each document opened
meanwhile to it. Its diagnostics are published from here as soon as they are known (push mode),
unless the document changed or closed meanwhile, or the server has published for it already;
when the server gets to that didOpen, its check finds the document already checked, and it
does not publish the same diagnostics again. Every message still reaches pygls, in order.

No pygls or engine import here; lsprotocol only to judge an unusual initialize request.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import sys
import threading

from memlens import __version__
from memlens.lsp import settings, stdio
from memlens.lsp.stdio import FdStream, MessageReader

log = logging.getLogger(__name__)

COMMANDS = ["memlens.profileFunction", "memlens.clearProfileResults", "memlens.checkWorkspace"]
FIX_ALL = "source.fixAll.memlens"
NOTEBOOK_FIX_ALL = "notebook.source.fixAll.memlens"  # (lsp/notebooks.py: FIX_ALL)
# lsp/notebooks.py: SYNC, declared when the client says it syncs notebooks (as pygls does)
NOTEBOOK_SYNC = {"notebookSelector": [{"notebook": "*", "cells": [{"language": "python"}]}],
                 "save": True}
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
    sync = _get(params.get("capabilities") or {}, "textDocument.synchronization") or {}
    text_document_sync = {"openClose": True, "change": 2, "save": True}
    for key in ("willSave", "willSaveWaitUntil"):  # pygls: false where the client says, if it does
        if isinstance(sync, dict) and sync.get(key) is not None:
            text_document_sync[key] = False
    file_operations: dict[str, object] = {}
    capabilities = {
        "positionEncoding": position_encoding(params),
        "textDocumentSync": text_document_sync,
        "hoverProvider": True,
        "codeActionProvider": {"codeActionKinds": ["quickfix", "source.fixAll", FIX_ALL,
                                                   NOTEBOOK_FIX_ALL],
                               "resolveProvider": True},
        "codeLensProvider": {"resolveProvider": False},
        "executeCommandProvider": {"commands": list(COMMANDS)},
        "inlayHintProvider": {"resolveProvider": False},
        "workspace": {"workspaceFolders": {"supported": True, "changeNotifications": True},
                      "fileOperations": file_operations},
    }
    if (params.get("capabilities") or {}).get("notebookDocument") is not None:
        capabilities["notebookDocumentSync"] = NOTEBOOK_SYNC
    if diagnostic_mode(params) == "pull":
        capabilities["diagnosticProvider"] = {"identifier": "memlens",
                                              "interFileDependencies": False,
                                              "workspaceDiagnostics": False}
    return {"capabilities": capabilities, "serverInfo": {"name": "memlens",
                                                          "version": __version__}}


_TRACE = ("off", "messages", "compact", "verbose")
_CAPABILITY_PARTS = ("workspace", "textDocument", "notebookDocument", "window", "general")


def plainly_valid(message: dict) -> bool:
    """Whether an initialize request is plainly one pygls takes, judged without lsprotocol
    (importing it costs 0.4 s idle, seconds on a loaded machine, before the answer): a JSON-RPC
    2.0 request whose params have every field the specification types, each of its type. It
    is stricter than pygls: anything else goes to `pygls_takes`, and what it lets through that
    pygls would still refuse deep in the capabilities is mended before the replay
    (`replayable`)."""
    if message.get("jsonrpc") != "2.0" or type(message.get("id")) not in (int, str):
        return False
    params = message.get("params")
    if not isinstance(params, dict):
        return False
    capabilities = params.get("capabilities")
    if not isinstance(capabilities, dict) or not all(
            isinstance(capabilities.get(part, {}), dict) for part in _CAPABILITY_PARTS):
        return False
    if "processId" not in params or not (params["processId"] is None or
                                         type(params["processId"]) is int):
        return False
    for key in ("rootUri", "rootPath", "locale"):
        if params.get(key) is not None and not isinstance(params[key], str):
            return False
    if "trace" in params and params["trace"] not in _TRACE:
        return False
    info = params.get("clientInfo")
    if info is not None and not (isinstance(info, dict) and isinstance(info.get("name"), str)
                                 and isinstance(info.get("version", ""), str)):
        return False
    folders = params.get("workspaceFolders")
    return folders is None or (isinstance(folders, list) and all(
        isinstance(f, dict) and isinstance(f.get("uri"), str) and isinstance(f.get("name"), str)
        for f in folders))


def pygls_takes(message: dict) -> bool:
    """Whether pygls takes this initialize request: a JSON-RPC 2.0 request (pygls drops any
    other) whose params lsprotocol's converter structures, as pygls structures them
    (`protocol.MemlensProtocol.structure_message`, which answers -32602 otherwise). Imports
    lsprotocol (0.3-0.4 s idle; pygls needs it next anyway)."""
    if message.get("jsonrpc") != "2.0" or isinstance(message.get("id"), (list, dict)):
        return False  # (pygls drops the one, and fails on the other: an id it cannot hash)
    from lsprotocol import converters, types

    try:
        converters.get_converter().structure(message, types.InitializeRequest)
    except Exception:
        return False
    return True


def replayable(message: dict) -> dict:
    """The initialize request answered early, as pygls can take it: itself, or (capabilities
    pygls refuses deep inside, which `plainly_valid` does not look at) the same without the
    client's capabilities, so that pygls still sets up the session it was told of."""
    if pygls_takes(message):
        return message
    log.warning("the client's capabilities are not as the specification types them; the "
                "server goes on as if the client declared none")
    return {**message, "params": {**message["params"], "capabilities": {}}}


class MessagePump:
    """The client's messages for the server's loop (`next_body`). While `on_message` wants them
    (pygls is still importing, and the first documents can be checked meanwhile), a thread of
    its own reads each message ahead, hands it over and keeps its body; then the thread ends,
    and the loop reads the stream itself, after what is kept (no thread between it and its
    input from then on). One reader (`stdio.MessageReader`) frames them all."""

    def __init__(self, kept: list[bytes], reader: MessageReader, on_message=None):
        self._kept = collections.deque(kept)
        self._reader = reader
        self._on_message = on_message
        self._ended = False
        self._direct = on_message is None  # the loop reads the stream itself
        self._ready = threading.Condition()
        if not self._direct:
            threading.Thread(target=self._pump, name="memlens-stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                body = self._reader.next_body()
            except (OSError, ValueError):
                body = None
            wanted = True
            message = stdio.parse(body) if body is not None else None
            if isinstance(message, dict):  # (one that is not JSON is the loop's to answer)
                try:
                    wanted = bool(self._on_message(message))
                except Exception:  # an early check is only a head start: never fatal
                    wanted = False
            with self._ready:
                if body is None:
                    self._ended = True
                else:
                    self._kept.append(body)
                self._direct = not wanted
                self._ready.notify_all()
            if body is None or not wanted:
                return

    def replace_first(self, body: bytes) -> None:
        """The first message (the initialize request, not yet read by the loop) replaced."""
        with self._ready:
            if self._kept:
                self._kept[0] = body

    def next_body(self) -> bytes | None:
        with self._ready:
            while not self._kept and not self._ended and not self._direct:
                self._ready.wait()
            if self._kept:
                return self._kept.popleft()
            if self._ended:
                return None
        return self._reader.next_body()


class Output:
    """stdout, written one whole message at a time from any thread (the bootstrap's early
    diagnostics, then pygls)."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        body = json.dumps(message).encode("utf-8")
        self.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def write(self, data: bytes) -> None:
        with self._lock:
            self._stream.write(data)
            self._stream.flush()

    def flush(self) -> None:
        pass  # every write is flushed

    def close(self) -> None:
        self._stream.close()


class EarlyChecks:
    """The checker process, started and configured from the initialize request as the server
    will configure it, and the documents opened before pygls runs, checked in it and their
    diagnostics published (`output`, push mode). The server takes the process over
    (`Analyzer(checks=...)`), `claim`s each document before it publishes for it, and takes
    what an early check found (`outcome`) instead of checking the same text again; `stop()`
    ends the head start."""

    def __init__(self, params: dict, output: Output | None = None):
        from concurrent.futures import ThreadPoolExecutor

        from memlens.engine.lines import for_parse  # (after the initialize answer: not light)
        from memlens.lsp import convert
        from memlens.lsp.boundary import trust_from
        from memlens.lsp.check_process import CheckProcess

        options = params.get("initializationOptions")
        self.editor = settings.parse(dict(settings.unwrap(options)))
        folders = params.get("workspaceFolders") or []
        root_uri = folders[0].get("uri") if folders and isinstance(folders[0], dict) \
            else params.get("rootUri")
        self.root = (file_path(root_uri) if isinstance(root_uri, str) else None) or \
            params.get("rootPath") or None
        self.trusted = trust_from(options) is not False
        self.checks = CheckProcess()
        self.checks.configure(self.root, self.editor, self.trusted)
        self._for_parse = for_parse
        self._output = output if diagnostic_mode(params) == "push" else None
        self._convert = convert
        self._encoder = convert.Encoder(position_encoding(params))
        self._lock = threading.Lock()
        self._moved_on: set[str] = set()  # changed, closed or claimed: publish nothing early
        self._published: dict[str, tuple] = {}  # uri -> (version, diagnostics) sent early
        self._stale: set[str] = set()  # changed or closed: an early check of it is stopped
        # uri -> (version, text, configuration, future of its early check's outcome)
        self._outcomes: dict[str, tuple] = {}
        self._running = True
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="memlens-early")
        self._executor.submit(self._call, "forget", "")  # start and configure it now

    def on_message(self, message: dict) -> bool:
        """Check an opened document ahead; false once the server runs (no more wanted)."""
        if not self._running:
            return False
        method = message.get("method")
        doc = (message.get("params") or {}).get("textDocument") or {}
        uri = doc.get("uri") if isinstance(doc, dict) else None
        if method in ("textDocument/didChange", "textDocument/didClose") and isinstance(uri, str):
            with self._lock:  # what an early check of it would say is stale now
                self._moved_on.add(uri)
                self._stale.add(uri)
                self._outcomes.pop(uri, None)
            return True
        if method != "textDocument/didOpen":
            return True
        text = doc.get("text")
        limit = self.editor.max_file_kb * 1024
        if isinstance(uri, str) and isinstance(text, str) and not (limit and len(text) > limit):
            version, text = doc.get("version"), self._for_parse(text)
            with self._lock:
                self._stale.discard(uri)
                self._outcomes[uri] = (version, text, self.checks.config, self._executor.submit(
                    self._check, uri, version, text))
        return True

    def outcome(self, uri: str, version, text: str):
        """What the early check of exactly this version and text of `uri` found, waiting for
        it if it is still running: its `Checked`, or the `CheckTimedOut` or `CheckerStopped` it
        met (the server's own check of the same text would meet it again: a check timeout was
        paid twice on open). None: no such check, or one under another configuration. Once."""
        with self._lock:
            entry = self._outcomes.pop(uri, None)
        if entry is None or entry[:2] != (version, text):
            return None
        try:
            found = entry[3].result()
        except BaseException:  # cancelled (the head start ended before it ran)
            return None
        return found if self.checks.config == entry[2] else None

    def claim(self, uri: str) -> tuple | None:
        """The server publishes for `uri` from now on (no early publish can follow); what was
        published early for it, (version, diagnostics), if anything."""
        with self._lock:
            self._moved_on.add(uri)
            return self._published.pop(uri, None)

    def _check(self, uri: str, version, text: str):
        from memlens.lsp.check_process import OVERTAKEN_GRACE_S, CheckerStopped, CheckTimedOut

        try:
            checked = self.checks.call("check", uri, text, file_path(uri), False,
                                       budget=self.editor.check_timeout_s or None,
                                       stop=lambda: uri in self._stale, grace=OVERTAKEN_GRACE_S)
        except (CheckTimedOut, CheckerStopped) as exc:
            return exc  # (`outcome`: said by the server, which publishes notices)
        except Exception:  # the server's own check will meet the problem and say so
            return None
        if self._output is None:
            return checked
        lines = text.split("\n")
        diagnostics = [self._convert.diagnostic(f, lines, self._encoder)
                       for f in checked.findings]
        with self._lock:
            if uri in self._moved_on:
                return checked
            self._output.send({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
                               "params": {"uri": uri, "version": version,
                                          "diagnostics": diagnostics}})
            self._published[uri] = (version, diagnostics)
        return checked

    def _call(self, op: str, *args):
        if not self._running and op != "check":
            return None
        try:
            return self.checks.call(op, *args, budget=self.editor.check_timeout_s or None)
        except Exception:  # the server's own check will meet the problem and say so
            return None

    def stop(self) -> None:
        self._running = False
        self._executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """No session: stop, and end the checker process too."""
        self.stop()
        self.checks.close()


def file_path(uri: str) -> str | None:
    """The path of a file: URI, as pygls' `to_fs_path` gives it on POSIX."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return unquote(parsed.path) or None


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
                if "error" in message:  # (`pygls_takes` said it would take it)
                    log.warning("pygls refused the initialize request answered early: %s",
                                message["error"].get("message"))
                return
        self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


def serve_stdio() -> int:
    """The language server over stdio; its exit code."""
    stdin, stdout = MessageReader(FdStream(sys.stdin.fileno())), Output(sys.stdout.buffer)
    drop_id = None
    early = None
    first = stdin.next_body()
    message = stdio.parse(first) if first is not None else None
    if isinstance(message, dict) and message.get("method") == "initialize" and \
            "id" in message and os.environ.get("MEMLENS_LSP_BOOTSTRAP", "1") != "0":
        params = message.get("params")
        if not isinstance(params, dict):
            params = {}
        try:  # the checker process starts while lsprotocol imports (pygls_takes)
            early = EarlyChecks(params, stdout)
        except Exception:  # only a head start: the server starts its checker as usual
            early = None
        if plainly_valid(message) or pygls_takes(message):
            stdout.send({"jsonrpc": "2.0", "id": message["id"],
                         "result": initialize_result(params)})
            drop_id = message["id"]
        elif early is not None:  # pygls answers it with its error: no session, no head start
            early.close()
            early = None
    reader = MessagePump([first] if first is not None else [], stdin,
                         early.on_message if early is not None else None)
    slow = os.environ.get("MEMLENS_FAULT_SLOW_START")  # tests: a machine where pygls is slow
    if slow:
        import time

        time.sleep(float(slow))

    # While this thread imports pygls (CPU-bound), the pump and the early check's threads wake
    # on their pipes and each waits for the GIL up to the switch interval (5 ms): a few such
    # waits were a tenth of the time to the first diagnostics.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        from memlens.lsp.server import create_server
    finally:
        sys.setswitchinterval(interval)

    if drop_id is not None and isinstance(message, dict):  # (lsprotocol is imported by now)
        replay = replayable(message)
        if replay is not message:
            reader.replace_first(json.dumps(replay).encode())
    server = create_server(early)
    return stdio.serve(server, reader, DroppingWriter(stdout, drop_id))

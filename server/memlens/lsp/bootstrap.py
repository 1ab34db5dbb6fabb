"""Answer `initialize` before pygls is even imported, and start checking meanwhile.

Importing pygls and lsprotocol takes 0.3-0.6 s here, most of the time to the `initialize` answer.
Over stdio, this module reads the first message with the standard library only, answers it from
the capability table below, and then hands the session to pygls: the initialize request is
replayed into pygls (which sets up the workspace, the client capabilities and the settings as
usual) and pygls' own answer to it is dropped. tests/lsp check that this table equals what
pygls computes.

While pygls imports, the checker process starts with the configuration the initialize request
gives, and a pump (the one reader of stdin from then on) hands the text of each document opened
meanwhile to it. Its diagnostics are published from here as soon as they are known (push mode),
unless the document changed or closed meanwhile, or the server has published for it already;
when the server gets to that didOpen, its check finds the document already checked, and it
does not publish the same diagnostics again. Every byte still reaches pygls, in order.

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


class FdStream:
    """`readline` and `read` over a file descriptor, with its own buffer. The pump's thread
    reads stdin through it: a daemon thread blocked in `sys.stdin.buffer` holds that object's
    lock, and the interpreter aborts at exit when it cannot take it."""

    def __init__(self, fd: int):
        self._fd = fd
        self._buffer = bytearray()
        self._ended = False

    def _fill(self) -> bool:
        if self._ended:
            return False
        try:
            chunk = os.read(self._fd, 1 << 16)
        except OSError:
            chunk = b""
        self._ended = not chunk
        self._buffer += chunk
        return bool(chunk)

    def readline(self) -> bytes:
        while (end := self._buffer.find(b"\n")) < 0 and self._fill():
            pass
        cut = end + 1 if end >= 0 else len(self._buffer)
        line = bytes(self._buffer[:cut])
        del self._buffer[:cut]
        return line

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n and self._fill():
            pass
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data


class MessagePump:
    """stdin for pygls. While `on_message` wants messages (pygls is still importing, and the
    first documents can be checked meanwhile), a thread of its own reads each framed message,
    hands it over, and buffers its bytes; then the thread ends and pygls reads the stream
    itself, after what is buffered (no thread between it and its input from then on)."""

    def __init__(self, prefix: bytes, stream, on_message=None):
        self._buffer = bytearray(prefix)
        self._stream = stream
        self._on_message = on_message
        self._ended = False
        self._direct = on_message is None  # the caller reads the stream itself
        self._ready = threading.Condition()
        if not self._direct:
            threading.Thread(target=self._pump, name="memlens-stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                raw, message = read_message(self._stream)
            except (OSError, ValueError):
                raw, message = b"", None
            wanted = True
            if message is not None:
                try:
                    wanted = bool(self._on_message(message))
                except Exception:  # an early check is only a head start: never fatal
                    wanted = False
            with self._ready:
                self._buffer += raw
                self._ended = not raw
                self._direct = not wanted
                self._ready.notify_all()
            if not raw or not wanted:
                return

    def readline(self) -> bytes:
        with self._ready:
            while True:
                end = self._buffer.find(b"\n")
                if end >= 0 or self._ended:
                    cut = end + 1 if end >= 0 else len(self._buffer)
                    line = bytes(self._buffer[:cut])
                    del self._buffer[:cut]
                    return line
                if self._direct:
                    head = bytes(self._buffer)  # a line begun in the buffer ends in the stream
                    self._buffer.clear()
                    break
                self._ready.wait()
        return head + self._stream.readline()

    def read(self, n: int) -> bytes:
        with self._ready:
            while not self._ended and len(self._buffer) < n and not self._direct:
                self._ready.wait()
            cut = min(n, len(self._buffer))
            data = bytes(self._buffer[:cut])
            del self._buffer[:cut]
            if self._ended or len(data) == n:
                return data
        return data + self._stream.read(n - len(data))


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
    (`Analyzer(checks=...)`) and `claim`s each document before it publishes for it; `stop()`
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
        if method in ("textDocument/didChange", "textDocument/didClose"):
            with self._lock:  # what an early check of it would say is stale now
                self._moved_on.add(uri)
            return True
        if method != "textDocument/didOpen":
            return True
        text = doc.get("text")
        limit = self.editor.max_file_kb * 1024
        if isinstance(uri, str) and isinstance(text, str) and not (limit and len(text) > limit):
            self._executor.submit(self._check, uri, doc.get("version"), self._for_parse(text))
        return True

    def claim(self, uri: str) -> tuple | None:
        """The server publishes for `uri` from now on (no early publish can follow); what was
        published early for it, (version, diagnostics), if anything."""
        with self._lock:
            self._moved_on.add(uri)
            return self._published.pop(uri, None)

    def _check(self, uri: str, version, text: str) -> None:
        checked = self._call("check", uri, text, file_path(uri), False)
        if checked is None or self._output is None:
            return
        lines = text.split("\n")
        diagnostics = [self._convert.diagnostic(f, lines, self._encoder)
                       for f in checked.findings]
        with self._lock:
            if uri in self._moved_on:
                return
            self._output.send({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
                               "params": {"uri": uri, "version": version,
                                          "diagnostics": diagnostics}})
            self._published[uri] = (version, diagnostics)

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
                return
        self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


def serve_stdio() -> None:
    stdin, stdout = FdStream(sys.stdin.fileno()), Output(sys.stdout.buffer)
    drop_id = None
    early = None
    raw, message = read_message(stdin)
    if isinstance(message, dict) and message.get("method") == "initialize" and \
            "id" in message and os.environ.get("MEMLENS_LSP_BOOTSTRAP", "1") != "0":
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        stdout.send({"jsonrpc": "2.0", "id": message["id"], "result": initialize_result(params)})
        drop_id = message["id"]
        try:
            early = EarlyChecks(params, stdout)
        except Exception:  # only a head start: the server starts its checker as usual
            early = None
    reader = MessagePump(raw, stdin, early.on_message if early is not None else None)
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

    server = create_server(early)
    writer = DroppingWriter(stdout, drop_id)
    server.start_io(reader, writer)

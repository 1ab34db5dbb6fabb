"""The client's messages over stdio: one reader for all of them, and the server's loop over it.

`MessageReader` cuts the stream into message bodies, from the first message (`initialize`, which
`bootstrap.py` reads before pygls is imported) to the last (which the server's loop reads): every
message is framed by the same code, so the first one cannot be taken where a later one is not.
Framing as the base protocol describes it, read as HTTP reads headers: each header line ends at
CRLF (a bare LF is taken too), a header's name is matched in any case and spaces around its value
are allowed, and an empty line ends the headers. A message without a usable `Content-Length` is
skipped with one log line (where its body ends cannot be known).

`serve` is pygls' stdio loop (`LanguageServer.start_io`) reading through that reader: a body that
is not JSON (a syntax error, bytes that are not UTF-8, nesting deeper than the JSON decoder
goes) is answered -32700 and the loop goes on; `exit` ends it with pygls' exit code (0 after
`shutdown`, 1 without).

No pygls, lsprotocol or engine import at module level (the bootstrap imports this first).
"""

from __future__ import annotations

import json
import logging
import os

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
# what the JSON decoder raises on a body that is not JSON: a syntax error, bytes that are not
# UTF-8, or nesting deeper than it recurses
NOT_JSON = (json.JSONDecodeError, UnicodeDecodeError, RecursionError)


class FdStream:
    """`readline` and `read` over a file descriptor, with its own buffer. The bootstrap's pump
    thread reads stdin through it: a daemon thread blocked in `sys.stdin.buffer` holds that
    object's lock, and the interpreter aborts at exit when it cannot take it."""

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


class MessageReader:
    """The bodies of the messages on a stream (`readline`/`read`), one at a time."""

    def __init__(self, stream):
        self._stream = stream

    def next_body(self) -> bytes | None:
        """The next message's body; None once the stream has ended."""
        while True:
            length = self._headers()
            if length is None:
                return None
            if length < 0:
                continue  # skipped (logged)
            body = self._stream.read(length)
            return body if len(body) == length else None  # the stream ended inside it

    def _headers(self) -> int | None:
        """The Content-Length of the next message; -1 for one without a usable one; None once
        the stream has ended."""
        length: int | None = None
        seen = False
        while True:
            line = self._stream.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                if not seen:
                    continue  # blank lines between messages
                if length is None:
                    log.warning("a message without a usable Content-Length header: skipped")
                    return -1
                return length
            seen = True
            name, colon, value = line.partition(b":")
            if colon and name.strip().lower() == b"content-length":
                value = value.strip()
                length = int(value) if value.isdigit() else None


def parse(body: bytes):
    """The JSON of a body, or None if it is not JSON."""
    try:
        return json.loads(body)
    except NOT_JSON:
        return None


def parse_error(exc: Exception) -> dict:
    """The -32700 answer to a body that is not JSON (no id can be read from it)."""
    reason = "nested too deep" if isinstance(exc, RecursionError) else \
        (str(exc).strip() or type(exc).__name__).split("\n")[0][:200]
    return {"jsonrpc": "2.0", "id": None,
            "error": {"code": PARSE_ERROR, "message": f"parse error: {reason}"}}


def serve(server, source, writer) -> int:
    """Run `server` (a pygls LanguageServer) over the bodies `source.next_body()` gives, writing
    to `writer`, as pygls' `start_io` does; its exit code (`exit`: 0 after `shutdown`, else 1;
    the end of the input: 0)."""
    import asyncio
    import threading

    server._stop_event = stop = threading.Event()
    server.protocol.set_writer(writer)
    code = 0
    try:
        asyncio.run(_loop(server, source, stop))
    except BrokenPipeError:
        log.error("the connection to the client is lost: shutting down")
    except SystemExit as exc:  # pygls' `exit` handler
        code = exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return code


async def _loop(server, source, stop) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from pygls.exceptions import JsonRpcException

    loop = asyncio.get_running_loop()
    protocol = server.protocol
    # one thread reads; the next read starts once the message before is handled, as in pygls
    reading = ThreadPoolExecutor(1, thread_name_prefix="memlens-stdin")
    try:
        while not stop.is_set():
            body = await loop.run_in_executor(reading, source.next_body)
            if body is None:
                break
            try:
                message = json.loads(body, object_hook=protocol.structure_message)
            except NOT_JSON as exc:
                log.warning("a message that is not JSON: %s", parse_error(exc)["error"]["message"])
                protocol._send_data(parse_error(exc))
                continue
            except Exception as exc:  # a message pygls cannot read (logged as pygls does)
                server._report_server_error(exc, JsonRpcException)
                continue
            try:
                protocol.handle_message(message)
            except Exception as exc:
                log.exception("unable to handle a message")
                server._report_server_error(exc, JsonRpcException)
    finally:
        reading.shutdown(wait=False)

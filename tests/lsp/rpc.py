"""A small synchronous JSON-RPC client for `memlens serve` (for hypothesis, which wants plain
functions, and for robustness cases that send what no typed client would)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

SERVER = [sys.executable, "-m", "memlens", "serve"]


class Server:
    def __init__(self, root: Path, capabilities: dict, settings: dict | None = None,
                 env: dict | None = None, options: dict | None = None, stderr=None,
                 command: list[str] | None = None, cwd: Path | None = None):
        self.proc = subprocess.Popen(command or SERVER, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=stderr or subprocess.DEVNULL,
                                     env=env, cwd=cwd)
        self.ids = itertools.count(1)
        self.notifications: list[dict] = []
        self.settings = {"debounceMs": 0, **(settings or {})}
        uri = Path(root).as_uri()
        self.initialize = self.request("initialize", {
            "processId": None, "rootUri": uri, "capabilities": capabilities,
            "workspaceFolders": [{"uri": uri, "name": "ws"}],
            "initializationOptions": {"settings": self.settings, **(options or {})}})
        self.notify("initialized", {})

    def send(self, message: dict) -> None:
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read(self) -> dict:
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("the server closed its output (crashed?)")
            if line in (b"\r\n", b"\n"):
                break
            key, _, value = line.decode().partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def notify(self, method: str, params) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def _answer(self, message: dict) -> None:
        method = message["method"]
        result = None
        if method == "workspace/configuration":
            result = [self.settings for _ in message["params"]["items"]]
        self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def pump(self, until, timeout: float = 30.0) -> dict:
        """Read messages (answering the server's requests) until `until(message)` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.read()
            if "method" in message and "id" in message:
                self._answer(message)
            elif "method" in message:
                self.notifications.append(message)
                if until(message):
                    return message
            elif until(message):
                return message
        raise TimeoutError("no matching message")

    def request(self, method: str, params, timeout: float = 30.0) -> dict:
        msg_id = next(self.ids)
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        reply = self.pump(lambda m: m.get("id") == msg_id and "method" not in m, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


class RawSession:
    """`memlens serve` fed raw bytes, its messages read by a thread of their own: for what no
    client sends (other framings, bodies that are not JSON, a session's odd ends), where the
    server may answer nothing at all."""

    def __init__(self, env: dict | None = None, stderr=None):
        import queue
        import threading

        self.proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=stderr or subprocess.DEVNULL, env=env)
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode().partition(":")
                if key.strip().lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(stream.read(length)))

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict, header: bytes = b"Content-Length: %d\r\n\r\n") -> None:
        body = json.dumps(message).encode()
        self.write(header % len(body) + body)

    def next(self, until, timeout: float = 20.0) -> dict | None:
        """The first message from the server for which `until` holds (answering its requests
        with null), or None if there is none within `timeout` s or the server ended."""
        import queue

        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                return None
            if message is None:
                return None
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            if until(message):
                return message
        return None

    def answer(self, msg_id, timeout: float = 20.0) -> dict | None:
        return self.next(lambda m: "method" not in m and m.get("id") == msg_id, timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

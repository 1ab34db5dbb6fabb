"""pygls files the handler a generator handler yields (a command under executeCommand, a
feature under didOpen) among the pending requests under a fresh id and never removed it: a
fuzz run leaked a task and its result per command (3 MiB per thousand documents). Driven
in-process here, because the pending requests are what must stay empty."""

from __future__ import annotations

import asyncio
import json

from memlens.lsp.server import create_server


class _Sink:
    def __init__(self):
        self.sent: list[dict] = []

    def write(self, data: bytes) -> None:
        body = data.split(b"\r\n\r\n", 1)[-1]
        self.sent.append(json.loads(body))

    def close(self) -> None:
        pass


async def test_commands_and_notifications_leave_no_pending_futures(tmp_path):
    server = create_server()
    protocol = server.protocol
    sink = _Sink()
    protocol.set_writer(sink)

    def feed(message: dict) -> None:
        protocol.handle_message(protocol.structure_message(message))

    feed({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}})
    await asyncio.sleep(0.1)
    uri = (tmp_path / "m.py").as_uri()
    for n in range(50):
        feed({"jsonrpc": "2.0", "id": 100 + n, "method": "workspace/executeCommand",
              "params": {"command": "memlens.profileFunction", "arguments": [{"uri": 3}]}})
        feed({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": n, "text": "x = 1\n"}}})
        feed({"jsonrpc": "2.0", "method": "textDocument/didClose",
              "params": {"textDocument": {"uri": uri}}})
    for _ in range(100):
        answered = {m.get("id") for m in sink.sent if "result" in m}
        if answered >= set(range(100, 150)):
            break
        await asyncio.sleep(0.05)
    assert answered >= set(range(100, 150))
    assert all(m["result"]["error"]["kind"] == "bad_arguments"
               for m in sink.sent if m.get("id", 0) >= 100)
    await asyncio.sleep(0.1)
    assert protocol._request_futures == {}
    server.analyzer.shutdown()

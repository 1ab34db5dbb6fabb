"""A keystroke on a very long line costs the same whether the line is ASCII or not.

Columns of a line that is not pure ASCII were converted from UTF-16 by a Python loop over the line
up to the column, on the event loop: 1.5 s a keystroke at the end of a 5 MB line with one "é"
(`maxFileSizeKb` skips the analysis of such a file, but its edits are still applied), while
every other request waited. The same edits on an ASCII line of the same length are the yardstick.
"""

from __future__ import annotations

import time

from .rpc import Server
from .test_robustness import caps

LENGTH = 5_000_000
EDITS = 10


def _type_at_the_end(server: Server, root, name: str, first: str) -> float:
    """Seconds for EDITS one-character insertions at the end of a LENGTH-character line, until
    the server's copy (memlens/documentText) has them all."""
    uri = (root / name).as_uri()
    text = f"s = '{first}" + "a" * LENGTH
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})
    server.request("memlens/documentText", {"uri": uri}, timeout=60)
    started = time.perf_counter()
    for version in range(2, 2 + EDITS):
        column = len(text)  # one UTF-16 unit a character here
        at = {"line": 0, "character": column}
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": "b"}]})
        text += "b"
    got = server.request("memlens/documentText", {"uri": uri}, timeout=120)
    elapsed = time.perf_counter() - started
    assert got["text"] == text
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return elapsed


def test_typing_at_the_end_of_a_long_non_ascii_line_costs_what_an_ascii_line_does(tmp_path):
    server = Server(tmp_path, caps(pull=True))
    try:
        ascii_s = _type_at_the_end(server, tmp_path, "ascii.py", "e")
        other_s = _type_at_the_end(server, tmp_path, "other.py", "é")
    finally:
        server.close()
    print(f"ascii {ascii_s:.3f} s, non-ascii {other_s:.3f} s for {EDITS} edits")
    assert other_s < 3 * ascii_s + 1.0, (ascii_s, other_s)

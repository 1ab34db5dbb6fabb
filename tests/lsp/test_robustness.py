"""Keep the server up: a 5 MB file, non-UTF-8 text, 200 rapid incremental edits, random and
broken Python (hypothesis), and answers to other requests while a big file is being analysed."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import FIXTURES, vscode_capabilities
from .rpc import Server


def caps(pull: bool = True) -> dict:
    from lsprotocol import converters

    return converters.get_converter().unstructure(vscode_capabilities(pull=pull))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    for f in FIXTURES.iterdir():
        if f.is_file():
            (root / f.name).write_bytes(f.read_bytes())
    (root / "rules").mkdir()
    (root / "rules" / "ML990.yml").write_bytes((FIXTURES / "rules" / "ML990.yml").read_bytes())
    srv = Server(root, caps(pull=True))
    srv.root = root
    yield srv
    srv.close()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def check_report(report: dict, text: str) -> None:
    """A well-formed full diagnostic report whose ranges lie inside `text`."""
    assert report["kind"] == "full"
    lines = text.split("\n")
    for d in report["items"]:
        assert d["source"] == "memlens" and isinstance(d["message"], str) and d["message"]
        assert d["severity"] in (1, 2, 3, 4)
        assert isinstance(d["code"], str)
        for end in ("start", "end"):
            p = d["range"][end]
            assert 0 <= p["line"] < len(lines), d
            assert 0 <= p["character"] <= utf16_len(lines[p["line"]]), d
        assert (d["range"]["start"]["line"], d["range"]["start"]["character"]) <= (
            d["range"]["end"]["line"], d["range"]["end"]["character"])


_versions = iter(range(1, 10**9))


def open_and_pull(server: Server, name: str, text: str) -> dict:
    uri = (server.root / name).as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": next(_versions), "text": text}})
    return server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})


def test_a_five_megabyte_file_and_requests_meanwhile(server: Server):
    block = (FIXTURES / "pipeline.py").read_text()
    big = block * (5_000_000 // len(block) + 1)
    uri = (server.root / "big.py").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": big}})
    # the event loop stays free while the big file is analysed: a lens request on another
    # document is answered at once
    small = (server.root / "pipeline.py").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": small, "languageId": "python", "version": 1, "text": block}})
    started = time.monotonic()
    lenses = server.request("textDocument/codeLens", {"textDocument": {"uri": small}})
    assert len(lenses) == 4 and time.monotonic() - started < 5
    report = server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}},
                            timeout=120)
    check_report(report, big)
    # over the size limit (memlens.maxFileSizeKb, 1 MB by default): one clear diagnostic, so
    # that the one analysis worker is not held for a minute
    assert [d["code"] for d in report["items"]] == ["file-too-large"]
    assert "5.0 MB" in report["items"][0]["message"]
    # an edit to it is cheap too, and the server still answers
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"range": {
                                                 "start": {"line": 3, "character": 0},
                                                 "end": {"line": 3, "character": 0}},
                                                 "text": "x = 1\n"}]})
    report = server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    assert [d["code"] for d in report["items"]] == ["file-too-large"]
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_non_utf8_text(server: Server):
    # lone surrogates (what undecodable bytes become) and a NUL, through JSON (the NUL comes
    # after the slices that are ML102's evidence: tree-sitter's recovery from the unclosed
    # string swallows the lines after it)
    text = ("import numpy as np\nx = np.load('\udcff\udcfe.npy')\n"
            "for i in range(0, len(x), 256):\n    batch = x[i:i + 256]\ny = '\x00'\n")
    report = open_and_pull(server, "bytes.py", text)
    check_report(report, text)
    # Python itself refuses a NUL in source: one syntax error, and the finding still shows
    assert sorted(d["code"] for d in report["items"]) == ["ML102", "syntax-error"]
    # a file on disk that is not UTF-8: the workspace check reads it with replacement
    (server.root / "latin1.py").write_bytes(b"import numpy as np\nname = '\xe9t\xe9'\n"
                                            b"x = np.load('a.npy')\n")
    result = server.request("workspace/executeCommand", {"command": "memlens.checkWorkspace"})
    assert result["files"] >= 3


def test_a_file_nested_too_deep_gets_a_diagnostic_and_the_server_lives(server: Server):
    # 520 nested ifs, 138 KB: tree-sitter's scanner can abort the process on such nesting
    deep = "".join(" " * i + f"if x{i}:\n" for i in range(520)) + " " * 520 + "pass\n"
    report = open_and_pull(server, "deep.py", deep)
    assert [d["code"] for d in report["items"]] == ["syntax-error"]
    assert report["items"][0]["message"].startswith("nesting too deep to check")
    lenses = server.request("textDocument/codeLens", {"textDocument": {
        "uri": (server.root / "deep.py").as_uri()}})
    assert lenses == [] or lenses is None
    assert open_and_pull(server, "after.py", "x = 1\n")["kind"] == "full"


@pytest.mark.parametrize("params", [
    {"position": {"line": -1, "character": 0}},
    {"position": {"line": "a", "character": 0}},
    {},
    "not an object",
])
def test_invalid_params_get_a_short_error_and_no_popup(server: Server, params):
    uri = (server.root / "pipeline.py").as_uri()
    if isinstance(params, dict):
        params = {"textDocument": {"uri": uri}, **params}
    msg_id = next(server.ids)
    shown = len([n for n in server.notifications if n["method"] == "window/showMessage"])
    server.send({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/hover",
                 "params": params})
    reply = server.pump(lambda m: m.get("id") == msg_id and "method" not in m, timeout=10)
    assert reply["error"]["code"] == -32602
    assert reply["error"]["message"].startswith("invalid params for textDocument/hover")
    assert "\n" not in reply["error"]["message"] and len(reply["error"]["message"]) < 300
    # a body that is not JSON at all: logged, no popup, and the server still answers
    body = b"{not json"
    server.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.proc.stdin.flush()
    assert open_and_pull(server, "alive.py", "x = 1\n")["kind"] == "full"
    assert len([n for n in server.notifications if n["method"] == "window/showMessage"]) == shown


@pytest.mark.parametrize("data", [None, "x", {"uri": 5}, {"uri": {"a": 1}}, []])
def test_resolving_a_code_action_with_malformed_data(server: Server, data):
    action = {"title": "memlens: fix all safe problems", "kind": "source.fixAll.memlens",
              "data": data}
    resolved = server.request("codeAction/resolve", action)
    assert resolved["title"] == action["title"] and "edit" not in resolved


def test_fix_all_on_text_with_a_lone_surrogate(server: Server):
    text = "name = '\udcff'\nfor i in list(range(10)):\n    pass\n"
    uri = (server.root / "surrogate.py").as_uri()
    report = open_and_pull(server, "surrogate.py", text)
    assert [d["code"] for d in report["items"]] == ["ML990"]
    resolved = server.request("codeAction/resolve", {
        "title": "memlens: fix all safe problems", "kind": "source.fixAll.memlens",
        "data": {"uri": uri, "version": 1}})
    edit_of = resolved["edit"]
    (edit,) = edit_of["documentChanges"][0]["edits"] if "documentChanges" in edit_of \
        else edit_of["changes"][uri]
    assert "in range(10):" in edit["newText"]


def test_two_hundred_edits_of_a_five_megabyte_file(server: Server):
    # each edit costs time in proportion to itself (a line index kept edit by edit), not to the
    # file: the server still answers at once, and its copy equals the client's
    block = (FIXTURES / "pipeline.py").read_text()
    big = block * (5_000_000 // len(block) + 1)
    lines = big.count("\n")
    uri = (server.root / "big5.py").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": big}})
    want = big
    for version in range(2, 202):
        line = lines - 5 if version % 2 else 10
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": 0},
                                          "end": {"line": line, "character": 0}},
                                "text": "x"}]})
        offset = [m.end() for m in re.finditer("\n", want)][line - 1]
        want = want[:offset] + "x" + want[offset:]
    started = time.monotonic()
    server.request("textDocument/hover", {"textDocument": {"uri": uri},
                                          "position": {"line": 3, "character": 4}}, timeout=10)
    assert time.monotonic() - started < 10
    assert server.request("memlens/documentText", {"uri": uri})["text"] == want
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_two_hundred_rapid_incremental_edits(server: Server):
    text = (FIXTURES / "pipeline.py").read_text()
    uri = (server.root / "rapid.py").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}})
    lines = text.split("\n")
    for v in range(2, 202):
        # type "x = np.load('f.npy')\n" one character at a time at the end of line 2,
        # then keep appending characters to a comment: half-typed code most of the way
        change = {"range": {"start": {"line": 2, "character": 0},
                            "end": {"line": 2, "character": 0}}, "text": "#é😀"[v % 3]}
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": v}, "contentChanges": [change]})
        lines[2] = "#é😀"[v % 3] + lines[2]
    final = "\n".join(lines)
    report = server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    check_report(report, final)
    assert sorted(d["code"] for d in report["items"]) == ["ML102", "ML102", "ML990"]


python_fragments = st.sampled_from([
    "import numpy as np\n", "from numpy import load\n", "def f(x):\n", "    return x\n",
    "class A:\n", "    def m(self):\n", "        pass\n", "np.load('a.npy')\n",
    "load(p, mmap_mode='r')\n", "for i in list(range(10)):\n", "    x = [\n", "]\n", "(\n",
    '"""\n', "'\n", "    \n", "\t\n", "lambda: (yield)\n", "x = 1 +\n", "@dec\n", "if x:\n",
    "else:\n", "é = '😀'\n", "# noqa: ML102\n", "\\\n", "async def g():\n", "    await h()\n",
])
python_text = st.one_of(
    st.lists(python_fragments, max_size=25).map("".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200),
)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=python_text, edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 40),
                                                   python_text), max_size=4))
def test_random_and_broken_python(server: Server, first: str, edits):
    uri = (server.root / "random.py").as_uri()
    version = next(_versions)
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": version, "text": first}})
    text = first
    for start, length, insert in edits:
        start = min(start, len(text))
        end = min(start + length, len(text))
        text = text[:start] + insert + text[end:]
        version = next(_versions)
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"text": text}]})
    report = server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
    check_report(report, text)
    json.dumps(report)
    for method, params in (
        ("textDocument/codeLens", {"textDocument": {"uri": uri}}),
        ("textDocument/hover", {"textDocument": {"uri": uri},
                                "position": {"line": 0, "character": 0}}),
        ("textDocument/codeAction", {"textDocument": {"uri": uri},
                                     "range": {"start": {"line": 0, "character": 0},
                                               "end": {"line": 5, "character": 0}},
                                     "context": {"diagnostics": []}}),
    ):
        server.request(method, params)
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_server_survived(server: Server):
    assert server.proc.poll() is None
    assert server.request("textDocument/codeLens", {
        "textDocument": {"uri": (server.root / "pipeline.py").as_uri()}}) is not None


def test_initialize_advertises_features(server: Server):
    capabilities = server.initialize["capabilities"]
    assert capabilities["diagnosticProvider"]["identifier"] == "memlens"
    assert capabilities["codeLensProvider"] is not None
    assert capabilities["inlayHintProvider"] is not None
    assert set(capabilities["executeCommandProvider"]["commands"]) >= {
        "memlens.profileFunction", "memlens.checkWorkspace", "memlens.clearProfileResults"}
    assert "source.fixAll.memlens" in capabilities["codeActionProvider"]["codeActionKinds"]
    assert capabilities["textDocumentSync"]["change"] == 2  # incremental


def test_push_mode_does_not_advertise_pull(tmp_path: Path):
    srv = Server(tmp_path, caps(pull=False))
    try:
        assert "diagnosticProvider" not in srv.initialize["capabilities"]
    finally:
        srv.close()


@pytest.mark.parametrize("client,options", [
    ("vscode-pull", {}), ("vscode-push", {}), ("neovim", {}),
    ("vscode-pull", {"diagnosticMode": "push"}), ("neovim", {"diagnosticMode": "pull"}),
    ("vscode-notebooks", {}), ("vscode-notebooks", {"diagnosticMode": "push"}),
])
def test_bootstrap_answers_initialize_as_pygls_would(tmp_path: Path, client, options):
    """`memlens serve` answers initialize from its own table before loading pygls; pygls'
    answer (computed from the registered features) must be the same."""
    import os

    import pytest_lsp
    from lsprotocol import converters

    if client == "neovim":
        capabilities = converters.get_converter().unstructure(
            pytest_lsp.client_capabilities("neovim@v0.11"))
    else:
        capabilities = caps(pull=client != "vscode-push")
    if client == "vscode-notebooks":  # a client that syncs notebooks: notebookDocumentSync
        capabilities["notebookDocument"] = {"synchronization": {"dynamicRegistration": True}}
    answers = []
    for flag in ("1", "0"):
        srv = Server(tmp_path, capabilities, env=dict(os.environ, MEMLENS_LSP_BOOTSTRAP=flag),
                     settings=options)
        try:
            answers.append(srv.initialize)
            # the session goes on normally after the early answer
            assert srv.request("textDocument/codeLens", {"textDocument": {
                "uri": (tmp_path / "x.py").as_uri()}}) == []
        finally:
            srv.close()
    assert answers[0] == answers[1]
    sync = answers[0]["capabilities"].get("notebookDocumentSync")
    assert (sync is not None) == (client == "vscode-notebooks")


def test_tcp_mode(tmp_path: Path):
    """`memlens serve --tcp HOST:PORT` (for debugging) speaks the same protocol."""
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "memlens", "serve", "--tcp",
                             f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("the TCP server did not listen")
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}).encode()
        sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stream = sock.makefile("rb")
        length = 0
        while (line := stream.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length"):
                length = int(line.split(b":")[1])
        reply = json.loads(stream.read(length))
        assert reply["id"] == 1 and "codeLensProvider" in reply["result"]["capabilities"]
        sock.close()
    finally:
        proc.kill()
        proc.wait()

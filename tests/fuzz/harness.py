"""A fuzz harness for `memlens serve`, over stdio as an editor drives it.

    .venv/bin/python -m tests.fuzz.harness --documents 10000 --seed 20261204   # the long run
    (tests/fuzz/test_fuzz.py runs 200 documents with the same seed in `make test`)

Each document is a real source (the example project, the test fixtures) mutated at random, or
one of the shapes that broke the server before: NUL bytes, lone surrogates, CR-only and
form-feed text, every Unicode line separator, 10,000-character lines, nesting deeper than
Python allows. It is opened, edited with random incremental changes (ranges past the end of a
line or of the file, reversed ones, edits that add and remove lines), asked for diagnostics,
hovers, code actions and lenses with valid and invalid params, and closed. Malformed requests
and bodies that are not JSON go in between.

After every step the harness checks:
- the server is alive, and every request is answered within 10 s;
- no `window/showMessage` popup was sent (protocol errors are logged, not shown);
- the server's copy of the document (`memlens/documentText`) equals the client's, applied
  with LSP's line model (lines end at \\r\\n, \\r or \\n; characters are UTF-16 units).

Then the edit-and-undo differential (`--undos N` documents): an unmutated source gets five small
edits, then each is undone in reverse order (the inverse range edit, as an editor's undo), with
the pauses of someone typing (0-0.6 s; the server settles after 200 ms, `settleMs`). The text is
the original again; once the server is quiet, the diagnostics it published last must equal those
of a fresh whole-file check of the same text (the same text opened as a new document).

It prints its figures: documents, requests, crashes, hangs, unanswered requests, popups, text
mismatches, stale diagnostics (the differential), the server's peak RSS (its checker process's
included) and the didChange-to-diagnostics latency (p50, p95).
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
ANSWER_WITHIN = 10.0
SETTLE_MS = 200  # the server's settleMs: a whole-file check once typing pauses this long
SETTINGS = {"debounceMs": 0, "settleMs": SETTLE_MS}
BREAK = re.compile(r"\r\n|\r|\n")
ODD_BREAKS = ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
SNIPPETS = ["import numpy as np\n", "x = np.load('a.npy')\n", "for i in range(0, len(x), 8):\n",
            "    print(x[i:i + 8])\n", "def f(path):\n", "    return pd.read_csv(path)[['a']]\n",
            "@functools.cache\n", "class A:\n", "    def m(self, loader):\n", "(((", ")))",
            "'''", '"', "\\", "\t", "😀", "é", "\0", "\udcff", "\r", "\r\n", "\n", *ODD_BREAKS]


def client_apply(text: str, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
    """What an LSP client does with an incremental change: lines end at \\r\\n, \\r or \\n,
    characters are UTF-16 code units, positions past a line's end or the file's end clamp."""
    starts = [0, *(m.end() for m in BREAK.finditer(text))]

    def offset(line: int, character: int) -> int:
        if line >= len(starts):
            return len(text)
        m = BREAK.search(text, starts[line])
        line_text = text[starts[line]:m.start() if m else len(text)]
        units = 0
        for i, c in enumerate(line_text):
            if units >= character:
                return starts[line] + i
            units += 2 if ord(c) > 0xFFFF else 1
        return starts[line] + len(line_text)

    a, b = offset(*start), offset(*end)
    return text[:a] + new + text[max(a, b):]


class Server:
    """`memlens serve` over stdio with a reader thread: nothing here can block forever."""

    def __init__(self, root: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "memlens", "serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.messages: queue.Queue = queue.Queue()
        self.pending: dict[int, dict] = {}
        self.popups: list[dict] = []
        self.published: dict[str, list] = {}  # uri -> [(version, received at)]
        self.diagnostics: dict[str, list] = {}  # uri -> the diagnostics published last
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        uri = root.as_uri()
        self.request("initialize", {
            "processId": None, "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": "ws"}],
            "capabilities": {"general": {"positionEncodings": ["utf-16"]},
                             "textDocument": {"publishDiagnostics": {}, "hover": {},
                                              "codeAction": {}, "codeLens": {}}},
            "initializationOptions": {"settings": SETTINGS}})
        self.notify("initialized", {})

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
                key, _, value = line.decode("ascii", "replace").partition(":")
                if key.strip().lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(stream.read(length or 0)))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send_raw(self, body: bytes) -> None:
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode())

    def notify(self, method: str, params) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params, wait: bool = True):
        self.next_id += 1
        self.pending[self.next_id] = {"method": method, "sent": time.monotonic()}
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.wait(self.next_id) if wait else self.next_id

    def _dispatch(self, message: dict) -> dict | None:
        if "method" in message and "id" in message:  # the server asks (configuration, ...)
            result = None
            if message["method"] == "workspace/configuration":
                result = [SETTINGS for _ in message["params"].get("items", [])]
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif message.get("method") == "window/showMessage":
            self.popups.append(message["params"])
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            self.published.setdefault(params["uri"], []).append(
                (params.get("version"), time.monotonic()))
            self.diagnostics[params["uri"]] = params["diagnostics"]
        elif "id" in message and "method" not in message:
            self.pending.pop(message["id"], None)
            return message
        return None

    def wait(self, msg_id: int, timeout: float = ANSWER_WITHIN) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.messages.get(timeout=0.05)
            except queue.Empty:
                continue
            if message is None:
                raise ServerDied()
            reply = self._dispatch(message)
            if reply is not None and reply["id"] == msg_id:
                return reply
        raise NoAnswer(msg_id)

    def drain(self, seconds: float = 0.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                message = self.messages.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                return
            if message is None:
                raise ServerDied()
            self._dispatch(message)

    def rss_mib(self) -> float:
        """The server's resident memory, its checker process's included."""
        try:
            server = psutil.Process(self.proc.pid)
            processes = [server, *server.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()


class ServerDied(Exception):
    pass


class NoAnswer(Exception):
    pass


@dataclass
class Figures:
    documents: int = 0
    requests: int = 0
    crashes: int = 0
    hangs: int = 0
    unanswered: int = 0
    popups: int = 0
    mismatches: int = 0
    undone: int = 0  # edit-and-undo documents
    stale: int = 0  # ... whose diagnostics differed from a fresh check's
    max_rss_mib: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def report(self) -> str:
        lat = sorted(self.latencies_ms)
        p50 = statistics.median(lat) if lat else float("nan")
        p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
        return (f"documents {self.documents}, requests {self.requests}; crashes {self.crashes}, "
                f"hangs {self.hangs}, unanswered {self.unanswered}, popups {self.popups}, "
                f"text mismatches {self.mismatches}; stale diagnostics {self.stale} of "
                f"{self.undone} edited and undone; max RSS {self.max_rss_mib:.0f} MiB; "
                f"didChange->diagnostics p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                f"({len(lat)} measured)")

    @property
    def clean(self) -> bool:
        return not (self.crashes or self.hangs or self.unanswered or self.popups
                    or self.mismatches or self.stale)


def corpus_sources() -> list[str]:
    files = sorted((REPO / "examples").rglob("*.py")) + sorted(
        (REPO / "tests" / "lsp" / "fixtures").glob("*.py"))
    return [f.read_text(encoding="utf-8") for f in files]


def pathological(rng: random.Random) -> str:
    shapes = [
        lambda: "import numpy as np\n\0x = np.load('a')\n",
        lambda: "x = '\udcff\udcfe'\ny = np.load(p)\n",
        lambda: "import numpy as np\rx = np.load('a.npy')\rfor i in range(9):\r    x[i:i+1]\r",
        lambda: "import pickle\n\f\f# page\ndef f(fh):\n    x = pickle.load(fh)\n    return x\n",
        lambda: "a = 1" + "".join(rng.choice(ODD_BREAKS) + "b = 2" for _ in range(20)) + "\n",
        lambda: "x = '" + "a" * 10_000 + "'\n" + "y = [" + "1, " * 3_000 + "]\n",
        lambda: "".join(" " * i + f"if x{i}:\n" for i in range(130)) + " " * 130 + "pass\n",
        lambda: "x = " + "(" * 250 + ")" * 250 + "\n",
        lambda: "\n".join(f"a{i} = np.load('f{i}.npy')" for i in range(800)) + "\n",
        lambda: "",
        lambda: "\r\n" * 50,
    ]
    return rng.choice(shapes)()


def mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 12)):
        action = rng.random()
        at = rng.randint(0, len(chars)) if chars else 0
        if action < 0.4:
            chars[at:at] = list(rng.choice(SNIPPETS))
        elif action < 0.7 and chars:
            del chars[at:at + rng.randint(1, 40)]
        elif chars:
            start = rng.randint(0, len(chars) - 1)
            chars[at:at] = chars[start:start + rng.randint(1, 200)]
    return "".join(chars)


def random_position(text: str, rng: random.Random) -> tuple[int, int]:
    lines = BREAK.split(text)
    line = rng.randint(0, len(lines) + 1)  # sometimes past the end
    length = len(lines[line]) if line < len(lines) else 0
    return line, rng.randint(0, length + 3)  # sometimes past the line's end


def fuzz_document(server: Server, root: Path, n: int, rng: random.Random, figures: Figures):
    if rng.random() < 0.25:
        text = pathological(rng)
    else:
        text = mutate(rng.choice(SOURCES), rng)
    uri = (root / f"doc{n}.py").as_uri()
    version = 1
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": version, "text": text}})
    for _ in range(rng.randint(1, 8)):
        version += 1
        start, end = random_position(text, rng), random_position(text, rng)
        if rng.random() < 0.8 and end < start:
            start, end = end, start  # mostly ordered; reversed ones sometimes
        new = rng.choice(["", rng.choice(SNIPPETS), mutate(rng.choice(SNIPPETS), rng)])
        sent = time.monotonic()
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": start[0], "character": start[1]},
                                          "end": {"line": end[0], "character": end[1]}},
                                "text": new}]})
        text = client_apply(text, start, end, new)
        figures.requests += 1
        got = server.request("memlens/documentText", {"uri": uri})
        if got.get("result", {}).get("text") != text:
            figures.mismatches += 1
            figures.failures.append(f"doc{n} v{version}: server text differs from the client's")
            text = got.get("result", {}).get("text", text)
        _latency(server, uri, version, sent, figures)
        _requests(server, uri, text, rng, figures)
    if rng.random() < 0.2:
        server.send_raw(rng.choice([b"{not json", b"[]", b'{"jsonrpc": "2.0"}',
                                    b'{"jsonrpc": "2.0", "id": "x", "method": 5}']))
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def _latency(server: Server, uri: str, version: int, sent: float, figures: Figures) -> None:
    deadline = sent + ANSWER_WITHIN
    while time.monotonic() < deadline:
        for got_version, at in server.published.get(uri, []):
            if got_version == version:
                figures.latencies_ms.append((at - sent) * 1000)
                return
        server.drain(0.01)


def _requests(server: Server, uri: str, text: str, rng: random.Random, figures: Figures):
    line, character = random_position(text, rng)
    position = {"line": line, "character": character}
    doc = {"uri": uri}
    asks = [
        ("textDocument/hover", {"textDocument": doc, "position": position}),
        ("textDocument/codeAction", {"textDocument": doc, "range": {
            "start": {"line": 0, "character": 0}, "end": position},
            "context": {"diagnostics": []}}),
        ("textDocument/codeLens", {"textDocument": doc}),
        ("textDocument/hover", {"textDocument": doc, "position": {"line": -1, "character": 0}}),
        ("textDocument/hover", {"textDocument": doc, "position": {"line": "x"}}),
        ("textDocument/codeAction", {"textDocument": doc}),
        ("codeAction/resolve", {"title": "t", "kind": "source.fixAll.memlens",
                                "data": rng.choice([None, {"uri": 5}, {"uri": uri}])}),
        ("workspace/executeCommand", {"command": "memlens.profileFunction",
                                      "arguments": rng.choice([[], ["x"], [{"uri": 3}]])}),
    ]
    for method, params in rng.sample(asks, rng.randint(1, 3)):
        figures.requests += 1
        server.request(method, params)


UNDO_SNIPPETS = ["x", " ", "_", "1", "(", ")", ":", "#", "\n", "    ", "'", '"', "'" * 3,
                 "import os\n", "a = 1\n", "def g():\n", ".append(1)", "np.load('a.npy')"]


def position_of(text: str, offset: int) -> tuple[int, int]:
    """The LSP position (line, UTF-16 character) of an offset, lines as LSP breaks them."""
    starts = [0, *(m.end() for m in BREAK.finditer(text, 0, offset))]
    return len(starts) - 1, len(text[starts[-1]:offset].encode("utf-16-le",
                                                              "surrogatepass")) // 2


def small_edit(text: str, rng: random.Random) -> tuple[int, int, str]:
    """A small edit, as offsets: (start, end, new text); at a line break, never inside one."""
    at = rng.randint(0, len(text))
    end = min(at + rng.randint(1, 12), len(text)) if rng.random() < 0.5 else at
    while 0 < at < len(text) and text[at - 1:at + 1] == "\r\n":
        at -= 1
    while 0 < end < len(text) and text[end - 1:end + 1] == "\r\n":
        end += 1
    return at, max(at, end), rng.choice(UNDO_SNIPPETS if end == at else ["", "", "x", "\n"])


def quiet(server: Server, uri: str, version: int, seconds: float, limit: float = 20.0) -> None:
    """Wait until `version` of `uri` is published and nothing more has been for `seconds`
    (up to `limit`)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        server.drain(0.05)
        published = server.published.get(uri)
        if published and published[-1][0] == version and \
                time.monotonic() - published[-1][1] >= seconds:
            return


def edit_and_undo(server: Server, root: Path, n: int, rng: random.Random, figures: Figures):
    """Five small edits, each undone in reverse order, with a typist's pauses; then the
    diagnostics published last must equal a fresh whole-file check's of the same text."""
    original = rng.choice(SOURCES)
    uri = (root / f"undo{n}.py").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": original}})
    text, undo, changes = original, [], []
    for _ in range(5):
        a, b, new = small_edit(text, rng)
        changes.append((position_of(text, a), position_of(text, b), new))
        undo.append((a, a + len(new), text[a:b]))
        text = text[:a] + new + text[b:]
    for a, b, old in reversed(undo):
        changes.append((position_of(text, a), position_of(text, b), old))
        text = text[:a] + old + text[b:]
    assert text == original
    for version, (start, end, new) in enumerate(changes, start=2):
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": start[0], "character": start[1]},
                                          "end": {"line": end[0], "character": end[1]}},
                                "text": new}]})
        server.drain(rng.uniform(0.0, 0.6))
    figures.requests += 1
    got_text = server.request("memlens/documentText", {"uri": uri}).get("result") or {}
    if got_text.get("text") != original:
        figures.mismatches += 1
        figures.failures.append(f"undo{n}: the server's text is not the original again")
    quiet(server, uri, len(changes) + 1, SETTLE_MS / 1000 + 1.0)
    got = server.diagnostics.get(uri)
    fresh = (root / f"fresh{n}.py").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": fresh, "languageId": "python", "version": 1, "text": original}})
    quiet(server, fresh, 1, 0.3)
    want = server.diagnostics.get(fresh)
    figures.undone += 1
    if _key(got) != _key(want):
        figures.stale += 1
        missing, extra = sorted(_key(want) - _key(got))[:3], sorted(_key(got) - _key(want))[:3]
        figures.failures.append(f"undo{n}: stale diagnostics after edits undone: missing "
                                f"{missing}, extra {extra}; edits {changes[:5]}")
    for closed in (uri, fresh):
        server.notify("textDocument/didClose", {"textDocument": {"uri": closed}})


def _key(diagnostics: list | None) -> set:
    return {(d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"],
             d["range"]["end"]["line"], d["range"]["end"]["character"], d["message"])
            for d in diagnostics or []}


SOURCES: list[str] = []


def run(documents: int, seed: int, out=sys.stdout, undos: int = 0) -> Figures:
    global SOURCES
    SOURCES = corpus_sources()
    kinds = [fuzz_document] * documents + [edit_and_undo] * undos
    rng = random.Random(seed)
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="memlens-fuzz-") as tmp:
        root = Path(tmp)
        server = Server(root)
        try:
            for n, kind in enumerate(kinds):
                figures.documents += kind is fuzz_document
                try:
                    kind(server, root, n, rng, figures)
                except ServerDied:
                    figures.crashes += 1
                    figures.failures.append(f"doc{n}: the server exited "
                                            f"({server.proc.poll()})")
                    server = Server(root)
                except NoAnswer as exc:
                    figures.hangs += 1
                    figures.unanswered += 1
                    figures.failures.append(f"doc{n}: request {exc} unanswered within "
                                            f"{ANSWER_WITHIN:.0f} s")
                    server.proc.kill()
                    server = Server(root)
                if n % 25 == 0:
                    figures.max_rss_mib = max(figures.max_rss_mib, server.rss_mib())
                if out is not None and documents >= 1000 and n % 1000 == 999:
                    print(f"  {n + 1} documents: {figures.report()}", file=out, flush=True)
            server.drain(0.5)
            figures.popups += len(server.popups)
            figures.max_rss_mib = max(figures.max_rss_mib, server.rss_mib())
        finally:
            server.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--documents", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=20261204)
    p.add_argument("--undos", type=int, default=60, help="edit-and-undo documents, after them")
    args = p.parse_args(argv)
    started = time.monotonic()
    figures = run(args.documents, args.seed, undos=args.undos)
    print(figures.report())
    for failure in figures.failures[:20]:
        print("  " + failure)
    print(f"{time.monotonic() - started:.0f} s")
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())

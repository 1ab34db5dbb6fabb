"""Latency of `memlens serve` over stdio, side by side with a naive pygls server.

    .venv/bin/python benchmarks/lsp_latency.py [--edits 50] [--file FILE] [--against TREE]
                                               [--pauses N] [--notebook [CELLS]]

A plain JSON-RPC client (below) starts each server, times the `initialize` answer, opens a
2,000-line file (the example project's modules as one module, imports at the top), then sends
50 valid edits and 50 half-typed edits (an unclosed call typed into a statement, then removed
again, untimed), each as an incremental didChange with debounce 0, and times didChange -> the
publishDiagnostics of that version. `--pauses N` then times N more edits, each after a pause of
1.0-1.3 s: typing that resumes while the server settles the file with a whole-file check (it
does after an edit of module-level code or one a cross-definition rule may see, once typing has
paused for `settleMs`, 1 s). Then it reads the idle RSS of the server and the processes it
started (its checker process).

`--notebook [CELLS]` measures a Jupyter notebook instead (issue 20): the same 2,000 lines cut
into CELLS code cells (200 by default) at top-level statements, opened with
notebookDocument/didOpen as VS Code sends it; each timed edit is a notebookDocument/didChange of one
cell's text, timed to the publishDiagnostics of that cell's new version. Half the edits are in
function bodies, half in module-level statements (most of a notebook). The target: p95 <= 30 ms.

`--against TREE` adds a third server: memlens as another checkout has it (for example
`git worktree add /tmp/before <commit>`), run from the same interpreter with that tree's
`server/` first on the path, so a change is measured side by side with what it changes.

The baseline is the naive server the issue measured: pygls 2, one combined ast-grep rule of 15
patterns run on the event loop over the whole file for every change.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NAIVE_SERVER = r'''
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from ast_grep_py import SgRoot

PATTERNS = ["np.load($$$A)", "pd.read_csv($$$A)", "pd.read_parquet($$$A)", "np.loadtxt($$$A)",
            "pickle.load($$$A)", "joblib.load($$$A)", "torch.load($$$A)", "np.append($$$A)",
            "pd.concat($$$A)", "gc.collect()", "gc.disable()", "gc.set_threshold($$$A)",
            "$F.readlines()", "$X.tolist()", "list(range($$$A))"]
RULE = {"rule": {"any": [{"pattern": p} for p in PATTERNS]}}
server = LanguageServer("naive", "0")

def check(ls, uri, version):
    doc = ls.workspace.get_text_document(uri)
    root = SgRoot(doc.source, "python").root()
    diags = []
    for node in root.find_all(RULE):
        r = node.range()
        diags.append(types.Diagnostic(
            range=types.Range(start=types.Position(line=r.start.line, character=r.start.column),
                              end=types.Position(line=r.end.line, character=r.end.column)),
            message="memory-hungry call", source="naive", code="N1",
            severity=types.DiagnosticSeverity.Warning))
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri=uri, version=version, diagnostics=diags))

@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls, params):
    check(ls, params.text_document.uri, params.text_document.version)

@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls, params):
    check(ls, params.text_document.uri, params.text_document.version)

server.start_io()
'''


class Client:
    def __init__(self, cmd: list[str], root: Path, env: dict | None = None,
                 notebooks: bool = False):
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        self.ids = itertools.count(1)
        capabilities = {"textDocument": {"publishDiagnostics": {"versionSupport": True},
                                         "synchronization": {"didSave": True}},
                        "window": {"workDoneProgress": False}}
        if notebooks:
            capabilities["notebookDocument"] = {"synchronization": {}}
        self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(),
            "capabilities": capabilities,
            "initializationOptions": {"settings": {"debounceMs": 0}}})
        self.initialize_ms = (time.perf_counter() - started) * 1000
        self.notify("initialized", {})

    def send(self, message: dict) -> None:
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read(self) -> dict:
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("server exited")
            if line in (b"\r\n", b"\n"):
                break
            key, _, value = line.decode().partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def notify(self, method: str, params) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait(self, until, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.read()
            if "method" in message and "id" in message:  # a request from the server
                result = [{}] if message["method"] == "workspace/configuration" else None
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            elif until(message):
                return message
        raise TimeoutError

    def request(self, method: str, params) -> dict:
        msg_id = next(self.ids)
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == msg_id and "method" not in m)

    def published(self, uri: str, version: int) -> dict:
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri and m["params"].get("version") == version)

    def rss_mib(self) -> float:
        """The RSS of the server and its descendants (what the editor's machine pays)."""
        import psutil

        root = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()


def _parses(text: str) -> bool:
    try:
        compile(text, "<benchmark>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def benchmark_file(lines: int = 2000) -> str:
    parts = [p.read_text() for p in sorted((ROOT / "examples").rglob("*.py"))]
    if not parts:
        parts = [p.read_text() for p in sorted((ROOT / "tests/lsp/fixtures").glob("*.py"))]
    text = "\n\n".join(parts)
    while len(text.splitlines()) < lines:
        text += "\n\n" + "\n\n".join(parts)
    # one module, not several glued together: its imports at the top, once
    body, imports, future = [], [], []
    for line in text.splitlines()[:lines]:
        if line.startswith(("import ", "from ")) and "(" not in line and "\\" not in line:
            (future if "__future__" in line else imports).append(line)
        else:
            body.append(line)
    head = list(dict.fromkeys(future)) + list(dict.fromkeys(imports))
    out = (head + body)[:lines]
    # cut at a top-level statement, not in the middle of a block: a file that does not parse
    # makes every broken region parse the whole file (its other block holds a syntax error)
    while out and not _parses("\n".join(out)):
        last = max(i for i, line in enumerate(out) if line[:1].strip() and line[0] != "#")
        out = out[:last]
    while len(out) < lines:
        out.append("")
    return "\n".join(out[:lines]) + "\n"


def edit_lines(text: str, count: int) -> list[int]:
    """Lines inside function bodies that are simple statements (safe to edit)."""
    lines = text.split("\n")
    found = [i for i, line in enumerate(lines)
             if line.startswith("    ") and line.strip() and not line.rstrip().endswith(
                 (":", ",", "(", "[", "{", "\\")) and not line.strip().startswith(
                 ("#", '"', "'", "return", "@", ")", "]", "}", "else", "elif", "except",
                  "finally", "yield", "raise", "pass", "break", "continue"))
             and "=" in line and line.count("(") == line.count(")")
             and line.count("[") == line.count("]") and '"""' not in line]
    step = max(len(found) // count, 1)
    return found[::step][:count]


def change(line: int, start: int, end: int, text: str) -> dict:
    return {"range": {"start": {"line": line, "character": start},
                      "end": {"line": line, "character": end}}, "text": text}


def run(cmd: list[str], text: str, edits: int, root: Path, env: dict | None = None,
        pauses: int = 0) -> dict:
    client = Client(cmd, root, env)
    uri = (root / "bench.py").as_uri()
    version = 1
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": version, "text": text}})
    t = time.perf_counter()
    client.published(uri, version)
    open_ms = (time.perf_counter() - t) * 1000
    lines = text.split("\n")
    targets = edit_lines(text, edits)

    def append_timed(i: int, suffix: str) -> float:
        """Append `suffix` to line i's code; ms from didChange to its diagnostics."""
        nonlocal version
        version += 1
        col = len(lines[i].rstrip())
        t = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [change(i, col, col, suffix)]})
        client.published(uri, version)
        lines[i] = lines[i][:col] + suffix + lines[i][col:]
        return (time.perf_counter() - t) * 1000

    valid = [append_timed(i, "*1") for i in targets]  # valid: "*1" after an assignment
    half = []
    typed = "x = np.load(f"
    for i in targets:  # half-typed: an unclosed `np.load(` typed at the start of a statement
        version += 1
        indent = len(lines[i]) - len(lines[i].lstrip())
        t = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [change(i, indent, indent,
                                                                           typed)]})
        client.published(uri, version)
        half.append((time.perf_counter() - t) * 1000)
        version += 1  # then the line is finished again (not timed)
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [change(
                                                     i, indent, indent + len(typed), "")]})
        client.published(uri, version)
    paused = []
    pause = random.Random(7)
    for i in edit_lines(text, pauses) if pauses else []:  # an edit after each 1.0-1.3 s pause
        time.sleep(pause.uniform(1.0, 1.3))  # (the server's re-check of the file may be running)
        paused.append(append_timed(i, "+0"))
    time.sleep(1.0)
    rss = client.rss_mib()
    client.close()
    return {"initialize_ms": client.initialize_ms, "open_ms": open_ms, "valid": valid,
            "half": half, "paused": paused, "rss_mib": rss}


def notebook_cells(text: str, count: int) -> list[str]:
    """`text` cut into `count` cells at top-level statements (the first holds the imports), as
    a notebook written from a script would be."""
    from memlens.engine.blocks import Layout

    lines = text.split("\n")
    starts = [line for line in sorted(set(Layout(text).start_lines()))
              if not lines[line].startswith(("import ", "from "))]
    rest = count - 1  # cells after the imports' cell, cut at evenly spaced statements
    cuts = [0, *dict.fromkeys(starts[len(starts) * k // rest] for k in range(rest))]
    return ["\n".join(lines[a:b]).rstrip("\n") for a, b in zip(cuts, [*cuts[1:], len(lines)],
                                                               strict=True)]


def notebook_edits(cells: list[str], count: int) -> list[tuple[int, int]]:
    """(cell, line) of `count` simple assignments to edit: half in function bodies, half in
    module-level statements."""
    inner, outer = [], []
    for c, cell in enumerate(cells):
        for i in edit_lines(cell, 10**6):
            inner.append((c, i))
        for i, line in enumerate(cell.split("\n")):
            if line[:1].isalpha() and " = " in line and line.count("(") == line.count(")") \
                    and line.count("[") == line.count("]") and not line.rstrip().endswith(
                        ("\\", ",", ":")) and not line.startswith(("def ", "class ", "for ",
                                                                     "if ", "with ", "while ")):
                outer.append((c, i))
    half = count // 2
    pick = random.Random(11)
    chosen = pick.sample(inner, min(half, len(inner))) + pick.sample(
        outer, min(count - half, len(outer)))
    pick.shuffle(chosen)
    return chosen


def run_notebook(cmd: list[str], text: str, edits: int, root: Path, cell_count: int,
                 env: dict | None = None) -> dict:
    client = Client(cmd, root, env, notebooks=True)
    nb_uri = (root / "bench.ipynb").as_uri()
    cells = notebook_cells(text, cell_count)
    uris = [f"vscode-notebook-cell:{root / 'bench.ipynb'}#W{i}sZmlsZQ%3D%3D"
            for i in range(len(cells))]
    versions = [1] * len(cells)
    notebook_version = 1
    t = time.perf_counter()
    client.notify("notebookDocument/didOpen", {
        "notebookDocument": {"uri": nb_uri, "notebookType": "jupyter-notebook", "version": 1,
                             "cells": [{"kind": 2, "document": u} for u in uris]},
        "cellTextDocuments": [{"uri": u, "languageId": "python", "version": 1, "text": c}
                              for u, c in zip(uris, cells, strict=True)]})
    client.published(uris[-1], 1)
    open_ms = (time.perf_counter() - t) * 1000
    timings = []
    for c, i in notebook_edits(cells, edits):
        lines = cells[c].split("\n")
        col = len(lines[i].rstrip())
        versions[c] += 1
        notebook_version += 1
        t = time.perf_counter()
        client.notify("notebookDocument/didChange", {
            "notebookDocument": {"uri": nb_uri, "version": notebook_version},
            "change": {"cells": {"textContent": [{
                "document": {"uri": uris[c], "version": versions[c]},
                "changes": [change(i, col, col, "*1")]}]}}})
        client.published(uris[c], versions[c])
        timings.append((time.perf_counter() - t) * 1000)
        lines[i] = lines[i][:col] + "*1" + lines[i][col:]
        cells[c] = "\n".join(lines)
    time.sleep(1.0)
    rss = client.rss_mib()
    client.close()
    return {"cells": len(cells), "lines": sum(c.count("\n") + 1 for c in cells),
            "initialize_ms": client.initialize_ms, "open_ms": open_ms, "edits": timings,
            "rss_mib": rss}


def print_notebook(results: dict) -> None:
    first = next(iter(results.values()))
    print(f"notebook of {first['cells']} code cells ({first['lines']} lines), "
          f"{len(first['edits'])} one-cell edits (half in function bodies, half module-level), "
          f"debounce 0, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{'metric':<45}" + "".join(f"{name:>10}" for name in results))
    rows = [("didChange of a cell -> diagnostics p50", lambda r: pct(r["edits"], 0.5)),
            ("didChange of a cell -> diagnostics p95", lambda r: pct(r["edits"], 0.95)),
            ("didChange of a cell -> diagnostics max", lambda r: max(r["edits"])),
            ("didOpen -> last cell's diagnostics", lambda r: r["open_ms"]),
            ("idle RSS (MiB)", lambda r: r["rss_mib"])]
    for label, value in rows:
        print(f"{label + (' (ms)' if 'RSS' not in label else ''):<45}" +
              "".join(f"{value(r):>10.1f}" for r in results.values()))
    print("target: one-cell edit p95 <= 30 ms")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(int(round(q * (len(values) - 1))), len(values) - 1)]


def print_against(m: dict, a: dict, tree: Path) -> None:
    rows = [
        ("didOpen -> diagnostics (ms)", m["open_ms"], a["open_ms"]),
        ("initialize (ms)", m["initialize_ms"], a["initialize_ms"]),
        ("valid edit p50 (ms)", pct(m["valid"], 0.5), pct(a["valid"], 0.5)),
        ("valid edit p95 (ms)", pct(m["valid"], 0.95), pct(a["valid"], 0.95)),
        ("half-typed p95 (ms)", pct(m["half"], 0.95), pct(a["half"], 0.95)),
        ("idle RSS (MiB)", m["rss_mib"], a["rss_mib"]),
    ]
    if m["paused"]:
        rows += [("edit after a pause p50 (ms)", pct(m["paused"], 0.5), pct(a["paused"], 0.5)),
                 ("edit after a pause p90 (ms)", pct(m["paused"], 0.9), pct(a["paused"], 0.9))]
    print(f"this tree against {tree}:")
    print(f"{'metric':<30}{'this':>10}{'against':>10}{'ratio':>8}")
    for label, mv, av in rows:
        print(f"{label:<30}{mv:>10.1f}{av:>10.1f}{mv / av if av else float('nan'):>8.2f}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--file", type=Path, help="a Python file (default: 2,000 lines of "
                        "examples/)")
    parser.add_argument("--runs", type=int, default=1, help="repeat and keep the best run")
    parser.add_argument("--against", type=Path, help="another memlens checkout, measured "
                        "side by side")
    parser.add_argument("--pauses", type=int, default=0, help="then N edits, each after a "
                        "pause of 1.0-1.3 s (when typing resumes while the file is re-checked)")
    parser.add_argument("--notebook", type=int, nargs="?", const=200, metavar="CELLS",
                        help="edit one cell of a notebook of CELLS code cells (200)")
    args = parser.parse_args()
    text = args.file.read_text() if args.file else benchmark_file()
    if args.notebook:
        return main_notebook(args, text)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        naive = root / "naive_server.py"
        naive.write_text(NAIVE_SERVER)
        memlens = [sys.executable, "-m", "memlens", "serve"]
        servers = {"memlens": (memlens, None), "baseline": ([sys.executable, str(naive)], None)}
        if args.against:
            tree = str(args.against.resolve() / "server")
            servers["against"] = (memlens, dict(os.environ, PYTHONPATH=tree))
        results = {name: [] for name in servers}
        for _ in range(args.runs):  # interleaved: drift on the machine hits every server alike
            for name, (cmd, env) in servers.items():
                results[name].append(run(cmd, text, args.edits, root, env,
                                         args.pauses if name != "baseline" else 0))
        results = {name: min(runs, key=lambda r: pct(r["valid"], 0.95))
                   for name, runs in results.items()}
    m, b = results["memlens"], results["baseline"]
    if args.against:
        print_against(m, results["against"], args.against)
    rows = [
        ("valid edit p50 (ms)", pct(m["valid"], 0.5), pct(b["valid"], 0.5)),
        ("valid edit p95 (ms)", pct(m["valid"], 0.95), pct(b["valid"], 0.95)),
        ("half-typed p50 (ms)", pct(m["half"], 0.5), pct(b["half"], 0.5)),
        ("half-typed p95 (ms)", pct(m["half"], 0.95), pct(b["half"], 0.95)),
        ("initialize (ms)", m["initialize_ms"], b["initialize_ms"]),
        ("didOpen -> diagnostics (ms)", m["open_ms"], b["open_ms"]),
        ("idle RSS (MiB)", m["rss_mib"], b["rss_mib"]),
    ]
    print(f"{len(text.splitlines())}-line file, {len(m['valid'])} valid + {len(m['half'])} "
          f"half-typed edits, debounce 0, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print("(baseline: naive pygls 2 server, 15 ast-grep patterns in one rule, whole file per "
          "change on the event loop; memlens runs its full catalog)")
    print(f"{'metric':<30}{'memlens':>10}{'baseline':>10}{'ratio':>8}")
    for label, mv, bv in rows:
        print(f"{label:<30}{mv:>10.1f}{bv:>10.1f}{mv / bv if bv else float('nan'):>8.2f}")
    print(f"targets: valid p95 <= 15 ms, half-typed p95 <= 30 ms, initialize <= 500 ms; "
          f"mean valid {statistics.mean(m['valid']):.1f} ms")
    return 0


def main_notebook(args, text: str) -> int:
    memlens = [sys.executable, "-m", "memlens", "serve"]
    servers = {"memlens": (memlens, None)}
    if args.against:
        servers["against"] = (memlens, dict(os.environ, PYTHONPATH=str(
            args.against.resolve() / "server")))
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, list] = {name: [] for name in servers}
        for _ in range(args.runs):
            for name, (cmd, env) in servers.items():
                results[name].append(run_notebook(cmd, text, args.edits, Path(tmp),
                                                  args.notebook, env))
    print_notebook({name: min(runs, key=lambda r: pct(r["edits"], 0.95))
                    for name, runs in results.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

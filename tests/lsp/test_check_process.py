"""The checker process: a native crash or a runaway check costs one file, never the server.

The faults are injected in the checker process (`MEMLENS_FAULT_ABORT_ON` aborts it as a parser
assertion does, `MEMLENS_FAULT_HANG_ON` makes it spin as a runaway rule does) on text that carries
the marker, so that an edit removing the marker is an ordinary file again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

from .conftest import FIXTURES
from .rpc import Server
from .test_robustness import caps, check_report

ABORT, HANG = "# abort-the-checker", "# hang-the-checker"
LOADS = "import numpy as np\nx = np.load('a.npy')\nfor i in range(0, len(x), 256):\n" \
        "    batch = x[i:i + 256]\n"


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pipeline.py").write_text((FIXTURES / "pipeline.py").read_text())
    return root


def _server(root: Path, settings: dict | None = None) -> Server:
    env = {**os.environ, "MEMLENS_FAULT_ABORT_ON": ABORT, "MEMLENS_FAULT_HANG_ON": HANG}
    server = Server(root, caps(pull=True), settings=settings, env=env)
    server.root = root
    return server


def _open(server: Server, name: str, text: str, version: int = 1) -> str:
    uri = (server.root / name).as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": version, "text": text}})
    return uri


def _replace(server: Server, uri: str, version: int, text: str) -> None:
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                             "contentChanges": [{"text": text}]})


def _pull(server: Server, uri: str, timeout: float = 60.0) -> dict:
    return server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}},
                          timeout=timeout)


def _large_ml_file(functions: int) -> str:
    """LOADS, an explainer built in a function (a rule relating definitions: an edit elsewhere
    asks for a settle), and `functions` small functions (six lines each)."""
    explained = ("import shap\n\ndef build(model, X_train):\n"
                 "    explainer = shap.KernelExplainer(model.predict, X_train)\n"
                 "    return explainer\n\n")
    return LOADS + "\n" + explained + "".join(
        f"def step{n}(rows):\n    out = []\n    for r in rows:\n"
        f"        out.append(r * {n})\n    return out\n\n" for n in range(functions))


def _checkers(server: Server) -> list[int]:
    out = []
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            if "memlens.lsp.check_worker" in " ".join(child.cmdline()):
                out.append(child.pid)
        except psutil.Error:
            pass
    return out


def test_a_checker_crash_costs_one_file_and_the_server_lives(tmp_path: Path):
    server = _server(_workspace(tmp_path))
    try:
        crashing = LOADS + ABORT + "\n"
        uri = _open(server, "crash.py", crashing)
        report = _pull(server, uri)
        check_report(report, crashing)
        assert [d["code"] for d in report["items"]] == ["checker-stopped"]
        message = report["items"][0]["message"]
        assert "could not check this file" in message and "signal 6" in message, message
        # every other file is checked as usual, by a new checker process
        pipeline = _open(server, "pipeline.py", (FIXTURES / "pipeline.py").read_text())
        assert "ML102" in {d["code"] for d in _pull(server, pipeline)["items"]}
        # the crashing text is not sent again; an edit without the marker is checked
        before = _checkers(server)
        report = _pull(server, uri)
        assert [d["code"] for d in report["items"]] == ["checker-stopped"]
        assert _checkers(server) == before
        _replace(server, uri, 2, LOADS)
        assert [d["code"] for d in _pull(server, uri)["items"]] == ["ML102"]
        assert server.proc.poll() is None
    finally:
        server.close()


def test_a_check_over_its_budget_is_stopped_and_other_requests_are_answered(tmp_path: Path):
    server = _server(_workspace(tmp_path), {"checkTimeoutSeconds": 3})
    try:
        runaway = LOADS + HANG + "\n"
        uri = _open(server, "runaway.py", runaway)
        lens_uri = _open(server, "lens.py", "def load():\n    return [0] * 10\n")
        server.send({"jsonrpc": "2.0", "id": 9001, "method": "textDocument/diagnostic",
                     "params": {"textDocument": {"uri": uri}}})
        server.send({"jsonrpc": "2.0", "id": 9002, "method": "textDocument/codeLens",
                     "params": {"textDocument": {"uri": lens_uri}}})
        replies = []
        server.pump(lambda m: m.get("id") in (9001, 9002) and "method" not in m
                    and bool(replies.append(m)) is False and len(replies) == 2, timeout=60)
        # the lens is answered while the check runs, not after its budget
        assert [r["id"] for r in replies] == [9002, 9001]
        assert len(replies[0]["result"]) == 1
        report = replies[1]["result"]
        check_report(report, runaway)
        assert [d["code"] for d in report["items"]] == ["check-timeout"]
        assert "after 3 s" in report["items"][0]["message"]
        assert "memlens.checkTimeoutSeconds" in report["items"][0]["message"]
        pipeline = _open(server, "pipeline.py", (FIXTURES / "pipeline.py").read_text())
        assert "ML102" in {d["code"] for d in _pull(server, pipeline)["items"]}
    finally:
        server.close()


def test_a_check_overtaken_by_an_edit_is_stopped(tmp_path: Path):
    server = _server(_workspace(tmp_path), {"checkTimeoutSeconds": 120})
    try:
        assert _pull(server, _open(server, "first.py", "x = 1\n"))["kind"] == "full"
        first = _checkers(server)
        assert len(first) == 1
        uri = _open(server, "typing.py", LOADS + HANG + "\n")
        time.sleep(1.0)  # the check has started, and spins
        started = time.monotonic()
        _replace(server, uri, 2, LOADS)
        assert [d["code"] for d in _pull(server, uri)["items"]] == ["ML102"]
        # the spinning check was stopped for the newer version, well before its budget
        assert time.monotonic() - started < 60
        assert _checkers(server) != first
    finally:
        server.close()


def test_a_settle_stops_when_typing_resumes_and_the_process_lives_on(tmp_path: Path):
    """A whole-file re-check (settle) of a large file, asked to stop (the document changed):
    it stops at the engine's next step, the process and every document's state stay, and the
    same settle later gives the whole file's findings."""
    import threading

    from memlens.engine import Engine, Settings
    from memlens.lsp import settings as lsp_settings
    from memlens.lsp.check_process import CheckCancelled, CheckProcess

    text = _large_ml_file(3000)
    edited = text.replace("        out.append(r * 7)\n", "        out.append(r * 8)\n")
    uri, path = (tmp_path / "big.py").as_uri(), str(tmp_path / "big.py")
    checks = CheckProcess()
    try:
        checks.configure(str(tmp_path), lsp_settings.EditorSettings(), True)
        checks.call("check", uri, text, path, False)
        partial = checks.call("check", uri, edited, path, False)
        assert partial.needs_settle  # a rule that may match relates definitions (ML30x)
        outcome: list = []

        def settle():
            try:
                outcome.append(checks.call("check", uri, edited, path, True, interruptible=True))
            except CheckCancelled as exc:
                outcome.append(exc)

        thread = threading.Thread(target=settle)
        thread.start()
        while thread.is_alive():  # as the server does on each didChange of the document
            time.sleep(0.02)
            checks.interrupt()
        thread.join()
        assert isinstance(outcome[0], CheckCancelled)
        assert (checks.interrupts, checks.starts, checks.cancels) == (1, 1, 0)
        settled = checks.call("check", uri, edited, path, True)
        want = Engine(Settings()).check_source(edited, path, parse_whole=True)
        assert settled.findings == want
    finally:
        checks.close()


def test_typing_that_resumes_during_a_settle_does_not_restart_the_checker(tmp_path: Path):
    """Over stdio: an edit in a large file is checked in part, and the whole-file re-check
    (settle) starts once typing pauses; the next keystroke stops it at the engine's next step.
    The checker process stays (before, it was killed after 0.5 s and started again)."""
    text = _large_ml_file(10000)  # (< 1 MB: a larger file is checked block by block)
    server = _server(_workspace(tmp_path), {"settleMs": 100, "maxFileSizeKb": 0})
    try:
        uri = _open(server, "big.py", text)
        assert "ML102" in {d["code"] for d in _pull(server, uri)["items"]}
        text = text.replace("        out.append(r * 7)\n", "        out.append(r * 8)\n")
        _replace(server, uri, 2, text)
        _pull(server, uri)  # checked in part; the settle follows in 0.1 s and takes ~1 s
        checkers = _checkers(server)
        time.sleep(0.3)
        _replace(server, uri, 3, text.replace("r * 8)", "r * 9)"))
        report = _pull(server, uri)
        assert "ML102" in {d["code"] for d in report["items"]}
        assert _checkers(server) == checkers
    finally:
        server.close()


def test_a_settle_asked_to_stop_late_gets_its_grace_from_the_ask(tmp_path: Path, monkeypatch):
    """A settle asked to stop once it has run longer than its grace (typing resumed late): it
    stops at the engine's next step, and the process stays. Before, the grace was counted from
    the request's start, so such a settle was killed with its process at the ask (on a loaded
    machine, the settle test over stdio failed most runs). The settle here takes 10 s in short
    steps (`MEMLENS_FAULT_SLOW_SETTLE_ON`), each of which it may stop after."""
    from memlens.lsp import settings as lsp_settings
    from memlens.lsp.check_process import CheckCancelled, CheckProcess

    monkeypatch.setenv("MEMLENS_FAULT_SLOW_SETTLE_ON", "# slow-settle")
    text = LOADS + "# slow-settle\n"
    uri, path = (tmp_path / "slow.py").as_uri(), str(tmp_path / "slow.py")
    checks = CheckProcess()
    try:
        checks.configure(str(tmp_path), lsp_settings.EditorSettings(), True)
        checks.call("check", uri, text, path, False)
        grace = 0.5
        started = time.monotonic()
        with pytest.raises(CheckCancelled):
            checks.call("check", uri, text, path, True, interruptible=True, grace=grace,
                        stop=lambda: time.monotonic() - started > grace + 0.3)
        assert (checks.interrupts, checks.cancels, checks.starts) == (1, 0, 1)
        assert time.monotonic() - started < grace + 0.3 + grace
    finally:
        checks.close()


def test_a_notebook_cell_unchanged_since_its_save_keeps_what_it_printed(tmp_path):
    """The editor sends a notebook's cells without their outputs; the checker takes them from the
    saved .ipynb for the cells whose text is the saved one (what `memlens check` reads): a read
    whose printed shape shows its size is a warning in the editor as in the CLI, and a hint again
    once the cell is edited (its outputs no longer belong to it)."""
    import nbformat

    from memlens.lsp import settings as lsp_settings
    from memlens.lsp.check_process import CheckProcess

    read = "df = pd.read_csv('events.csv')\ndf.shape"
    cells = ["import pandas as pd", read, "X = df[['tenure', 'monthly_charges']]"]
    nb = nbformat.v4.new_notebook()
    for i, source in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = f"c{i}"
        if source == read:  # 5.6M rows of 24 columns: ~1 GiB as a frame
            cell.outputs = [nbformat.v4.new_output(
                "execute_result", {"text/plain": "(5656458, 24)"}, execution_count=1)]
        nb.cells.append(cell)
    path = tmp_path / "explain.ipynb"
    nbformat.write(nb, str(path))
    (tmp_path / "pyproject.toml").write_text('[tool.memlens]\nselect = ["ML201"]\n')
    checks = CheckProcess()
    try:
        checks.configure(str(tmp_path), lsp_settings.EditorSettings(), True)
        saved = checks.call("check_notebook", path.as_uri(), cells, str(path), False)
        [finding] = saved.findings
        assert (finding.code, finding.cell, finding.severity, finding.evidence) == (
            "ML201", 2, "warning", "notebook output")
        assert "(5656458, 24)" in finding.message
        edited = [cells[0], read.replace("df.shape", "df.head()"), cells[2]]
        unsaved = checks.call("check_notebook", path.as_uri() + "#2", edited, str(path), False)
        [finding] = unsaved.findings
        assert (finding.severity, finding.evidence) == ("hint", "pattern")
    finally:
        checks.close()

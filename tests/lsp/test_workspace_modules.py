"""No module of the workspace is imported by the server or its checker process.

Editors (Neovim, most LSP clients, a terminal) start the server in the project folder. There,
`python -m` puts that folder first on sys.path: a repository's `pickle.py`, `tomllib.py` or
`ast_grep_py.py` was imported in place of the real module as soon as one file was opened, in an
untrusted workspace too. Each booby trap below leaves a marker file when it is imported.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .rpc import Server
from .test_robustness import caps

TRAPPED = ("pickle", "tomllib", "ast_grep_py")
CODE = "import joblib\nMODEL = joblib.load('m.pkl')\n"
SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"


def booby_trapped(root: Path, markers: Path, names=TRAPPED) -> None:
    markers.mkdir(exist_ok=True)
    for name in names:
        (root / f"{name}.py").write_text(
            f"open({str(markers / name)!r}, 'w').close()\n")


def _console_script(tmp_path: Path) -> tuple[list[str], dict | None]:
    script = Path(sys.executable).with_name("memlens")
    if not script.exists():
        pytest.skip("no memlens console script beside this interpreter")
    return [str(script), "serve"], None


def _dash_m(tmp_path: Path) -> tuple[list[str], dict | None]:
    return [sys.executable, "-m", "memlens", "serve"], None


def _found_through_pythonpath(tmp_path: Path) -> tuple[list[str], dict | None]:
    """An interpreter that has neither memlens nor its dependencies: PYTHONPATH gives both
    (the checker runs with -I, which ignores PYTHONPATH: it must still find them)."""
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False, symlinks=os.name != "nt")
    python = bare / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    path = os.pathsep.join([str(SERVER_ROOT), sysconfig.get_paths()["purelib"],
                            sysconfig.get_paths()["platlib"]])
    return [str(python), "-m", "memlens", "serve"], {**os.environ, "PYTHONPATH": path}


@pytest.mark.parametrize("how", [_console_script, _dash_m, _found_through_pythonpath],
                         ids=["memlens-serve", "python-m-memlens-serve", "found-via-PYTHONPATH"])
def test_a_server_started_in_the_workspace_imports_none_of_its_modules(tmp_path, how):
    root, markers = tmp_path / "ws", tmp_path / "markers"
    root.mkdir()
    booby_trapped(root, markers)
    (root / "serve.py").write_text(CODE)
    command, env = how(tmp_path)
    server = Server(root, caps(pull=True), options={"workspaceTrusted": False},
                    command=command, cwd=root, env=env)
    try:
        uri = (root / "serve.py").as_uri()
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": CODE}})
        report = server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}},
                                timeout=60)
    finally:
        server.close()
    assert [d["code"] for d in report["items"]] == ["ML101"], report
    assert sorted(p.name for p in markers.iterdir()) == []

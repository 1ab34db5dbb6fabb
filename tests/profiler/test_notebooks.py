"""`memlens profile` on real .ipynb files, as a user runs it: `--cell N` (the cells above run
first, in a fresh process), `NB.ipynb::func`, magics with and without IPython in the target
interpreter, cells that raise, hang or eat memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from profiler_helpers import ROOT, assert_gone, line, run_cli

from memlens.profiler import ProfileResult, format_table, profile

ONES_MIB = 10_000_000 * 8 / 2**20  # np.ones(10_000_000): 76.3 MiB

pytest.importorskip("numpy")


def write_notebook(path: Path, *cells: str) -> Path:
    """A notebook as Jupyter writes it; a cell starting with "md:" is a markdown cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:")
                else nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return path


def measured(result: dict) -> dict[int, dict]:
    return {row["line"]: row for row in result["lines"] if row["occurrences"]}


@pytest.fixture
def explain(tmp_path) -> Path:
    return write_notebook(
        tmp_path / "explain.ipynb",
        "md:# Explain",
        "import numpy as np\nsize = 10_000_000",
        "md:## Features",
        "ones = np.ones(size)\ntwice = ones * 2\ndel ones\nprint('built', twice.shape)",
        "def score(n):\n    rows = np.ones(n)\n    return float(rows.sum())\n",
    )


def test_cell_runs_the_cells_above_then_profiles_its_own_lines(explain):
    code, result = run_cli(str(explain), "--cell", "4")
    assert code == 0, result["error"]
    assert (result["status"], result["entry"], result["cell"]) == ("ok", "cell", 4)
    assert result["cells_run"] == [2]  # code cells only; `size` and `np` came from cell 2
    assert [(r["cell"], r["line"]) for r in result["lines"]] == [(4, 1), (4, 2), (4, 3), (4, 4)]
    rows = measured(result)
    assert abs(rows[1]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB, rows[1]
    assert abs(rows[2]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB, rows[2]
    assert abs(-rows[3]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB, rows[3]
    assert "built (10000000,)" in result["output"]
    assert ProfileResult.from_json(result).to_json() == result
    text = format_table(result)  # a saved JSON result reads back into the same table
    assert "   4       2" in text and "twice = ones * 2" in text
    assert_gone(result["pid"])


def test_cell_text_table_names_the_cell_and_its_lines(explain):
    proc = subprocess.run([str(Path(sys.executable).with_name("memlens")), "profile",
                           str(explain), "--cell", "4"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout.splitlines()
    header = next(i for i, text in enumerate(out) if "Line Contents" in text)
    assert out[header].split()[:3] == ["Cell", "Line", "#"]
    first = out[header + 2].split()
    assert first[:2] == ["4", "1"] and out[header + 2].endswith("ones = np.ones(size)")
    assert any(text.startswith("Cell:      4, after the code cells above it (2)") for text in out)


def test_function_defined_in_a_cell_after_its_cell_and_those_above(explain):
    code, result = run_cli(f"{explain}::score", "--call", "score(size)")
    assert code == 0, result["error"]
    assert (result["entry"], result["cell"], result["cells_run"]) == ("call", 5, [2, 4])
    assert (result["first_line"], result["last_line"]) == (1, 3)
    assert [r["cell"] for r in result["lines"]] == [5, 5, 5]
    ones = line(result, "rows = np.ones(n)")
    assert ones["line"] == 2 and ones["occurrences"] == 1
    assert result["calls"] == 1 and result["peak_mib"] - result["baseline_mib"] > 0.9 * ONES_MIB


# Decided from the cells before any process starts: asked of the API (a CLI start costs
# seconds under load), as the CLI and the language server ask it.


def test_function_needing_arguments_without_call_and_an_unknown_one(explain):
    result = profile(explain, "score")
    assert result.error.kind.value == "needs_call" and result.pid is None
    result = profile(explain, "scores")
    assert result.status.value == "not_found" and result.error.kind.value == "not_found"
    assert result.candidates == ["score"] and "score (cell 5)" in result.error.message


def test_a_markdown_cell_or_a_cell_past_the_end_is_not_found(explain):
    for number in (3, 9):
        result = profile(explain, None, cell=number)
        assert result.error.kind.value == "not_found", result.error
        assert "its code cells are 2, 4, 5" in result.error.message


def test_the_same_function_in_two_cells_is_taken_from_the_cell_asked(tmp_path):
    nb = write_notebook(tmp_path / "twice.ipynb",
                        "def f():\n    return [0] * 10\n",
                        "def f():\n    x = [1] * 10\n    return x\n")
    _, last = run_cli(f"{nb}::f")
    _, first = run_cli(f"{nb}::f", "--cell", "1")
    assert (last["status"], last["cell"], last["last_line"]) == ("ok", 2, 3)
    assert (first["status"], first["cell"], first["last_line"]) == ("ok", 1, 2)


def test_magics_run_through_ipython_and_keep_the_profiled_lines(tmp_path):
    pytest.importorskip("IPython")
    nb = write_notebook(
        tmp_path / "magics.ipynb",
        "%time import numpy as np\nfiles = !echo a b\n",
        "%%capture captured\nprint('hidden')\nsize = 10_000_000\n",
        "!echo \\\n  continued\nbig = np.ones(size)\n%time small = np.ones(10)\nprint(files)",
    )
    code, result = run_cli(str(nb), "--cell", "3")
    assert code == 0, result["error"]
    rows = measured(result)
    # `!echo \` + its continuation are one statement after IPython's transform: line 3 stays 3
    assert sorted(rows) == [1, 3, 4, 5], rows
    assert abs(rows[3]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB
    assert "continued" in result["output"] and "['a b']" in result["output"]
    assert "hidden" not in result["output"]  # %%capture ran as a cell magic


def test_a_python_cell_magic_on_the_profiled_cell_profiles_its_body(tmp_path):
    pytest.importorskip("IPython")
    nb = write_notebook(tmp_path / "timed.ipynb", "import numpy as np",
                        "%%time\nbig = np.ones(10_000_000)\n", "%%bash\necho hi\n")
    code, result = run_cli(str(nb), "--cell", "2")
    assert code == 0, result["error"]
    assert abs(measured(result)[2]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB
    code, result = run_cli(str(nb), "--cell", "3")
    assert code == 2 and result["error"]["kind"] == "bad_entry"
    assert "%%bash" in result["error"]["message"]


@pytest.fixture(scope="module")
def python_without_ipython(tmp_path_factory) -> str:
    """A real interpreter with the profiler's two needs (memory_profiler, psutil) and no
    IPython: a venv of the base Python whose site-packages links to just those two."""
    import memory_profiler
    import psutil

    root = tmp_path_factory.mktemp("no-ipython")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(root / "venv")], check=True,
                   timeout=120)
    libs = root / "libs"
    libs.mkdir()
    (libs / "memory_profiler.py").symlink_to(memory_profiler.__file__)
    (libs / "psutil").symlink_to(Path(psutil.__file__).parent)
    site = next((root / "venv" / "lib").glob("python*/site-packages"))
    (site / "profiler-needs.pth").write_text(f"{libs}\n")
    python = str(root / "venv" / "bin" / "python")
    check = subprocess.run([python, "-c", "import memory_profiler, psutil\nimport IPython"],
                           capture_output=True, text=True, timeout=60)
    assert "No module named 'IPython'" in check.stderr, check.stderr
    return python


def test_without_ipython_the_first_magic_is_named_by_cell_and_line(tmp_path,
                                                                    python_without_ipython):
    nb = write_notebook(tmp_path / "plain.ipynb",
                        "md:# plain", "data = list(range(1000))\n",
                        "total = 0\n!pip install something\n", "total = sum(data)")
    code, result = run_cli(str(nb), "--cell", "4", "--python", python_without_ipython)
    assert code == 2 and result["status"] == "setup_error"
    assert result["error"]["kind"] == "missing_dependency"
    message = result["error"]["message"]
    assert "cell 3, line 2" in message and "!pip install something" in message
    assert "cannot import IPython" in message
    assert not measured(result)


def test_without_ipython_plain_cells_still_run(tmp_path, python_without_ipython):
    nb = write_notebook(tmp_path / "plain.ipynb",
                        "data = list(range(200_000))\n", "doubled = [x * 2 for x in data]\n")
    code, result = run_cli(str(nb), "--cell", "2", "--python", python_without_ipython)
    assert code == 0, result["error"]
    assert measured(result)[1]["increment_mib"] > 1


def test_a_cell_above_that_raises_stops_the_run_and_names_the_cell(tmp_path):
    nb = write_notebook(tmp_path / "broken.ipynb",
                        "x = 1", "y = 2\nraise ValueError('no data file')", "z = x + y")
    code, result = run_cli(str(nb), "--cell", "3")
    assert code == 1 and result["status"] == "raised"
    error = result["error"]
    assert (error["kind"], error["type"]) == ("raised", "ValueError")
    assert "no data file" in error["message"] and "in cell 2, run before cell 3" in error["message"]
    assert f'{nb}:cell 2", line 2' in error["traceback"]
    assert "raise ValueError('no data file')" in error["traceback"]  # linecache has the cell
    assert "runner.py" not in error["traceback"] and "cells.py" not in error["traceback"]
    assert not measured(result)


def test_the_profiled_cell_raising_keeps_the_lines_measured_so_far(tmp_path):
    nb = write_notebook(tmp_path / "raises.ipynb", "import numpy as np",
                        "big = np.ones(10_000_000)\nbig.sum()\n1 / 0\nprint('never')")
    code, result = run_cli(str(nb), "--cell", "2")
    assert code == 1 and result["error"]["type"] == "ZeroDivisionError"
    rows = measured(result)
    assert sorted(rows) == [1, 2, 3]
    assert abs(rows[1]["increment_mib"] - ONES_MIB) <= 0.05 * ONES_MIB
    assert f'{nb}:cell 2", line 3' in result["error"]["traceback"]


def test_a_cell_above_that_hangs_is_stopped_by_the_timeout(tmp_path):
    nb = write_notebook(tmp_path / "hangs.ipynb", "import time", "while True:\n    time.sleep(0.01)",
                        "x = 1")
    code, result = run_cli(str(nb), "--cell", "3", "--timeout", "2")
    assert code == 1 and result["error"]["kind"] == "timeout"
    assert "while cell 2 ran, before cell 3" in result["error"]["message"]
    assert_gone(result["pid"])


def test_the_profiled_cell_eating_memory_is_stopped_with_its_lines(tmp_path):
    nb = write_notebook(tmp_path / "eats.ipynb", "import numpy as np\nkept = []",
                        "first = np.ones(10_000_000)\nwhile True:\n    kept.append(np.ones(10_000_000))")
    code, result = run_cli(str(nb), "--cell", "2", "--max-memory", "600")
    assert code == 1 and result["error"]["kind"] == "memory_limit"
    assert result["running_line"] == 3 and measured(result)[1]["occurrences"] == 1
    assert_gone(result["pid"])


def test_the_working_folder_is_the_notebooks_own(tmp_path):
    folder = tmp_path / "project" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "data.txt").write_text("x" * 1000)
    nb = write_notebook(folder / "reads.ipynb", "text = open('data.txt').read()")
    code, result = run_cli(str(nb), "--cell", "1")  # run from the repository root
    assert code == 0, result["error"]


def test_cell_on_a_python_file_and_a_notebook_without_a_part_are_usage_errors(explain):
    code, result = run_cli(str(ROOT / "tests/profiler/fixtures/library.py"), "--cell", "1")
    assert code == 2 and result["error"]["kind"] == "bad_arguments"
    assert profile(explain, "score", pytest_node="x.py::test").error.kind.value == "bad_entry"
    assert profile(explain, None).error.kind.value == "bad_arguments"
    assert profile(explain, None, cell=4, call="f()").error.kind.value == "bad_arguments"


def test_a_broken_notebook_is_one_line(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    code, result = run_cli(str(bad), "--cell", "1")
    assert code == 2 and result["error"]["kind"] == "unreadable"
    assert "invalid JSON" in result["error"]["message"] and "\n" not in result["error"]["message"]


def test_cancel_stops_a_notebook_run_through_the_api(tmp_path):
    import threading

    nb = write_notebook(tmp_path / "slow.ipynb", "import time\nn = 0",
                        "while True:\n    n += 1\n    time.sleep(0.01)")
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    result = profile(nb, None, cell=2, cancel=cancel)
    assert result.status.value == "cancelled" and result.running_line in (2, 3)
    assert result.lines[1].occurrences > 10 and result.lines[1].cell == 2
    assert_gone(result.pid)


def test_a_cell_that_does_not_parse_stops_before_anything_runs(tmp_path):
    nb = write_notebook(tmp_path / "syntax.ipynb",
                        "print('ran')", "def broken(:\n    pass", "x = 1")
    code, result = run_cli(str(nb), "--cell", "3")
    assert code == 2 and result["error"]["kind"] == "compile_failed"
    assert "syntax.ipynb:cell 2, line 1" in result["error"]["message"]
    assert "ran" not in result["output"]

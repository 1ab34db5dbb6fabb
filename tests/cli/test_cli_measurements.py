"""`memlens check --measurements FILE.json`: profile runs saved by `memlens profile
--output-format json` confirm findings (a hint on a line measured big is a warning and fails the
run) or dismiss them (a finding on a line measured small is a hint); a stale one or one of
another file is left out with a note; a bad file is a one-line error, exit 2."""

from __future__ import annotations

import json
import subprocess

import pytest
from cli_helpers import MEMLENS, run, write

np = pytest.importorskip("numpy")

WORK = """\
import numpy as np


def build(path):
    x = np.load(path)
    for i in range(0, len(x), 256):
        part = x[i:i + 256]
    return x


def small(path):
    y = np.load(path)
    for i in range(0, len(y), 256):
        part = y[i:i + 256]
    return y
"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """work.py, its data files, and two real profile runs saved as JSON (m.json: `build`
    loading 128 MiB, s.json: `small` loading 80 bytes)."""
    root = tmp_path_factory.mktemp("measurements")
    write(root, {"pyproject.toml": "[tool.memlens]\n", "work.py": WORK})
    np.save(root / "big.npy", np.ones((4096, 4096)))  # 128 MiB
    np.save(root / "tiny.npy", np.ones(10))
    for name, target, call in (("m.json", "build", "build('big.npy')"),
                               ("s.json", "small", "small('tiny.npy')")):
        done = run("profile", f"work.py::{target}", "--call", call, "--output-format", "json",
                   cwd=root)
        assert done.returncode == 0, done.stderr
        (root / name).write_text(done.stdout)
    return root


def findings(done) -> list[dict]:
    return json.loads(done.stdout)


def test_a_hint_measured_big_is_a_warning_that_fails_the_run(measured):
    plain = run("check", "--no-cache", "work.py", cwd=measured)
    assert plain.returncode == 0 and "2 hints not shown" in plain.stdout  # hints: exit 0

    done = run("check", "--no-cache", "--measurements", "m.json", "work.py", cwd=measured)
    assert done.returncode == 1, done.stderr
    assert 'work.py:5:9: ML102 np.load reads the whole array into memory; memory-map it with ' \
           'mmap_mode="r" (measured +12' in done.stdout
    assert "1 hint not shown" in done.stdout

    as_json = run("check", "--no-cache", "--show-hints", "--output-format", "json",
                  "--measurements", "m.json", "--measurements", "s.json", "work.py",
                  cwd=measured)
    rows = {f["location"]["row"]: f for f in findings(as_json)}
    assert (rows[5]["severity"], rows[5]["evidence"]) == ("warning", "measured")
    assert (rows[12]["severity"], rows[12]["evidence"]) == ("hint", "measured")
    assert rows[12]["message"].endswith(" MiB here)") and "(measured +0." in rows[12]["message"]


def test_one_file_may_hold_a_list_and_the_threshold_is_a_flag(measured):
    both = measured / "both.json"
    both.write_text(json.dumps([json.loads((measured / n).read_text())
                                for n in ("m.json", "s.json")]))
    done = run("check", "--no-cache", "--show-hints", "--output-format", "json",
               "--measurements", "both.json", "work.py", cwd=measured)
    assert {f["location"]["row"]: f["evidence"] for f in findings(done)} == \
        {5: "measured", 12: "measured"}
    high = run("check", "--no-cache", "--measurements", "m.json", "--hot-line-threshold-mb",
               "200", "work.py", cwd=measured)
    assert high.returncode == 0 and "2 hints not shown" in high.stdout  # 128 MiB is under 200


def test_a_stale_measurement_or_another_files_is_left_out_with_a_note(measured, tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.memlens]\n",
                     "work.py": WORK.replace("x[i:i + 256]", "x[i:i + 512]"),
                     "other.py": "import numpy as np\n"})
    (tmp_path / "m.json").write_text((measured / "m.json").read_text())
    # the same file name in another checkout: matched by its path, refused by its text
    done = run("check", "--no-cache", "--measurements", "m.json", "work.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "memlens check: note: m.json: `build` in work.py changed since it was profiled: " \
           "its measurements are not applied" in done.stderr
    other = run("check", "--no-cache", "--measurements", "m.json", "other.py", cwd=tmp_path)
    assert other.returncode == 0
    assert "m.json: the profile of build is of " in other.stderr
    assert "which was not checked: not applied" in other.stderr
    # the same text in another checkout applies: the function's content hash decides
    write(tmp_path, {"work.py": WORK})
    moved = run("check", "--no-cache", "--measurements", "m.json", "work.py", cwd=tmp_path)
    assert moved.returncode == 1 and "(measured +12" in moved.stdout, moved.stderr


@pytest.mark.parametrize("content, error", [
    (None, "--measurements bad.json: no such file"),
    ("not json", "--measurements bad.json: not a profile result: Expecting value"),
    ('{"a": 1}', "--measurements bad.json: not a profile result of `memlens profile "
                 "--output-format json`"),
    ("[1]", "--measurements bad.json[0]: not a profile result"),
])
def test_a_bad_measurements_file_is_a_one_line_error(measured, tmp_path, content, error):
    write(tmp_path, {"pyproject.toml": "[tool.memlens]\n", "work.py": WORK})
    if content is not None:
        (tmp_path / "bad.json").write_text(content)
    done = run("check", "--no-cache", "--measurements", "bad.json", "work.py", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"memlens check: error: {error}")
    assert done.stderr.count("\n") == 1


def test_stdin_applies_them_too(measured):

    done = subprocess.run([*MEMLENS, "check", "-", "--stdin-filename", "work.py",
                           "--measurements", "m.json"], input=WORK, cwd=measured,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "(measured +12" in done.stdout, done.stderr


def test_a_notebook_cell_measured_in_its_own_numbering(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# load"),
                nbformat.v4.new_code_cell("import numpy as np\n\n\ndef path():\n"
                                          "    return input()\n"),
                nbformat.v4.new_code_cell("x = np.load('big' + '.npy' if 1 else path())\n"
                                          "for i in range(0, len(x), 256):\n"
                                          "    part = x[i:i + 256]\n")]
    write(tmp_path, {"pyproject.toml": "[tool.memlens]\n"})
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    np.save(tmp_path / "big.npy", np.ones((4096, 4096)))
    profiled = run("profile", "nb.ipynb", "--cell", "3", "--output-format", "json", cwd=tmp_path)
    assert profiled.returncode == 0, profiled.stderr
    (tmp_path / "n.json").write_text(profiled.stdout)
    after = run("check", "--no-cache", "--output-format", "json", "--measurements", "n.json",
                "nb.ipynb", cwd=tmp_path)
    (found,) = [f for f in findings(after) if f["code"] == "ML102"]
    assert (found["cell"], found["severity"], found["evidence"]) == (3, "warning", "measured")
    assert "(measured +12" in found["message"] and after.returncode == 1

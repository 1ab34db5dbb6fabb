"""`memlens check` on Jupyter notebooks (issue 20, static checks and --fix): real .ipynb files
written by nbformat (Jupyter's own writer), checked by the CLI as a subprocess. Cells are
numbered as Ruff numbers them (the Nth cell of the notebook, markdown counted); positions are
within the cell; --fix changes the source of the fixed cells and nothing else."""

from __future__ import annotations

import difflib
import json
import subprocess
from collections import OrderedDict

import nbformat
import pytest
from cli_helpers import MEMLENS, NP_LOAD, SHOWN, SLICED, run, write

LOAD = "x = np.load('a.npy')\n" + SLICED.rstrip("\n")  # ML102 (unsafe fix), on the first line


def notebook(*cells, language: str = "python") -> nbformat.NotebookNode:
    """A notebook of ("code" | "markdown", source) cells; a code cell given as a dict gets its
    outputs and execution count from it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3" if language == "python" else "ir",
                                 "display_name": language, "language": language}
    nb.metadata["language_info"] = {"name": language}
    for kind, source in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        elif isinstance(source, dict):
            nb.cells.append(nbformat.v4.new_code_cell(**source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # (stable ids: the tests compare files)
    return nb


def save(project, name: str, nb: nbformat.NotebookNode):
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))  # as Jupyter saves it
    return path


def stdin(data: bytes, *args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*MEMLENS, "check", "-", *args], input=data, capture_output=True,
                          cwd=cwd, timeout=120)


EXPLAIN = notebook(
    ("markdown", "# Churn, explained"),
    ("code", "%matplotlib inline\nimport numpy as np\nimport pandas as pd"),
    ("markdown", "Load the arrays."),
    ("code", "n = 3\n" + LOAD),
)


# --- where findings are ---------------------------------------------------------------------


def test_a_walk_checks_notebooks_and_json_gives_the_cell_and_positions_in_it(project):
    save(project, "nb/explain.ipynb", EXPLAIN)
    write(project, {"data.py": NP_LOAD})
    r = run("check", "--select", "ML102", "--output-format", "json", cwd=project)
    assert r.returncode == 1, r.stderr
    by_file = {f["filename"]: f for f in r.json()}
    assert set(by_file) == {"data.py", "nb/explain.ipynb"}
    f = by_file["nb/explain.ipynb"]
    # the 4th cell of the notebook (two markdown cells counted), its 2nd line
    assert f["cell"] == 4
    assert (f["location"], f["end_location"]) == ({"row": 2, "column": 5},
                                                  {"row": 2, "column": 21})
    [edit] = f["fix"]["edits"]  # the fix's edits are within the cell too
    assert edit["location"]["row"] == 2
    assert by_file["data.py"]["cell"] is None
    assert (by_file["data.py"]["location"]) == {"row": 3, "column": 5}


def test_text_output_names_the_cell_and_shows_its_lines(project):
    save(project, "explain.ipynb", EXPLAIN)
    r = run("check", "--select", "ML102", "--no-cache", cwd=project)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("explain.ipynb:cell 4:2:5: ML102 "), r.stdout
    # the excerpt is the cell's: its lines numbered from 1
    assert lines[1:6] == [
        "  |",
        "1 | n = 3",
        "2 | x = np.load('a.npy')",
        "  |     ^^^^^^^^^^^^^^^^ ML102",
        "3 | for i in range(0, len(x), 256):",
    ]
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "concise",
            "--quiet", cwd=project)
    assert r.stdout.splitlines() == [
        "explain.ipynb:cell 4:2:5: ML102 np.load reads the whole array into memory; "
        'memory-map it with mmap_mode="r"']


def test_sarif_puts_the_notebook_and_the_cell_in_properties(project):
    save(project, "explain.ipynb", EXPLAIN)
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "sarif",
            cwd=project)
    [result] = json.loads(r.stdout)["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "explain.ipynb"
    assert location["region"] == {"startLine": 2, "startColumn": 5, "endLine": 2,
                                  "endColumn": 21}
    assert result["properties"]["notebook"] == "explain.ipynb"
    assert result["properties"]["cell"] == 4
    replacement = result["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["deletedRegion"]["startLine"] == 2


def test_github_annotations_use_the_line_in_the_cell_and_name_the_cell(project):
    save(project, "explain.ipynb", EXPLAIN)
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "github",
            cwd=project)
    [line] = r.stdout.splitlines()
    assert line.startswith("::warning file=explain.ipynb,line=2,col=5,endLine=2,endColumn=21,")
    assert "::cell 4: np.load reads the whole array" in line


def test_a_statement_the_notebook_reads_in_one_cell_and_cuts_in_another_is_checked(project):
    """The module level of a notebook is its program: a whole read cut to three columns in a
    later cell is flagged at the read, in its cell."""
    nb = notebook(("code", "import pandas as pd"),
                  ("code", "df = pd.read_csv('churn.csv')\ndf.shape"),
                  ("markdown", "Keep what the model needs."),
                  ("code", "X = df[['tenure', 'charges', 'plan']]\nX.describe()"))
    save(project, "nb.ipynb", nb)
    r = run("check", "--select", "ML201", "--no-cache", "--output-format", "json",
            cwd=project)
    [f] = r.json()
    assert (f["code"], f["cell"], f["location"]) == ("ML201", 2, {"row": 1, "column": 6})


def test_import_time_rules_do_not_apply_to_a_notebook(project):
    """ML101 holds for a module named alone (its importers are not known); a notebook is a
    program that nothing imports."""
    code = ("import joblib\n\nmodel = joblib.load('model.pkl')\n\n"
            "def predict(rows):\n    return model.predict(rows)\n")
    write(project, {"model.py": code})
    save(project, "model.ipynb", notebook(("code", code), ("code", "import numpy as np\n" + LOAD)))
    r = run("check", "--select", "ML101,ML102", "--no-cache", "--output-format", "json",
            "model.py", "model.ipynb", cwd=project)
    assert [(f["filename"], f["code"]) for f in r.json()] == [("model.ipynb", "ML102"),
                                                               ("model.py", "ML101")]


def test_noqa_works_per_line_of_a_cell(project):
    nb = notebook(("code", "import numpy as np"),
                  ("code", LOAD.replace("\n", "  # noqa: ML102\n", 1)),
                  ("code", LOAD))
    save(project, "nb.ipynb", nb)
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "json",
            cwd=project)
    assert [(f["cell"], f["location"]["row"]) for f in r.json()] == [(3, 1)]


def test_a_finding_that_runs_into_the_next_cell_ends_with_its_cell_and_has_no_fix(
        rules_project):
    nb = notebook(("code", "y = 1\nleaky_helper(\n    1,"), ("code", "    2)\nz = 2"),
                  ("code", "leaky_helper(3)"))
    path = save(rules_project, "nb.ipynb", nb)
    before = path.read_bytes()
    r = run("check", "--no-cache", "--output-format", "json", cwd=rules_project)
    spanning, alone = r.json()
    assert (spanning["code"], spanning["cell"]) == ("XT001", 1)
    assert (spanning["location"], spanning["end_location"]) == ({"row": 2, "column": 1},
                                                                {"row": 3, "column": 7})
    assert spanning["fix"] is None  # a fix never spans two cells
    assert alone["cell"] == 3 and alone["fix"] is not None
    r = run("check", "--no-cache", "--fix", cwd=rules_project)
    assert "Fixed 1 finding." in r.stdout
    after = json.loads(path.read_bytes())
    assert [c["source"] for c in after["cells"]] == [
        json.loads(before)["cells"][0]["source"], json.loads(before)["cells"][1]["source"],
        ["tidy_helper(3)"]]


# --- --fix -----------------------------------------------------------------------------------


def _changed_json_paths(old, new, at=()):
    """The paths (key or index tuples) where two JSON values differ."""
    if isinstance(old, dict) and isinstance(new, dict) and list(old) == list(new):
        return [p for k in old for p in _changed_json_paths(old[k], new[k], (*at, k))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and \
            not (at and at[-1] == "source"):
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True))
                for p in _changed_json_paths(a, b, (*at, i))]
    return [] if old == new else [at]


RICH = notebook(
    ("markdown", "# Explaining churn\nWith *SHAP* values."),
    ("code", {"source": "%load_ext autoreload\n!pip install shap\nimport numpy as np\n"
                        "leaky_helper(0)",
              "execution_count": 1,
              "outputs": [nbformat.v4.new_output("stream", name="stdout",
                                                 text="Collecting shap\né ✓ done\n")],
              "metadata": {"tags": ["setup"], "collapsed": False}}),
    ("code", {"source": "%%time\nrows = leaky_helper(1)\nrows",
              "execution_count": 2,
              "outputs": [nbformat.v4.new_output("execute_result", data={"text/plain": "(5656458, 6)"},
                                                 execution_count=2)]}),
    ("code", "n = 1\nfiles = !ls data/\nprint(n)"),
    ("code", "risky_helper(frame)"),
)


def test_fix_changes_only_the_source_of_the_fixed_cells(rules_project):
    """A notebook as Jupyter saved it: after --fix the file is what Jupyter writes for the
    fixed notebook, byte for byte, and a line diff shows only the changed source lines."""
    path = save(rules_project, "nb.ipynb", RICH)
    before = path.read_text(encoding="utf-8")
    r = run("check", "--no-cache", "--fix", cwd=rules_project)
    assert "Fixed 2 findings." in r.stdout, r.stdout + r.stderr
    after = path.read_text(encoding="utf-8")
    old, new = json.loads(before), json.loads(after)
    assert _changed_json_paths(old, new) == [("cells", 1, "source"), ("cells", 2, "source")]
    assert "".join(new["cells"][1]["source"]) == RICH.cells[1].source.replace(
        "leaky_helper(0)", "tidy_helper(0)")
    # the magics stay as they were, around the fixed line
    assert "".join(new["cells"][2]["source"]) == "%%time\nrows = tidy_helper(1)\nrows"
    # exactly what Jupyter writes for the fixed notebook
    expected = nbformat.reads(before, as_version=4)
    expected.cells[1].source = expected.cells[1].source.replace("leaky_", "tidy_")
    expected.cells[2].source = expected.cells[2].source.replace("leaky_", "tidy_")
    assert after == nbformat.writes(expected) + "\n"
    changed = [line[0] + line[2:] for line in difflib.ndiff(before.splitlines(),
                                                            after.splitlines())
               if line[:1] in "+-"]
    assert changed == ['-    "leaky_helper(0)"', '+    "tidy_helper(0)"',
                       '-    "rows = leaky_helper(1)\\n",', '+    "rows = tidy_helper(1)\\n",']
    # the unsafe fix is applied when asked, in its own cell only
    run("check", "--no-cache", "--fix", "--unsafe-fixes", cwd=rules_project)
    final = json.loads(path.read_text(encoding="utf-8"))
    assert _changed_json_paths(new, final) == [("cells", 4, "source")]
    assert final["cells"][4]["source"] == ["risky_helper(frame, copy=False)"]


def test_fix_keeps_another_writers_key_order_indent_escapes_and_missing_newline(rules_project):
    data = json.loads(nbformat.writes(RICH))
    reordered = OrderedDict(reversed(list(data.items())))
    reordered["cells"] = [OrderedDict(reversed(list(c.items()))) for c in data["cells"]]
    text = json.dumps(reordered, indent=2, ensure_ascii=True)  # and no final newline
    path = rules_project / "nb.ipynb"
    path.write_text(text, encoding="utf-8")
    run("check", "--no-cache", "--fix", cwd=rules_project)
    after = path.read_text(encoding="utf-8")
    assert not after.endswith("\n") and "\\u00e9" in after
    changed = [line[0] + line[2:] for line in difflib.ndiff(text.splitlines(),
                                                            after.splitlines())
               if line[:1] in "+-"]
    assert changed == ['-        "leaky_helper(0)"', '+        "tidy_helper(0)"',
                       '-        "rows = leaky_helper(1)\\n",',
                       '+        "rows = tidy_helper(1)\\n",']
    assert list(json.loads(after)) == list(reordered)


# IPython's automagic (on by default) runs a one-line cell that names a line magic or a shell
# alias without its `%`: each of these is a cell that runs in Jupyter
AUTOMAGIC_CELLS = ("pip install shap", "cd data\n", "conda list --export", "time f()",
                   "timeit f()", "load_ext autoreload", "autoreload 2", "matplotlib inline",
                   "who int", "mkdir -p out/x", "cat f", "less f", "man ls", "  pwd x",
                   "env -h")


def test_a_one_line_cell_ipython_runs_as_a_magic_is_no_syntax_error(project):
    cells = [("code", source) for source in AUTOMAGIC_CELLS]
    save(project, "nb.ipynb", notebook(*cells, ("code", "import numpy as np\n" + LOAD)))
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "json",
            cwd=project)
    assert [(f["code"], f["cell"], f["location"]["row"]) for f in r.json()] == [
        ("ML102", len(AUTOMAGIC_CELLS) + 1, 2)], r.stdout


def test_python_that_names_a_magic_and_a_magic_word_ipython_rejects_stay_as_they_are(project):
    """What IPython runs as Python stays Python (and is checked), and what it rejects stays a
    syntax error: a magic word inside a longer cell (IPython prefilters one-line cells only), an
    assignment to a magic's name that does not parse, a word that names no magic."""
    python = ("code", "import numpy as np\nls = [1]\ncd(ls)\ntime.sleep(1)\n" + LOAD)
    for name, cell in (("longer", "x = 1\ncd data"), ("assigned", "cd ="),
                       ("unknown", "frobnicate data")):
        save(project, f"{name}.ipynb", notebook(python, ("code", cell)))
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "json",
            cwd=project)
    assert sorted((f["filename"], f["code"], f["cell"], f["location"]["row"])
                  for f in r.json()) == [
        ("assigned.ipynb", "ML102", 1, 5), ("assigned.ipynb", "syntax-error", 2, 1),
        ("longer.ipynb", "ML102", 1, 5), ("longer.ipynb", "syntax-error", 2, 2),
        ("unknown.ipynb", "ML102", 1, 5), ("unknown.ipynb", "syntax-error", 2, 1)], r.stdout


def test_a_fix_that_would_touch_a_line_of_ipython_syntax_is_dropped(project):
    rule = """\
id: XT003
message: this loop calls leaky_loop; drop it
severity: warning
rule:
  kind: for_statement
  has: { stopBy: end, pattern: leaky_loop() }
fix: pass
metadata:
  family: test
  default: true
  fix: safe
  fix-message: Drop the loop
note: |
  ## What it does
  Flags a loop used by the command-line tests.

  ## Why is this bad
  It is not; it is a test fixture.

  ## Example
  ```python
  for i in x:
      leaky_loop()
  ```

  ## Use instead
  ```python
  pass
  ```
valid:
  - "leaky_loop()"
invalid:
  - "for i in x:\\n    leaky_loop()"
"""
    write(project, {"rules/XT003.yml": rule,
                    "pyproject.toml": '[tool.memlens]\nrule-dirs = ["rules"]\n'})
    nb = notebook(("code", "for i in range(3):\n    %time f(i)\n    leaky_loop()"),
                  ("code", "for i in range(3):\n    leaky_loop()"))
    path = save(project, "nb.ipynb", nb)
    r = run("check", "--no-cache", "--output-format", "json", cwd=project)
    by_cell = {f["cell"]: f for f in r.json()}
    assert by_cell[1]["fix"] is None and by_cell[2]["fix"] is not None
    run("check", "--no-cache", "--fix", cwd=project)
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    assert sources == ["for i in range(3):\n    %time f(i)\n    leaky_loop()", "pass"]


def test_diff_shows_each_changed_cell(rules_project):
    path = save(rules_project, "nb.ipynb", RICH)
    before = path.read_bytes()
    r = run("check", "--no-cache", "--diff", cwd=rules_project)
    assert r.stdout == (
        "--- a/nb.ipynb:cell 2\n+++ b/nb.ipynb:cell 2\n@@ -1,4 +1,4 @@\n"
        " %load_ext autoreload\n !pip install shap\n import numpy as np\n"
        "-leaky_helper(0)\n+tidy_helper(0)\n"
        "--- a/nb.ipynb:cell 3\n+++ b/nb.ipynb:cell 3\n@@ -1,3 +1,3 @@\n"
        " %%time\n-rows = leaky_helper(1)\n+rows = tidy_helper(1)\n rows\n")
    assert "Would fix 2 findings." in r.stderr
    assert path.read_bytes() == before


def test_a_read_only_notebook_is_left_alone_and_said_so(rules_project):
    path = save(rules_project, "nb.ipynb", RICH)
    before = path.read_bytes()
    path.chmod(0o444)
    r = run("check", "--no-cache", "--fix", cwd=rules_project)
    assert path.read_bytes() == before
    assert "memlens check: warning: nb.ipynb: read-only; not fixed" in r.stderr


# --- bad input, other languages, discovery ------------------------------------------------


@pytest.mark.parametrize("name,content,says", [
    ("json.ipynb", '{"cells": [', "not a notebook: invalid JSON"),
    ("v3.ipynb", '{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}',
     "unsupported notebook format 3"),
    ("nocells.ipynb", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
     "it has no list of cells"),
    ("schema.ipynb", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '
                     '"cells": [{"cell_type": "code", "source": "x"}]}', "invalid notebook: "),
    ("latin1.ipynb", b'{"cells": [], "x": "\xe9"}', "not UTF-8"),
])
def test_a_broken_notebook_is_one_line_and_the_rest_is_checked(project, name, content, says):
    write(project, {name: content, "data.py": NP_LOAD})
    save(project, "good.ipynb", EXPLAIN)
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "concise",
            cwd=project)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    [broken] = [line for line in lines if line.startswith(name)]
    assert broken.startswith(f"{name}:1:1: io-error ") and says in broken, broken
    assert any(line.startswith("data.py:3:5: ML102") for line in lines)
    assert any(line.startswith("good.ipynb:cell 4:2:5: ML102") for line in lines)
    assert "1 file not checked" in r.stdout
    assert r.stderr == ""


def test_a_notebook_of_another_language_is_skipped_silently(project):
    save(project, "analysis.ipynb", notebook(("code", "x <- read.csv('a.csv')\nlibrary(dplyr)"),
                                             ("code", "import numpy as np\n" + LOAD),
                                             language="R"))
    r = run("check", "--no-cache", "analysis.ipynb", cwd=project)
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, "All checks passed!", "")
    save(project, "python.ipynb", EXPLAIN)
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "concise",
            "--quiet", cwd=project)
    assert [line.split(": ")[0] for line in r.stdout.splitlines()] == [
        "python.ipynb:cell 4:2:5"]


def test_gitignore_and_exclude_apply_to_notebooks_and_a_named_one_is_checked(project):
    write(project, {".gitignore": "scratch*.ipynb\n",
                    "pyproject.toml": '[tool.memlens]\nexclude = ["drafts"]\n' + SHOWN})
    (project / ".git").mkdir()
    for name in ("kept.ipynb", "scratch1.ipynb", "drafts/old.ipynb",
                 ".ipynb_checkpoints/kept-checkpoint.ipynb"):
        save(project, name, EXPLAIN)
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "json",
            cwd=project)
    assert [f["filename"] for f in r.json()] == ["kept.ipynb"]
    r = run("check", "--select", "ML102", "--no-cache", "--output-format", "json",
            "scratch1.ipynb", cwd=project)
    assert [f["filename"] for f in r.json()] == ["scratch1.ipynb"]


def test_the_cache_keeps_the_cell(project):
    (project / ".git").mkdir()
    save(project, "nb.ipynb", EXPLAIN)
    args = ("check", "--select", "ML102", "--output-format", "json")
    first = run(*args, cwd=project, env={"MEMLENS_DEBUG_TIMING": "1"})
    second = run(*args, cwd=project, env={"MEMLENS_DEBUG_TIMING": "1"})
    assert "hits=0" in first.stderr and "hits=1" in second.stderr
    assert second.json() == first.json() and first.json()[0]["cell"] == 4


# --- stdin -----------------------------------------------------------------------------------


def test_stdin_reads_a_notebook_named_by_stdin_filename(rules_project):
    data = nbformat.writes(RICH).encode()
    r = stdin(data, "--stdin-filename", "nb/x.ipynb", "--output-format", "json",
              cwd=rules_project)
    assert r.returncode == 1, r.stderr
    assert [(f["filename"], f["cell"], f["code"]) for f in json.loads(r.stdout)] == [
        ("nb/x.ipynb", 2, "XT001"), ("nb/x.ipynb", 3, "XT001"), ("nb/x.ipynb", 5, "XT002")]
    r = stdin(data, "--stdin-filename", "x.ipynb", "--fix", cwd=rules_project)
    fixed = json.loads(r.stdout)
    assert ["".join(c["source"]) for c in fixed["cells"]][2] == \
        "%%time\nrows = tidy_helper(1)\nrows"
    assert "Fixed 2 findings." in r.stderr.decode()
    r = stdin(b"{", "--stdin-filename", "x.ipynb", "--output-format", "concise",
              cwd=rules_project)
    assert r.stdout.decode().startswith("x.ipynb:1:1: io-error not a notebook: invalid JSON")

"""Which file a load names: its path argument evaluated from literals, `Path`, `os.path`,
`__file__` and names bound once, then found in the file's folder or at the workspace root."""

from __future__ import annotations

import textwrap

import pytest
from ast_grep_py import SgRoot

from memlens.sizes import resolve_path


def _argument(source: str, call: str = "load"):
    """The first argument of the last call to `...load(...)` in the source."""
    root = SgRoot(textwrap.dedent(source), "python").root()
    calls = [c for c in root.find_all(kind="call")
             if c.field("function").text().rsplit(".", 1)[-1] == call]
    args = [c for c in calls[-1].field("arguments").children() if c.is_named()]
    return args[0]


@pytest.fixture
def project(workspace):
    (workspace / "data").mkdir()
    (workspace / "data" / "train.csv").write_text("a\n1\n")
    (workspace / "src" / "data").mkdir(parents=True)
    (workspace / "src" / "data" / "local.npy").write_bytes(b"")
    (workspace / "src" / "train.py").write_text("")
    return workspace


def _resolve(source, project, file="src/train.py"):
    return resolve_path(_argument(source), project / file, project)


@pytest.mark.parametrize("source, path, anchor", [
    ('np.load("data/local.npy")', "src/data/local.npy", "file folder"),
    ('pd.load("data/train.csv")', "data/train.csv", "workspace root"),
    ('np.load(r"data\\local.npy")', "src/data/local.npy", "file folder"),
    ('np.load("data/" "local.npy")', "src/data/local.npy", "file folder"),
    ('np.load(b"data/local.npy")', "src/data/local.npy", "file folder"),
    ('from pathlib import Path\nnp.load(Path("data") / "local.npy")', "src/data/local.npy",
     "file folder"),
    ('import pathlib\nnp.load(pathlib.Path("data", "local.npy"))', "src/data/local.npy",
     "file folder"),
    ('import os\nnp.load(os.path.join("data", "local.npy"))', "src/data/local.npy",
     "file folder"),
    ('import os.path as osp\nnp.load(osp.join("data", "local.npy"))', "src/data/local.npy",
     "file folder"),
    ('from os.path import join\nnp.load(join("data", "local.npy"))', "src/data/local.npy",
     "file folder"),
    ('from pathlib import Path\nHERE = Path(__file__).parent\nnp.load(HERE / "data" / "local.npy")',
     "src/data/local.npy", "__file__"),
    ('from pathlib import Path\nnp.load(Path(__file__).resolve().parents[1] / "data/train.csv")',
     "data/train.csv", "__file__"),
    ('import os\nROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n'
     'pd.load(os.path.join(ROOT, "data", "train.csv"))', "data/train.csv", "__file__"),
    ('from pathlib import Path\nnp.load(Path(__file__).with_name("data") / "local.npy")',
     "src/data/local.npy", "__file__"),
    ('from pathlib import Path\nnp.load(Path("data/local.txt").with_suffix(".npy"))',
     "src/data/local.npy", "file folder"),
    ('name = "local"\nnp.load(f"data/{name}.npy")', "src/data/local.npy", "file folder"),
    ('DATA = "data"\ndef f():\n    path = DATA + "/local.npy"\n    return np.load(path)',
     "src/data/local.npy", "file folder"),
    ('import os\nnp.load(os.path.join(os.getcwd(), "data", "local.npy"))', "src/data/local.npy",
     "file folder"),
    ('from pathlib import Path\nnp.load(Path.cwd() / "data" / "local.npy")',
     "src/data/local.npy", "file folder"),
    ('def f():\n    d = "data"\n    def g():\n        return np.load(d + "/local.npy")\n',
     "src/data/local.npy", "file folder"),
    ('from pathlib import Path\nP = Path("data")\nnp.load(str(P.joinpath("local.npy")))',
     "src/data/local.npy", "file folder"),
])
def test_paths_built_from_literals(project, source, path, anchor):
    found = _resolve(source, project)
    assert found is not None
    assert (found.path, found.anchor) == (str(project / path), anchor)


@pytest.mark.parametrize("source", [
    'np.load(path)',  # never bound
    'def f(path):\n    return np.load(path)',  # a parameter
    'p = "a.npy"\np = "b.npy"\nnp.load(p)',  # bound twice
    'p = "a.npy"\np += ".bak"\nnp.load(p)',
    'for p in ["data/local.npy"]:\n    np.load(p)',
    'np.load(get_path())',
    'np.load(f"data/{name}.npy")',  # a field that does not evaluate
    'i = 3\nnp.load(f"data/{i:03d}.npy")',  # a format spec
    'np.load("data/{}.npy".format(x))',
    'np.load(os.environ["DATA"])',
    'np.load("~/data/local.npy")',
    'np.load(p := "data/local.npy")',
    'p = p + "x"\nnp.load(p)',  # itself
    'class A:\n    p = "data/local.npy"\n    def f(self):\n        return np.load(p)',
    'np.load("data/local.npy" if x else "other.npy")',
])
def test_anything_else_is_not_resolved(project, source):
    assert _resolve(source, project) is None


def test_paths_outside_the_workspace_are_not_resolved(project):
    assert _resolve('np.load("/etc/passwd")', project) is None
    assert _resolve('np.load("../../outside.npy")', project) is None
    found = _resolve(f'np.load("{project}/data/train.csv")', project)
    assert (found.path, found.anchor) == (str(project / "data/train.csv"), "absolute")


def test_a_path_that_exists_nowhere_keeps_its_candidates(project):
    found = _resolve('np.load("data/missing.npy")', project)
    assert found.path is None and found.written == "data/missing.npy"
    assert found.candidates == ((str(project / "src/data/missing.npy"), "file folder"),
                                (str(project / "data/missing.npy"), "workspace root"))


def test_the_file_folder_comes_first(project):
    (project / "src" / "data" / "train.csv").write_text("b\n")
    found = _resolve('pd.load("data/train.csv")', project)
    assert (found.path, found.anchor) == (str(project / "src/data/train.csv"), "file folder")


def test_a_notebook_resolves_against_its_own_folder(project):
    (project / "notebooks" / "data").mkdir(parents=True)
    (project / "notebooks" / "data" / "x.parquet").write_bytes(b"")
    found = _resolve('pd.load("data/x.parquet")', project, file="notebooks/eda.ipynb")
    assert (found.path, found.anchor) == (str(project / "notebooks/data/x.parquet"), "file folder")


def test_a_long_chain_of_names_stops(project):
    lines = ['p0 = "data/local.npy"'] + [f"p{i} = p{i - 1}" for i in range(1, 50)]
    assert _resolve("\n".join(lines) + "\nnp.load(p49)", project) is None
    assert _resolve("\n".join(lines[:5]) + "\nnp.load(p4)", project).path is not None

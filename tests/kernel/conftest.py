"""One real kernel (ipykernel, driven by nbclient) shared by the magics tests: a kernel start
costs seconds.

The kernel spec is installed into the test venv (`ipykernel install --sys-prefix`), and the
user's Jupyter and IPython folders are replaced by folders of this session, so nothing is read
from or written to the home folder (and a `python3` kernel spec of the user's cannot shadow the
venv's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest

KERNEL = "python3"


def jupyter_folders() -> dict[str, str]:
    root = Path(tempfile.mkdtemp(prefix="memlens-jupyter-"))
    return {"JUPYTER_DATA_DIR": str(root / "data"), "JUPYTER_CONFIG_DIR": str(root / "config"),
            "JUPYTER_RUNTIME_DIR": str(root / "runtime"), "IPYTHONDIR": str(root / "ipython")}


class Kernel:
    """Runs cells in one kernel, as a notebook's cells, and returns each cell's outputs."""

    def __init__(self, client, notebook):
        self.client, self.notebook = client, notebook

    def run(self, source: str) -> list[dict]:
        import nbformat

        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)
        self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        return cell.outputs


@pytest.fixture(scope="module")
def kernel():
    pytest.importorskip("ipykernel")
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    with ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        for key, value in jupyter_folders().items():
            patch.setenv(key, value)
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix",
                        "--name", KERNEL], check=True, capture_output=True, timeout=120)
        notebook = nbformat.v4.new_notebook()
        client = nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=120,
                                         allow_errors=True, resources={
                                             "metadata": {"path": os.getcwd()}})
        stack.enter_context(client.setup_kernel())
        yield Kernel(client, notebook)

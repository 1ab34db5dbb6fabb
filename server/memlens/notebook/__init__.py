"""Jupyter notebooks read as Python: the code cells joined into one module, IPython syntax
blanked, and every line of that module traced back to its cell.

The engine checks the joined module as it checks any file; `NotebookSource.locate` turns its
positions back into (cell, line in cell), numbered as Ruff numbers them. `read_notebook` joins the
cells of an .ipynb file, `join_cells` those an editor sends (the language server): one way.
"""

from memlens.notebook.source import (
    CellText,
    CodeCell,
    NotebookError,
    NotebookSource,
    join_cells,
    read_notebook,
)

__all__ = ["CellText", "CodeCell", "NotebookError", "NotebookSource", "join_cells",
           "read_notebook"]

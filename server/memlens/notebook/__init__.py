"""Jupyter notebooks read as Python: the code cells joined into one module, IPython syntax
blanked, and every line of that module traced back to its cell.

The engine checks the joined module as it checks any file; `NotebookSource.locate` turns its
positions back into (cell, line in cell), numbered as Ruff numbers them.
"""

from memlens.notebook.source import CodeCell, NotebookError, NotebookSource, read_notebook

__all__ = ["CodeCell", "NotebookError", "NotebookSource", "read_notebook"]

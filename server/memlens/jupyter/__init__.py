"""memlens in Jupyter: the IPython extension (`%load_ext memlens`, `magics.py`), its rich
output (`display.py`), and the jupyter-lsp spec that makes `memlens serve` JupyterLab's
language server (`lsp_spec.py`). Imported only by IPython and jupyter-lsp."""


def load_ipython_extension(ipython) -> None:
    from memlens.jupyter.magics import MemlensMagics

    ipython.register_magics(MemlensMagics)


def unload_ipython_extension(ipython) -> None:
    """Nothing to undo: IPython has no way to drop a magic; loading again re-registers it."""

"""memlens: find and fix the memory-hungry patterns of ML and data Python code."""

__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    """`%load_ext memlens`: the `%memlens` and `%%memlens` magics (memlens/jupyter/)."""
    from memlens.jupyter import load_ipython_extension as load

    load(ipython)

"""`memlens profile`: line-by-line memory of one function, run in a separate process.

Modules: `parent` supervises the target process (timeout, memory cap, cancel), `source` reads
the target file statically, `result` is the typed result (and its JSON), `report` renders the
text table, `cli` parses the command line, `notebook` decides which cells of a notebook run.
Inside the target interpreter: `runner` (run as a file) drives the entry and writes snapshots,
`target.tracer` is the line model, `target.rss` reads memory, `target.codefind` finds the code
object of the function, `target.cells` runs a notebook's cells. `inprocess` runs the tracer in
this process instead (the IPython extension: the kernel's own state).
"""

from importlib import import_module

# Where each public name lives, imported on first use: the language server's lenses need only
# `source`, and importing `parent` (psutil) would slow every start of the server.
_EXPORTS = {
    "EXIT_CODES": "parent", "profile": "parent", "profile_function": "parent",
    "format_table": "report",
    "ErrorKind": "result", "LineRow": "result", "ProfileError": "result",
    "ProfileResult": "result", "Status": "result",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

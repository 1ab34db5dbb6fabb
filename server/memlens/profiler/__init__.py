"""`memlens profile`: line-by-line memory of one function, run in a separate process.

Modules: `parent` supervises the target process (timeout, memory cap, cancel), `source` reads
the target file statically, `result` is the typed result (and its JSON), `report` renders the
text table, `cli` parses the command line.
Inside the target interpreter: `runner` (run as a file) drives the entry and writes snapshots,
`target.tracer` is the line model, `target.rss` reads memory, `target.codefind` finds the code
object of the function.
"""

from .parent import EXIT_CODES, profile, profile_function
from .report import format_table
from .result import ErrorKind, LineRow, ProfileError, ProfileResult, Status

__all__ = ["EXIT_CODES", "ErrorKind", "LineRow", "ProfileError", "ProfileResult", "Status",
           "format_table", "profile", "profile_function"]

"""`memlens profile`: line-by-line memory of one function, run in a separate process.

Modules: `parent` supervises the target process (timeout, memory cap, cancel), `runner` runs
inside the target interpreter, `tracer` is the line model with cheap RSS reads, `source` reads
the target file statically, `report` renders the text table, `cli` parses the command line.
"""

from .parent import EXIT_CODES, profile_function
from .report import format_table

__all__ = ["EXIT_CODES", "format_table", "profile_function"]

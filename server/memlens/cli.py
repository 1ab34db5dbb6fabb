"""The `memlens` command: a thin dispatcher to each subcommand's own module.

Subcommands are imported lazily so that `memlens check` never pays for pygls and
`memlens serve` never pays for the profiler.
"""

from __future__ import annotations

import importlib
import sys

USAGE = """usage: memlens <command> [options]

commands:
  check     lint Python files for memory-hungry patterns
  rule      show the documentation of a rule (or --all)
  profile   line-by-line memory profile of one function
  serve     run the language server (stdio, or --tcp HOST:PORT)

Run `memlens <command> --help` for the options of a command.
"""

# command -> module whose `main(argv: list[str]) -> int` implements it
COMMANDS = {
    "check": "memlens.engine.cli",
    "rule": "memlens.engine.rule_cli",
    "profile": "memlens.profiler.cli",
    "serve": "memlens.lsp.cli",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    if argv[0] in ("-V", "--version"):
        from memlens import __version__

        print(f"memlens {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    module_name = COMMANDS.get(command)
    if module_name is None:
        print(f"memlens: unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
        return 2
    module = importlib.import_module(module_name)
    return int(module.main(rest) or 0)

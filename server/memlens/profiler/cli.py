"""`memlens profile FILE::QUALNAME [options] [-- ARGS]`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .parent import EXIT_CODES, profile
from .report import format_table

DESCRIPTION = """\
Profile the memory of one function line by line, in a separate process.

Entry modes: the script's __main__ block (default when the file has one), --call EXPR (import
the file as a module and evaluate EXPR in its namespace; a function without required arguments
is simply called), or --pytest NODEID (run that test with pytest.main).
A notebook (.ipynb): --cell N runs the code cells above cell N in a fresh process (the cells
are numbered as Ruff numbers them, markdown included), then cell N line by line; NB.ipynb::FUNC
runs the cells up to the one defining FUNC (or cell N, with --cell), then calls it (--call
EXPR). Cells with magics need IPython in the target interpreter. The working folder is the
notebook's, as in a kernel. Your running kernels are never touched.
Exit code: 0 ok, 1 raised/timeout/memory_limit/cancelled, 2 not_found/setup_error/usage.

Speed: a line that finishes within 50 us of the previous RSS read (a hot loop line) has its
occurrence counted but RSS is read later, so its memory goes to a nearby line of the loop.
MEMLENS_SAMPLE_INTERVAL_US=0 reads RSS after every line (exact, several times slower).
The --max-memory cap always applies to the whole process tree of the target.
"""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value != value:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value


def _cell_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a cell number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"cells are counted from 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memlens profile", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="memlens profile FILE::QUALNAME [options] [-- ARGS...]\n"
              "       memlens profile NB.ipynb --cell N [options]",
    )
    p.add_argument("target", metavar="FILE::QUALNAME",
                   help="e.g. app/explain.py::explain, model.py::Model.fit, nb.ipynb::score, "
                   "or a notebook with --cell")
    p.add_argument("--cell", type=_cell_number, metavar="N",
                   help="a notebook's cell (1-based, markdown cells counted): profile it, or "
                   "with NB.ipynb::FUNC, the FUNC defined in it")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--call", metavar="EXPR", help='e.g. --call "explain(load_data()[:100])"')
    mode.add_argument("--pytest", metavar="NODEID", dest="pytest_node",
                      help="e.g. tests/test_x.py::test_explain")
    mode.add_argument("--script", action="store_const", const="script", dest="entry",
                      help="run FILE as __main__ (the default when it has a __main__ block)")
    p.add_argument("--python", metavar="PATH", help="interpreter to run the target in")
    p.add_argument("--timeout", type=_positive, default=300.0, metavar="SECONDS")
    p.add_argument("--max-memory", type=_positive, metavar="MIB", dest="max_memory_mib",
                   help="stop the run when the RSS of its process tree exceeds this "
                   "(default: 80%% of available memory)")
    p.add_argument("--include-children", action="store_true",
                   help="add the memory of child processes")
    p.add_argument("--cwd", metavar="DIR", help="working directory of the target")
    p.add_argument("--output-format", choices=("text", "json"), default="text")
    return p


def main(argv: list[str]) -> int:
    argv = list(argv)
    args_after: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, args_after = argv[:cut], argv[cut + 1:]
    parser = build_parser()
    try:
        opts = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    file, sep, qualname = opts.target.rpartition("::")
    if not sep and opts.cell is not None:
        file, qualname = opts.target, None  # a notebook's cell
    elif not sep or not file or not qualname:
        parser.print_usage(sys.stderr)
        print("memlens profile: the target must be FILE::QUALNAME (or NB.ipynb --cell N)",
              file=sys.stderr)
        return 2

    cancel = threading.Event()
    # Ctrl-C and SIGTERM stop the run the same way: its processes killed, its folder removed
    previous = signal.signal(signal.SIGINT, lambda signum, frame: cancel.set())
    previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: cancel.set())
    text = opts.output_format == "text"

    def progress(message: str) -> None:
        if text and sys.stderr.isatty():
            print(f"memlens: {message}", file=sys.stderr)

    try:
        result = profile(
            file, qualname, entry=opts.entry, call=opts.call, pytest_node=opts.pytest_node,
            args=args_after, python=opts.python, timeout=opts.timeout,
            max_memory_mib=opts.max_memory_mib, include_children=opts.include_children,
            cwd=opts.cwd, cancel=cancel, on_progress=progress, cell=opts.cell,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)

    if text:
        if result.output:
            sys.stderr.write(result.output)
            if not result.output.endswith("\n"):
                sys.stderr.write("\n")
        sys.stdout.write(format_table(result))
    else:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    sys.stdout.flush()
    return EXIT_CODES.get(result.status.value, 1)

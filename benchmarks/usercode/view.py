"""Read a notebook as reviewers label it: each code cell with its number (Ruff's `cell N`),
its lines numbered within the cell, and what it printed (shapes and sizes are evidence).

    .venv/bin/python benchmarks/usercode/view.py path/to/nb.ipynb [--no-outputs] [--max-output 15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "server"))

from memlens.engine.lines import split_lines  # noqa: E402
from memlens.notebook import NotebookError, read_notebook  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--no-outputs", action="store_true")
    parser.add_argument("--max-output", type=int, default=15, help="lines per output shown")
    args = parser.parse_args(argv)
    try:
        nb = read_notebook(args.notebook.read_text(encoding="utf-8", errors="replace"))
    except NotebookError as exc:
        print(f"{args.notebook}: {exc}", file=sys.stderr)
        return 1
    for cell in nb.cells:
        print(f"# ---- cell {cell.number} " + "-" * 60)
        for i, line in enumerate(split_lines(cell.source), start=1):
            print(f"{i:4d}| {line}")
        if not args.no_outputs:
            for out in cell.outputs:
                lines = split_lines(out.rstrip("\n"))
                shown = lines[: args.max_output]
                for line in shown:
                    print(f"    >> {line[:200]}")
                if len(lines) > len(shown):
                    print(f"    >> ... ({len(lines) - len(shown)} more lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

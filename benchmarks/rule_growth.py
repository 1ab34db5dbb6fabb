"""How each rule's cost grows with the file: every rule must be linear in the file's size.

    .venv/bin/python benchmarks/rule_growth.py [--size 500] [--factor 4] [--rule ML101]

For each rule, its own `invalid:` snippets are repeated to make a file of about `--size`
snippets, then `--factor` times that, and `check_source` (the rule alone, fixes included, as
`memlens check` computes them) is timed on both, best of three. The ratio of the two times is
printed beside the ratio of the sizes: a linear rule's time ratio is close to the size ratio,
a quadratic one's close to its square. The worst shape found by the fault run is timed too:
module-level loads (4,000 `x = np.load(...)` lines took 45 s before ML101 used a lookup table).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from memlens.engine import Engine, Settings  # noqa: E402
from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir  # noqa: E402


def _best(engine: Engine, text: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        engine.check_source(text, "growth.py", parse_whole=True)
        best = min(best, time.perf_counter() - started)
    return best


def _file(snippets: tuple[str, ...], count: int) -> str:
    """`count` snippets, imports first, each body as module-level code."""
    imports, bodies = [], []
    for snippet in snippets:
        lines = snippet.splitlines()
        imports += [line for line in lines if line.startswith(("import ", "from "))]
        bodies.append("\n".join(line for line in lines
                                if not line.startswith(("import ", "from "))))
    body = "\n".join(bodies[i % len(bodies)] for i in range(count))
    return "\n".join(dict.fromkeys(imports)) + "\n" + body + "\n"


def _module_loads(count: int) -> str:
    lines = ["import numpy as np"] + [f"a{i} = np.load('f{i}.npy')" for i in range(count)]
    return "\n".join([*lines, "def first():", "    return a0", ""])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=500, help="snippets in the smaller file")
    p.add_argument("--factor", type=int, default=4, help="how much larger the second file is")
    p.add_argument("--rule", action="append", help="only these rules (repeatable)")
    args = p.parse_args(argv)
    rules = [r for r in load_rule_dir(builtin_rule_dir())
             if not args.rule or r.id in args.rule]
    small, large = args.size, args.size * args.factor
    print(f"{'case':28} {'small s':>9} {'large s':>9} {'time x':>7}  (size x{args.factor}; "
          f"linear ~{args.factor}, quadratic ~{args.factor ** 2})")
    worst = 0.0
    cases = [(f"{r.id} snippets", Engine(Settings(select=(r.id,))), r.invalid) for r in rules
             if r.invalid]
    for name, engine, snippets in cases:
        a = _best(engine, _file(snippets, small))
        b = _best(engine, _file(snippets, large))
        ratio = b / a if a > 0 else float("nan")
        worst = max(worst, ratio)
        print(f"{name:28} {a:9.3f} {b:9.3f} {ratio:7.1f}")
    engine = Engine(Settings(select=("ALL",)))
    a = _best(engine, _module_loads(1000), runs=1)
    b = _best(engine, _module_loads(1000 * args.factor), runs=1)
    print(f"{'module-level loads, ALL':28} {a:9.3f} {b:9.3f} {b / a:7.1f}  "
          f"(1,000 and {1000 * args.factor:,} lines)")
    print(f"worst growth ratio: {max(worst, b / a):.1f} for x{args.factor} the size")
    return 0


if __name__ == "__main__":
    sys.exit(main())

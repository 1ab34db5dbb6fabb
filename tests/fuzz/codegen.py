"""A fuzz campaign of the engine on generated ML code: real rule hits, real fixers.

    .venv/bin/python -m tests.fuzz.codegen --modules 5000 --seed 20261207   # the long run
    (tests/fuzz/test_codegen.py runs a few seconds of it in `make test`;
    MEMLENS_FUZZ_MODULES=5000 makes that test the long run)

Each module is composed from the rules' own `invalid:` snippets (server/memlens/rules/*.yml):
each one at module level, in a function with keyword-only arguments (with and without
defaults), a decorated function, a method, under `if`, `try`, `with` or `for`, with ordinary
Python around it. The module is then reshaped the ways that broke fixes before: indentation by
tabs or two spaces, simple statements joined with `;`, line breaks inside brackets (after an
operator too) and comment lines there (dedented below their block too). Every module is valid Python (checked; a reshaping that
would break it is not made).

For every module the campaign checks:
- checking it raises nothing, and no rule or fixer raised inside (the engine swallows that to
  keep the other findings; here it is a failure);
- no `syntax-error` finding (Python accepts every module);
- every fix offered, applied alone, leaves code that parses; no fixer offered one that did
  not (the engine drops those, and says so in its debug log), unless tree-sitter misread the
  module (valid code it cannot parse even mended: its fixers then get a wrong tree);
- `fix_source` (safe and unsafe fixes) leaves code that parses, and fixing that again changes
  nothing;
- at the end, `memlens check --fix --unsafe-fixes` over the modules as files writes only code
  that parses, reports no internal error, and a second run has nothing left to fix.

It prints its figures (modules, findings, fixes, rules hit) and every failure with the seed
and index that reproduce it; `--out DIR` keeps each failing module there.
"""

from __future__ import annotations

import argparse
import ast
import io
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from ast_grep_py import SgRoot

from memlens.engine import SYNTAX_ERROR, Engine, Settings
from memlens.engine.edits import apply_edits
from memlens.engine.pysyntax import readable_by_tree_sitter
from memlens.engine.rulebook import builtin_rule_dir, load_rule_dir

FILLER = [
    "CONSTANT = [1, 2,\n    3]\n",
    "def helper(*, key):\n    return key\n",
    "def helper2(a, /, b, *, c=None, **kw):\n    return a, b, c, kw\n",
    "class Config:\n    name = 'x'\n\n    def get(self, *, key, default=None):\n"
    "        return getattr(self, key, default)\n",
    "@functools.cache\ndef cached(n):\n    return n * 2\n",
    "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n",
    "if __debug__:\n    DEBUG = True\n",
    "total = sum(x for x in range(10))  # a comment\n",
    "values = {\n    'a': 1,\n    # a comment\n    'b': 2,\n}\n",
    "async def fetch(*, url):\n    return url\n",
]
WRAPPERS = ["module", "function", "kwonly", "decorated", "method", "if", "try", "with", "for"]
INDENTS = ["    ", "    ", "\t", "  "]


def snippets() -> list[tuple[str, str]]:
    """(rule id, snippet) for every `invalid:` snippet of every built-in rule."""
    return [(rule.id, s) for rule in load_rule_dir(builtin_rule_dir()) for s in rule.invalid]


def _valid(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _indent(text: str, by: str) -> str:
    return "".join(by + line if line.strip() else line for line in text.splitlines(True))


def _split_imports(snippet: str) -> tuple[str, str]:
    """The snippet's leading top-level imports, and the rest."""
    lines = snippet.splitlines(True)
    i = 0
    while i < len(lines) and (lines[i].startswith(("import ", "from ")) or not lines[i].strip()):
        i += 1
    return "".join(lines[:i]), "".join(lines[i:])


def wrap(snippet: str, how: str, k: int) -> str:
    imports, body = _split_imports(snippet)
    if how == "module" or not body.strip():
        return snippet
    if how == "function":
        return f"{imports}def fuzz_{k}(path, data):\n{_indent(body, '    ')}"
    if how == "kwonly":
        return f"{imports}def fuzz_{k}(path, *, data, rows=None):\n{_indent(body, '    ')}"
    if how == "decorated":
        return f"{imports}@functools.lru_cache(maxsize=None)\ndef fuzz_{k}(path, *, data):\n" \
               f"{_indent(body, '    ')}"
    if how == "method":
        return f"{imports}class Fuzz{k}:\n    attr = 1\n\n    def run(self, path, *, data):\n" \
               f"{_indent(body, '        ')}"
    if how == "if":
        return f"{imports}if FLAG:\n{_indent(body, '    ')}"
    if how == "try":
        return f"{imports}try:\n{_indent(body, '    ')}except Exception:\n    pass\n"
    if how == "with":
        return f"{imports}with context():\n{_indent(body, '    ')}"
    return f"{imports}for step in range(3):\n{_indent(body, '    ')}"


def reindent(text: str, unit: str) -> str:
    """Each leading group of four spaces as `unit` (tabs, two spaces)."""
    if unit == "    ":
        return text
    out = []
    for line in text.splitlines(True):
        stripped = line.lstrip(" ")
        n = len(line) - len(stripped)
        out.append(unit * (n // 4) + " " * (n % 4) + stripped)
    return "".join(out)


def join_with_semicolons(text: str, rng: random.Random) -> str:
    """Two consecutive one-line simple statements of one block on one line, `a; b`."""
    tree = ast.parse(text)
    pairs = []
    simple = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Import, ast.ImportFrom,
              ast.Pass, ast.Delete, ast.Global, ast.Nonlocal)
    for node in ast.walk(tree):
        for body in (getattr(node, "body", None), getattr(node, "orelse", None)):
            if not isinstance(body, list):
                continue
            for a, b in zip(body, body[1:], strict=False):
                if isinstance(a, simple) and isinstance(b, simple) and \
                        a.lineno == a.end_lineno and b.lineno == b.end_lineno == a.lineno + 1:
                    pairs.append(a.lineno - 1)
    lines = text.splitlines(True)
    for i in sorted(rng.sample(pairs, min(len(pairs), rng.randint(1, 3))), reverse=True):
        if "#" in lines[i] or "#" in lines[i + 1]:
            continue
        lines[i:i + 2] = [lines[i].rstrip("\r\n") + "; " + lines[i + 1].lstrip(" \t")]
    return "".join(lines)


def breaks_in_brackets(text: str, rng: random.Random) -> str:
    """Line breaks inside open brackets, after an opening bracket, a comma or an operator
    (the operator case is where tree-sitter misread a dedented comment)."""
    depth, spots = 0, []
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.type != tokenize.OP:
            continue
        if token.string in ")]}":
            depth -= 1
        opens = token.string in "([{"
        depth += opens
        if (opens or (depth > 0 and token.string in (",", "+", "-", "*", "|", "&"))) and \
                following.start[0] == token.end[0] and following.string not in ")]}" and \
                following.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            spots.append(token.end)
    starts = [0]
    for line in text.splitlines(True):
        starts.append(starts[-1] + len(line))
    for row, column in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 4))),
                              reverse=True):
        at = starts[row - 1] + column
        text = text[:at] + "\n" + " " * rng.choice([0, 2, 4, 8, 12]) + text[at:].lstrip(" ")
    return text


def comments_in_brackets(text: str, rng: random.Random) -> str:
    """Comment lines inside open brackets, at random indentation (below the block's too)."""
    breaks = [t.start[0] for t in tokenize.generate_tokens(io.StringIO(text).readline)
              if t.type == tokenize.NL and t.line.strip() and not t.line.lstrip().startswith("#")]
    lines = text.splitlines(True)
    for row in sorted(rng.sample(breaks, min(len(breaks), rng.randint(1, 3))), reverse=True):
        indent = rng.choice(["", " ", "   ", "\t", " " * rng.randint(0, 12)])
        lines.insert(row, f"{indent}# note {row}\n")
    return "".join(lines)


def module(parts: list[tuple[str, str]], rng: random.Random) -> str:
    """A valid module from rule snippets, wrapped, with filler, then reshaped."""
    pieces = ["import functools\n"]
    for k, (_, snippet) in enumerate(parts):
        if rng.random() < 0.5:
            pieces.append(rng.choice(FILLER))
        piece = wrap(snippet, rng.choice(WRAPPERS), k)
        pieces.append(piece if _valid(piece) else snippet)
    text = "\n\n".join(p.rstrip("\n") + "\n" for p in pieces)
    for step in (lambda t: join_with_semicolons(t, rng),
                 lambda t: breaks_in_brackets(t, rng),
                 lambda t: comments_in_brackets(t, rng),
                 lambda t: reindent(t, rng.choice(INDENTS))):
        if rng.random() < 0.6:
            try:
                shaped = step(text)
            except (SyntaxError, tokenize.TokenError, ValueError):
                continue
            if _valid(shaped):
                text = shaped
    return text


class _Swallowed(logging.Handler):
    """What the engine logs when it drops a rule's findings or a fix: failures here."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage() + (
            f" ({record.exc_info[0].__name__}: {record.exc_info[1]})" if record.exc_info else ""))


def _misread(text: str) -> bool:
    """Whether tree-sitter misreads this valid module even after the engine's mending (a line
    dedented inside brackets below a block deeper than its blanks can reach as tabs)."""
    readable = readable_by_tree_sitter(text)
    source = text if readable is None else readable[0]
    return SgRoot(source, "python").root().find(kind="ERROR") is not None


@dataclass
class Figures:
    modules: int = 0
    findings: int = 0
    fixes: int = 0
    fixed: int = 0
    misread: int = 0  # fixes dropped on a module tree-sitter misreads (not failures)
    rules: set = field(default_factory=set)
    failures: list = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> str:
        return (f"modules {self.modules}, findings {self.findings} ({len(self.rules)} rules), "
                f"fixes offered {self.fixes}, applied by fix_source {self.fixed}, "
                f"dropped on a tree-sitter misreading {self.misread}, "
                f"failures {len(self.failures)}, {self.seconds:.1f} s")


def check_module(engine: Engine, text: str, where: str, figures: Figures,
                 swallowed: _Swallowed) -> str | None:
    """The checks of one module; the text `fix_source` made of it (None if it raised)."""
    fail = figures.failures.append
    swallowed.records.clear()
    try:
        findings = engine.check_source(text, "fuzz.py", parse_whole=True)
        new_text, applied = engine.fix_source(text, "fuzz.py", unsafe=True)
        again, more = engine.fix_source(new_text, "fuzz.py", unsafe=True)
    except Exception as exc:  # noqa: BLE001 - any exception is the finding
        fail(f"{where}: the check raised {type(exc).__name__}: {exc}")
        return None
    figures.findings += len(findings)
    figures.rules.update(f.code for f in findings)
    misread = _misread(text)
    for record in swallowed.records:
        if misread and record.endswith("would not parse; the finding has no fix"):
            figures.misread += 1  # a fixer given tree-sitter's wrong tree: dropped, rightly
            continue
        fail(f"{where}: {record}")
    for f in findings:
        if f.code == SYNTAX_ERROR:
            fail(f"{where}: syntax-error on valid Python: {f.message} at {f.start}")
        if f.fix is None:
            continue
        figures.fixes += 1
        if not _valid(apply_edits(text, f.fix.edits)):
            fail(f"{where}: the fix of {f.code} at {f.start.line + 1}:{f.start.column + 1} "
                 "does not parse")
    figures.fixed += len(applied)
    if not _valid(new_text):
        fail(f"{where}: fix_source wrote code that does not parse")
    if again != new_text:
        fail(f"{where}: fixing the fixed code again changed it ({[f.code for f in more]})")
    return new_text


def run(modules: int, seed: int, out: Path | None = None, cli: bool = True,
        log=print) -> Figures:
    rng = random.Random(seed)
    pool = snippets()
    engine = Engine(Settings(select=("ALL",)))
    figures = Figures()
    swallowed = _Swallowed()
    logger = logging.getLogger("memlens.engine")
    logger.addHandler(swallowed)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    started = time.perf_counter()
    kept: list[tuple[str, str]] = []
    try:
        for i in range(modules):
            parts = rng.sample(pool, rng.randint(1, 4))
            text = module(parts, rng)
            where = f"seed {seed} module {i} ({', '.join(r for r, _ in parts)})"
            before = len(figures.failures)
            check_module(engine, text, where, figures, swallowed)
            figures.modules += 1
            if len(figures.failures) > before and out is not None:
                out.mkdir(parents=True, exist_ok=True)
                (out / f"seed{seed}-module{i}.py").write_text(text)
            if len(kept) < 20:
                kept.append((f"m{i}.py", text))
    finally:
        logger.removeHandler(swallowed)
        logger.setLevel(level)
    if cli and kept:
        _cli_round(kept, seed, figures)
    figures.seconds = time.perf_counter() - started
    if log is not None:
        log(figures.report())
        for failure in figures.failures[:50]:
            log("  " + failure)
    return figures


def _cli_round(files: list[tuple[str, str]], seed: int, figures: Figures) -> None:
    """`memlens check --fix --unsafe-fixes` over the modules as files, twice."""
    fail = figures.failures.append
    memlens = [str(Path(sys.executable).parent / "memlens")]
    if not Path(memlens[0]).exists():
        memlens = [sys.executable, "-m", "memlens"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text('[tool.memlens]\nselect = ["ALL"]\n')
        for name, text in files:
            (root / name).write_text(text)
        runs = []
        for _ in range(2):
            runs.append(subprocess.run(
                [*memlens, "check", "--fix", "--unsafe-fixes", "--no-cache",
                 "--output-format", "concise", "."], cwd=root, capture_output=True, text=True,
                timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"}))
        first, second = runs
        for name, _ in files:
            if not _valid((root / name).read_text()):
                fail(f"seed {seed} CLI: --fix wrote {name}, which does not parse")
        for r in runs:
            if "internal error" in r.stdout or r.returncode not in (0, 1) or r.stderr.strip():
                fail(f"seed {seed} CLI: exit {r.returncode}: {(r.stderr or r.stdout)[-400:]}")
        if "Fixed " in second.stdout:
            fail(f"seed {seed} CLI: a second --fix still fixed: "
                 f"{[line for line in second.stdout.splitlines() if 'Fixed' in line]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modules", type=int, default=5_000)
    p.add_argument("--seed", type=int, default=20261207)
    p.add_argument("--out", type=Path, help="keep each failing module in this folder")
    p.add_argument("--no-cli", action="store_true", help="skip the `memlens check --fix` round")
    args = p.parse_args(argv)
    figures = run(args.modules, args.seed, args.out, cli=not args.no_cli)
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""`memlens check [PATH ...]`: lint files for memory-hungry patterns.

Exit codes: 0 no findings, 1 findings (or files that could not be checked, or that overran
`--timeout`), 2 a usage or configuration error, reported as one line naming the bad path, flag
or rule file. What is not read or used (a symlinked `.gitignore` or cache folder) is one
warning line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from memlens import __version__
from memlens.engine import batch
from memlens.engine.batch import CHECK, DIFF, FIX, BadInput, Result, Task, read_source
from memlens.engine.cache import Cache, cache_root, namespace
from memlens.engine.config import ConfigError, Settings, _read_table
from memlens.engine.discovery import CHECK_SUFFIXES, MissingPathError, discover
from memlens.engine.lines import split_lines
from memlens.engine.measured import HOT_LINE_MIB, MeasurementError
from memlens.engine.model import IO_ERROR, Finding
from memlens.engine.output import FORMATS, Report, printable, render
from memlens.engine.resolver import Overrides, Resolver
from memlens.engine.rulebook import RuleError, builtin_rule_dir
from memlens.engine.selection import SelectorError, validate_selectors

PROG = "memlens check"
# one file's budget, as the language server's memlens.checkTimeoutSeconds
DEFAULT_TIMEOUT_S = 20.0


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse would print the whole usage)
        raise UsageError(message)


def _codes(value: str) -> list[str]:
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not codes:
        raise argparse.ArgumentTypeError("expected comma-separated rule codes")
    return codes


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):  # (NaN fails too)
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0: no limit), got "
                                         f"{value!r}")
    return seconds


def _mib(value: str) -> float:
    try:
        mib = float(value)
    except ValueError:
        mib = -1.0
    if not 0 <= mib < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of MiB, got {value!r}")
    return mib


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Lint Python files for memory-hungry ML/data patterns.")
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                   help="files or folders to check (default: .); - reads one file from stdin")
    p.add_argument("--stdin-filename", metavar="PATH",
                   help="the name of the file read from stdin (its configuration, per-file "
                        "ignores and the name shown)")
    p.add_argument("--select", type=_codes, metavar="CODES",
                   help="rules to enable: ids, prefixes such as ML3, or ALL (replaces the config)")
    p.add_argument("--ignore", type=_codes, metavar="CODES",
                   help="rules to disable (added to the config's ignore)")
    p.add_argument("--extend-select", type=_codes, metavar="CODES",
                   help="rules to enable on top of the selection")
    p.add_argument("--output-format", choices=FORMATS, default=None,
                   help="text (default), concise, json, sarif or github")
    p.add_argument("--fix", action="store_true", help="apply safe fixes")
    p.add_argument("--unsafe-fixes", action="store_true",
                   help="also apply (with --fix, --diff) or count the unsafe, suggested fixes")
    p.add_argument("--diff", action="store_true",
                   help="print the fixes as a unified diff instead of writing them")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    p.add_argument("--show-hints", action="store_true",
                   help="show hints too: findings whose pattern is there but whose size the "
                        "code does not show (they never change the exit code)")
    p.add_argument("--measurements", action="append", default=[], metavar="FILE.json",
                   help="apply profile results saved by `memlens profile --output-format json` "
                        "(one result or a list; repeatable): a finding on a line measured at or "
                        "over --hot-line-threshold-mb is a warning, one on a line measured "
                        "smaller a hint")
    p.add_argument("--hot-line-threshold-mb", type=_mib, default=HOT_LINE_MIB, metavar="MIB",
                   help="with --measurements: the increment that confirms a finding (default: "
                        f"{HOT_LINE_MIB:g}, as the editor's memlens.profile.hotLineThresholdMb)")
    p.add_argument("--statistics", action="store_true",
                   help="print the number of findings per rule instead of the findings")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("-q", "--quiet", action="store_true", help="print the findings only")
    p.add_argument("--config", metavar="PATH",
                   help="use this pyproject.toml instead of looking for one")
    p.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    p.add_argument("--no-respect-gitignore", action="store_true",
                   help="check files that .gitignore ignores")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="processes to use (default: one per core)")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                   help="stop checking a file after this long and report it as timed out; "
                        f"the others are checked (default: {DEFAULT_TIMEOUT_S:g}; 0: never)")
    p.add_argument("--version", action="version", version=f"memlens {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    _warned.clear()
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    try:
        return _run(args)
    except UsageError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (ConfigError, RuleError, SelectorError, MissingPathError, MeasurementError) as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `memlens check | head`
        sys.stderr.close()
        return 1


# --- settings and engines ------------------------------------------------------------------


def _load_config(path: str) -> Settings:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--config: {path}: no such file")
    table = _read_table(file.resolve(), named=True)
    if table is None:
        raise ConfigError(f"{path}: has no [tool.memlens] table")
    return Settings.from_table(table, file.resolve())


def _resolver(args) -> Resolver:
    """Each file's settings: its project's [tool.memlens] (or the one `--config` names, or none
    with `--isolated`), with the flags on top."""
    fixed = Settings() if args.isolated else _load_config(args.config) if args.config else None
    flags = Overrides(
        select=None if args.select is None else tuple(args.select),
        ignore=tuple(args.ignore or ()),
        extend_select=tuple(args.extend_select or ()),
        respect_gitignore=False if args.no_respect_gitignore else None,
    )
    return Resolver(flags, fixed=fixed)


class _LazyEngine:
    """One configuration's engine, built when a file needs checking: a warm run, whose files are
    all cached, never loads and compiles the rules (most of what it would cost). Its selectors
    are checked now all the same (against the built-in rule ids, named by their files; with
    `rule-dirs` the engine is built now, which also checks those rule files)."""

    def __init__(self, settings: Settings, args):
        self.settings = settings
        self._args = args
        self._engine = None
        if settings.rule_dirs:
            self.get()
        else:
            _translated_errors(settings, args, lambda: _validate_builtin_selectors(settings))

    def check_source(self, *args, **kwargs):
        return self.get().check_source(*args, **kwargs)

    def fix_source(self, *args, **kwargs):
        return self.get().fix_source(*args, **kwargs)

    def get(self):
        if self._engine is None:
            from memlens.engine.core import Engine

            self._engine = _translated_errors(self.settings, self._args,
                                              lambda: Engine(self.settings))
        return self._engine


def _validate_builtin_selectors(settings: Settings) -> None:
    codes = [p.stem for p in builtin_rule_dir().glob("*.yml")]
    for where, selectors in (("select", settings.select or ()),
                             ("extend-select", settings.extend_select),
                             ("ignore", settings.ignore)):
        validate_selectors(selectors, codes, where)


def _translated_errors(settings: Settings, args, build):
    """`build()`, with its selector and rule errors said in terms of the flag or config key."""
    try:
        return build()
    except SelectorError as exc:
        flag = {"select": args.select, "ignore": args.ignore,
                "extend-select": args.extend_select}.get(exc.where)
        if flag and exc.selector in flag:
            raise UsageError(f"--{exc.where}: {exc.reason}") from None
        raise SelectorError(exc.where, exc.selector,
                            str(settings.config_file or "settings")) from None


def _nested_configs(args, tasks: list[Task], resolver: Resolver, engines: list,
                    engine_of: dict, starts: list[Path]) -> list[Task]:
    """Give each file the configuration of its own project: a pyproject.toml with [tool.memlens]
    in a folder below a checked path governs the files below it (its select, ignore, severity,
    per-file-ignores and exclude), as in Ruff. Paths named on the command line are checked even
    when that exclude names them."""
    named = {os.path.abspath(raw) for raw in args.paths}
    kept = []
    for task in tasks:
        absolute = task.absolute or os.path.abspath(task.path)
        folder = os.path.dirname(absolute)
        config = resolver.config_of(folder)
        if config is None:
            kept.append(task)
            continue
        if config != engines[task.engine].settings.config_file:
            settings = resolver.for_folder(folder)
            if id(settings) not in engine_of:
                engine_of[id(settings)] = len(engines)
                engines.append(_LazyEngine(settings, args))
                starts.append(config.parent)
            task.engine = engine_of[id(settings)]
            if absolute not in named and engines[task.engine].settings.is_excluded(absolute):
                continue
        kept.append(task)
    return kept


# --- the run -------------------------------------------------------------------------------


def _run_stdin(args) -> int:
    """`memlens check -`: one file from stdin, named by --stdin-filename. The findings go to
    stdout; with --fix the fixed code goes to stdout and what remains to stderr (as in Ruff);
    with --diff, the diff. Nothing is cached or written."""
    mode = DIFF if args.diff else FIX if args.fix else CHECK
    name = args.stdin_filename or "-"
    engine = _LazyEngine(_resolver(args).for_path(args.stdin_filename or "."), args)
    data = sys.stdin.buffer.read()
    stats = {"files": 1, "hits": 0, "misses": 1}  # no cache: one file, checked
    if batch.is_notebook(name):
        return _run_stdin_notebook(args, engine, name, data, mode, stats)
    try:
        source = read_source(name, data)
    except BadInput as exc:
        problem = [batch.io_error(name, str(exc))]
        if mode != FIX:
            return _report(args, [engine], problem, 0, [], CHECK, args.unsafe_fixes, stats)
        sys.stdout.buffer.write(data)  # the input, unchanged: a pipe must not lose it
        sys.stdout.flush()
        with contextlib.redirect_stdout(sys.stderr):
            return _report(args, [engine], problem, 0, [], CHECK, args.unsafe_fixes, stats)
    measurements = _load_measurements(args)
    # one file: parse it even when no rule could match, so that its syntax errors show
    findings = engine.check_source(source.text, name, parse_whole=True)
    if measurements and mode == CHECK:
        where = os.path.abspath(args.stdin_filename) if args.stdin_filename else None
        findings = _apply_measurements(args, measurements, findings, {where: name} if where
                                       else {}, {name: source.text})
    if mode == CHECK:
        return _report(args, [engine], findings, 0, [], CHECK, args.unsafe_fixes, stats,
                       sources={name: source.text})
    new_text, applied = engine.fix_source(source.text, name, unsafe=args.unsafe_fixes)
    if mode == DIFF:
        diff = batch.file_diff(name, source.text, new_text)
        return _report(args, [engine], findings, len(applied), [diff] if applied else [],
                       DIFF, args.unsafe_fixes, stats)
    sys.stdout.write(new_text)
    sys.stdout.flush()
    remaining = engine.check_source(new_text, name, parse_whole=True) if applied else findings
    with contextlib.redirect_stdout(sys.stderr):
        return _report(args, [engine], remaining, len(applied), [], FIX, args.unsafe_fixes,
                       stats, sources={name: new_text})


def _run_stdin_notebook(args, engine, name: str, data: bytes, mode: str, stats: dict) -> int:
    """`memlens check - --stdin-filename nb.ipynb`: a notebook's JSON from stdin, as `_run_stdin`
    takes a file (with --fix, the fixed notebook's JSON goes to stdout)."""
    from memlens.engine import notebooks

    unsafe = args.unsafe_fixes
    try:
        notebook = batch.read_notebook_file(name, data)
    except BadInput as exc:
        problem = [batch.io_error(name, str(exc))]
        if mode != FIX:
            return _report(args, [engine], problem, 0, [], CHECK, unsafe, stats)
        sys.stdout.buffer.write(data)  # the input, unchanged: a pipe must not lose it
        sys.stdout.flush()
        with contextlib.redirect_stdout(sys.stderr):
            return _report(args, [engine], problem, 0, [], CHECK, unsafe, stats)
    findings = notebooks.check(engine, notebook.source, name, parse_whole=True)
    cells = {name: {c.number: c.source for c in notebook.source.cells}}
    if mode == CHECK:
        return _report(args, [engine], findings, 0, [], CHECK, unsafe, stats, cells=cells)
    fixed, changed, applied = notebooks.fix(engine, notebook, name, unsafe)
    if mode == DIFF:
        diff = notebooks.cell_diff(name, notebook.source, changed)
        return _report(args, [engine], findings, len(applied), [diff] if diff else [], DIFF,
                       unsafe, stats)
    sys.stdout.buffer.write(fixed.raw.encode("utf-8") if changed else data)
    sys.stdout.flush()
    remaining = notebooks.check(engine, fixed.source, name, parse_whole=True) if changed \
        else findings
    with contextlib.redirect_stdout(sys.stderr):
        return _report(args, [engine], remaining, len(applied), [], FIX, unsafe, stats,
                       cells={name: {c.number: c.source for c in fixed.source.cells}})


def _run(args) -> int:
    if args.paths == ["-"]:
        return _run_stdin(args)
    if "-" in args.paths:
        raise UsageError("-: stdin is read alone (memlens check - --stdin-filename PATH)")
    if args.stdin_filename:
        raise UsageError("--stdin-filename: only with - as the path")
    t0 = time.perf_counter()
    mode = DIFF if args.diff else FIX if args.fix else CHECK
    unsafe = args.unsafe_fixes
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs: must be at least 1")
    for raw in args.paths:
        if not os.path.exists(raw):
            raise MissingPathError(f"{raw}: no such file or directory")

    measurements = _load_measurements(args)  # (a bad file stops the run before it starts)

    # One engine per distinct configuration (normally one).
    resolver = _resolver(args)
    engines: list = []
    engine_of: dict[int, int] = {}  # id(settings) -> engine index
    groups: list[tuple[int, str]] = []
    for raw in args.paths:
        settings = resolver.for_path(Path(raw).resolve())
        if id(settings) not in engine_of:
            engine_of[id(settings)] = len(engines)
            engines.append(_LazyEngine(settings, args))
        groups.append((engine_of[id(settings)], raw))

    starts = [Path(next(raw for idx, raw in groups if idx == i)) for i in range(len(engines))]
    # the workspace whose data files the size evidence reads: the project's folder (of its
    # configuration), else the folder memlens runs in; nothing outside it is read
    root_of = [str(e.settings.root) if e.settings.root is not None else os.getcwd()
               for e in engines]
    tasks: list[Task] = []
    seen: set[str] = set()
    for index, raw in groups:
        named_file = os.path.isfile(raw)
        for shown, absolute in discover([raw], engines[index].settings, _warn, CHECK_SUFFIXES):
            if absolute not in seen:
                seen.add(absolute)
                # a file named on the command line is parsed even when no rule could match it:
                # its syntax errors show (files found in a folder skip that parse)
                tasks.append(Task(shown, index, parse=named_file, absolute=absolute,
                                  root=root_of[index]))
    if not (args.isolated or args.config):
        tasks = _nested_configs(args, tasks, resolver, engines, engine_of, starts)
    t_discover = time.perf_counter()

    caches: list[Cache | None] = [None] * len(engines)
    cache: Cache | None
    if not args.no_cache:
        for i, engine in enumerate(engines):
            s = engine.settings
            rule_dirs = [builtin_rule_dir(), *s.rule_dirs]
            cache = Cache(cache_root(s, starts[i]), namespace(s, rule_dirs, "check"))
            if cache.problem:
                _warn(cache.problem)
            caches[i] = cache if cache.enabled else None

    results: list[Result] = []
    todo: list[Task] = []
    hits = 0
    for task in tasks:
        cache = caches[task.engine]
        if cache is None:
            todo.append(task)
            continue
        # a named file needs an entry of a whole-file check (its syntax errors)
        cached, expected = cache.lookup(task.absolute, whole=task.parse, shown=task.path)
        if cached is not None and (mode == CHECK or not any(
                f.fixable(unsafe) for f in cached)):
            results.append(Result(task.path, cached, hit=True))
            hits += 1
            continue
        task.expected = expected
        todo.append(task)

    sizes = {}
    for task in todo:
        try:
            sizes[task.path] = os.stat(task.path).st_size
        except OSError:
            sizes[task.path] = 0
    t_cache = time.perf_counter()
    task_of = {t.path: t for t in todo}
    if any(task.expected is None for task in todo):
        for engine in engines:  # some file needs checking: built before workers fork, once
            engine.get()
    for result in batch.run(engines, todo, mode, unsafe, args.jobs, sizes, args.timeout):
        task = task_of[result.path]
        cache = caches[task.engine]
        if result.hit and cache is not None:
            cache.restat(task.absolute)
            result.findings = cache.cached_findings(task.absolute, task.path)
            hits += 1
        elif cache is not None and result.digest is not None:
            cache.store(task.absolute, result.digest, result.findings, None, whole=task.parse)
        results.append(result)
    t_check = time.perf_counter()
    for cache in caches:
        if cache is not None:
            cache.save()

    findings: list[Finding] = []
    fixed = 0
    diffs = []
    for result in sorted((r for r in results if r.notice), key=lambda r: r.path):
        print(f"{PROG}: warning: {printable(result.path)}: {result.notice}", file=sys.stderr)
    for result in results:
        findings += result.findings
        fixed += len(result.fixed)
        if result.diff:
            diffs.append(result.diff)
    findings = _with_importers(findings, tasks)
    if measurements:
        findings = _apply_measurements(args, measurements, findings,
                                       {t.absolute: t.path for t in tasks})
    findings.sort(key=lambda f: (f.path, f.cell or 0, f.start, f.end, f.code))

    return _report(args, engines, findings, fixed, diffs, mode, unsafe,
                   stats={"files": len(tasks), "hits": hits, "misses": len(tasks) - hits,
                          "discover": t_discover - t0, "cache": t_cache - t_discover,
                          "check": t_check - t_cache})


def _load_measurements(args) -> list[tuple[str, object]]:
    """(file named, ProfileResult) of every --measurements file; MeasurementError for a file
    that cannot be read as profile results."""
    from memlens.engine.measured import load

    try:
        return [(name, result) for name in args.measurements for result in load(name)]
    except MeasurementError as exc:
        raise MeasurementError(f"--measurements {exc}") from None


def _apply_measurements(args, measurements, findings: list[Finding], checked: dict[str, str],
                        texts: dict[str, str] | None = None) -> list[Finding]:
    """The findings adjusted by the measurements of their files (`engine/measured.py`).
    `checked`: absolute path -> shown path of the files checked. A result of a file not checked
    or of a function whose text changed since it was profiled is left out, with a note."""
    from memlens.engine import measured

    by_file: dict[str, list] = {}
    for name, result in measurements:
        shown = _checked_file(result.file, checked)
        if shown is None:
            _note(f"{name}: the profile of {result.qualname or 'a cell'} is of {result.file}, "
                  "which was not checked: not applied")
        elif not result.measured_rows:
            _note(f"{name}: the profile of {result.qualname or 'a cell'} in {shown} measured no "
                  f"line (status {result.status.value}): not applied")
        else:
            by_file.setdefault(shown, []).append((name, result))
    if not by_file:
        return findings
    out = [f for f in findings if f.path not in by_file]
    for shown, pairs in by_file.items():
        text_of = _texts_of(shown, (texts or {}).get(shown))
        done = measured.apply([f for f in findings if f.path == shown],
                              [r for _, r in pairs], text_of, args.hot_line_threshold_mb)
        for name, result in pairs:
            if any(r is result for r in done.stale):
                what = f"`{result.qualname}`" if result.qualname else f"cell {result.cell}"
                _note(f"{name}: {what} in {shown} changed since it was profiled: its "
                      "measurements are not applied")
        out += done.findings
    return out


def _checked_file(file: str | None, checked: dict[str, str]) -> str | None:
    """The shown path of the checked file a profile result names: the same file, else the one
    checked file whose path ends as the result's does (a result saved in another checkout:
    its function's content hash still decides whether it applies)."""
    if not file:
        return None
    real = os.path.realpath(file)
    for absolute, shown in checked.items():
        if os.path.realpath(absolute) == real:
            return shown
    parts = Path(file).parts
    best: list[tuple[int, str]] = []
    for absolute, shown in checked.items():
        mine = Path(absolute).parts
        common = 0
        while common < min(len(parts), len(mine)) and parts[-1 - common] == mine[-1 - common]:
            common += 1
        if common:
            best.append((common, shown))
    best.sort(reverse=True)
    if best and (len(best) == 1 or best[0][0] > best[1][0]):
        return best[0][1]
    return None


def _texts_of(shown: str, text: str | None):
    """`text_of(cell)` for `measured.apply`: the file's current text, or its cell's."""
    cells: dict[int, str] | None = None

    def text_of(cell: int | None) -> str | None:
        nonlocal cells
        try:
            if cell is None:
                return text if text is not None else read_source(shown).text
            if cells is None:
                cells = {c.number: c.source
                         for c in batch.read_notebook_file(shown).source.cells}
            return cells.get(cell)
        except BadInput:
            return None

    return text_of


def _note(message: str) -> None:
    print(f"{PROG}: note: {_one_line(message)}", file=sys.stderr)


def _with_importers(findings: list[Finding], tasks: list[Task]) -> list[Finding]:
    """Findings that hold only where other modules import the file (an eager load at import
    time costs the importers) keep to files some checked file imports. Only files found by
    walking a folder are judged so: of a file named alone, the rest of its project is unknown."""
    needs = {f.path for f in findings if f.data.get("needs") == "importers"}
    walked = {t.path for t in tasks if not t.parse}
    judged = needs & walked
    if not judged:
        return findings
    from memlens.flow.project import importers_among

    def read(path: str) -> str | None:
        try:
            return read_source(path).text
        except BadInput:
            return None

    texts: dict[str, str] = {}
    found = importers_among(judged, [(t.path, t.path) for t in tasks if t.path.endswith(".py")],
                            read, texts)
    out = []
    for f in findings:
        if f.data.get("needs") != "importers" or f.path not in judged:
            out.append(f)
        elif found.get(f.path):
            # the fix turns the module's name into an accessor: not when an importer uses it
            name = _assigned_name(read(f.path), f.start.line) if f.fix is not None else None
            if name and any(re.search(rf"\b{re.escape(name)}\b", texts.get(i, ""))
                            for i in found[f.path]):
                f = replace(f, fix=None)
            out.append(f)
    return out


def _assigned_name(text: str | None, line: int) -> str | None:
    """The name a module-level assignment at 0-based `line` binds (`MODEL = load(...)`)."""
    lines = split_lines(text or "")
    m = re.match(r"\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*(?::[^=]*)?=", lines[line]) \
        if line < len(lines) else None
    return m.group(1) if m else None


def _report(args, engines, findings, fixed, diffs, mode, unsafe, stats,
            sources: dict[str, str] | None = None,
            cells: dict[str, dict[int, str]] | None = None) -> int:
    out = sys.stdout
    fmt = args.output_format or "text"
    # hints (the pattern without a known size) only when asked; they never fail a run
    hidden = 0
    if not (args.show_hints or any(e.settings.show_hints for e in engines)):
        shown = [f for f in findings if f.severity != "hint"]
        hidden, findings = len(findings) - len(shown), shown
    if os.environ.get("MEMLENS_DEBUG_TIMING"):
        print("timing: " + ", ".join(f"{k}={v:.3f}s" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in stats.items()), file=sys.stderr)
    if mode == DIFF:
        would = sum(1 for _ in diffs)
        out.write("".join(diffs))
        count = fixed
        if not args.quiet:
            if count:
                print(f"Would fix {count} finding{'s' if count != 1 else ''}.", file=sys.stderr)
            else:
                print("No fixes available.", file=sys.stderr)
        return 0 if args.exit_zero or not would else 1

    if args.statistics:
        _print_statistics(findings, fmt, unsafe, stats, out)
    else:
        rules = {}
        for lazy in engines if fmt == "sarif" else ():  # only SARIF lists the rules
            engine = lazy.get()
            rules.update({code: engine.rules[code] for code in engine.enabled})
        sources = dict(sources or {})
        cells = dict(cells or {})
        if fmt == "text":
            for path in sorted({f.path for f in findings if f.code != IO_ERROR}
                               - set(sources) - set(cells)):
                try:
                    if batch.is_notebook(path):
                        cells[path] = {c.number: c.source
                                       for c in batch.read_notebook_file(path).source.cells}
                    else:
                        sources[path] = read_source(path).text
                except BadInput:
                    pass
        report = Report(findings, rules=rules, sources=sources, cells=cells, unsafe=unsafe,
                        fixed=fixed if mode == FIX else 0, quiet=args.quiet,
                        hints_hidden=hidden)
        out.write(render(fmt, report))
    out.flush()
    if args.exit_zero:
        return 0
    return 1 if any(f.severity != "hint" for f in findings) else 0


def _print_statistics(findings, fmt, unsafe, stats, out) -> None:
    counts = Counter(f.code for f in findings)
    messages: dict[str, str] = {}
    fixable: Counter[str] = Counter()
    for f in findings:
        messages.setdefault(f.code, f.message)
        if f.fixable(unsafe):
            fixable[f.code] += 1
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if fmt == "json":
        import json

        data = [{"code": code, "count": n, "fixable": fixable[code] > 0,
                 "fixable_count": fixable[code], "message": messages[code]} for code, n in rows]
        data_all = {"statistics": data, "files": stats["files"],
                    "cache": {"hits": stats["hits"], "misses": stats["misses"]}}
        out.write(json.dumps(data_all, indent=2) + "\n")
        return
    width = max((len(str(n)) for n in counts.values()), default=1)
    code_width = max((len(c) for c in counts), default=5)
    for code, n in rows:
        mark = "[*]" if fixable[code] else "   "
        out.write(f"{str(n).rjust(width)}\t{code.ljust(code_width)}\t{mark} "
                  f"{printable(messages[code])}\n")
    files = stats["files"]
    out.write(f"Checked {files} file{'' if files == 1 else 's'}; "
              f"cache: {stats['hits']} hits, {stats['misses']} misses.\n")


_warned: set[str] = set()


def _warn(message: str) -> None:
    """A warning on stderr, once per run: what was not read or used, and why."""
    if message not in _warned:
        _warned.add(message)
        print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)


def _one_line(exc: Exception | str) -> str:
    """Error messages are one line (YAML and TOML errors span several)."""
    return " ".join(str(exc).split())

"""Throughput of `memlens check` against `ruff check` on Jupyter notebooks (issue 20).

    .venv/bin/python benchmarks/notebook_throughput.py [--every N] [--runs N] [--profile]

Builds `benchmarks/notebook_corpus/` (gitignored):

- `scripts/`: every Nth `.py` file (sorted, so the sample is the same on every run; `--every`,
  default 8) of the engine benchmark's sources (the installed pandas, numpy, scikit-learn and
  the standard library, as `check_throughput.py` takes them), each cut into one code cell per
  top-level statement (the engine's own `blocks.Layout(text).start_lines()`) and written as an
  nbformat 4 notebook with nbformat;
- `usercode/`: the real notebooks of the user-code corpus (`/work/usercode-cache`, or
  `--usercode`), copied once each (the same content under two paths counts once), except those
  nbformat cannot read or that are not nbformat 4 (memlens reads nbformat 4 only).

Then it times, alternately so both see the same load on a shared machine,
`memlens check --select ALL --no-cache --exit-zero --isolated` and
`ruff check --select ALL --no-cache --exit-zero --isolated --no-respect-gitignore` (ruff checks
`*.ipynb` by default since 0.6) on the corpus, `--runs` times each, and prints the min and
median wall and CPU time per tool and their ratio (target: memlens / ruff <= 1.0).

`--profile` then runs `memlens check` in this process on one folder of the corpus (one job,
under cProfile) and prints the top costs.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = HERE / "notebook_corpus"
BIN = Path(sys.executable).parent
SOURCES = {"pandas": "pandas", "numpy": "numpy", "sklearn": "sklearn"}
USERCODE = Path("/work/usercode-cache")


def _package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{name} is not installed: pip install -e '.[examples]'")
    return Path(list(spec.submodule_search_locations)[0])


def _sources() -> list[tuple[str, Path, Path]]:
    """(folder name, root, file) of every .py file the engine benchmark checks, sorted."""
    folders = {name: _package_dir(module) for name, module in SOURCES.items()}
    folders["stdlib"] = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for name, root in folders.items():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root)
            if name == "stdlib" and rel.parts[0] in ("site-packages", "dist-packages"):
                continue
            if "__pycache__" in rel.parts:
                continue
            out.append((name, root, path))
    return out


def script_cells(text: str) -> list[str]:
    """`text` cut into one cell per top-level statement (a comment above a statement goes with
    the statement before it), each cell without its final newline, as Jupyter stores them."""
    from memlens.engine.blocks import Layout

    lines = text.split("\n")
    starts = sorted({0, *Layout(text).start_lines()})
    cells = ["\n".join(lines[a:b]).strip("\n")
             for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    return [c for c in cells if c.strip()]


def _write_notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, source in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = f"c{i}"  # stable ids: the same corpus on every build
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _readable(path: Path) -> bool:
    import warnings

    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.read(str(path), as_version=nbformat.NO_CONVERT)
            nbformat.validate(nb)
    except Exception:  # invalid JSON, an unknown version, a schema error
        return False
    return nb.get("nbformat") == 4


def build_corpus(every: int, usercode: Path) -> Path:
    marker = CORPUS / ".complete"
    wanted = f"every={every} usercode={usercode}\n"
    if marker.exists() and marker.read_text() == wanted:
        return CORPUS
    shutil.rmtree(CORPUS, ignore_errors=True)
    for name, root, path in _sources()[::every]:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        cells = script_cells(text)
        if cells:
            rel = path.relative_to(root).with_suffix(".ipynb")
            _write_notebook(CORPUS / "scripts" / name / rel, cells)
    seen: set[str] = set()
    skipped = 0
    for path in sorted(usercode.rglob("*.ipynb")):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        if not _readable(path):
            skipped += 1
            continue
        # one flat folder: no hidden folders (.ipynb_checkpoints) either tool might skip
        flat = "__".join(p.lstrip(".") for p in path.relative_to(usercode).parts)
        dest = CORPUS / "usercode" / flat
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    if skipped:
        print(f"user-code notebooks nbformat 4 cannot read, skipped: {skipped}")
    marker.write_text(wanted)
    return CORPUS


def corpus_counts(folder: Path) -> tuple[int, int, int]:
    """Notebooks, code cells and lines of code cells under `folder`."""
    import json

    notebooks = cells = lines = 0
    for path in folder.rglob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        notebooks += 1
        for cell in nb["cells"]:
            if cell.get("cell_type") == "code":
                cells += 1
                source = cell["source"]
                text = "".join(source) if isinstance(source, list) else source
                lines += len(text.splitlines())
    return notebooks, cells, lines


def timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall time, CPU time (user + sys, the process and its children) and the process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def profile(folder: Path, top: int) -> None:
    """memlens check on `folder` in this process, one job, under cProfile: the top costs."""
    from memlens.engine.cli import main

    argv = ["--select", "ALL", "--no-cache", "--exit-zero", "--isolated", "--jobs", "1",
            "--timeout", "0", "--quiet", "--output-format", "concise", str(folder)]
    prof = cProfile.Profile()
    out = io.StringIO()
    saved = sys.stdout
    sys.stdout = out  # the findings
    t = time.perf_counter()
    try:
        prof.runcall(main, argv)
    finally:
        sys.stdout = saved
    print(f"\ncProfile of memlens check on {folder.relative_to(REPO)} (one process): "
          f"{time.perf_counter() - t:.1f} s")
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        body = buf.getvalue()
        print(f"--- top {top} by {key} ---")
        print(body[body.index("   ncalls"):].rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=8,
                        help="take every Nth .py file of the sources (default 8)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool (default 3)")
    parser.add_argument("--usercode", type=Path, default=USERCODE)
    parser.add_argument("--profile", action="store_true",
                        help="then profile memlens on the user-code notebooks and a script "
                             "sample")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    folder = build_corpus(args.every, args.usercode)
    rel = str(folder.relative_to(REPO))
    ruff_version = subprocess.run([str(BIN / "ruff"), "--version"], capture_output=True,
                                  text=True).stdout.strip()
    for part in ("scripts", "usercode"):
        n, c, lines = corpus_counts(folder / part)
        print(f"{part:9s}: {n:5d} notebooks, {c:6d} code cells, {lines:8,d} lines")
    n, c, lines = corpus_counts(folder)
    print(f"{'total':9s}: {n:5d} notebooks, {c:6d} code cells, {lines:8,d} lines; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {ruff_version}")

    memlens = [str(BIN / "memlens"), "check", "--select", "ALL", "--no-cache", "--exit-zero",
               "--isolated", "--output-format", "concise", "--quiet", rel]
    ruff = [str(BIN / "ruff"), "check", "--select", "ALL", "--no-cache", "--exit-zero",
            "--isolated", "--no-respect-gitignore", "--output-format", "concise", "--quiet",
            rel]
    results: dict[str, list[tuple[float, float]]] = {"memlens": [], "ruff": []}
    outputs: dict[str, subprocess.CompletedProcess] = {}
    for _ in range(args.runs):
        for name, cmd in (("memlens", memlens), ("ruff", ruff)):
            wall, cpu, proc = timed(cmd)
            if proc.returncode != 0:
                print(f"{name} failed ({proc.returncode}): {proc.stderr[-2000:]}")
                return 1
            results[name].append((wall, cpu))
            outputs[name] = proc
    for name, proc in outputs.items():
        files = {line.split(":", 1)[0] for line in proc.stdout.splitlines() if ":" in line}
        print(f"{name:8s}: {proc.stdout.count(chr(10)):7d} findings in {len(files)} notebooks")
    print(f"\n{'':10s}{'wall min':>10s}{'wall median':>13s}{'CPU min':>10s}{'CPU median':>12s}")
    stats = {}
    for name, runs in results.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        stats[name] = (min(walls), statistics.median(walls), min(cpus), statistics.median(cpus))
        print(f"{name:10s}" + "".join(f"{v:>{w}.2f}s" for v, w in
                                      zip(stats[name], (9, 12, 9, 11), strict=True)))
    ratio = [m / r for m, r in zip(stats["memlens"], stats["ruff"], strict=True)]
    print(f"{'ratio':10s}" + "".join(f"{v:>{w}.2f}x" for v, w in
                                     zip(ratio, (9, 12, 9, 11), strict=True))
          + "   (memlens / ruff; target <= 1.0)")

    if args.profile:
        profile(folder / "usercode", args.top)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "server"))
    raise SystemExit(main())

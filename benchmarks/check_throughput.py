"""Throughput of `memlens check` against `ruff check` on a large real corpus.

    .venv/bin/python benchmarks/check_throughput.py [--runs N] [--skip-ruff]
    .venv/bin/python benchmarks/check_throughput.py --quick [--every N]   # in-process only

Builds `benchmarks/corpus/` (gitignored) from the installed sources of pandas, numpy,
scikit-learn and the Python standard library (`.py` files only, so both tools see the same
files), then times in one run:

1. `memlens check --select ALL --no-cache --exit-zero` (cold, both cores),
2. `ruff check --select ALL --no-cache --exit-zero` on the same folders (`--isolated`,
   `--no-respect-gitignore`: nothing skipped by either tool's configuration),
3. `memlens check --select ALL --exit-zero` twice with the cache: the first fills it, the second
   (warm, nothing changed) is reported as a % of the cold run,

and prints a per-phase and a per-rule CPU breakdown of memlens' in-process work (read,
prefilter, parse, imports, matching) and the single-file `check_source` latency on a
2,000-line ML-ish file, which is what the language server pays on every edit.

`--quick` skips the subprocess runs (1-3) and takes every 4th file (`--every N`) for the
breakdowns: a ~10 s loop for trying a change to the engine or a rule.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = HERE / "corpus"
BIN = Path(sys.executable).parent
SOURCES = {"pandas": "pandas", "numpy": "numpy", "sklearn": "sklearn"}


def _package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{name} is not installed: pip install -e '.[examples]'")
    return Path(list(spec.submodule_search_locations)[0])


def build_corpus() -> list[Path]:
    folders = {name: _package_dir(module) for name, module in SOURCES.items()}
    folders["stdlib"] = Path(sysconfig.get_paths()["stdlib"])
    marker = CORPUS / ".complete"
    if not marker.exists():
        shutil.rmtree(CORPUS, ignore_errors=True)
        for name, src in folders.items():
            for path in src.rglob("*.py"):
                rel = path.relative_to(src)
                if name == "stdlib" and rel.parts[0] in ("site-packages", "dist-packages"):
                    continue
                if "__pycache__" in rel.parts:
                    continue
                dest = CORPUS / name / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
        marker.write_text("ok\n")
    return [CORPUS / name for name in folders]


def timed(cmd: list[str], env=None) -> tuple[float, subprocess.CompletedProcess, float]:
    """Wall time, the process, and the CPU time (user + sys) of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc, cpu


def best_of(runs: int, cmd: list[str], env=None):
    results = [timed(cmd, env) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def phase_breakdown(folders: list[Path], every: int = 1) -> None:
    """One process, the same files, CPU time: where a cold check spends it, step by step as
    the engine records it (`core.Timings`), and what each rule's own matching costs."""
    from memlens.engine import Engine, Settings
    from memlens.engine.batch import read_source
    from memlens.engine.core import Timings

    clock = time.process_time
    t = clock()
    engine = Engine(Settings(select=("ALL",)))
    t_engine = clock() - t
    files = [p for folder in folders for p in sorted(folder.rglob("*.py"))][::every]
    texts = []
    t = clock()
    for p in files:
        try:
            texts.append(read_source(p).text)
        except Exception:
            pass
    read_s = clock() - t
    engine.timings = timings = Timings()
    for i, text in enumerate(texts):
        engine.check_source(text, f"f{i}.py")
    phases = {"read + decode": read_s, **timings.phases}
    lines = sum(x.count("\n") for x in texts)
    total = sum(phases.values())
    stats = engine.stats
    print(f"\nper-phase CPU time, one process, {len(texts)} files, {lines:,} lines, "
          f"{len(engine.enabled)} rules (build Engine: {t_engine * 1000:.0f} ms; "
          f"{stats['files'] - stats['parsed']} files need no parse; "
          f"{stats['blanked'] / 1e6:.1f} M characters of blanked blocks):")
    for name, seconds in phases.items():
        print(f"  {name:32s} {seconds:7.2f} s  {100 * seconds / total:5.1f}%")
    print("  (the combined pass includes compiling the combined rule: ast-grep compiles a rule "
          "on every search call)")
    print("per-rule CPU of its own matching (findings and fixes included):")
    for code in sorted(timings.rules, key=lambda c: -timings.rules[c])[:12]:
        print(f"  {code}  {timings.rules[code]:6.2f} s")


ML_FILE = '''\
import numpy as np
import pandas as pd
import torch
import joblib
import gc
from functools import lru_cache

CACHE = []


def load_features(path, columns):
    frame = pd.read_csv(path, usecols=columns)
    arr = np.load(path + ".npy", mmap_mode="r")
    return frame, arr


class Trainer:
    def __init__(self, model, loader):
        self.model = model
        self.loader = loader

    def train_epoch(self, optimizer):
        total = 0.0
        for batch, target in self.loader:
            optimizer.zero_grad()
            out = self.model(batch)
            loss = torch.nn.functional.mse_loss(out, target)
            loss.backward()
            optimizer.step()
            total += loss.item()
        return total / max(1, len(self.loader))

    def evaluate(self, data):
        self.model.eval()
        with torch.no_grad():
            preds = [self.model(x) for x in data]
        return torch.cat(preds)


def summarise(frames):
    parts = []
    for f in frames:
        parts.append(f.describe())
    return pd.concat(parts)

'''


def verify_prefilter(folders: list[Path], every: int = 1) -> int:
    """Check every file both ways: as `memlens check` does (text prefilter, blocks no rule needs
    blanked) and with every rule run on every whole file; print any finding the first way loses
    or adds (there must be none). Syntax errors are left out: files the first way does not parse
    (in whole or in part) do not report theirs, by design."""
    from memlens.engine import SYNTAX_ERROR, Engine, Settings
    from memlens.engine.batch import read_source

    filtered = Engine(Settings(select=("ALL",)))
    unfiltered = Engine(Settings(select=("ALL",)), filter_rules=False)
    files = [p for folder in folders for p in sorted(folder.rglob("*.py"))][::every]
    lost = added = checked = 0
    for path in files:
        try:
            text = read_source(path).text
        except Exception:
            continue
        checked += 1
        want = [f for f in unfiltered.check_source(text, str(path), parse_whole=True)
                if f.code != SYNTAX_ERROR]
        got = [f for f in filtered.check_source(text, str(path)) if f.code != SYNTAX_ERROR]
        if got != want:
            for f in want:
                if f not in got:
                    lost += 1
                    print(f"  lost: {path}:{f.start.line + 1}: {f.code} {f.message[:60]}")
            for f in got:
                if f not in want:
                    added += 1
                    print(f"  added: {path}:{f.start.line + 1}: {f.code} {f.message[:60]}")
    stats = filtered.stats
    print(f"prefilter check: {checked} files, {lost} findings lost, {added} added (must be 0 and "
          f"0); {stats['parsed']} files parsed, {stats['blanked'] / 1e6:.1f} M characters "
          f"blanked, {stats['unblanked']} files checked again whole")
    return lost + added


def single_file_latency() -> None:
    from memlens.engine import Engine, Settings

    text = ML_FILE
    while text.count("\n") < 2000:
        text += ML_FILE.split("CACHE = []\n", 1)[1].replace("def ", f"def v{len(text)}_")
    for settings, label in ((Settings(), "default rules"), (Settings(select=("ALL",)), "ALL")):
        engine = Engine(settings)
        engine.check_source(text, "model.py")
        samples, cpu = [], []
        for _ in range(40):
            t, c = time.perf_counter(), time.process_time()
            engine.check_source(text + "\n# edit\n", "model.py")
            samples.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        samples.sort()
        cpu.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"single-file check_source, {text.count(chr(10))} lines, {label:13s}: "
              f"median {statistics.median(samples):5.1f} ms, p95 {p95:5.1f} ms wall; "
              f"median {statistics.median(cpu):5.1f} ms, "
              f"p95 {cpu[int(len(cpu) * 0.95) - 1]:5.1f} ms CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="best of N for each timing")
    parser.add_argument("--skip-ruff", action="store_true")
    parser.add_argument("--no-phases", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="no subprocess runs; breakdowns on every 4th file (see --every)")
    parser.add_argument("--verify-prefilter", action="store_true",
                        help="only check that the text prefilter loses no finding on the corpus")
    parser.add_argument("--every", type=int, default=None,
                        help="breakdowns on every Nth file (default: 1, with --quick 4)")
    args = parser.parse_args()

    folders = build_corpus()
    every = args.every or (4 if args.quick else 1)
    if args.verify_prefilter:
        return 1 if verify_prefilter(folders, every) else 0
    if args.quick:
        phase_breakdown(folders, every)
        single_file_latency()
        return 0
    rel = [str(f.relative_to(REPO)) for f in folders]
    files = sum(1 for f in folders for _ in f.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for f in folders for p in f.rglob("*.py"))
    print(f"corpus: {files} files, {lines:,} lines in {', '.join(rel)}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    memlens = [str(BIN / "memlens"), "check", "--select", "ALL", "--exit-zero",
               "--output-format", "concise", "--quiet", *rel]
    ruff = [str(BIN / "ruff"), "check", "--select", "ALL", "--no-cache", "--exit-zero",
            "--isolated", "--no-respect-gitignore", "--output-format", "concise", "--quiet", *rel]
    env = {**os.environ, "MEMLENS_DEBUG_TIMING": "1"}
    # memlens and ruff alternate, so that both see the same load on a shared machine; the
    # ratio of each adjacent pair is reported besides the best times.
    pairs = []
    for _ in range(args.runs):
        m = timed([*memlens, "--no-cache"], env)
        if m[1].returncode != 0:
            print(m[1].stderr)
            return 1
        r = None if args.skip_ruff else timed(ruff)
        pairs.append((m, r))
    t_cold, proc, cpu_cold = min((m for m, _ in pairs), key=lambda x: x[0])
    findings = proc.stdout.count("\n")
    print(f"memlens cold (--no-cache): {t_cold:6.2f} s wall, {cpu_cold:6.2f} s CPU, "
          f"{findings} findings  "
          f"[{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}]")
    if not args.skip_ruff:
        t_ruff, rproc, cpu_ruff = min((r for _, r in pairs), key=lambda x: x[0])
        print(f"ruff   cold (--no-cache): {t_ruff:6.2f} s wall, {cpu_ruff:6.2f} s CPU, "
              f"{rproc.stdout.count(chr(10))} findings")
        ratios = sorted(m[0] / r[0] for m, r in pairs)
        cpu_ratios = sorted(m[2] / r[2] for m, r in pairs)
        print(f"ratio memlens / ruff: {t_cold / t_ruff:.2f} (best times; target <= 1.0); "
              f"per run pair: wall {', '.join(f'{x:.2f}' for x in ratios)}; "
              f"CPU {', '.join(f'{x:.2f}' for x in cpu_ratios)}")

    with tempfile.TemporaryDirectory() as tmp:
        # A private cache folder: the project's own .memlens_cache/ stays untouched.
        cached = [*memlens, "--config", str(_write_config(Path(tmp)))]
        timed(cached, env)  # fills the cache
        t_warm, wproc, _ = best_of(max(args.runs, 2), cached, env)
        print(f"memlens warm (cache, nothing changed): {t_warm:6.2f} s = "
              f"{100 * t_warm / t_cold:.1f}% of cold (target <= 5%)  "
              f"[{wproc.stderr.strip().splitlines()[-1] if wproc.stderr.strip() else ''}]")

    if not args.no_phases:
        phase_breakdown(folders, every)
    single_file_latency()
    return 0


def _write_config(folder: Path) -> Path:
    path = folder / "pyproject.toml"
    path.write_text("[tool.memlens]\n")
    return path


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "server"))
    raise SystemExit(main())

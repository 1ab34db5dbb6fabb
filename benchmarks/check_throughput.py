"""Throughput of `memlens check` against `ruff check` on a large real corpus.

    .venv/bin/python benchmarks/check_throughput.py [--runs N] [--skip-ruff]

Builds `benchmarks/corpus/` (gitignored) from the installed sources of pandas, numpy,
scikit-learn and the Python standard library (`.py` files only, so both tools see the same
files), then times in one run:

1. `memlens check --select ALL --no-cache --exit-zero` (cold, both cores),
2. `ruff check --select ALL --no-cache --exit-zero` on the same folders (`--isolated`,
   `--no-respect-gitignore`: nothing skipped by either tool's configuration),
3. `memlens check --select ALL --exit-zero` twice with the cache: the first fills it, the second
   (warm, nothing changed) is reported as a % of the cold run,

and prints a per-phase breakdown of memlens' in-process work (read, prefilter, parse, imports,
matching) and the single-file `check_source` latency on a 2,000-line ML-ish file, which is what
the language server pays on every edit.
"""

from __future__ import annotations

import argparse
import os
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


def timed(cmd: list[str], env=None) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    return time.perf_counter() - t, proc


def best_of(runs: int, cmd: list[str], env=None) -> tuple[float, subprocess.CompletedProcess]:
    results = [timed(cmd, env) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def phase_breakdown(folders: list[Path]) -> None:
    """One process, the same files: where a cold check spends its time."""
    from ast_grep_py import SgRoot

    from memlens.engine import Engine, Settings
    from memlens.engine.batch import read_source
    from memlens.engine.imports import resolve_imports

    t = time.perf_counter()
    engine = Engine(Settings(select=("ALL",)))
    t_engine = time.perf_counter() - t
    files = [p for folder in folders for p in sorted(folder.rglob("*.py"))]
    texts = []
    t = time.perf_counter()
    for p in files:
        try:
            texts.append(read_source(p).text)
        except Exception:
            pass
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    words = [w for c in engine._active for w in (c.rule.trigger_words or ())]
    has_all = any(c.rule.trigger_words is None for c in engine._active)
    parsed = [x for x in texts if has_all or any(w in x for w in words)]
    t_pre = time.perf_counter() - t
    t = time.perf_counter()
    roots = [SgRoot(x, "python").root() for x in parsed]
    t_parse = time.perf_counter() - t
    t = time.perf_counter()
    for r in roots:
        resolve_imports(r)
    t_imports = time.perf_counter() - t
    del roots
    t = time.perf_counter()
    for x, p in zip(texts, files, strict=False):
        engine.check_source(x, str(p), prefilter=False)
    t_total = time.perf_counter() - t
    lines = sum(x.count("\n") for x in texts)
    print(f"\nper-phase, one process, {len(texts)} files, {lines:,} lines, "
          f"{len(engine.enabled)} rules:")
    print(f"  build Engine (load + compile rules) {t_engine * 1000:8.1f} ms")
    print(f"  read + decode                       {t_read:8.2f} s")
    print(f"  trigger-word prefilter              {t_pre:8.2f} s  "
          f"({len(texts) - len(parsed)} files need no parse)")
    print(f"  parse (ast-grep)                    {t_parse:8.2f} s")
    print(f"  resolve imports                     {t_imports:8.2f} s")
    print(f"  check_source, all files (parse+match) {t_total:6.2f} s  "
          f"-> matching + findings ~ {max(0.0, t_total - t_parse - t_imports):.2f} s")
    if hasattr(engine, "stats"):
        print(f"  engine counters: {engine.stats}")


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


def single_file_latency() -> None:
    from memlens.engine import Engine, Settings

    text = ML_FILE
    while text.count("\n") < 2000:
        text += ML_FILE.split("CACHE = []\n", 1)[1].replace("def ", f"def v{len(text)}_")
    for settings, label in ((Settings(), "default rules"), (Settings(select=("ALL",)), "ALL")):
        engine = Engine(settings)
        engine.check_source(text, "model.py")
        samples = []
        for _ in range(40):
            t = time.perf_counter()
            engine.check_source(text + "\n# edit\n", "model.py")
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"single-file check_source, {text.count(chr(10))} lines, {label:13s}: "
              f"median {statistics.median(samples):5.1f} ms, p95 {p95:5.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="best of N for each timing")
    parser.add_argument("--skip-ruff", action="store_true")
    parser.add_argument("--no-phases", action="store_true")
    args = parser.parse_args()

    folders = build_corpus()
    rel = [str(f.relative_to(REPO)) for f in folders]
    files = sum(1 for f in folders for _ in f.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for f in folders for p in f.rglob("*.py"))
    print(f"corpus: {files} files, {lines:,} lines in {', '.join(rel)}; "
          f"{os.cpu_count()} cores")

    memlens = [str(BIN / "memlens"), "check", "--select", "ALL", "--exit-zero",
               "--output-format", "concise", "--quiet", *rel]
    env = {**os.environ, "MEMLENS_DEBUG_TIMING": "1"}
    t_cold, proc = best_of(args.runs, [*memlens, "--no-cache"], env)
    if proc.returncode != 0:
        print(proc.stderr)
        return 1
    findings = proc.stdout.count("\n")
    print(f"memlens cold (--no-cache): {t_cold:6.2f} s  {findings} findings  "
          f"[{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}]")

    if not args.skip_ruff:
        ruff = [str(BIN / "ruff"), "check", "--select", "ALL", "--no-cache", "--exit-zero",
                "--isolated", "--no-respect-gitignore", "--output-format", "concise",
                "--quiet", *rel]
        t_ruff, rproc = best_of(args.runs, ruff)
        print(f"ruff   cold (--no-cache): {t_ruff:6.2f} s  {rproc.stdout.count(chr(10))} findings")
        print(f"ratio memlens / ruff: {t_cold / t_ruff:.2f}  (target <= 1.0)")

    with tempfile.TemporaryDirectory() as tmp:
        # A private cache folder: the project's own .memlens_cache/ stays untouched.
        cached = [*memlens, "--config", str(_write_config(Path(tmp)))]
        timed(cached, env)  # fills the cache
        t_warm, wproc = best_of(max(args.runs, 2), cached, env)
        print(f"memlens warm (cache, nothing changed): {t_warm:6.2f} s = "
              f"{100 * t_warm / t_cold:.1f}% of cold (target <= 5%)")

    if not args.no_phases:
        phase_breakdown(folders)
    single_file_latency()
    return 0


def _write_config(folder: Path) -> Path:
    path = folder / "pyproject.toml"
    path.write_text("[tool.memlens]\n")
    return path


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "server"))
    raise SystemExit(main())

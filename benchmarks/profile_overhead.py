"""Overhead of `memlens profile` vs a plain run and vs stock `python -m memory_profiler`.

Two workloads, each a script written to a temporary directory and run as a subprocess:
  numpy   a ~20-line numpy/pandas function peaking around 1 GiB;
  python  a pure-Python loop allocating 2M small objects.
Every mode times the profiled function itself (the script prints its wall and CPU time), so
interpreter start-up and imports do not dilute the ratios. Modes run interleaved, round by round;
medians of --repeat rounds. Ratios use CPU time, which stays meaningful on a loaded machine
(wall-clock ratios are shown beside them).

    .venv/bin/python benchmarks/profile_overhead.py [--repeat 3] [--stock-n 20000]

Stock memory_profiler traces every line of every frame and takes minutes on the 2M loop, so its
pure-Python run uses --stock-n iterations, compared with a plain run of the same size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PRELUDE = """\
import sys
import time

try:
    profile  # stock memory_profiler injects it
except NameError:
    def profile(func):
        return func
"""

NUMPY_WORKLOAD = PRELUDE + '''
import numpy as np
import pandas as pd


@profile
def analyse(n):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.random(n), "b": rng.random(n)})
    df["key"] = rng.integers(0, 1000, n)
    df["ab"] = df["a"] * df["b"]
    df["score"] = np.sqrt(df["ab"]) + df["key"]
    grouped = df.groupby("key").agg(a_mean=("a", "mean"), ab_sum=("ab", "sum"))
    merged = df.merge(grouped, left_on="key", right_index=True)
    merged["ratio"] = merged["ab"] / merged["ab_sum"]
    features = np.ones((n, 16))
    features *= merged["ratio"].to_numpy()[:, None]
    norms = np.linalg.norm(features, axis=1)
    top = merged.nlargest(100, "ratio")
    del features
    summary = {
        "rows": len(merged),
        "norm_mean": float(norms.mean()),
        "top_key": int(top["key"].iloc[0]),
    }
    return summary


if __name__ == "__main__":
    n = int(sys.argv[1])
    started, cpu = time.perf_counter(), time.process_time()
    analyse(n)
    print("ELAPSED", time.perf_counter() - started, time.process_time() - cpu)
'''

PYTHON_WORKLOAD = PRELUDE + '''

@profile
def build(n):
    items = []
    for i in range(n):
        items.append({"id": i, "value": i * 0.5})
    total = 0.0
    for item in items:
        total += item["value"]
    return total


if __name__ == "__main__":
    n = int(sys.argv[1])
    started, cpu = time.perf_counter(), time.process_time()
    build(n)
    print("ELAPSED", time.perf_counter() - started, time.process_time() - cpu)
'''


def elapsed_from(text: str) -> tuple[float, float]:
    """(wall, CPU) seconds of the profiled function, as the workload printed them."""
    for line in text.splitlines():
        if line.startswith("ELAPSED "):
            _, wall, cpu = line.split()
            return float(wall), float(cpu)
    raise RuntimeError(f"no ELAPSED line in output:\n{text[-2000:]}")


def run_plain(script: Path, n: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, str(script), str(n)], capture_output=True, text=True,
                         check=True).stdout
    return elapsed_from(out)


def run_stock(script: Path, n: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-m", "memory_profiler", str(script), str(n)],
                         capture_output=True, text=True, check=True).stdout
    return elapsed_from(out)


def run_memlens(script: Path, func: str, n: int) -> tuple[tuple[float, float], dict]:
    memlens = Path(sys.executable).with_name("memlens")
    proc = subprocess.run(
        [str(memlens), "profile", f"{script}::{func}", "--output-format", "json", "--", str(n)],
        capture_output=True, text=True,
    )
    result = json.loads(proc.stdout)
    if result["status"] != "ok":
        raise RuntimeError(f"memlens: {result['status']}: {result['error']}")
    return elapsed_from(result["output"]), result


def measure(script: Path, func: str, n: int, stock_n: int, repeat: int) -> dict:
    """Modes interleaved round by round, so that load from other processes hits all alike."""
    times: dict[str, list[tuple[float, float]]] = {
        "plain": [], "memlens": [], "stock_plain": [], "stock": []}
    peak = 0.0
    for _ in range(repeat):
        times["plain"].append(run_plain(script, n))
        elapsed, result = run_memlens(script, func, n)
        times["memlens"].append(elapsed)
        peak = result["peak_mib"] - result["baseline_mib"]
        if stock_n != n:
            times["stock_plain"].append(run_plain(script, stock_n))
        times["stock"].append(run_stock(script, stock_n))
    if stock_n == n:
        times["stock_plain"] = times["plain"]
    return {"times": times, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--numpy-n", type=int, default=4_000_000)
    parser.add_argument("--python-n", type=int, default=2_000_000)
    parser.add_argument("--stock-n", type=int, default=20_000,
                        help="iterations for stock memory_profiler's pure-Python run")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="memlens-bench-") as tmp:
        numpy_script = Path(tmp, "numpy_workload.py")
        python_script = Path(tmp, "python_workload.py")
        numpy_script.write_text(textwrap.dedent(NUMPY_WORKLOAD))
        python_script.write_text(textwrap.dedent(PYTHON_WORKLOAD))
        rows = [
            ("numpy/pandas", opts.numpy_n, opts.numpy_n,
             measure(numpy_script, "analyse", opts.numpy_n, opts.numpy_n, opts.repeat)),
            ("pure-Python", opts.python_n, opts.stock_n,
             measure(python_script, "build", opts.python_n, opts.stock_n, opts.repeat)),
        ]

    print(f"python {sys.version.split()[0]}, {opts.repeat} interleaved rounds, load average "
          f"{os.getloadavg()[0]:.1f}. Times: CPU seconds of the profiled function (median); "
          "ratios vs the plain run: CPU (wall clock)")
    print(f"{'workload':<13} {'n':>9} {'plain':>7} {'memlens':>7} {'ratio':>14} "
          f"{'peak+MiB':>8}   {'stock n':>8} {'plain':>7} {'stock':>7} {'ratio':>16}")
    for name, n, stock_n, m in rows:
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
               for k, v in m["times"].items()}

        def ratio(mode, base, med=med):
            return (f"{med[mode][1] / med[base][1]:.2f}x "
                    f"({med[mode][0] / med[base][0]:.2f}x)")

        print(f"{name:<13} {n:>9} {med['plain'][1]:>7.3f} {med['memlens'][1]:>7.3f} "
              f"{ratio('memlens', 'plain'):>14} {m['peak']:>8.0f}   {stock_n:>8} "
              f"{med['stock_plain'][1]:>7.3f} {med['stock'][1]:>7.3f} "
              f"{ratio('stock', 'stock_plain'):>16}")
    if opts.stock_n != opts.python_n:
        print(f"(stock memory_profiler's pure-Python run is capped at {opts.stock_n} "
              f"iterations instead of {opts.python_n}: at its speed the full run takes minutes)")


if __name__ == "__main__":
    main()

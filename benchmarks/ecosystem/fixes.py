"""Every fix memlens offers on the ecosystem corpus, applied to a copy and checked.

    .venv/bin/python benchmarks/ecosystem/fixes.py [--show]

For each finding of `memlens check --select ALL` that carries a fix (safe or suggestion), the
fix is applied alone to a copy of its file (as `memlens check --fix --unsafe-fixes` would, one
finding at a time), and the result is checked:
- it parses and compiles;
- ruff's pyflakes rules (F: undefined names, redefinitions, unused imports) report nothing new
  in the fixed file (a fix that leaves `shap.sample` or `torch` undefined shows up here);
- the reviewers' verdict on that fix in labels.csv (`fix`: ok, breaks, changes-meaning).
The corpus projects' own dependencies are not installed, so the fixed code is not run here;
`tests/engine/test_fix_preconditions.py` runs each fixer's output on real data.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
from run import read_labels  # noqa: E402


def offered_fixes(folders: dict[str, Path], server: Path | None = None) -> list[dict]:
    """The findings with a fix, from the CLI's JSON, with their project and file. `server`:
    another checkout's `server/` folder to run instead (a before/after)."""
    import os

    root = corpus.cache_dir() / "src"
    by_folder = {path.name: name for name, path in folders.items()}
    env = dict(os.environ)
    if server is not None:
        env["PYTHONPATH"] = str(server.resolve())
    done = subprocess.run(
        [sys.executable, "-m", "memlens", "check", *sorted(by_folder), "--select", "ALL",
         "--isolated", "--no-cache", "--exit-zero", "--no-respect-gitignore",
         "--output-format", "json"], cwd=root, capture_output=True, text=True, check=True,
        env=env)
    out = []
    for finding in json.loads(done.stdout):
        if finding.get("fix"):
            folder, _, path = finding["filename"].partition("/")
            out.append({**finding, "project": by_folder[folder], "path": path,
                        "file": root / finding["filename"]})
    return out


def apply(text: str, edits: list[dict]) -> str:
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(loc: dict) -> int:
        return starts[min(loc["row"] - 1, len(lines))] + loc["column"] - 1

    for edit in sorted(edits, key=lambda e: offset(e["location"]), reverse=True):
        start, end = offset(edit["location"]), offset(edit["end_location"])
        text = text[:start] + edit["content"] + text[end:]
    return text


def pyflakes_errors(ruff: str, text: str, workdir: Path) -> Counter:
    probe = workdir / "probe.py"
    probe.write_text(text, encoding="utf-8")
    done = subprocess.run([ruff, "check", "--isolated", "--select", "F", "--output-format",
                           "json", "--exit-zero", str(probe)], capture_output=True, text=True)
    return Counter(f"{e['code']} {e['message']}" for e in json.loads(done.stdout or "[]"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--show", action="store_true", help="print each fix's outcome")
    p.add_argument("--server", type=Path,
                   help="run the memlens of another checkout's server/ folder (before/after)")
    args = p.parse_args(argv)
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    folders = corpus.fetch_all(corpus.load_projects())
    labels = read_labels()
    results = Counter()
    by_rule: dict[str, Counter] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for f in offered_fixes(folders, args.server):
            text = Path(f["file"]).read_text(encoding="utf-8", errors="surrogateescape")
            new = apply(text, f["fix"]["edits"])
            try:
                compile(ast.parse(new), f["path"], "exec")
                parses = True
            except (SyntaxError, ValueError):
                parses = False
            added = pyflakes_errors(ruff, new, Path(tmp)) - pyflakes_errors(ruff, text, Path(tmp))
            label = labels.get((f["code"], f["project"], f"{f['path']}:{f['location']['row']}"))
            verdict = label.fix if label is not None and label.fix else "unjudged"
            outcome = ("does not parse" if not parses else
                       f"new pyflakes error: {next(iter(added))}" if added else "checks pass")
            results[outcome.split(":")[0]] += 1
            rule = by_rule.setdefault(f["code"], Counter())
            rule["applied"] += 1
            rule["checks pass"] += outcome == "checks pass"
            rule[f"reviewers: {verdict}"] += 1
            if args.show:
                print(f"{f['code']} {f['project']} {f['path']}:{f['location']['row']} "
                      f"[{f['fix']['applicability']}] {outcome}; reviewers: {verdict}")
    total = sum(c["applied"] for c in by_rule.values())
    print(f"{total} fixes applied to corpus findings, one at a time")
    for outcome, n in sorted(results.items()):
        print(f"  {outcome}: {n}")
    for code, c in sorted(by_rule.items()):
        verdicts = ", ".join(f"{k.split(': ')[1]} {v}" for k, v in sorted(c.items())
                             if k.startswith("reviewers"))
        print(f"  {code}: {c['applied']} applied, {c['checks pass']} pass the checks; "
              f"reviewers: {verdicts}")
    return 0 if results.get("does not parse", 0) == 0 and not any(
        k.startswith("new pyflakes") for k in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""A fuzz harness for `memlens check` on what a repository controls besides its code: the
project cache, the configuration and the folder layout.

    .venv/bin/python -m tests.fuzz.project --cases 300 --seed 20261207   # the long run
    (tests/fuzz/test_project_fuzz.py runs a few cases with the same seed in `make test`;
    MEMLENS_FUZZ_PROJECT_CASES=N runs N there)

A base project (the churn example, a folder of project rules, a pyproject.toml naming it, a
`.git` folder) is checked once without a cache: its findings are the reference. Each case
copies it and applies one to three mutations, drawn from:
- the cache: JSON of another shape, a field of another type, a cut or binary file, a FIFO, a
  link, a folder, a sparse file of 300 MB, deep nesting, a crafted cache from another user
  (the file's content hash and no findings), `.memlens_cache` as a link, a file or a FIFO;
- the configuration: a value of the wrong type for a key, `tool = "x"`, garbage, nesting too
  deep, pyproject.toml as a FIFO, a link to /dev/zero, a dangling link or a folder;
- the layout: `.gitignore` as a link to /dev/zero, a FIFO, a huge file, a link or a folder;
  `.py` names that are FIFOs, links to devices, dangling links, folders or link loops; files
  over 10 MB, with NUL bytes or not UTF-8; rule files that are FIFOs, links out of the
  repository, alias bombs, or nested too deep; FIFOs and device links below the rule folder.

Then `memlens check` runs twice, the cache cold then warm (cache mutations go in between),
each under a 1 GiB memory cap and a time limit, and the harness checks:
- no run hangs or ends in a traceback; stderr holds one-line warnings and at most one error;
- a mutation that leaves the configuration unusable gives exit 2 and one line naming the file;
- otherwise the findings are the reference's, plus one io-error per odd file planted: none
  lost, none made up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN_WITHIN = 60.0
MEMORY_CAP = 1 << 30
PROJECT_RULE = (REPO / "tests" / "cli" / "cli_helpers.py")

# --- the base project --------------------------------------------------------------------------


def _project_rule() -> str:
    """The command-line tests' project rule with a safe fix (XT001)."""
    sys.path.insert(0, str(PROJECT_RULE.parent))
    try:
        from cli_helpers import SAFE_RULE
    finally:
        sys.path.pop(0)
    return SAFE_RULE


def make_base(root: Path) -> None:
    shutil.copytree(REPO / "examples" / "churn", root / "churn")
    (root / "rules").mkdir()
    (root / "rules" / "XT001.yml").write_text(_project_rule())
    (root / "pkg").mkdir()
    (root / "pkg" / "uses.py").write_text("def f(x):\n    return leaky_helper(x)\n")
    (root / "pyproject.toml").write_text('[tool.memlens]\nrule-dirs = ["rules"]\n')
    (root / ".git").mkdir()


# --- mutations ---------------------------------------------------------------------------------


@dataclass
class Expect:
    error: str | None = None  # the configuration is unusable: exit 2, a line holding this
    io_errors: set[str] = field(default_factory=set)  # files planted that get one io-error
    # which error is said when two are planted: the config's is read before the rules', and
    # of two changes to the config, the later one stands
    precedence: int = 0


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def random_json(rng: random.Random, depth: int = 0):
    kind = rng.choice(["null", "bool", "int", "float", "str", "list", "dict"] if depth < 3
                      else ["null", "bool", "int", "float", "str"])
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 1, 2**63, rng.randint(-10**6, 10**6)])
    if kind == "float":
        return rng.choice([0.5, -1e308, 1e308, rng.random()])
    if kind == "str":
        return rng.choice(["", "ML102", "safe", "warning", "x" * 50, "\u2028", "é"])
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 7))]
    return {rng.choice(["format", "files", "a", "", "0"]): random_json(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def _other_type(rng: random.Random, original):
    """A random JSON value whose type is not the original's (int and float count as one)."""
    groups = [(type(None),), (bool,), (int, float), (str,), (list,), (dict,)]
    own = next(g for g in groups if type(original) in g)
    if original is None or isinstance(original, list) and len(original) == 3 and \
            original[0] in ("safe", "unsafe"):
        own = (type(None), list)  # a fix: None or a list (a list of another shape is fine)
    while True:
        value = random_json(rng)
        if type(value) not in own:
            return value


def _fifo_or_link(path: Path, rng: random.Random, choices=("fifo", "devzero")) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = rng.choice(choices)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        os.symlink("/dev/zero", path)
    elif kind == "dangling":
        os.symlink(path.parent / "no-such-file", path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "huge":
        with open(path, "wb") as fh:
            fh.truncate(300 << 20)  # sparse: costs nothing on disk
    elif kind == "outside":
        os.symlink(REPO / "pyproject.toml", path)
    return kind


def m_gitignore(root: Path, rng: random.Random, ctx) -> Expect:
    where = rng.choice(["", "churn/", "pkg/"])
    path = root / where / ".gitignore"
    kind = _fifo_or_link(path, rng, ("fifo", "devzero", "folder", "huge", "link"))
    if kind == "link":  # a link to a file of the repository: still not followed, as in git
        os.symlink("../churn/data.py" if where else "churn/data.py", path)
    return Expect()


def m_odd_python_names(root: Path, rng: random.Random, ctx) -> Expect:
    for i in range(rng.randint(1, 3)):
        name = root / rng.choice(["", "churn/", "pkg/", "deep/er/"]) / f"odd{i}.py"
        _fifo_or_link(name, rng, ("fifo", "devzero", "dangling", "folder"))
    if rng.random() < 0.5:
        (root / "pkg" / "loop").symlink_to(".")  # a loop, inside the project
    if rng.random() < 0.5:
        (root / "pkg" / "up").symlink_to("..")  # back to the project's top
    return Expect()


def m_bad_python(root: Path, rng: random.Random, ctx) -> Expect:
    kind = rng.choice(["huge", "nul", "latin"])
    name = f"bad_{kind}.py"
    path = root / "pkg" / name
    if kind == "huge":
        with open(path, "wb") as fh:
            fh.truncate(11 << 20)
    elif kind == "nul":
        path.write_bytes(b"import numpy as np\0\n")
    else:
        path.write_bytes(b"name = '\xe9t\xe9'\n")
    return Expect(io_errors={f"pkg/{name}"})


def m_rule_folder_below(root: Path, rng: random.Random, ctx) -> Expect:
    """Below the rule folder: not rules, but part of the cache's key."""
    _fifo_or_link(root / "rules" / "sub" / "XT009.yml", rng, ("fifo", "devzero", "huge"))
    return Expect()


def m_rule_file(root: Path, rng: random.Random, ctx) -> Expect:
    path = root / "rules" / "XT003.yml"
    kind = rng.choice(["fifo", "devzero", "outside", "bomb", "deep", "folder"])
    if kind == "bomb":
        levels = "".join(f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 30))
        path.write_text("utils:\n  a0: &a0 [x]\n" + levels + "id: XT003\n")
    elif kind == "deep":
        path.write_text("rule: " + "[" * 50_000 + "]" * 50_000 + "\n")
    else:
        _fifo_or_link(path, rng, (kind,))
    return Expect(error="rules/XT003.yml", precedence=1)


KEYS = {"select": "list", "ignore": "list", "extend-select": "list", "exclude": "list",
        "rule-dirs": "list", "per-file-ignores": "table of lists", "severity": "table of names",
        "respect-gitignore": "bool", "skip-test-code": "bool"}
WRONG = {"list": ['"ML1"', "3", "true", "[1]", '{ a = "b" }', '[["ML1"]]'],
         "table of lists": ['"x"', "[]", '{ "x/*" = "ML101" }', '{ "x/*" = 3 }',
                            '{ "x/*" = [1] }', '{ "x/*" = { a = 1 } }'],
         "table of names": ['"error"', "[]", "{ ML102 = 3 }", '{ ML102 = ["error"] }',
                            '{ ML102 = "loud" }'],
         "bool": ['"no"', "0", "[]", "{}"]}


def m_config_type(root: Path, rng: random.Random, ctx) -> Expect:
    if rng.random() < 0.2:
        text = rng.choice(['tool = "x"\n', "tool = 1\n", '[tool]\nmemlens = "x"\n',
                           "tool = [1]\n"])
        marker = "key 'tool"
    else:
        key = rng.choice(sorted(KEYS))
        value = rng.choice(WRONG[KEYS[key]])
        keep = "" if key == "rule-dirs" else 'rule-dirs = ["rules"]\n'
        text = f"[tool.memlens]\n{keep}{key} = {value}\n"
        marker = f"key 'tool.memlens.{key}"
    _clear(root / "pyproject.toml")
    (root / "pyproject.toml").write_text(text)
    return Expect(error=marker, precedence=2)


def m_config_file(root: Path, rng: random.Random, ctx) -> Expect:
    path = root / "pyproject.toml"
    _clear(path)
    kind = rng.choice(["fifo", "devzero", "dangling", "folder", "huge", "garbage", "deep",
                       "outside"])
    if kind == "garbage":
        path.write_bytes(b"= = =" + rng.randbytes(rng.randint(0, 200)))
    elif kind == "deep":
        path.write_text("[tool.memlens]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    elif kind == "huge":
        with open(path, "wb") as fh:
            fh.truncate(2 << 20)
    else:
        _fifo_or_link(path, rng, (kind,))
    return Expect(error="pyproject.toml", precedence=2)


def m_cache_folder(root: Path, rng: random.Random, ctx) -> Expect:
    path = root / ".memlens_cache"
    _clear(path)  # (a foreign cache's, if drawn first)
    kind = rng.choice(["link", "file", "fifo"])
    if kind == "link":
        elsewhere = root / "elsewhere"
        elsewhere.mkdir()
        path.symlink_to(elsewhere)
        ctx.setdefault("empty", []).append(elsewhere)  # must stay empty
    elif kind == "file":
        path.write_text("not a folder\n")
    else:
        os.mkfifo(path)
    return Expect()


def m_cache_content(root: Path, rng: random.Random, ctx) -> Expect:
    """After the first run: the cache file of that run, changed in shape (never in value
    alone: a cache of the right shape is trusted, as Ruff's is)."""
    files = sorted((root / ".memlens_cache").glob("*.json")) if \
        (root / ".memlens_cache").is_dir() else []
    for path in files:
        data = json.loads(path.read_text())
        kind = rng.choice(["whole", "files", "field", "cut", "bytes", "deep", "fifo", "link",
                           "folder", "huge"])
        if kind == "whole":
            path.write_text(json.dumps(random_json(rng)))
        elif kind == "files":
            data["files"] = _other_type(rng, data["files"])
            path.write_text(json.dumps(data))
        elif kind == "field" and data["files"]:
            entry = data["files"][rng.choice(sorted(data["files"]))]
            target, index = entry, rng.randrange(6)
            if index == 4 and entry[4] and rng.random() < 0.7:  # inside a finding
                target, index = rng.choice(entry[4]), rng.randrange(7)
                if index in (3, 4) and rng.random() < 0.5:  # inside a position
                    target, index = target[index], rng.randrange(2)
            target[index] = _other_type(rng, target[index])
            path.write_text(json.dumps(data))
        elif kind == "cut":
            text = path.read_bytes()
            path.write_bytes(text[:rng.randrange(max(len(text), 1))])
        elif kind == "bytes":
            path.write_bytes(rng.randbytes(rng.randint(0, 500)))
        elif kind == "deep":
            path.write_text("[" * 100_000)
        else:
            path.unlink()
            _fifo_or_link(path, rng, ("fifo", "folder", "huge") if kind != "link" else
                          ("devzero", "outside"))
    return Expect()


def m_foreign_cache(root: Path, rng: random.Random, ctx) -> Expect:
    """A cache crafted on another machine and committed: the content hash of each file, and
    no findings. Never read as valid here."""
    with tempfile.TemporaryDirectory(prefix="memlens-foreign-") as theirs:
        _memlens(root, env={"MEMLENS_CACHE_DIR": theirs})
    for path in (root / ".memlens_cache").glob("*.json"):
        data = json.loads(path.read_text())
        for entry in data["files"].values():
            entry[4] = []
        path.write_text(json.dumps(data))
    return Expect()


# (mutation, stage): "layout" before the first run, "cache" between the two runs
MUTATIONS = [
    (m_gitignore, "layout"), (m_odd_python_names, "layout"), (m_bad_python, "layout"),
    (m_rule_folder_below, "layout"), (m_rule_file, "layout"), (m_config_type, "layout"),
    (m_config_file, "layout"), (m_cache_folder, "layout"), (m_cache_content, "cache"),
    (m_foreign_cache, "layout"),
]


# --- runs and checks ---------------------------------------------------------------------------


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _memlens(root: Path, env: dict | None = None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "memlens", "check", "--output-format", "json", *args],
        cwd=root, capture_output=True, text=True, timeout=RUN_WITHIN, preexec_fn=_capped,
        env={**os.environ, **(env or {})})


def findings(stdout: str) -> set[tuple]:
    return {(f["filename"], f["code"], f["location"]["row"], f["location"]["column"])
            for f in json.loads(stdout)}


@dataclass
class Figures:
    cases: int = 0
    runs: int = 0
    mutations: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    slowest_s: float = 0.0

    def report(self) -> str:
        used = ", ".join(f"{k} {v}" for k, v in sorted(self.mutations.items()))
        return (f"cases {self.cases}, runs {self.runs}, failures {len(self.failures)}, "
                f"slowest run {self.slowest_s:.1f} s\nmutations: {used}")


def _verdict(proc: subprocess.CompletedProcess, expect: Expect, reference: set) -> str | None:
    """What is wrong with one run, or None."""
    lines = proc.stderr.splitlines()
    if "Traceback" in proc.stderr:
        return f"a traceback:\n{proc.stderr[-2000:]}"
    odd = [line for line in lines if not line.startswith(("memlens check: warning: ",
                                                          "memlens check: error: "))]
    if odd:
        return f"stderr lines that are no one-line warning or error: {odd[:3]}"
    errors = [line for line in lines if line.startswith("memlens check: error: ")]
    if expect.error is not None:
        if proc.returncode != 2 or len(errors) != 1 or expect.error not in errors[0]:
            return f"expected exit 2 and one error line ({expect.error}), got " \
                   f"{proc.returncode}: {proc.stderr[-500:]}"
        return None
    if proc.returncode != 1 or errors:
        return f"expected exit 1 with findings, got {proc.returncode}: {proc.stderr[-500:]}"
    got = findings(proc.stdout)
    planted = {f for f in got if f[1] == "io-error" and f[0] in expect.io_errors}
    if {f[0] for f in planted} != expect.io_errors:
        return f"expected one io-error for each of {sorted(expect.io_errors)}, got " \
               f"{sorted(planted)}"
    if got - planted != reference:
        return f"findings lost: {sorted(reference - got)[:5]}; made up: " \
               f"{sorted(got - planted - reference)[:5]}"
    return None


def run_case(base: Path, work: Path, seed: int, index: int, reference: set,
             figures: Figures) -> None:
    rng = random.Random(f"{seed}-{index}")
    root = work / f"case{index}"
    shutil.copytree(base, root, symlinks=True)
    chosen = rng.sample(MUTATIONS, rng.randint(1, 3))
    names = [m.__name__ for m, _ in chosen]
    for name in names:
        figures.mutations[name] = figures.mutations.get(name, 0) + 1
    expect, ctx = Expect(), {}

    def apply(stage: str) -> None:
        for mutation, when in chosen:
            if when == stage:
                got = mutation(root, rng, ctx)
                if got.error is not None and got.precedence >= expect.precedence:
                    expect.error, expect.precedence = got.error, got.precedence
                expect.io_errors |= got.io_errors

    figures.cases += 1
    run = 0
    try:
        apply("layout")
        for run in (1, 2):
            if run == 2:
                apply("cache")
            started = time.monotonic()
            proc = _memlens(root)
            figures.runs += 1
            figures.slowest_s = max(figures.slowest_s, time.monotonic() - started)
            wrong = _verdict(proc, expect, reference)
            if wrong is not None:
                figures.failures.append(f"case {seed}-{index} {names} run {run}: {wrong}")
                return
        for folder in ctx.get("empty", []):
            if any(folder.iterdir()):
                figures.failures.append(f"case {seed}-{index} {names}: wrote into {folder}, "
                                        "through a symlinked .memlens_cache")
    except subprocess.TimeoutExpired:
        figures.failures.append(f"case {seed}-{index} {names} run {run}: no answer within "
                                f"{RUN_WITHIN:g} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(cases: int, seed: int, out=sys.stdout) -> Figures:
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="memlens-project-fuzz-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("MEMLENS_CACHE_DIR", str(work / "user-cache"))
        base = work / "base"
        make_base(base)
        clean = _memlens(base, None, "--no-cache")
        assert clean.returncode == 1 and not clean.stderr, clean.stderr
        reference = findings(clean.stdout)
        assert any(f[1] == "XT001" for f in reference)  # the rule folder is in use
        for index in range(cases):
            run_case(base, work, seed, index, reference, figures)
            if out is not None and (index + 1) % 25 == 0:
                print(f"{index + 1} cases, {len(figures.failures)} failures", file=out)
    if out is not None:
        print(figures.report(), file=out)
        for failure in figures.failures[:20]:
            print(failure, file=out)
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=300)
    p.add_argument("--seed", type=int, default=20261207)
    args = p.parse_args(argv)
    figures = run(args.cases, args.seed)
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())

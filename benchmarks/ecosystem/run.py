"""The ecosystem check: memlens over a pinned corpus of real projects, scored against labels.

    .venv/bin/python benchmarks/ecosystem/run.py                    # the report
    .venv/bin/python benchmarks/ecosystem/run.py --show-new         # list unjudged findings
    .venv/bin/python benchmarks/ecosystem/run.py --packets DIR      # unjudged findings to judge
    .venv/bin/python benchmarks/ecosystem/run.py --list ML102,ML401 # a rule's findings, judged
    .venv/bin/python benchmarks/ecosystem/run.py --update-baseline  # accept today's findings

Run it before and after every rule change. It fetches the projects of `projects.toml` (once,
into the cache), runs `memlens check --select ALL --isolated` over them as a user would, and
prints, per rule:
- how many findings it makes, how many of them are judged in `labels.csv`, and the precision
  over the judged ones, against the bar it must meet (90% on by default, 70% opt-in, on at
  least 20 judged findings or all of them);
- the findings no label judges yet;
- what changed against `baseline.json` (the findings of the last accepted run).

`--update-baseline` writes `baseline.json` and, from the same findings and labels,
`server/memlens/rules/measured.json`, from which `memlens rule` and `docs/rules.md` show each
rule's measured precision and sample size (regenerate docs/rules.md after it). The tests check
that measured.json is what baseline.json and labels.csv give, and that every rule meets its bar.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "server"))

import corpus  # noqa: E402

LABELS = HERE / "labels.csv"
BASELINE = HERE / "baseline.json"
MEASURED = REPO / "server" / "memlens" / "rules" / "measured.json"
# `fix`: what the offered fix would do there (ok, breaks, changes-meaning; none: no fix)
LABEL_FIELDS = ("rule", "project", "location", "verdict", "fix", "reason")
FIX_VERDICTS = ("ok", "breaks", "changes-meaning", "none", "")
VERDICTS = ("true", "false")
DEFAULT_BAR, OPT_IN_BAR, MIN_SAMPLE = 0.90, 0.70, 20


@dataclass(frozen=True, order=True)
class Hit:
    """One finding, named as the labels name it."""

    rule: str
    project: str
    path: str  # relative to the project's folder
    line: int  # 1-based
    message: str = ""
    fix: str = ""  # "safe" | "unsafe" | ""
    # the fix's edits as ((row, column), (end row, end column), content), 1-based
    edits: tuple = ()
    hint: bool = False  # a hint: the pattern without a size (not shown unless asked)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.project, f"{self.path}:{self.line}")


@dataclass(frozen=True)
class Label:
    rule: str
    project: str
    location: str
    verdict: str
    fix: str
    reason: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.project, self.location)


def read_labels(path: Path = LABELS) -> dict[tuple, Label]:
    labels: dict[tuple, Label] = {}
    if not path.exists():
        return labels
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            label = Label(**{k: (row.get(k) or "").strip() for k in LABEL_FIELDS})
            if label.verdict not in VERDICTS:
                raise SystemExit(f"{path}:{n}: verdict must be true or false, not "
                                 f"{label.verdict!r}")
            if label.fix not in FIX_VERDICTS:
                raise SystemExit(f"{path}:{n}: fix must be one of {', '.join(FIX_VERDICTS)}")
            if label.key in labels:
                raise SystemExit(f"{path}:{n}: {label.key} is judged twice")
            labels[label.key] = label
    return labels


def write_labels(labels: dict[tuple, Label], path: Path = LABELS) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(LABEL_FIELDS)
        for key in sorted(labels, key=_location_order):
            label = labels[key]
            writer.writerow([getattr(label, name) for name in LABEL_FIELDS])


def _location_order(key: tuple) -> tuple:
    rule, project, location = key
    path, _, line = location.rpartition(":")
    return (rule, project, path, int(line) if line.isdigit() else 0)


def run_memlens(projects: list[corpus.Project], folders: dict[str, Path],
                server: Path | None = None) -> list[Hit]:
    """Every finding of every rule, from `memlens check` run as a subprocess, as a user would.
    `server`: the `server/` folder of another checkout to run instead (a before/after)."""
    import os

    root = corpus.cache_dir() / "src"
    env = dict(os.environ)
    if server is not None:
        env["PYTHONPATH"] = str(server.resolve())
    command = [sys.executable, "-m", "memlens", "check",
               *(folders[p.name].name for p in projects),
               "--select", "ALL", "--isolated", "--no-cache", "--exit-zero",
               "--no-respect-gitignore", "--show-hints", "--output-format", "json"]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"memlens check failed ({done.returncode}):\n{done.stderr[-2000:]}")
    by_folder = {folders[p.name].name: p.name for p in projects}
    hits = []
    for finding in json.loads(done.stdout):
        folder, _, path = finding["filename"].partition("/")
        if path.endswith(".ipynb"):
            continue  # library code: notebooks are measured in the user-code corpus
        fix = finding.get("fix") or {}
        edits = tuple(((e["location"]["row"], e["location"]["column"]),
                       (e["end_location"]["row"], e["end_location"]["column"]), e["content"])
                      for e in fix.get("edits", ()))
        hits.append(Hit(finding["code"], by_folder[folder], path, finding["location"]["row"],
                        finding["message"], fix.get("applicability", ""), edits,
                        finding.get("severity") == "hint"))
    return sorted(hits)


def read_baseline(path: Path = BASELINE) -> set[tuple]:
    """The accepted findings, shown and hints alike."""
    if not path.exists():
        return set()
    data = json.loads(path.read_text(encoding="utf-8"))
    return {tuple(f) for f in [*data["findings"], *data.get("hints", [])]}


def write_baseline(hits: list[Hit], projects: int, path: Path = BASELINE) -> None:
    """One finding a line: `[rule, project, "path:line"]`; the findings shown by default, then
    the hints (the pattern without a size: shown faintly, or when asked)."""
    def body(rows: list[Hit]) -> str:
        return ",\n".join(json.dumps([h.rule, h.project, f"{h.path}:{h.line}"]) for h in rows)

    shown, hints = [h for h in hits if not h.hint], [h for h in hits if h.hint]
    path.write_text(f'{{"projects": {projects}, "findings": [\n{body(shown)}\n],\n'
                    f'"hints": [\n{body(hints)}\n]}}\n', encoding="utf-8")


@dataclass
class RuleScore:
    rule: str
    default: bool
    audit: bool = False  # the audit group asks to check a size: shown, held to no bar
    findings: int = 0  # shown by default: the bar is on these
    judged: int = 0
    true: int = 0
    hints: int = 0  # the pattern without a size: shown faintly or when asked, no bar

    @property
    def precision(self) -> float | None:
        return self.true / self.judged if self.judged else None

    @property
    def bar(self) -> float:
        return DEFAULT_BAR if self.default else OPT_IN_BAR

    @property
    def enough(self) -> bool:
        """Judged on at least 20 findings, or on all of them."""
        return self.judged >= min(MIN_SAMPLE, self.findings)

    @property
    def meets_bar(self) -> bool:
        p = self.precision
        return self.audit or (self.enough and (p is None or p >= self.bar))


def score(keys: set[tuple], labels: dict[tuple, Label], rules: dict,
          hints: set[tuple] = frozenset()) -> dict[str, RuleScore]:
    """Per rule: its current findings shown by default (`keys`) and the verdicts on them, and
    how many hints it makes."""
    scores = {code: RuleScore(code, rule.default_on, rule.is_audit)
              for code, rule in rules.items()}
    for key in hints:
        if key[0] in scores:
            scores[key[0]].hints += 1
    for key in keys:
        s = scores.get(key[0])
        if s is None:
            continue  # syntax-error, io-error
        s.findings += 1
        label = labels.get(key)
        if label is not None:
            s.judged += 1
            s.true += label.verdict == "true"
    return scores


def builtin_rules(server: Path | None = None) -> dict:
    """The rules of this checkout, or of the one whose `server/` folder is given."""
    from memlens.engine.rulebook import load_rule_dir

    folder = (server or REPO / "server") / "memlens" / "rules"
    return {r.id: r for r in sorted(load_rule_dir(folder), key=lambda r: r.id)}


def measured(scores: dict[str, RuleScore], projects: int) -> dict:
    """What `memlens rule` shows of each rule's precision (measured.json)."""
    return {
        "corpus": f"the ecosystem corpus ({projects} projects)",
        "rules": {s.rule: {"findings": s.findings, "judged": s.judged, "true": s.true,
                           "hints": s.hints}
                  for s in scores.values()},
    }


def print_report(scores: dict[str, RuleScore], hits: list[Hit], labels, baseline: set,
                 show_new: bool) -> int:
    keys = {h.key for h in hits}
    print(f"{'rule':6} {'on':3} {'found':>5} {'judged':>6} {'true':>5} {'precision':>9} "
          f"{'hints':>5}  bar")
    failing = 0
    for s in scores.values():
        p = "-" if s.precision is None else f"{s.precision:.0%}"
        status = "audit (no bar)" if s.audit else "ok" if s.meets_bar else (
            "needs judging" if not s.enough else f"below {s.bar:.0%}")
        failing += not s.meets_bar
        print(f"{s.rule:6} {'yes' if s.default else 'no':3} {s.findings:5} {s.judged:6} "
              f"{s.true:5} {p:>9} {s.hints:5}  {status}")
    default = [s for s in scores.values() if s.default]
    judged = sum(s.judged for s in default)
    true = sum(s.true for s in default)
    print(f"default rules: {sum(s.findings for s in default)} findings, {judged} judged, "
          f"{true / judged:.0%} true" if judged else "default rules: nothing judged")
    unjudged = [h for h in hits if h.key not in labels and h.rule in scores]
    by_rule = Counter(h.rule for h in unjudged)
    print(f"\nnot yet judged: {len(unjudged)}"
          + (f" ({', '.join(f'{r} {n}' for r, n in sorted(by_rule.items()))})" if unjudged
             else ""))
    if show_new:
        for h in unjudged:
            print(f"  {h.rule} {h.project} {h.path}:{h.line}  {h.message[:90]}")
    if baseline:
        added, removed = sorted(keys - baseline), sorted(baseline - keys)
        print(f"\nagainst baseline.json: {len(added)} added, {len(removed)} removed")
        for tag, group in (("+", added), ("-", removed)):
            per_rule = defaultdict(list)
            for key in group:
                per_rule[key[0]].append(key)
            for rule, items in sorted(per_rule.items()):
                print(f"  {tag} {rule}: {len(items)}")
                for key in items[:5]:
                    verdict = labels[key].verdict if key in labels else "unjudged"
                    print(f"      {key[1]} {key[2]} ({verdict})")
                if len(items) > 5:
                    print(f"      ... {len(items) - 5} more")
    return failing


def write_packets(hits: list[Hit], labels, folders: dict[str, Path], out: Path,
                  per_rule: int, batches: int, seed: int) -> None:
    """Unjudged findings (at most `per_rule` of each rule, a seeded sample) as markdown packets
    with their code around them, for a reviewer to judge."""
    import random

    rules = builtin_rules()
    rng = random.Random(seed)
    todo: dict[str, list[Hit]] = defaultdict(list)
    for h in hits:
        if h.key not in labels and h.rule in rules:
            todo[h.rule].append(h)
    chosen = []
    for _rule, items in sorted(todo.items()):
        rng.shuffle(items)
        chosen += items[:per_rule]
    out.mkdir(parents=True, exist_ok=True)
    packets = [chosen[i::batches] for i in range(batches)]
    for n, packet in enumerate(packets, start=1):
        lines = [f"# Judging packet {n}: {len(packet)} findings", ""]
        for i, h in enumerate(sorted(packet), start=1):
            source = folders[h.project] / h.path
            text = source.read_text(encoding="utf-8", errors="replace").split("\n")
            lo, hi = max(0, h.line - 16), min(len(text), h.line + 15)
            body = "\n".join(f"{'>>' if k + 1 == h.line else '  '}{k + 1:5} {text[k]}"
                             for k in range(lo, hi))
            rule = rules[h.rule]
            lines += [
                f"## {n}.{i} {h.rule} {h.project} {h.path}:{h.line}",
                f"file: {source}",
                f"message: {h.message}",
                f"fix offered: {h.fix or 'none'}" + (
                    f" ({rule.fix.message})" if h.fix and rule.fix else ""),
                "", "```python", body, "```", "",
            ]
            if h.edits:
                lines += ["the fix, as a diff:", "", "```diff", _fix_diff(text, h.edits), "```",
                          ""]
        (out / f"packet-{n:02}.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(chosen)} findings in {len(packets)} packets under {out}")


def _fix_diff(lines: list[str], edits: tuple) -> str:
    """What the fix's edits do to the file, as a unified diff of the lines they touch."""
    import difflib

    text = "\n".join(lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(row: int, column: int) -> int:
        return starts[min(row - 1, len(lines))] + column - 1

    new = text
    for (start, end, content) in sorted(edits, reverse=True):
        new = new[:offset(*start)] + content + new[offset(*end):]
    diff = difflib.unified_diff(text.split("\n"), new.split("\n"), lineterm="", n=2)
    return "\n".join(list(diff)[2:])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--show-new", action="store_true", help="list every unjudged finding")
    p.add_argument("--list", metavar="RULES",
                   help="list the findings of these rules (comma-separated) with their verdicts")
    p.add_argument("--update-baseline", action="store_true",
                   help="write today's findings to baseline.json, and the precision they give "
                        "to the rules' measured.json")
    p.add_argument("--packets", type=Path, help="write unjudged findings to judge here")
    p.add_argument("--per-rule", type=int, default=30, help="with --packets: at most N a rule")
    p.add_argument("--batches", type=int, default=6, help="with --packets: this many files")
    p.add_argument("--seed", type=int, default=10, help="with --packets: the sample's seed")
    p.add_argument("--server", type=Path,
                   help="run the memlens of another checkout's server/ folder (before/after)")
    args = p.parse_args(argv)

    projects = corpus.load_projects()
    folders = corpus.fetch_all(projects)
    hits = run_memlens(projects, folders, args.server)
    labels = read_labels()
    rules = builtin_rules(args.server)
    keys = {h.key for h in hits if not h.hint}
    scores = score(keys, labels, rules, {h.key for h in hits if h.hint})
    files = sum(len(corpus.python_files(f)) for f in folders.values())
    print(f"{len(projects)} projects, {files} files, {len(hits)} findings (--select ALL)\n")
    failing = print_report(scores, hits, labels, read_baseline(), args.show_new)
    if args.list:
        wanted = set(args.list.split(","))
        for h in hits:
            if h.rule in wanted:
                label = labels.get(h.key)
                verdict = f"{label.verdict}: {label.reason}" if label else "unjudged"
                tier = " (hint)" if h.hint else ""
                print(f"  {h.rule}{tier} {h.project} {h.path}:{h.line}  [{verdict}]")
    if args.packets:
        write_packets(hits, labels, folders, args.packets, args.per_rule, args.batches,
                      args.seed)
    if args.update_baseline:
        write_baseline(hits, len(projects))
        MEASURED.write_text(json.dumps(measured(scores, len(projects)), indent=1) + "\n",
                            encoding="utf-8")
        print(f"wrote {BASELINE.relative_to(REPO)} and {MEASURED.relative_to(REPO)}")
    print(f"\n{failing} rule(s) below their bar or not judged enough")
    return 0


if __name__ == "__main__":
    sys.exit(main())

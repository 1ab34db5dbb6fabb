"""Recall and precision of memlens on the code people write: notebooks, applications, scripts.

    .venv/bin/python benchmarks/usercode/run.py                      # the report
    .venv/bin/python benchmarks/usercode/run.py --mirrors DIR        # snapshots elsewhere
    .venv/bin/python benchmarks/usercode/run.py --unjudged           # findings nobody judged
    .venv/bin/python benchmarks/usercode/run.py --packets DIR        # ... as packets to judge
                    [--per-rule N] [--batches K] [--rules ML501,ML201] [--tier warning|hint]
    .venv/bin/python benchmarks/usercode/run.py --missed ML201       # hunted places not found
    .venv/bin/python benchmarks/usercode/run.py --against ../old/server   # before and after

Recall is measured on the places reviewers hunted before any tool ran (`hunt.csv`): a TRUE
place is found when a finding's lines cover it. Precision is measured on memlens' findings:
each is judged in `judged.csv`, or, when it falls on a hunted place, takes that verdict. Both
for the default rules and for `--select ALL`, per rule, and per kind of code (a notebook, or
the kind of its project: application, script, library). UNSURE verdicts count in neither.

Notebooks are checked as memlens checks them (`memlens check` on the .ipynb: the code cells
joined into one module, each finding placed in its cell). Copies of one pattern in a project
share a `group` in the labels; the deduplicated (project, group) counts are printed too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "server"))

import corpus  # noqa: E402

from memlens.notebook import read_notebook  # noqa: E402

HUNT = HERE / "hunt.csv"
JUDGED = HERE / "judged.csv"
HUNT_FIELDS = ("project", "path", "cell", "line", "kind", "verdict", "size", "change",
               "anchor", "group", "note", "reviewer")
JUDGED_FIELDS = ("rule", "project", "path", "cell", "line", "verdict", "reason")
VERDICTS = ("TRUE", "FALSE", "UNSURE")
CODE_KINDS = ("notebook", "application", "script", "library")


@dataclass(frozen=True)
class Place:
    project: str
    path: str
    cell: int  # 0 for a .py file
    line: int  # 1-based, in the file or the cell

    def __str__(self) -> str:
        cell = f":cell {self.cell}" if self.cell else ""
        return f"{self.project}/{self.path}{cell}:{self.line}"


@dataclass(frozen=True)
class Hunted:
    place: Place
    kind: str
    verdict: str
    group: str
    size: str
    change: str


@dataclass(frozen=True)
class Hit:
    rule: str
    place: Place  # where it starts
    end_line: int  # where it ends, in the same file or cell
    message: str
    severity: str = "warning"  # "hint": the pattern without a size (shown faintly, or asked for)

    def covers(self, place: Place) -> bool:
        p = self.place
        return (p.project, p.path, p.cell) == (place.project, place.path, place.cell) and \
            p.line <= place.line <= self.end_line


def _place(row: dict) -> Place:
    cell = (row.get("cell") or "").strip()
    return Place(row["project"].strip(), row["path"].strip(), int(cell) if cell else 0,
                 int(row["line"]))


def read_hunt(path: Path = HUNT) -> list[Hunted]:
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            verdict = row["verdict"].strip().upper()
            if verdict not in VERDICTS:
                raise SystemExit(f"{path}:{n}: verdict {verdict!r} not in {VERDICTS}")
            out.append(Hunted(_place(row), row["kind"].strip(), verdict,
                              (row.get("group") or "").strip(), row.get("size", ""),
                              row.get("change", "")))
    return out


def read_judged(path: Path = JUDGED) -> dict[tuple[str, Place], str]:
    judged: dict[tuple[str, Place], str] = {}
    if not path.exists():
        return judged
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            verdict = row["verdict"].strip().upper()
            if verdict not in VERDICTS:
                raise SystemExit(f"{path}:{n}: verdict {verdict!r} not in {VERDICTS}")
            judged[(row["rule"].strip(), _place(row))] = verdict
    return judged


# -- the checked tree: each project's code as exported ------------------------------------------

def prepare(projects: list[corpus.Project], mirrors: Path, cache: Path) -> Path:
    """A tree to run memlens over (`cache/_check/<project>/...`): the .py files and notebooks
    of each project (hard links to the export). memlens reads the notebooks itself: a
    finding's JSON names its cell and its lines within the cell."""
    check_root = cache / "_check"
    for project in projects:
        source = corpus.export(project, mirrors, cache)
        dest = check_root / project.name
        stamp = dest / ".memlens-corpus-commit"
        if not (stamp.exists() and stamp.read_text().strip() == project.stamp):
            subprocess.run(["rm", "-rf", str(dest)], check=True)
            dest.mkdir(parents=True)
            for path in sorted(source.rglob("*")):
                rel = path.relative_to(source).as_posix()
                if not path.is_file() or rel.startswith(".") or \
                        path.suffix not in (".py", ".ipynb"):
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target)
            stamp.write_text(project.stamp + "\n")
    return check_root


def run_memlens(check_root: Path, projects: list[corpus.Project], select: str,
                server: Path | None = None) -> list[Hit]:
    env = dict(os.environ)
    if server is not None:
        env["PYTHONPATH"] = str(server.resolve())
    command = [sys.executable, "-m", "memlens", "check", *(p.name for p in projects),
               "--isolated", "--no-cache", "--exit-zero", "--no-respect-gitignore", "--show-hints",
               "--output-format", "json"]
    if select != "default":
        command += ["--select", select]
    done = subprocess.run(command, cwd=check_root, capture_output=True, text=True, env=env)
    if done.returncode == 2 and "--show-hints" in done.stderr:  # a tree from before the tiers
        command.remove("--show-hints")
        done = subprocess.run(command, cwd=check_root, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"memlens check failed ({done.returncode}):\n{done.stderr[-2000:]}")
    hits = []
    for finding in json.loads(done.stdout):
        project, _, path = finding["filename"].partition("/")
        start, end = finding["location"]["row"], finding["end_location"]["row"]
        hits.append(Hit(finding["code"], Place(project, path, finding.get("cell") or 0, start),
                        end, finding["message"], finding.get("severity", "warning")))
    return hits


# -- scoring -----------------------------------------------------------------------------------

def code_kind(place: Place, kinds: dict[str, str]) -> str:
    return "notebook" if place.path.endswith(".ipynb") else kinds[place.project]


def verdict_of(hit: Hit, judged: dict, hunted: list[Hunted]) -> str | None:
    found = judged.get((hit.rule, hit.place))
    if found is not None:
        return found
    for h in hunted:
        if hit.covers(h.place):
            return h.verdict
    return None


def report(projects, hunted: list[Hunted], judged: dict, runs: dict[str, list[Hit]],
           out=sys.stdout) -> None:
    kinds = {p.name: p.kind for p in projects}
    true_places = [h for h in hunted if h.verdict == "TRUE"]
    print(f"corpus: {len(projects)} projects; hunted places: {len(hunted)} "
          f"({len(true_places)} TRUE, {sum(h.verdict == 'FALSE' for h in hunted)} FALSE, "
          f"{sum(h.verdict == 'UNSURE' for h in hunted)} UNSURE); deduplicated TRUE: "
          f"{len(_dedup(true_places))}", file=out)
    for name, hits in runs.items():
        print(f"\n## {name}", file=out)
        found = [h for h in true_places if any(hit.covers(h.place) for hit in hits)]
        print(f"recall: {_ratio(len(found), len(true_places))} of hunted TRUE places "
              f"(deduplicated: {_ratio(len(_dedup(found)), len(_dedup(true_places)))})",
              file=out)
        by_kind = defaultdict(lambda: [0, 0])
        for h in true_places:
            k = code_kind(h.place, kinds)
            by_kind[k][1] += 1
            by_kind[k][0] += h in found
        print("  by kind of code: " + ", ".join(
            f"{k} {_ratio(*by_kind[k])}" for k in CODE_KINDS if by_kind[k][1]), file=out)
        by_waste = defaultdict(lambda: [0, 0])
        for h in true_places:
            by_waste[h.kind][1] += 1
            by_waste[h.kind][0] += h in found
        print("  by kind of waste: " + ", ".join(
            f"{k} {_ratio(*v)}" for k, v in sorted(by_waste.items(), key=lambda kv: -kv[1][1])),
            file=out)
        rules: dict[str, list[str | None]] = defaultdict(list)
        precision_kind = defaultdict(lambda: [0, 0])
        for hit in hits:
            verdict = verdict_of(hit, judged, hunted)
            rules[hit.rule].append(verdict)
            if verdict in ("TRUE", "FALSE"):
                k = code_kind(hit.place, kinds)
                precision_kind[k][1] += 1
                precision_kind[k][0] += verdict == "TRUE"
        t = sum(v.count("TRUE") for v in rules.values())
        f = sum(v.count("FALSE") for v in rules.values())
        u = sum(v.count("UNSURE") for v in rules.values())
        n = sum(v.count(None) for v in rules.values())
        print(f"precision: {_ratio(t, t + f)} of judged findings ({len(hits)} findings: "
              f"{t} true, {f} false, {u} unsure, {n} unjudged)", file=out)
        print("  by kind of code: " + ", ".join(
            f"{k} {_ratio(*precision_kind[k])}" for k in CODE_KINDS if precision_kind[k][1]),
            file=out)
        print(f"  {'rule':8} {'findings':>8} {'true':>5} {'false':>5} {'unsure':>6} "
              f"{'unjudged':>8} {'precision':>9} {'recall':>7}", file=out)
        for rule in sorted(rules):
            v = rules[rule]
            t, f = v.count("TRUE"), v.count("FALSE")
            found_by_rule = sum(1 for h in true_places
                                if any(x.rule == rule and x.covers(h.place) for x in hits))
            print(f"  {rule:8} {len(v):8} {t:5} {f:5} {v.count('UNSURE'):6} {v.count(None):8} "
                  f"{_ratio(t, t + f):>9} {found_by_rule:7}", file=out)


def write_packets(hits: list[Hit], judged: dict, hunted: list[Hunted], cache: Path, out: Path,
                  per_rule: int, batches: int, seed: int, rules: set[str] | None,
                  tier: str | None) -> None:
    """Unjudged findings (at most `per_rule` of each rule, a seeded sample) as markdown packets
    with their code around them (a notebook's cells around theirs, with what they printed), for
    a reviewer to judge into judged.csv."""
    import random

    from memlens.engine.lines import split_lines

    rng = random.Random(seed)
    todo: dict[str, list[Hit]] = defaultdict(list)
    for h in hits:
        if rules and h.rule not in rules:
            continue
        if tier and (h.severity == "hint") != (tier == "hint"):
            continue
        if verdict_of(h, judged, hunted) is None:
            todo[h.rule].append(h)
    chosen: list[Hit] = []
    for _rule, items in sorted(todo.items()):
        rng.shuffle(items)
        chosen += items[:per_rule]
    out.mkdir(parents=True, exist_ok=True)
    packets = [chosen[i::batches] for i in range(batches)]
    for n, packet in enumerate(packets, start=1):
        lines = [f"# Judging packet {n}: {len(packet)} findings", ""]
        for i, h in enumerate(sorted(packet, key=lambda x: (x.rule, str(x.place))), start=1):
            source = cache / h.place.project / h.place.path
            tier_note = " (hint: shown faintly, the size is not known)" \
                if h.severity == "hint" else ""
            lines += [f"## {n}.{i} {h.rule} {h.place}",
                      f"file: {source}", f"message: {h.message}{tier_note}", ""]
            if h.place.cell:
                nb = read_notebook(source.read_text(encoding="utf-8", errors="replace"),
                                   drop_unparsable=True)
                at = next(k for k, c in enumerate(nb.cells) if c.number == h.place.cell)
                for cell in nb.cells[max(0, at - 2): at + 3]:
                    lines.append(f"cell {cell.number}:")
                    here = cell.number == h.place.cell
                    body = [f"{'>>' if here and k + 1 == h.place.line else '  '}{k + 1:4} {text}"
                            for k, text in enumerate(split_lines(cell.source))]
                    lines += ["```python", *body, "```"]
                    for output in cell.outputs[:2]:
                        shown = split_lines(output.rstrip())[:6]
                        lines += ["output:", "```", *[t[:160] for t in shown], "```"]
            else:
                text = split_lines(source.read_text(encoding="utf-8", errors="replace"))
                line = h.place.line
                lo, hi = max(0, line - 16), min(len(text), line + 15)
                body = [f"{'>>' if k + 1 == line else '  '}{k + 1:5} {text[k]}"
                        for k in range(lo, hi)]
                lines += ["```python", *body, "```"]
            lines.append("")
        (out / f"packet-{n:02}.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(chosen)} findings in {len(packets)} packets under {out}")


def tiers(default: list[Hit], everything: list[Hit]) -> dict[str, list[Hit]]:
    """What a user sees: the default rules' warnings (hints are shown only when asked, or
    faintly in the editor), the same with hints, and every rule with hints."""
    return {"default rules (hints hidden)": [h for h in default if h.severity != "hint"],
            "default rules, hints too": default,
            "--select ALL, hints too": everything}


def _dedup(places: list[Hunted]) -> set:
    return {(h.place.project, h.group) if h.group else (h.place, "") for h in places}


def _ratio(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.0%})" if b else f"{a}/0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=corpus.DEFAULT_MIRRORS)
    parser.add_argument("--cache", type=Path, default=corpus.CACHE)
    parser.add_argument("--projects", type=Path, default=corpus.PROJECTS)
    parser.add_argument("--hunt", type=Path, default=HUNT)
    parser.add_argument("--judged", type=Path, default=JUDGED)
    parser.add_argument("--against", type=Path, help="the server/ folder of another checkout")
    parser.add_argument("--unjudged", action="store_true", help="list findings nobody judged")
    parser.add_argument("--missed", metavar="KIND", nargs="?", const="",
                        help="list hunted TRUE places that no finding covers")
    parser.add_argument("--packets", type=Path, help="write unjudged findings to judge here")
    parser.add_argument("--per-rule", type=int, default=25)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rules", help="only these rules (comma-separated), for --packets")
    parser.add_argument("--tier", choices=("warning", "hint"), help="only this tier")
    args = parser.parse_args(argv)
    projects = corpus.load_projects(args.projects)
    hunted = read_hunt(args.hunt)
    judged = read_judged(args.judged)
    check_root = prepare(projects, args.mirrors, args.cache)
    runs = tiers(run_memlens(check_root, projects, "default"),
                 run_memlens(check_root, projects, "ALL"))
    if args.against is not None:
        before = tiers(run_memlens(check_root, projects, "default", args.against),
                       run_memlens(check_root, projects, "ALL", args.against))
        runs.update({f"{name}, before": hits for name, hits in before.items()})
    every = runs["--select ALL, hints too"]
    if args.packets is not None:
        write_packets(every, judged, hunted, args.cache, args.packets, args.per_rule,
                      args.batches, args.seed,
                      set(args.rules.split(",")) if args.rules else None, args.tier)
        return 0
    if args.unjudged:
        for hit in sorted(every, key=lambda h: (h.rule, str(h.place))):
            if verdict_of(hit, judged, hunted) is None:
                tier = " (hint)" if hit.severity == "hint" else ""
                print(f"{hit.rule}{tier} {hit.place}  {hit.message[:100]}")
        return 0
    if args.missed is not None:
        hits = every
        for h in hunted:
            if h.verdict == "TRUE" and (not args.missed or h.kind == args.missed) and \
                    not any(hit.covers(h.place) for hit in hits):
                print(f"{h.kind:22} {h.place}  {h.change[:80]}")
        return 0
    report(projects, hunted, judged, runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

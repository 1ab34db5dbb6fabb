"""What a repository can commit besides code cannot exhaust memory, hang `memlens check`, or be
read from outside the repository: a `.gitignore` that links to /dev/zero or is a FIFO, a huge
one, a config or a rule file linked out of the repository, a rule folder with a FIFO in it, a
YAML alias bomb. Each is refused with one line; what else can be checked is checked.

Every run here has a memory cap and a time limit: before the fixes, the /dev/zero cases read
until memory ran out and the FIFO cases waited forever."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import MEMLENS, NP_LOAD, SAFE_RULE, Run, write

MEMORY_CAP = 1 << 30


def _capped():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_capped(*args: str, cwd: Path, timeout: float = 60) -> Run:
    """`memlens` with 1 GiB of address space and a minute: a run that reads /dev/zero ends in a
    MemoryError, one that waits on a FIFO in a TimeoutExpired (both fail the test)."""
    proc = subprocess.run([*MEMLENS, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_capped, env=os.environ)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def check(root: Path, *args: str) -> tuple[Run, set[tuple[str, str]]]:
    r = run_capped("check", "--output-format", "json", "--no-cache", *args, cwd=root)
    assert "Traceback" not in r.stderr, r.stderr
    found = {(f["filename"], f["code"]) for f in r.json()} if r.stdout.startswith("[") else set()
    return r, found


def warnings(r: Run) -> list[str]:
    return [line for line in r.stderr.splitlines() if ": warning: " in line]


def test_ignore_files_that_are_links_to_devices_fifos_or_huge_are_not_read(project):
    write(project, {"a.py": NP_LOAD, "fifo/b.py": NP_LOAD, "huge/c.py": NP_LOAD,
                    "sub/d.py": NP_LOAD, "sub/deeper/e.py": NP_LOAD})
    (project / ".git").mkdir()
    os.symlink("/dev/zero", project / ".gitignore")
    os.mkfifo(project / "fifo" / ".gitignore")
    (project / "huge" / ".gitignore").write_text("c.py\n" + "#" * (2 << 20) + "\n")
    os.symlink("../../a.py", project / "sub" / "deeper" / ".gitignore")  # a link, even inside
    r, found = check(project)
    assert r.returncode == 1
    # none of them is read, so none ignores anything: every file is checked
    assert found == {(name, "ML102") for name in (
        "a.py", "fifo/b.py", "huge/c.py", "sub/d.py", "sub/deeper/e.py")}
    said = warnings(r)
    assert len(said) == 4, r.stderr
    assert any(".gitignore: not read (a symbolic link)" in w for w in said)
    assert any("fifo/.gitignore: not read (not a regular file" in w for w in said)
    assert any("huge/.gitignore: not read (2 MB is over the 1 MB limit)" in w for w in said)
    # the .gitignore files of the folders above a checked one are read the same way
    r, found = check(project, "sub")
    assert found == {("sub/d.py", "ML102"), ("sub/deeper/e.py", "ML102")}
    assert any(".gitignore: not read (a symbolic link)" in w for w in warnings(r))


def test_a_gitignore_that_is_a_regular_file_still_applies(project):
    write(project, {".gitignore": "skipped.py\n", "a.py": NP_LOAD, "skipped.py": NP_LOAD})
    (project / ".git").mkdir()
    r, found = check(project)
    assert found == {("a.py", "ML102")} and warnings(r) == []


def test_a_config_linked_out_of_the_repository_or_huge_is_refused_in_one_line(project, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.toml"
    outside.write_text('[tool.memlens]\nignore = ["ML102"]\n')
    repo = project / "repo"
    write(repo, {"a.py": NP_LOAD})
    (repo / ".git").mkdir()
    os.symlink(outside, repo / "pyproject.toml")
    r, _ = check(repo)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert "pyproject.toml: cannot read: a symbolic link to" in r.stderr
    assert "outside" in r.stderr
    # a link inside the repository is followed
    (repo / "pyproject.toml").unlink()
    write(repo, {"config/base.toml": '[tool.memlens]\nignore = ["ML102"]\n'})
    os.symlink("config/base.toml", repo / "pyproject.toml")
    r, found = check(repo)
    assert r.returncode == 0 and found == set()
    # and a config of megabytes is not read
    (repo / "pyproject.toml").unlink()
    (repo / "pyproject.toml").write_text("[tool.memlens]\n" + "#" * (2 << 20) + "\n")
    r, _ = check(repo)
    assert r.returncode == 2 and "over the 1 MB limit" in r.stderr
    assert len(r.stderr.splitlines()) == 1
    # a file named with --config is the user's choice: read wherever it is
    r, found = check(repo, "--config", str(outside))
    assert r.returncode == 0 and found == set()


@pytest.mark.parametrize("hostile", ["fifo", "devzero", "outside"])
def test_a_rule_folder_cannot_hang_or_exhaust_the_run(rules_project, tmp_path, hostile):
    """A rule folder is read twice: its rules, and (for the cache's key) every YAML file below
    it. A FIFO or a link to /dev/zero there hung the run or read until memory ran out."""
    write(rules_project, {"a.py": "leaky_helper(1)\n"})
    (rules_project / ".git").mkdir()
    secret = tmp_path.parent / f"{tmp_path.name}-secret.yml"
    secret.write_text("password: hunter2\n")
    target = {"fifo": None, "devzero": "/dev/zero", "outside": str(secret)}[hostile]

    def plant(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if target is None:
            os.mkfifo(path)
        else:
            os.symlink(target, path)

    # below the rule folder: not a rule, but part of the cache's key
    plant(rules_project / "rules" / "sub" / "XT009.yml")
    r, found = check(rules_project, "--output-format", "json")
    assert r.returncode == 1 and found == {("a.py", "XT001")}
    r = run_capped("check", cwd=rules_project)  # with the cache
    assert r.returncode == 1 and "XT001" in r.stdout and "Traceback" not in r.stderr
    # in the rule folder itself: the rule file is refused, in one line naming it
    plant(rules_project / "rules" / "XT003.yml")
    r, _ = check(rules_project)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "rules/XT003.yml: cannot read:" in r.stderr
    assert "hunter2" not in r.stderr


def test_a_yaml_alias_bomb_in_a_rule_file_is_refused_at_once(rules_project):
    """Thirty nested aliases in a rule file of a few hundred bytes took hours to expand: aliases
    of mappings and lists are refused (no rule needs them), and the built-in rules load."""
    levels = ["a0: &a0 {kind: identifier}"]
    for i in range(1, 31):
        levels.append(f"a{i}: &a{i} {{any: [*a{i - 1}, *a{i - 1}]}}")
    bomb = SAFE_RULE.replace("id: XT001", "id: XT005").replace(
        "rule:\n  pattern: leaky_helper($$$ARGS)\n", "rule: *a30\n")
    bomb = "utils:\n" + "".join(f"  {line}\n" for line in levels) + bomb
    write(rules_project, {"rules/XT005.yml": bomb, "a.py": "leaky_helper(1)\n"})
    started = time.monotonic()
    r, _ = check(rules_project)
    assert time.monotonic() - started < 30
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "rules/XT005.yml" in r.stderr and "alias" in r.stderr
    (rules_project / "rules" / "XT005.yml").unlink()
    # a harmless anchor with its alias on a plain string is fine, as are the built-in rules
    write(rules_project, {"rules/XT006.yml": SAFE_RULE.replace("id: XT001", "id: XT006").replace(
        "  family: test\n", "  family: &family test\n  also: *family\n")})
    r, found = check(rules_project, "--select", "ALL")
    assert r.returncode == 1 and ("a.py", "XT001") in found and ("a.py", "XT006") in found


SWAP = """
import json, os, sys
from memlens.engine import Engine, Settings
from memlens.engine.batch import Task, run
from memlens.engine.discovery import discover

root = sys.argv[1]
settings = Settings()
found = discover([root], settings)  # three regular files
os.unlink(os.path.join(root, "fifo.py"))
os.mkfifo(os.path.join(root, "fifo.py"))  # swapped for a FIFO after discovery
os.unlink(os.path.join(root, "zero.py"))
os.symlink("/dev/zero", os.path.join(root, "zero.py"))  # and for a link to a device
tasks = [Task(shown, absolute=absolute) for shown, absolute in found]
results = run([Engine(settings)], tasks, jobs=1, timeout=float(sys.argv[2]))
print(json.dumps({os.path.basename(r.path): [f.code + " " + f.message for f in r.findings]
                  for r in results}))
"""


@pytest.mark.parametrize("timeout", [0, 20])
def test_a_source_file_swapped_after_discovery_is_refused_not_waited_on(tmp_path, timeout):
    """Discovery keeps regular files; the file is opened again later, by name. A FIFO put in
    its place blocked the run forever, a link to /dev/zero read until memory ran out. It is
    opened once, without blocking, checked with fstat, and read up to its bound."""
    write(tmp_path, {"fifo.py": NP_LOAD, "zero.py": NP_LOAD, "ok.py": NP_LOAD})
    proc = subprocess.run([sys.executable, "-c", SWAP, str(tmp_path), str(timeout)],
                          capture_output=True, text=True, timeout=60, preexec_fn=_capped)
    assert proc.returncode == 0, proc.stderr
    got = __import__("json").loads(proc.stdout)
    assert [m.split(" ")[0] for m in got["ok.py"]] == ["ML102"]
    for name in ("fifo.py", "zero.py"):
        [message] = got[name]
        assert message.startswith("io-error not a regular file"), message

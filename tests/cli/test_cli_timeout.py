"""`memlens check --timeout SECONDS`: each file's budget, as the server's checkTimeoutSeconds.
A file that overruns it is reported as timed out (one error line, exit 1, never cached); the
other files are checked, in one process or many.

The slow file is real: a project rule of nested relational conditions (`inside`/`has` with
`stopBy: end`), whose search grows with the square of the file (about 25 s for the 2,000-line
file here, on one core; the budget is 1 s)."""

from __future__ import annotations

import time

import pytest
from cli_helpers import NOTE, NP_LOAD, SHOWN, run, write

# A rule that is slow on every identifier: `any: [{kind: module}]` rather than `kind: module`,
# so that the engine's shortcut (an exact `inside: {kind: module}` checked once on the root)
# cannot settle it, and each identifier searches the module again.
NESTED_RULE = """\
id: XS001
message: a name in a module that names zzzz somewhere
severity: warning
rule:
  kind: identifier
  inside:
    any: [{ kind: module }]
    stopBy: end
    has:
      kind: identifier
      stopBy: end
      inside:
        kind: module
        stopBy: end
        has:
          kind: identifier
          stopBy: end
          regex: "^zzzz$"
metadata:
  family: test
""" + NOTE

SLOW = "".join(f"a{i} = b{i} + c{i}\n" for i in range(2000)) + "zzzz = 1\n"


@pytest.fixture
def slow_project(project):
    write(project, {"pyproject.toml": '[tool.memlens]\nrule-dirs = ["rules"]\n'
                                      'select = ["XS", "ML102"]\n' + SHOWN,
                    "rules/XS001.yml": NESTED_RULE, "slow.py": SLOW, "quick.py": "zzzz = 2\n"})
    return project


def findings(r) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in r.json():
        out.setdefault(f["filename"], []).append(f["code"])
    return out


def test_a_file_over_its_budget_is_reported_and_the_others_are_checked(slow_project):
    started = time.monotonic()
    r = run("check", "--output-format", "json", "--timeout", "1", cwd=slow_project)
    assert time.monotonic() - started < 15
    assert r.returncode == 1, r.stderr
    assert findings(r) == {"quick.py": ["XS001"], "slow.py": ["io-error"]}
    [timed_out] = [f for f in r.json() if f["filename"] == "slow.py"]
    assert timed_out["message"].startswith("memlens stopped checking this file after 1 s")
    # never cached: the next run tries it again (and says so again)
    r = run("check", "--statistics", "--output-format", "json", "--timeout", "1",
            cwd=slow_project)
    assert r.json()["cache"] == {"hits": 1, "misses": 1}
    assert {s["code"] for s in r.json()["statistics"]} == {"XS001", "io-error"}
    # the text output counts it with the files not checked
    r = run("check", "--timeout", "1", "--no-cache", cwd=slow_project)
    assert r.returncode == 1 and "1 file not checked" in r.stdout.splitlines()[-1]


def test_with_many_workers_only_the_slow_file_is_lost(slow_project):
    # enough files for the pool (8 files, 400 KB): the slow one among them
    filler = "".join(f"def f{i}(a, b):\n    return a + b * {i}\n\n" for i in range(1500))
    write(slow_project, {f"pkg/m{i:02d}.py": NP_LOAD + filler for i in range(12)})
    started = time.monotonic()
    r = run("check", "--output-format", "json", "--no-cache", "--jobs", "2", "--timeout", "2",
            cwd=slow_project)
    assert time.monotonic() - started < 40
    got = findings(r)
    assert got.pop("slow.py") == ["io-error"] and got.pop("quick.py") == ["XS001"]
    assert got == {f"pkg/m{i:02d}.py": ["ML102"] for i in range(12)}


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_a_bad_timeout_is_a_usage_error(project, value):
    r = run("check", f"--timeout={value}", cwd=project)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert "--timeout" in r.stderr


def test_the_default_budget_is_the_servers():
    from memlens.engine.cli import build_parser
    from memlens.lsp.settings import DEFAULT_CHECK_TIMEOUT_S

    assert build_parser().parse_args([]).timeout == DEFAULT_CHECK_TIMEOUT_S == 20
    assert build_parser().parse_args(["--timeout", "0"]).timeout == 0  # no limit

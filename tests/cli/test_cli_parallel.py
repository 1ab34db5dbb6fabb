"""Many files are checked on every core, with the same findings as one process."""

from __future__ import annotations

from cli_helpers import NP_LOAD, run, write

FILLER = "".join(f"def f{i}(a, b):\n    return a + b * {i}\n\n" for i in range(300))


def test_pool_gives_the_same_findings_as_one_process(project):
    files = {f"pkg/m{i:03d}.py": NP_LOAD + FILLER for i in range(60)}
    files["pkg/bad.py"] = b"\x00"
    write(project, files)
    args = ("check", "--output-format", "json", "--no-cache", "--select", "ALL")
    one = run(*args, "--jobs", "1", cwd=project).json()
    many = run(*args, "--jobs", "2", cwd=project).json()
    assert one == many
    assert sum(f["code"] == "ML102" for f in many) == 60
    assert [f["filename"] for f in many] == sorted(f["filename"] for f in many)


def test_a_worker_that_crashes_loses_only_its_own_file(project):
    # a native crash (an abort in a parser) in the worker that checks crash.py: every other
    # file is still reported, and crash.py says what happened
    body = NP_LOAD + "".join(f"def f{i}(p):\n    return p\n\n" for i in range(1200))
    files = {f"pkg/mod{i}.py": body for i in range(30)}
    files["pkg/crash.py"] = body
    write(project, files)
    r = run("check", "pkg", "--output-format", "json", "--no-cache", "--jobs", "2",
            cwd=project, env={"MEMLENS_FAULT_ABORT_ON": "crash.py"})
    assert r.returncode == 1, r.stderr
    found = {(f["filename"], f["code"]) for f in r.json()}
    assert {(f"pkg/mod{i}.py", "ML102") for i in range(30)} <= found
    crash = [f for f in r.json() if f["filename"] == "pkg/crash.py"]
    assert [f["code"] for f in crash] == ["io-error"]
    assert "crashed" in crash[0]["message"]

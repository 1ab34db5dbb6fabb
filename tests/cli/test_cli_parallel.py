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

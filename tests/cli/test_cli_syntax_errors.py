"""Python's parser decides what a syntax error is (issue 17, items 25 and 27)."""

from __future__ import annotations

from cli_helpers import run, write


def test_a_named_file_gets_every_error_python_finds(project):
    # tree-sitter parses both without an error; Python rejects them
    write(project, {"a.py": "def f(a=1, b):\n    pass\n", "b.py": "x = 1\nf(**k, *a)\n"})
    r = run("check", "--no-cache", "--output-format", "json", "a.py", "b.py", cwd=project)
    got = [(f["filename"], f["code"], f["message"], f["location"]) for f in r.json()]
    assert got == [
        ("a.py", "syntax-error", "SyntaxError: non-default argument follows default argument",
         {"row": 1, "column": 12}),
        ("b.py", "syntax-error", "SyntaxError: iterable argument unpacking follows keyword "
                                 "argument unpacking", {"row": 2, "column": 8}),
    ]
    assert r.returncode == 1


def test_valid_python_that_tree_sitter_misreads_passes(project):
    write(project, {"a.py": "def f(x):\n    x.append((1 +\n        2 +\n   # c\n        3))\n"})
    r = run("check", "--no-cache", "a.py", cwd=project)
    assert r.returncode == 0 and "All checks passed!" in r.stdout, r.stdout

"""No finding lost to a fixer's bug, no fix that would not parse (issue 17, items 6 and 9)."""

from __future__ import annotations

import ast

from cli_helpers import run, write


def test_keyword_only_argument_without_default_keeps_the_files_findings(project):
    write(project, {"m.py": """\
        import joblib
        MODEL = joblib.load("m.pkl")

        def predict(x):
            return MODEL.predict(x)

        def g(*, a):
            return a
        """})
    r = run("check", "--no-cache", "--output-format", "json", "m.py", cwd=project)
    codes = [f["code"] for f in r.json()]
    assert codes == ["ML101"], r.stdout + r.stderr
    assert r.json()[0]["fix"] is not None


def test_a_fix_that_would_not_parse_blocks_no_other_fix(project):
    # ML601 in a tab-indented function (its fix wrote spaces: TabError), and two ML901 findings
    source = ("import gc\nfrom memory_profiler import profile\n\n"
              "@profile\ndef f(rows):\n\tgc.disable()\n\tx = build(rows)\n\treturn x\n")
    write(project, {"m.py": source})
    r = run("check", "--no-cache", "--fix", "m.py", cwd=project)
    text = (project / "m.py").read_text()
    ast.parse(text)
    assert "memory_profiler" not in text and "@profile" not in text
    assert "\ttry:\n\t\tx = build(rows)" in text and "\t\tgc.enable()" in text
    assert "Fixed 3 findings." in r.stdout and "All checks passed!" in r.stdout


def test_a_finding_whose_fix_is_dropped_is_not_reported_fixable(project):
    # ML601 after a `;`: its fix duplicated `a = 1`; now there is none, and no [*]
    source = ("import gc\nfrom memory_profiler import profile\n"
              "def f(rows):\n    a = 1; gc.disable()\n    x = build(rows)\n    return x\n")
    write(project, {"m.py": source})
    r = run("check", "--no-cache", "--fix", "m.py", cwd=project)
    text = (project / "m.py").read_text()
    ast.parse(text)
    assert "memory_profiler" not in text and text.count("a = 1") == 1
    assert "ML601" in r.stdout and "[*]" not in r.stdout and "fixable" not in r.stdout
    assert "Fixed 1 finding." in r.stdout

"""--fix applies safe fixes, --unsafe-fixes the rest, --diff only shows them."""

from __future__ import annotations

import ast

from cli_helpers import NP_LOAD, SLICED, run, write

SOURCE = ("import numpy as np\nleaky_helper(1, 2)\nrisky_helper(3)\nx = np.load('a.npy')\n"
          + SLICED)


def test_fix_applies_only_safe_fixes(rules_project):
    write(rules_project, {"a.py": SOURCE})
    r = run("check", "--fix", cwd=rules_project)
    text = (rules_project / "a.py").read_text()
    assert "tidy_helper(1, 2)" in text and "leaky_helper" not in text
    assert "risky_helper(3)\n" in text and "mmap_mode" not in text  # suggestions stay
    ast.parse(text)
    assert "Fixed 1 finding." in r.stdout
    assert r.returncode == 1  # the suggestions remain
    assert "XT001" not in r.stdout and "XT002" in r.stdout


def test_unsafe_fixes_apply_the_rest_and_the_result_parses(rules_project):
    write(rules_project, {"a.py": SOURCE})
    r = run("check", "--fix", "--unsafe-fixes", cwd=rules_project)
    text = (rules_project / "a.py").read_text()
    ast.parse(text)
    assert "tidy_helper(1, 2)" in text
    assert "risky_helper(3, copy=False)" in text
    assert "np.load('a.npy', mmap_mode=\"r\")" in text
    assert "Fixed 3 findings." in r.stdout
    assert r.returncode == 0 and "All checks passed!" in r.stdout


def test_diff_writes_nothing_and_exits_one(rules_project):
    write(rules_project, {"a.py": SOURCE})
    r = run("check", "--diff", cwd=rules_project)
    assert (rules_project / "a.py").read_text() == SOURCE
    assert r.returncode == 1
    assert "--- a/a.py" in r.stdout and "+++ b/a.py" in r.stdout
    assert "-leaky_helper(1, 2)" in r.stdout and "+tidy_helper(1, 2)" in r.stdout
    assert "risky_helper(3, copy" not in r.stdout
    assert "Would fix 1 finding." in r.stderr
    r = run("check", "--diff", "--unsafe-fixes", cwd=rules_project)
    assert "+risky_helper(3, copy=False)" in r.stdout
    assert (rules_project / "a.py").read_text() == SOURCE


def test_diff_without_fixes_exits_zero(project):
    write(project, {"a.py": "x = 1\n"})
    assert run("check", "--diff", cwd=project).returncode == 0


def test_fix_keeps_line_endings_encoding_and_mode(rules_project):
    path = rules_project / "a.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\ns = '\xe9'\r\nleaky_helper(1)\r\n")
    path.chmod(0o755)
    run("check", "--fix", cwd=rules_project)
    assert path.read_bytes() == b"# -*- coding: latin-1 -*-\ns = '\xe9'\r\ntidy_helper(1)\r\n"
    assert path.stat().st_mode & 0o777 == 0o755


def test_fix_never_writes_code_that_does_not_parse(rules_project):
    broken = "leaky_helper(1)\nx = (1,\n"
    write(rules_project, {"a.py": broken})
    r = run("check", "--fix", cwd=rules_project)
    assert (rules_project / "a.py").read_text() == broken
    assert r.returncode == 1 and "syntax-error" in r.stdout


def test_fix_with_json_reports_remaining(rules_project):
    write(rules_project, {"a.py": NP_LOAD + "leaky_helper(1)\n"})
    r = run("check", "--fix", "--output-format", "json", cwd=rules_project)
    assert [f["code"] for f in r.json()] == ["ML102"]


def test_no_grad_fix_never_makes_torch_a_module_level_import(project):
    # torch imported only inside the function: a decorator runs at module level, where torch is
    # not bound, and adding `import torch` there would make an optional package required. The
    # finding stays, without a fix, and the file is left as it was.
    source = ("def evaluate(model, loader):\n    import torch\n    model.eval()\n"
              "    return [model(batch) for batch in loader]\n")
    write(project, {"ev.py": source})
    r = run("check", "--select", "ML501", "--fix", "--unsafe-fixes", "--no-cache", cwd=project)
    assert (project / "ev.py").read_text() == source
    assert "ML501" in r.stdout and "Fixed" not in r.stdout and r.returncode == 1
    # torch imported at the top: the decorator is added, and the file still parses
    write(project, {"ev.py": "import torch\n\n\n" + source.replace("    import torch\n", "")})
    r = run("check", "--select", "ML501", "--fix", "--unsafe-fixes", "--no-cache", cwd=project)
    text = (project / "ev.py").read_text()
    assert text.startswith("import torch\n\n\n@torch.no_grad()\ndef evaluate("), text
    assert text.count("import torch") == 1
    ast.parse(text)
    assert "Fixed 1 finding." in r.stdout and r.returncode == 0


def test_diff_counts_lines_as_python_does(rules_project):
    """A form feed or a U+2028 is no line break: the hunk's line numbers are the file's own."""
    source = "s = 'a\u2028b'\n\x0c\nleaky_helper(1)\n"
    write(rules_project, {"a.py": source})
    r = run("check", "--diff", cwd=rules_project, env={"PYTHONIOENCODING": "utf-8"})
    assert "@@ -1,3 +1,3 @@" in r.stdout, r.stdout
    assert "\n-leaky_helper(1)\n+tidy_helper(1)\n" in r.stdout
    assert " s = 'a\u2028b'\n \x0c\n" in r.stdout

"""The profile report numbers lines as Python and LSP do: at "\\r\\n", "\\r" and "\\n" only.

`str.splitlines` also breaks at a form feed, "\\v", "\\x1c"-"\\x1e", "\\x85", U+2028 and U+2029:
one of them above the function shifted every row, and a line's memory was printed beside the
code of the line above it, in the table and in the JSON.
"""

import subprocess

from profiler_helpers import MEMLENS, ROOT, run_cli

# what Python counts as no line break, above and inside the function
ABOVE = ['NOTE = "a\u2028b\u2029c"', "\x0c", "# \x0b\x1c\x1d\x1e\x85 in a comment", ""]
FUNCTION = ["def f():", "    small = [0] * 10  # \x0c", "    big = [0] * 5_000_000",
            "    return len(big)"]


def _target(tmp_path):
    path = tmp_path / "target.py"
    path.write_bytes("\n".join([*ABOVE, *FUNCTION, ""]).encode())
    return path


def test_rows_pair_each_line_with_its_own_code(tmp_path):
    code, result = run_cli(f"{_target(tmp_path)}::f")
    assert code == 0, result["error"]
    first = len(ABOVE) + 1
    assert result["first_line"] == first
    assert [(row["line"], row["source"]) for row in result["lines"]] == \
        list(enumerate(FUNCTION, start=first))
    biggest = max(result["lines"], key=lambda row: row["increment_mib"] or 0)
    assert biggest["source"] == "    big = [0] * 5_000_000" and biggest["increment_mib"] > 20


def test_the_table_prints_the_memory_beside_its_line(tmp_path):
    proc = subprocess.run([str(MEMLENS), "profile", f"{_target(tmp_path)}::f"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    row = next(r for r in proc.stdout.split("\n") if r.lstrip().startswith(str(len(ABOVE) + 3)))
    assert row.endswith("big = [0] * 5_000_000"), proc.stdout
    assert float(row.split()[3]) > 20  # the increment, in MiB

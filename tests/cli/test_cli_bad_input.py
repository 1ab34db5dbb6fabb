"""Bad input never crashes the run: one clear error line per file, and the rest is checked."""

from __future__ import annotations

import os

from cli_helpers import NP_LOAD, SLICED, run, write


def findings(root, *args):
    r = run("check", "--output-format", "json", "--no-cache", *args, cwd=root)
    return r, {(f["filename"], f["code"]): f for f in r.json()}


def test_bad_files_are_reported_and_the_run_goes_on(project):
    write(project, {
        "good.py": NP_LOAD,
        "syntax.py": "import numpy as np\nx = (1,\ny = np.load('a.npy')\n",
        "latin.py": b"import numpy as np\ns = '\xe9t\xe9'\n",
        "nul.py": b"import numpy as np\x00\n",
        "empty.py": "",
    })
    with open(project / "huge.py", "wb") as fh:
        fh.write(b"x = 1\n" * (11 * 1024 * 1024 // 6))
    r, got = findings(project)
    assert r.returncode == 1
    assert ("good.py", "ML102") in got
    assert ("syntax.py", "syntax-error") in got
    assert "not UTF-8" in got[("latin.py", "io-error")]["message"]
    assert "line 2" in got[("latin.py", "io-error")]["message"]
    assert "NUL" in got[("nul.py", "io-error")]["message"]
    assert "10 MB" in got[("huge.py", "io-error")]["message"]
    assert not any(name == "empty.py" for name, _ in got)
    # The text format shows one line per bad file and counts them.
    r = run("check", "--no-cache", cwd=project)
    lines = r.stdout.splitlines()
    for name in ("latin.py", "nul.py", "huge.py"):
        assert sum(line.startswith(f"{name}:1:1: io-error ") for line in lines) == 1
    assert "3 files not checked" in lines[-1]


def test_coding_cookie_is_honoured(project):
    write(project, {"latin.py": b"# -*- coding: latin-1 -*-\nimport numpy as np\n"
                                b"s = '\xe9'; x = np.load('a')\n" + SLICED.encode()})
    r, got = findings(project)
    assert list(got) == [("latin.py", "ML102")]
    assert got[("latin.py", "ML102")]["location"] == {"row": 3, "column": 14}


def test_utf8_bom_and_crlf(project):
    write(project, {"bom.py": b"\xef\xbb\xbfimport numpy as np\r\nx = np.load('a')\r\n"
                              + SLICED.replace("\n", "\r\n").encode()})
    r, got = findings(project)
    assert got[("bom.py", "ML102")]["location"] == {"row": 2, "column": 5}


def test_exit_code_for_errors_only(project):
    write(project, {"nul.py": b"\x00"})
    r = run("check", cwd=project)
    assert r.returncode == 1
    assert run("check", "--exit-zero", cwd=project).returncode == 0


def test_explicit_non_python_file_and_missing_path(project):
    write(project, {"a.py": NP_LOAD})
    r = run("check", "a.py", "missing/", cwd=project)
    assert r.returncode == 2 and "missing/" in r.stderr


def test_a_cr_only_file_is_reported_on_its_own_lines_and_fixed_with_its_own_ending(project):
    text = ("import pandas as pd\r\rdef merged(files):\r    out = pd.DataFrame()\r"
            "    for path in files:\r        out = pd.concat([out, pd.read_csv(path)])\r"
            "    return out\r")
    (project / "cr.py").write_bytes(text.encode())
    r = run("check", "cr.py", "--output-format", "json", "--no-cache", cwd=project)
    (finding,) = r.json()
    assert (finding["code"], finding["location"]) == ("ML402", {"row": 6, "column": 9})
    run("check", "cr.py", "--fix", "--unsafe-fixes", "--no-cache", cwd=project)
    fixed = (project / "cr.py").read_bytes().decode()
    assert "out_parts.append(pd.read_csv(path))\r" in fixed and "\n" not in fixed


def test_a_file_nested_too_deep_loses_no_other_files_output(project):
    deep = "".join(" " * i + f"if x{i}:\n" for i in range(520)) + " " * 520 + "pass\n"
    write(project, {"deep.py": deep, "ok.py": NP_LOAD})
    # named on the command line, a file is parsed whole (a walk skips what no rule could match)
    r = run("check", "deep.py", "ok.py", "--output-format", "json", "--no-cache", cwd=project)
    assert r.returncode == 1, r.stderr
    found = {(f["filename"], f["code"]) for f in r.json()}
    assert found == {("deep.py", "syntax-error"), ("ok.py", "ML102")}
    assert any("nesting too deep" in f["message"] for f in r.json())


def test_a_pipe_or_a_device_is_refused_not_passed(project):
    fifo = project / "fifo.py"
    os.mkfifo(fifo)
    for target in (str(fifo), "/dev/zero"):
        r = run("check", target, "--no-cache", cwd=project, timeout=30)
        assert r.returncode == 2, r.stdout
        assert "not a regular file or a folder" in r.stderr
        assert "All checks passed" not in r.stdout


def test_a_symlink_out_of_the_checked_folder_is_not_followed(project):
    write(project, {"outside.py": NP_LOAD, "proj/inside.py": NP_LOAD})
    os.symlink("..", project / "proj" / "up")
    r = run("check", "proj", "--output-format", "json", "--no-cache", cwd=project)
    assert sorted(f["filename"] for f in r.json()) == ["proj/inside.py"]

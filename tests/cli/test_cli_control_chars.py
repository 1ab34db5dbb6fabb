"""No control character of a repository reaches the terminal (issue 17, item 4): the code
frame, the messages and the file names print them as Unicode control pictures."""

from __future__ import annotations

import json

import pytest
from cli_helpers import SLICED, run, write

# ESC ] 0 ; title BEL (set the title), ESC [ 2 J (clear the screen), DEL, a C1 CSI
NASTY = "\x1b]0;pwned\x07\x1b[2J\x7f\x9b"
RAW = ("\x1b", "\x07", "\x7f", "\x9b")


def ml102_with(text_in_string: str) -> str:
    return (f"import numpy as np\n\nx = np.load('{text_in_string}.npy'); y = 1\n" + SLICED)


def test_the_code_frame_prints_control_pictures_and_keeps_its_columns(project):
    write(project, {"a.py": ml102_with(NASTY).replace("x = np.load", "s = '\x1b'; x = np.load")})
    r = run("check", "--no-cache", "a.py", cwd=project)
    assert r.returncode == 1 and "ML102" in r.stdout
    assert not any(c in r.stdout for c in RAW)
    assert "␛]0;pwned␇␛[2J␡\ufffd" in r.stdout and "s = '␛'; x" in r.stdout
    lines = r.stdout.splitlines()
    code = next(i for i, line in enumerate(lines) if line.startswith("3 | "))
    carets = lines[code + 1]
    column = lines[code].index("np.load")
    assert carets.index("^") == column  # one picture for one character: the caret lines up
    assert carets[column:].startswith("^" * len("np.load('") )


def test_a_message_quoting_the_source_prints_control_pictures(project):
    write(project, {"a.py": 'import torch\nstate = torch.load("checkpoint.pt")["\x1b[2J"]\n'})
    for fmt in ("text", "concise", "github"):
        r = run("check", "--no-cache", "--extend-select", "ML104", "--output-format", fmt,
                "a.py", cwd=project)
        assert "ML104" in r.stdout, (fmt, r.stdout)
        assert "\x1b" not in r.stdout and "␛[2J" in r.stdout, fmt
    r = run("check", "--no-cache", "--extend-select", "ML104", "--statistics", "a.py", cwd=project)
    assert "ML104" in r.stdout and "\x1b" not in r.stdout and "␛[2J" in r.stdout


@pytest.mark.parametrize("fmt", ["text", "concise", "github", "json", "sarif"])
def test_a_file_name_with_control_characters(project, fmt):
    name = "a\x1b[31m\x9b.py"
    write(project, {name: ml102_with("a")})
    r = run("check", "--no-cache", "--output-format", fmt, ".", cwd=project)
    assert "ML102" in r.stdout
    assert not any(c in r.stdout for c in RAW), fmt
    if fmt == "json":  # escaped: the same data
        assert json.loads(r.stdout)[0]["filename"] == name
    elif fmt == "sarif":
        [result] = json.loads(r.stdout)["runs"][0]["results"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == name
    else:
        assert "a␛[31m\ufffd.py" in r.stdout

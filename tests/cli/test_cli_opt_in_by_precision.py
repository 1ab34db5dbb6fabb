"""Rules whose findings on user code were judged false (benchmarks/usercode/judged.csv) are
opt-in: `memlens check` does not report them unless selected, and does when selected.

- ML105 (from_pretrained in float32): 0 of 8 true; the models loaded were stored in float32.
- ML502 (loss accumulated with its history): 0 of 8 true; backward() had freed the saved
  tensors, only bare graph nodes were kept."""

from __future__ import annotations

import pytest
from cli_helpers import run, write

SOURCES = {
    "ML105": """\
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        """,
    "ML502": """\
        total_loss = 0
        for x, y in loader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total_loss += loss
        """,
}


@pytest.mark.parametrize("code", sorted(SOURCES))
def test_rule_is_off_by_default_and_on_when_selected(project, code):
    write(project, {"work.py": SOURCES[code]})
    shown = ("--output-format", "json", "--show-hints", "--no-cache", "--exit-zero", "work.py")
    default = run("check", *shown, cwd=project)
    assert default.returncode == 0, default.stderr
    assert code not in {f["code"] for f in default.json()}
    selected = run("check", "--select", code, *shown, cwd=project)
    assert selected.returncode == 0, selected.stderr
    assert code in {f["code"] for f in selected.json()}

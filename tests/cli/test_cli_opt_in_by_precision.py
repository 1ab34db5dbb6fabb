"""Rules whose findings on user code were judged false (benchmarks/usercode/judged.csv) are
opt-in: `memlens check` does not report them unless selected, and does when selected; rules
whose findings without a known size were judged false keep only those unless named.

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


# Rules on by default whose findings without a size (no data file, no notebook output) are
# opt-in (`metadata.unsized: opt-in`): ML201 4 of 69 such hints judged true, ML104 4 of 17.
UNSIZED = {
    "ML201": ("""\
        import pandas as pd
        df = pd.read_csv("data/train.csv")
        print(df[["a", "b"]].mean())
        """, "data/train.csv"),
    "ML104": ("""\
        import torch
        state = torch.load("weights/model.pt")["model"]
        """, None),
}


@pytest.mark.parametrize("code", sorted(UNSIZED))
def test_an_unsized_finding_shows_only_when_the_rule_is_named(project, code):
    source, data = UNSIZED[code]
    # (no `severity` for the rule: a severity the configuration sets names it too)
    write(project, {"work.py": source, "pyproject.toml": "[tool.memlens]\n"})
    shown = ("--output-format", "json", "--show-hints", "--no-cache", "--exit-zero", "work.py")
    default = run("check", *shown, cwd=project)
    assert default.returncode == 0, default.stderr
    assert code not in {f["code"] for f in default.json()}
    for named in (("--select", code), ("--extend-select", code), ("--select", "ALL")):
        selected = run("check", *named, *shown, cwd=project)
        assert selected.returncode == 0, selected.stderr
        found = [f for f in selected.json() if f["code"] == code]
        assert found and all(f["severity"] == "hint" for f in found), (named, found)
    if data is None:
        return
    # the file the code names is there and big: a warning among the default rules
    path = project / data
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        out.write(",".join(f"c{i}" for i in range(40)) + ",a,b\n")
        row = ",".join("1234567.125" for _ in range(42)) + "\n"
        out.write(row * (80 * 2**20 // len(row)))
    default = run("check", *shown, cwd=project)
    found = [f for f in default.json() if f["code"] == code]
    assert found and found[0]["severity"] == "warning", default.json()

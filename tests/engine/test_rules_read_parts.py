"""ML207 (a safetensors file read whole to keep the entries a key test picks), ML503
(generate's scores asked for and never read): the tier their evidence gives and the exact
messages; ML205's fix on a list of lines only iterated once (exact output)."""

from __future__ import annotations

import torch
from safetensors.torch import save_file

from memlens.engine import Engine
from memlens.engine.config import Settings
from memlens.engine.fixes import apply_edits
from memlens.flow.project import FileRole

SADTALKER = """\
import safetensors.torch

checkpoint = safetensors.torch.load_file("all.safetensors")
if generator is not None:
    x_generator = {}
    for k, v in checkpoint.items():
        if 'generator' in k:
            x_generator[k.replace('generator.', '')] = v
    generator.load_state_dict(x_generator)
"""


def _findings(tmp_path, src: str, code: str, mib: float = 1):
    path = tmp_path / "t.py"
    path.write_text(src)
    engine = Engine(Settings(size_threshold_mib=mib))
    return [f for f in engine.check_source(src, str(path), role=FileRole(root=str(tmp_path)))
            if f.code == code]


def test_ml207_without_the_file_is_a_hint(tmp_path):
    found = _findings(tmp_path, SADTALKER, "ML207")
    assert [(f.severity, f.evidence) for f in found] == [("hint", "pattern")]
    assert found[0].message == (
        "the whole safetensors file is read into memory, then the code keeps only the entries "
        "`*generator*`; open it with safe_open() and get_tensor() only those keys")


def test_ml207_weighs_the_entries_the_key_test_does_not_pick(tmp_path):
    # 4 MiB of other models, 1 KiB of the generator: a warning that names what is never used
    save_file({"generator.w": torch.zeros(256), "discriminator.w": torch.zeros(2**20)},
              tmp_path / "all.safetensors")
    found = _findings(tmp_path, SADTALKER, "ML207")
    assert [(f.severity, f.evidence) for f in found] == [("warning", "file size")]
    assert "of which `discriminator.w` 4.0 MiB never used" in found[0].message
    # the file holds little besides what the test picks: no finding
    save_file({"generator.w": torch.zeros(2**20), "discriminator.w": torch.zeros(256)},
              tmp_path / "all.safetensors")
    assert _findings(tmp_path, SADTALKER, "ML207") == []


ALPACA = """\
import torch

def evaluate(input_ids):
    with torch.no_grad():
        generation_output = model.generate(
            input_ids=input_ids,
            return_dict_in_generate=True,
            output_scores=True,
            max_new_tokens=128,
        )
    s = generation_output.sequences[0]
    return tokenizer.decode(s)
"""


def test_ml503_is_a_hint_and_says_which_option(tmp_path):
    found = _findings(tmp_path, ALPACA, "ML503")
    assert [(f.severity, f.evidence) for f in found] == [("hint", "pattern")]
    assert found[0].message == (
        "generate() is asked for output_scores: a tensor of scores over the whole vocabulary "
        "for every token it generates, kept until it returns, and nothing in this file reads "
        "them; drop the option (and return_dict_in_generate, if only .sequences is read)")
    # the scores are read somewhere in the file: no finding
    read = ALPACA.replace("return tokenizer.decode(s)",
                          "return tokenizer.decode(s), generation_output.scores")
    assert _findings(tmp_path, read, "ML503") == []


FASTCHAT = """\
import json
import time


def load_log_files(filename):
    data = []
    for retry in range(5):
        try:
            lines = open(filename).readlines()
            break
        except FileNotFoundError:
            time.sleep(2)

    for l in lines:
        row = json.loads(l)
        data.append(row["type"])
    return data
"""


def _ml205(src: str):
    engine = Engine(Settings(select=("ML205",)))
    return [f for f in engine.check_source(src, "t.py") if f.code == "ML205"]


def test_ml205_fixes_a_list_of_lines_only_iterated_once():
    found = _ml205(FASTCHAT)
    assert len(found) == 1 and found[0].fix is not None
    assert apply_edits(FASTCHAT, found[0].fix.edits) == FASTCHAT.replace(
        "lines = open(filename).readlines()", "lines = open(filename)")


def test_ml205_leaves_a_list_iterated_after_its_with_block_closed_the_file():
    src = """\
import json
with open("conv.jsonl") as f:
    lines = f.readlines()
for line in lines:
    print(json.loads(line))
"""
    assert _ml205(src) == []
    inside = src.replace("for line in lines:\n    print(", "    for line in lines:\n        print(")
    found = _ml205(inside)
    assert len(found) == 1
    assert apply_edits(inside, found[0].fix.edits) == inside.replace(
        "lines = f.readlines()", "lines = f")

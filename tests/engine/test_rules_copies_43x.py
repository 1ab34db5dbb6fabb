"""ML430 (a model loaded in float32, then halved), ML431 (an array shuffled through a
permutation copy) and ML432 (a whole frame converted to keep some of its columns): exact
messages, tiers, the size a local model folder gives, and shapes seen in real code
(alpaca-lora's generate.py, rvc-webui's train_index.py, nfl-contact's preprocess_1st.py)."""

from __future__ import annotations

import json
import textwrap

import torch
from safetensors.torch import save_file

from memlens.engine import Engine, Settings
from memlens.flow.project import FileRole

DEFAULT = Engine()


def _findings(src: str, code: str, engine: Engine = DEFAULT, **kw):
    return [f for f in engine.check_source(textwrap.dedent(src), "t.py", **kw) if f.code == code]


ALPACA = """\
import torch
from peft import PeftModel
from transformers import GenerationConfig, LlamaForCausalLM, LlamaTokenizer

def main(load_8bit=False, base_model="", lora_weights="tloen/alpaca-lora-7b", device="cpu"):
    if device == "cuda":
        model = LlamaForCausalLM.from_pretrained(
            base_model, load_in_8bit=load_8bit, torch_dtype=torch.float16, device_map="auto"
        )
        model = PeftModel.from_pretrained(model, lora_weights, torch_dtype=torch.float16)
    else:
        model = LlamaForCausalLM.from_pretrained(
            base_model, device_map={"": device}, low_cpu_mem_usage=True
        )
        model = PeftModel.from_pretrained(model, lora_weights, device_map={"": device})
    model.config.pad_token_id = 0
    if not load_8bit:
        model.half()  # seems to fix bugs for some users.
    model.eval()
"""


def test_a_float32_load_halved_after_its_adapter_is_a_hint_naming_the_cast():
    found = _findings(ALPACA, "ML430")
    assert [(f.start.line + 1, f.severity, f.evidence, f.fix) for f in found] == [
        (12, "hint", "pattern", None)]
    assert found[0].message == (
        "model is loaded in float32 and then cast to half precision (`model.half()` on line "
        "18): the load holds the weights at twice the size the code keeps them; load them in "
        "that precision (torch_dtype=torch.float16, or the dtype of the cast)")


def test_a_float32_load_kept_in_float32_or_loaded_in_half_is_not_flagged():
    kept = ALPACA.replace("        model.half()  # seems to fix bugs for some users.\n",
                          "        pass\n")
    assert _findings(kept, "ML430") == []
    halved_at_load = ALPACA.replace("low_cpu_mem_usage=True",
                                    "low_cpu_mem_usage=True, torch_dtype=torch.float16")
    assert _findings(halved_at_load, "ML430") == []


def _model_folder(folder, values: int) -> None:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    save_file({"w": torch.zeros(values, dtype=torch.float16)}, folder / "model.safetensors")


def test_a_local_model_folder_gives_the_size_a_warning_or_no_finding(tmp_path):
    src = """\
    from transformers import AutoModel
    model = AutoModel.from_pretrained("./model")
    model = model.cuda().half()
    """
    (tmp_path / "t.py").write_text(textwrap.dedent(src))
    _model_folder(tmp_path / "model", 2**20)  # 2 MiB of float16 weights
    role = FileRole(root=str(tmp_path))
    path = str(tmp_path / "t.py")
    small = Engine(Settings(size_threshold_mib=4))
    large = Engine(Settings(size_threshold_mib=1))
    assert [f for f in small.check_source(textwrap.dedent(src), path, role=role)
            if f.code == "ML430"] == []
    found = [f for f in large.check_source(textwrap.dedent(src), path, role=role)
             if f.code == "ML430"]
    assert [(f.severity, f.evidence) for f in found] == [("warning", "file size")]
    assert found[0].message == (
        "model is loaded in float32 and then cast to half precision (`model.cuda().half()` on "
        "line 3): the load holds the weights at twice the size the code keeps them; load them "
        "in that precision (torch_dtype=torch.float16, or the dtype of the cast) (`./model`: "
        "2.0 MiB, 2.0 MiB loaded)")


RVC = """\
import os
import numpy as np

features = []
for name in sorted(os.listdir(feature_dir)):
    features.append(np.load(os.path.join(feature_dir, name)))

big_npy = np.concatenate(features, 0)
big_npy = big_npy[np.random.permutation(big_npy.shape[0])]
if big_npy.shape[0] > 200000:
    big_npy = MiniBatchKMeans(n_clusters=10000).fit(big_npy).cluster_centers_
index.train(big_npy)
"""


def test_a_permutation_copy_of_a_fresh_array_is_a_hint_with_no_fix():
    found = _findings(RVC, "ML431")
    assert [(f.start.line + 1, f.severity, f.evidence, f.fix) for f in found] == [
        (9, "hint", "pattern", None)]
    assert found[0].message == (
        "big_npy is shuffled by copying it through a permutation: the array and its shuffled "
        "copy are held together here; shuffle it in place instead: np.random.shuffle(big_npy), "
        "or the shuffle of the generator that made the permutation (the same order from the "
        "same random state, and one row of scratch space)")


def test_a_permutation_shared_aliased_or_of_an_unknown_array_is_not_flagged():
    # the order kept for the labels (handson-ml3's shuffle of X and y)
    shared = RVC.replace("big_npy = big_npy[np.random.permutation(big_npy.shape[0])]",
                         "idx = np.random.permutation(len(big_npy))\n"
                         "big_npy, labels = big_npy[idx], labels[idx]")
    assert _findings(shared, "ML431") == []
    # another name holds the array: shuffling in place would change it too
    aliased = RVC.replace("big_npy = np.concatenate(features, 0)\n",
                          "big_npy = np.concatenate(features, 0)\nkeep = [big_npy]\n")
    assert _findings(aliased, "ML431") == []
    # a tensor: numpy's in-place shuffle does not shuffle its rows
    tensor = RVC.replace("np.concatenate(features, 0)", "torch.cat(features, 0)")
    assert _findings(tensor, "ML431") == []


def test_the_rules_are_on_by_default():
    rules = {code: DEFAULT.rules[code] for code in ("ML430", "ML431")}
    assert all(r.default_on for r in rules.values())
    assert rules["ML431"].always_hint and rules["ML430"].size is not None


NFL = """\
import pandas as pd

def create_features(df, tr_tracking, merge_col="step", use_cols=["x_position", "y_position"]):
    return (
        df.astype({"nfl_player_id_1": "str"})
        .merge(
            tr_tracking.astype({"nfl_player_id": "str"})[
                ["game_play", merge_col, "nfl_player_id",] + use_cols
            ],
            on=["game_play", merge_col],
        )
    )
"""


def test_a_whole_frame_cast_to_keep_some_columns_is_a_hint_on_the_cast_and_selection():
    found = _findings(NFL, "ML432")
    assert [(f.start.line + 1, f.end.line + 1, f.severity, f.evidence, f.fix)
            for f in found] == [(7, 9, "hint", "pattern", None)]
    assert found[0].message == (
        "astype() converts every column of tr_tracking into a new frame, of which only the "
        "columns selected right after are kept: a copy of the whole frame where a copy of "
        "those columns would do; select them first, then convert (tr_tracking[cols].astype(...))")


def test_a_cast_then_a_row_filter_or_a_selection_by_a_name_is_not_flagged():
    rows = NFL.replace('["game_play", merge_col, "nfl_player_id",] + use_cols', "mask")
    assert _findings(rows, "ML432") == []
    # the first cast's frame is merged whole: nothing is selected after it
    assert all(f.start.line + 1 != 5 for f in _findings(NFL, "ML432"))

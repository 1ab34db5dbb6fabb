"""Model folders (`from_pretrained("./dir")`): config.json's dtype and the weights' sizes and
dtypes; other folders: the bytes of the files at their top."""

from __future__ import annotations

import json
import os

import torch
from safetensors.torch import save_file


def _config(folder, **values):
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", **values}))


def test_a_folder_of_safetensors_shards(workspace, size):
    folder = workspace / "model"
    folder.mkdir()
    _config(folder, torch_dtype="float16")
    first = {"a.weight": torch.zeros(256, 64, dtype=torch.float16)}
    second = {"b.weight": torch.zeros(64, dtype=torch.float16), "c": torch.zeros(8)}
    save_file(first, folder / "model-00001-of-00002.safetensors")
    save_file(second, folder / "model-00002-of-00002.safetensors")
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {}}))
    (folder / "tokenizer.json").write_text("{}")
    found = size("model")
    assert found.kind == "model-folder" and found.dtype == "float16"
    assert [p.name for p in found.parts] == ["model-00001-of-00002.safetensors",
                                             "model-00002-of-00002.safetensors"]
    assert found.data_bytes == 256 * 64 * 2 + 64 * 2 + 8 * 4
    assert found.bytes == sum((folder / p.name).stat().st_size for p in found.parts)
    assert dict(found.dtypes) == {"float16": 256 * 64 * 2 + 128, "float32": 32}
    assert found.parts[0].dtype == "float16" and found.parts[1].dtype is None


def test_safetensors_are_preferred_to_bin_and_dtype_is_read_too(workspace, size):
    folder = workspace / "m"
    folder.mkdir()
    _config(folder, dtype="bfloat16")
    save_file({"w": torch.zeros(10)}, folder / "model.safetensors")
    torch.save({"w": torch.zeros(10)}, folder / "pytorch_model.bin")
    torch.save({"x": 1}, folder / "optimizer.pt")
    found = size("m")
    assert found.dtype == "bfloat16"
    assert [p.name for p in found.parts] == ["model.safetensors"]


def test_a_folder_of_torch_bin_weights(workspace, size):
    folder = workspace / "old"
    folder.mkdir()
    _config(folder, torch_dtype="float32")
    torch.save({"w": torch.zeros(100), "h": torch.zeros(10, dtype=torch.float16)},
               folder / "pytorch_model.bin")
    found = size("old")
    assert found.data_bytes == 420 and dict(found.dtypes) == {"float32": 400, "float16": 20}


def test_config_without_dtype_or_not_json(workspace, size):
    folder = workspace / "c"
    folder.mkdir()
    _config(folder)
    save_file({"w": torch.zeros(10)}, folder / "model.safetensors")
    assert size("c").dtype is None and "torch_dtype" in size("c").note
    (folder / "config.json").write_text("{" * 100_000)
    found = size("c")
    assert found.dtype is None and "JSON" in found.note and found.data_bytes == 40


def test_a_plain_folder_gives_the_bytes_at_its_top(workspace, size):
    folder = workspace / "images"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"x" * 100)
    (folder / "b.png").write_bytes(b"x" * 50)
    (folder / "sub" / "c.png").write_bytes(b"x" * 1000)
    found = size("images")
    assert (found.kind, found.bytes, found.complete) == ("folder", 150, False)


def test_weights_linked_out_of_the_workspace_are_not_read(workspace, tmp_path, size):
    save_file({"w": torch.zeros(1000)}, tmp_path / "outside.safetensors")
    folder = workspace / "linked"
    folder.mkdir()
    _config(folder, torch_dtype="float32")
    os.symlink(tmp_path / "outside.safetensors", folder / "model.safetensors")
    found = size("linked")
    assert found.parts[0].bytes is None and found.complete is False
    assert found.data_bytes is None and found.bytes is None and "not all read" in found.note


def test_a_changed_weight_file_is_read_again(workspace, size):
    folder = workspace / "m"
    folder.mkdir()
    _config(folder, torch_dtype="float32")
    save_file({"w": torch.zeros(10)}, folder / "model.safetensors")
    assert size("m").data_bytes == 40
    save_file({"w": torch.zeros(20)}, folder / "model.safetensors")
    assert size("m").data_bytes == 80

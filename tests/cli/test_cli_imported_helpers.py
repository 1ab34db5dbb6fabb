"""A checkpoint passed to a helper another module of the project defines: `memlens check`
follows it there, and checks the file again (no stale cache) when that module changes."""

from __future__ import annotations

import os

from cli_helpers import run, write

HELPER = '''\
def load_x_from_safetensor(checkpoint, key):
    x_generator = {}
    for k, v in checkpoint.items():
        if key in k:
            x_generator[k.replace(key + ".", "")] = v
    return x_generator
'''
WHOLE = '''\
def load_x_from_safetensor(checkpoint, key):
    return dict(checkpoint)
'''
ANIMATE = '''\
import safetensors.torch
from src.utils.safetensor_helper import load_x_from_safetensor


def build(generator, path):
    checkpoint = safetensors.torch.load_file(path)
    generator.load_state_dict(load_x_from_safetensor(checkpoint, "generator"))
'''


def ml207(project):
    found = run("check", "--select", "ML207", "--show-hints", "--output-format", "json",
                "--exit-zero", "src", cwd=project)
    assert found.returncode == 0, found.stderr
    return [(f["filename"].replace(os.sep, "/").rsplit("src/", 1)[-1], f["location"]["row"],
             f["message"]) for f in found.json() if f["code"] == "ML207"]


def test_a_helper_of_another_module_that_keeps_one_prefix(project):
    write(project, {"src/__init__.py": "", "src/utils/__init__.py": "",
                    "src/utils/safetensor_helper.py": HELPER,
                    "src/facerender/animate.py": ANIMATE})
    first = ml207(project)
    assert [(f, row) for f, row, _ in first] == [("facerender/animate.py", 6)], first
    assert "`*generator*`" in first[0][2]
    # the helper now needs every entry: the finding goes, though animate.py did not change
    write(project, {"src/utils/safetensor_helper.py": WHOLE})
    assert ml207(project) == []
    write(project, {"src/utils/safetensor_helper.py": HELPER})
    assert [(f, row) for f, row, _ in ml207(project)] == [("facerender/animate.py", 6)]

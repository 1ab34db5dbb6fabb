"""A value passed to a function another module of the project defines is followed into it,
one level, like a function of the same file; the file it was read from is consulted."""

from __future__ import annotations

import os
import textwrap

from ast_grep_py import SgRoot

from memlens.flow.conditions import FileFlow
from memlens.flow.project import FileRole, imported_function

PICK = '''\
def pick(checkpoint, key):
    out = {}
    for k, v in checkpoint.items():
        if key in k:
            out[k.replace(key + ".", "")] = v
    return out
'''
WHOLE = '''\
def pick(checkpoint, key):
    return {k: v for k, v in checkpoint.items()}
'''
CALLER = '''\
from safetensors.torch import load_file
{imports}
ck = load_file(cfg["checkpoint"])
net.load_state_dict({call}(ck, "audio2exp"))
'''


def write(folder, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def kept_in(path, root):
    text = path.read_text()
    role = FileRole(root=str(root), source=(str(path), text))
    tree = SgRoot(text, "python").root()
    node = tree.find(pattern="load_file($$$)")
    assert node is not None
    return FileFlow(tree, role).values(attributes_are_parts=False).kept(node), role


def test_entries_a_helper_of_another_module_picks_are_parts(tmp_path):
    for imports, call in [("from utils.helper import pick", "pick"),
                          ("from utils.helper import pick as take", "take"),
                          ("from utils import helper", "helper.pick"),
                          ("import utils.helper as h", "h.pick")]:
        write(tmp_path, {"utils/helper.py": "import torch\n\n" + PICK,
                         "app/run.py": CALLER.format(imports=imports, call=call)})
        found, role = kept_in(tmp_path / "app/run.py", tmp_path)
        assert found.only_parts and found.parts == {"*audio2exp*"}, (imports, found.whole)
        assert [c[0] for c in role.consulted] == [str(tmp_path / "utils/helper.py")]


def test_a_helper_that_needs_every_entry_is_a_use_of_the_whole(tmp_path):
    write(tmp_path, {"helper.py": WHOLE,
                     "run.py": CALLER.format(imports="from helper import pick", call="pick")})
    found, _ = kept_in(tmp_path / "run.py", tmp_path)
    assert not found.only_parts and found.whole


def test_a_name_from_a_package_that_is_no_project_file_is_not_entered(tmp_path):
    # `pick` from a third-party package: nothing to read, passed whole; nothing consulted
    write(tmp_path, {"run.py": CALLER.format(imports="from thirdparty import pick",
                                             call="pick")})
    found, role = kept_in(tmp_path / "run.py", tmp_path)
    assert [u.detail for u in found.whole] == ["passed to pick"]
    assert role.consulted == []


def test_a_name_no_import_brings_is_not_entered(tmp_path):
    # a helper.py defines pick, but this file imports nothing from it
    write(tmp_path, {"helper.py": PICK, "run.py": CALLER.format(imports="", call="pick")})
    found, role = kept_in(tmp_path / "run.py", tmp_path)
    assert not found.only_parts and role.consulted == []


def test_the_module_is_read_again_when_it_changes(tmp_path):
    write(tmp_path, {"helper.py": PICK,
                     "run.py": CALLER.format(imports="from helper import pick", call="pick")})
    assert kept_in(tmp_path / "run.py", tmp_path)[0].only_parts
    write(tmp_path, {"helper.py": WHOLE + "\n# a longer file\n"})
    os.utime(tmp_path / "helper.py", ns=(1, 1))
    assert not kept_in(tmp_path / "run.py", tmp_path)[0].only_parts


def test_relative_imports_and_files_above_the_root(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/helper.py": PICK, "helper.py": PICK,
                     "pkg/run.py": ""})
    run = str(tmp_path / "pkg/run.py")
    found = imported_function("from .helper import pick\n", run, "pick", str(tmp_path))
    assert found is not None and found[0][0] == str(tmp_path / "pkg/helper.py")
    found = imported_function("from ..helper import pick\n", run, "pick", str(tmp_path))
    assert found is not None and found[0][0] == str(tmp_path / "helper.py")
    # looked for from the file's folder up to the root, not above it
    assert imported_function("from helper import pick\n", str(tmp_path / "pkg/run.py"), "pick",
                             str(tmp_path / "pkg")) is not None
    write(tmp_path, {"pkg/sub/run.py": ""})
    assert imported_function("from other import pick\n", str(tmp_path / "pkg/sub/run.py"),
                             "pick", str(tmp_path / "pkg")) is None

"""torch checkpoints, written by torch.save itself: the storages' sizes from the zip directory,
the top-level keys and the bytes under each from the pickle's opcodes. Nothing is unpickled,
and torch is not imported by the reader."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
import zipfile

import pytest
import torch
from size_helpers import bytes_read, zip_end_record

from memlens.sizes import pickles


def _trained():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(8, 64)).sum().backward()
    optimizer.step()
    return model, optimizer


def _nbytes(tensors) -> int:
    return sum(t.untyped_storage().nbytes() for t in tensors)


def _state_tensors(state: dict) -> list:
    return [v for per_param in state["state"].values() for v in per_param.values()
            if isinstance(v, torch.Tensor)]


def test_model_optimizer_and_ema_each_with_their_bytes(workspace, size):
    model, optimizer = _trained()
    ema = {k: v.detach().clone().half() for k, v in model.state_dict().items()}
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "ema": ema,
                "epoch": 3}, workspace / "ckpt.pt")
    found = size("ckpt.pt")
    assert found.kind == "torch" and found.container == "dict"
    assert [p.name for p in found.parts] == ["model", "optimizer", "ema", "epoch"]
    model_bytes = _nbytes(model.state_dict().values())
    optimizer_bytes = _nbytes(_state_tensors(optimizer.state_dict()))
    ema_bytes = _nbytes(ema.values())
    assert found.part("model").bytes == model_bytes
    assert found.part("model").tensors == 4 and found.part("model").dtype == "float32"
    assert found.part("optimizer").bytes == optimizer_bytes
    assert found.part("ema").bytes == ema_bytes == model_bytes // 2
    assert found.part("ema").dtype == "float16"
    assert found.part("epoch").bytes == 0
    assert found.data_bytes == model_bytes + optimizer_bytes + ema_bytes
    assert dict(found.dtypes) == {"float32": model_bytes + optimizer_bytes, "float16": ema_bytes}
    assert found.bytes == (workspace / "ckpt.pt").stat().st_size


def test_a_bare_state_dict_lists_each_tensor_with_its_shape(workspace, size):
    model, _ = _trained()
    torch.save(model.state_dict(), workspace / "weights.pth")
    found = size("weights.pth")
    assert found.container == "OrderedDict"
    assert [(p.name, p.shape, p.dtype) for p in found.parts] == \
        [(k, tuple(v.shape), "float32") for k, v in model.state_dict().items()]


def test_storages_shared_between_keys_count_under_each_and_once_in_all(workspace, size):
    base = torch.zeros(1000)
    torch.save({"a": base, "b": base[:10], "c": torch.ones(5, dtype=torch.int64)},
               workspace / "shared.pt")
    found = size("shared.pt")
    assert found.part("a").bytes == found.part("b").bytes == 4000
    assert found.part("b").shape == (10,)
    assert found.part("c").dtype == "int64"
    assert found.data_bytes == 4000 + 40


def test_a_tensor_and_a_whole_module(workspace, size):
    torch.save(torch.zeros(10, 3), workspace / "t.pt")
    model, _ = _trained()
    torch.save(model, workspace / "module.pt")
    tensor = size("t.pt")
    assert (tensor.container, tensor.data_bytes, tensor.parts) == ("tensor", 120, ())
    module = size("module.pt")
    assert module.container.startswith("object ")
    assert module.data_bytes == _nbytes(model.state_dict().values())


def test_the_legacy_format_gives_its_byte_size(workspace, size):
    torch.save({"w": torch.zeros(100)}, workspace / "old.pt", _use_new_zipfile_serialization=False)
    found = size("old.pt")
    assert found.kind == "torch-legacy" and found.parts == ()
    assert found.bytes == (workspace / "old.pt").stat().st_size


def test_reads_stay_small_on_a_large_checkpoint(workspace, size):
    torch.save({"model": {"w": torch.zeros(5_000_000)}, "optimizer": {"m": torch.zeros(5_000_000)}},
               workspace / "big.pt")
    with bytes_read() as read:
        found = size("big.pt")
    assert found.part("optimizer").bytes == 20_000_000
    assert read[0] < 16 * 1024


def _torch_style_zip(path, data_pkl: bytes, *, compress: bool = False) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/data/0", b"\0" * 64)
        z.writestr("archive/version", b"3\n")


def test_a_pickle_that_would_run_code_is_never_run(workspace, size, tmp_path):
    marker = tmp_path / "pwned"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    # the payload is real: unpickling it (in another process) runs the command
    subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=payload, check=True)
    assert marker.exists()
    marker.unlink()
    _torch_style_zip(workspace / "evil.pt", payload)
    protocol4 = pickle.dumps(("storage",), protocol=4)[:-1]  # any prefix; then the same trick
    _torch_style_zip(workspace / "evil4.pt", protocol4[:2] + b"\x8c\x02os\x8c\x06system\x93\x8c"
                     + bytes([len(f"touch {marker}")]) + f"touch {marker}".encode() + b"\x85R.")
    for name in ("evil.pt", "evil4.pt"):
        found = size(name)
        assert found.kind == "torch" and found.container == "object os system", name
        assert found.data_bytes == 64
    assert not marker.exists()


_NO_UNPICKLING = """
import pickle, sys

def refused(*args, **kwargs):
    raise AssertionError("unpickled")

pickle.load = pickle.loads = pickle.Unpickler = pickle._Unpickler = refused
from memlens.sizes import read_size
size = read_size(sys.argv[1], sys.argv[2])
assert size.part("w").bytes == 16, size
print(sorted(m for m in ("torch", "numpy") if m in sys.modules))
"""


def test_the_reader_never_unpickles_and_imports_neither_torch_nor_numpy(workspace):
    torch.save({"w": torch.zeros(4)}, workspace / "w.pt")
    out = subprocess.run([sys.executable, "-c", _NO_UNPICKLING, str(workspace / "w.pt"),
                          str(workspace)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("data_pkl", [
    b"\x80\x02" + b"]" * 300_000 + b".",  # more objects than the walk keeps
    b"\x80\x02" + b"(" * 300_000 + b".",  # marks without end
    b"\x80\x02" + b"]" + b"]" * 100_000 + b"a" * 100_000 + b".",  # deep nesting
    b"\x80\x02}q\x00(X\x01\x00\x00\x00kq\x01h\x05u.",  # a memo entry never put
    b"\x80\x02\xff.",  # an unknown opcode
    b"\x80\x02}X\x01\x00\x00\x00k",  # truncated
    b"\x80\x02X\xff\xff\xff\x7fabc.",  # a string claiming 2 GiB
    b"",
])
def test_hostile_pickles_give_no_keys(workspace, size, data_pkl):
    _torch_style_zip(workspace / "h.pt", data_pkl)
    started = time.perf_counter()
    found = size("h.pt")
    assert time.perf_counter() - started < 5
    assert found.kind == "torch" and found.data_bytes == 64 and found.parts == ()
    assert found.container == "list" or "could not be followed" in found.note


def test_a_deeply_nested_pickle_of_many_storages_gives_up_within_its_work_bound():
    def storage(key: bytes) -> bytes:
        return (b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX" +
                len(key).to_bytes(4, "little") + key + b"X\x03\x00\x00\x00cpuK\x01tQ")

    body = b"".join(storage(str(i).encode()) + b"a" for i in range(2000))
    # 2,000 storages in one list, nested in 2,000 lists: 4 million merges
    data = b"\x80\x02" + b"]" * 2001 + body + b"a" * 2000 + b"."
    started = time.perf_counter()
    assert pickles.walk(data) is None
    assert time.perf_counter() - started < 5
    # the same storages, nested 20 deep, are followed
    shallow = b"\x80\x02" + b"]" * 21 + body + b"a" * 20 + b"."
    assert len(pickles.walk(shallow).storages) == 2000


def test_a_compressed_pickle_too_large_to_read(workspace, size):
    _torch_style_zip(workspace / "bomb.pt", b"\x80\x02N" + b"0N" * 5_000_000 + b".", compress=True)
    with bytes_read() as read:
        found = size("bomb.pt")
    assert found.kind == "torch" and found.data_bytes == 64 and "keys not read" in found.note
    assert read[0] < 64 * 1024


def test_a_truncated_checkpoint(workspace, size):
    torch.save({"w": torch.zeros(10_000)}, workspace / "whole.pt")
    data = (workspace / "whole.pt").read_bytes()
    (workspace / "cut.pt").write_bytes(data[: len(data) * 2 // 3])
    found = size("cut.pt")
    assert found.bytes == len(data) * 2 // 3 and found.parts == () and found.note


def test_a_zip_claiming_a_million_entries(workspace, size):
    # a zip64 end record claiming 10**6 entries in a 50 MB directory, on a sparse file
    path = workspace / "many.pt"
    directory_size, offset = 50 * 2**20, 4
    import struct
    record64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 10**6, 10**6,
                           directory_size, offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, offset + directory_size, 1)
    end = zip_end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04")
        f.seek(offset + directory_size)
        f.write(record64 + locator + end)
    with bytes_read() as read:
        found = size("many.pt")
    assert "1000000 entries" in found.note and found.parts == ()
    assert read[0] < 70 * 1024


def test_a_real_directory_of_too_many_entries(workspace, size):
    # 100,000 central directory entries (names only: the reader never gets to the members)
    import struct
    entries = b"".join(
        struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0,
                    len(name), 0, 0, 0, 0, 0, 0) + name
        for name in (f"archive/data/{i}".encode() for i in range(100_000)))
    data = b"PK\x03\x04" + entries + zip_end_record(100_000 % 0xFFFF, len(entries), 4)
    (workspace / "wide.pt").write_bytes(data)
    started = time.perf_counter()
    found = size("wide.pt")
    assert time.perf_counter() - started < 2
    assert found.parts == () and "zip" in found.note

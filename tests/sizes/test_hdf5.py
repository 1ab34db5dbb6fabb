"""HDF5 datasets' shapes, dtypes and sizes, on files h5py writes, with h5py and
without it; metadata only, through the bounded reader."""

from __future__ import annotations

import sys

import h5py
import numpy as np
from size_helpers import bytes_read


def test_datasets_in_groups(workspace, size):
    with h5py.File(workspace / "d.h5", "w") as f:
        f["images"] = np.zeros((100, 8, 8), dtype=np.uint8)
        f.create_group("meta")["labels"] = np.arange(100)
        f.create_dataset("packed", data=np.zeros((500, 50)), compression="gzip")
        f.create_dataset("records", data=np.zeros(10, dtype=[("a", "i4"), ("b", "f8")]))
    found = size("d.h5")
    assert found.kind == "hdf5"
    parts = {p.name: (p.shape, p.dtype, p.bytes) for p in found.parts}
    assert parts == {"images": ((100, 8, 8), "uint8", 6400),
                     "meta/labels": ((100,), "int64", 800),
                     "packed": ((500, 50), "float64", 200_000),
                     "records": ((10,), "structured", 120)}
    assert found.part("packed").stored < 200_000 / 10
    assert found.data_bytes == 6400 + 800 + 200_000 + 120


def test_a_single_dataset_gives_its_shape_and_rows(workspace, size):
    with h5py.File(workspace / "x.hdf5", "w") as f:
        f["x"] = np.zeros((300, 4), dtype=np.float32)
    found = size("x.hdf5")
    assert (found.shape, found.dtype, found.rows) == ((300, 4), "float32", 300)


def test_a_large_file_reads_metadata_only(workspace, size):
    with h5py.File(workspace / "big.h5", "w") as f:
        f["x"] = np.ones((5_000, 1_000))
    with bytes_read() as read:
        assert size("big.h5").data_bytes == 40_000_000
    assert read[0] < 64 * 1024


def test_an_external_link_out_of_the_workspace_is_not_followed(workspace, tmp_path, size):
    with h5py.File(tmp_path / "outside.h5", "w") as f:
        f["secret"] = np.zeros(1000)
    with h5py.File(workspace / "l.h5", "w") as f:
        f["mine"] = np.zeros(3)
        f["linked"] = h5py.ExternalLink(str(tmp_path / "outside.h5"), "/secret")
    assert [p.name for p in size("l.h5").parts] == ["mine"]


def test_without_h5py_the_byte_size_only(workspace, size, monkeypatch):
    with h5py.File(workspace / "x.h5", "w") as f:
        f["x"] = np.zeros(3)
    monkeypatch.setitem(sys.modules, "h5py", None)
    found = size("x.h5")
    assert found.kind == "hdf5" and found.parts == () and "h5py" in found.note


def test_broken_files(workspace, size):
    with h5py.File(workspace / "x.h5", "w") as f:
        f["x"] = np.zeros((1000, 10))
    data = (workspace / "x.h5").read_bytes()
    (workspace / "cut.h5").write_bytes(data[:1000])
    (workspace / "garbage.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8)
    (workspace / "text.h5").write_text("not hdf5 at all")
    for name in ("cut.h5", "garbage.h5", "text.h5"):
        found = size(name)
        assert found.parts == () and found.bytes is not None and found.note, name

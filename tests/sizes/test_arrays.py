"""`.npy` headers and `.npz` members, on files numpy writes, and on broken ones."""

from __future__ import annotations

import struct
import zipfile

import numpy as np
from size_helpers import bytes_read, sparse


def test_npy_header(workspace, size):
    array = np.zeros((1000, 3))
    np.save(workspace / "a.npy", array)
    found = size("a.npy")
    assert (found.kind, found.shape, found.dtype, found.fortran_order) == \
        ("npy", (1000, 3), "float64", False)
    assert found.data_bytes == array.nbytes
    assert found.bytes == (workspace / "a.npy").stat().st_size
    assert (found.rows, found.rows_exact) == (1000, True)


def test_npy_dtypes_and_order(workspace, size):
    np.save(workspace / "f.npy", np.asfortranarray(np.ones((4, 5), dtype=np.float16)))
    np.save(workspace / "u.npy", np.array(["ab", "cde"]))
    people = np.zeros(7, dtype=[("name", "U10"), ("age", "i4"), ("xy", "f8", (2,))])
    np.save(workspace / "s.npy", people)
    np.save(workspace / "b.npy", np.ones(9, dtype=bool))
    f = size("f.npy")
    assert (f.shape, f.dtype, f.fortran_order, f.data_bytes) == ((4, 5), "float16", True, 40)
    u = size("u.npy")
    assert u.data_bytes == np.array(["ab", "cde"]).nbytes and u.dtype == "<U3"
    s = size("s.npy")
    assert (s.dtype, s.data_bytes) == ("structured", people.nbytes)
    assert size("b.npy").data_bytes == 9 and size("b.npy").dtype == "bool"


def test_npy_of_objects_has_a_shape_but_no_data_size(workspace, size):
    np.save(workspace / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    found = size("o.npy")
    assert (found.shape, found.dtype, found.data_bytes) == ((2,), "object", None)


def test_npy_format_version_2(workspace, size):
    with open(workspace / "v2.npy", "wb") as f:
        np.lib.format.write_array(f, np.arange(12).reshape(3, 4), version=(2, 0))
    assert size("v2.npy").shape == (3, 4)


def test_npz_members(workspace, size):
    x, y = np.zeros((10, 2), dtype=np.float32), np.arange(5)
    np.savez(workspace / "b.npz", x=x, y=y)
    np.savez_compressed(workspace / "c.npz", x=np.zeros((1000, 20)))
    found = size("b.npz")
    assert found.kind == "npz"
    assert [(p.name, p.shape, p.dtype, p.bytes) for p in found.parts] == \
        [("x", (10, 2), "float32", x.nbytes), ("y", (5,), "int64", y.nbytes)]
    compressed = size("c.npz").part("x")
    assert compressed.bytes == 1000 * 20 * 8
    assert compressed.stored < compressed.bytes / 10


def test_a_truncated_npy_gives_no_shape(workspace, size):
    np.save(workspace / "t.npy", np.zeros((1000, 3)))
    data = (workspace / "t.npy").read_bytes()
    (workspace / "t.npy").write_bytes(data[: len(data) // 2])
    (workspace / "head.npy").write_bytes(data[:20])
    found = size("t.npy")
    assert found.shape is None and found.bytes == len(data) // 2 and "needs" in found.note
    assert size("head.npy").shape is None and size("head.npy").bytes == 20


def _npy_with_header(header: bytes) -> bytes:
    header = header + b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def test_a_header_claiming_10_12_rows_in_a_small_file(workspace, size):
    bad = _npy_with_header(b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 3), }")
    (workspace / "liar.npy").write_bytes(bad + b"\0" * 64)
    found = size("liar.npy")
    assert found.shape is None and found.data_bytes is None and found.bytes == len(bad) + 64


def test_a_huge_sparse_npy_is_read_from_its_header(workspace, size):
    head = _npy_with_header(b"{'descr': '<f4', 'fortran_order': False, 'shape': (5000000000,), }")
    sparse(workspace / "huge.npy", len(head) + 5_000_000_000 * 4, head=head)
    with bytes_read() as read:
        found = size("huge.npy")
    assert found.shape == (5_000_000_000,) and found.data_bytes == 20_000_000_000
    assert read[0] < 8192


def test_hostile_headers(workspace, size):
    cases = {
        "deep.npy": _npy_with_header(b"(" * 60_000),
        "code.npy": _npy_with_header(b"__import__('os').system('touch pwned')"),
        "list.npy": _npy_with_header(b"[" + b"1," * 20_000 + b"]"),
        "keys.npy": _npy_with_header(b"{'descr': '<f8', 'shape': (3,)}"),
        "shape.npy": _npy_with_header(b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}"),
        "long.npy": b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{",
        "version.npy": b"\x93NUMPY\x09\x00" + b"\0" * 100,
    }
    for name, data in cases.items():
        (workspace / name).write_bytes(data)
        found = size(name)
        assert found.kind == "npy" and found.shape is None, name
        assert found.bytes == len(data) and found.note, name
    assert not (workspace / "pwned").exists()


def test_an_npz_of_broken_members(workspace, size):
    with zipfile.ZipFile(workspace / "broken.npz", "w") as z:
        z.writestr("ok.npy", _npy_with_header(
            b"{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }") + b"\0" * 16)
        z.writestr("bad.npy", b"not an array")
        z.writestr("short.npy", _npy_with_header(
            b"{'descr': '<i8', 'fortran_order': False, 'shape': (99,), }"))
    found = size("broken.npz")
    assert [(p.name, p.shape) for p in found.parts] == [("ok", (2,)), ("bad", None),
                                                        ("short", None)]

"""Parquet footers, on files pandas and pyarrow write, with pyarrow and without it."""

from __future__ import annotations

import struct
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from size_helpers import bytes_read, sparse


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"user": np.arange(rows), "score": rng.random(rows),
                         "label": rng.choice(["a", "b", "c"], rows)})


def test_rows_columns_and_sizes_per_column(workspace, size):
    frame = _frame(50_000)
    frame.to_parquet(workspace / "t.parquet", index=False)
    found = size("t.parquet")
    assert found.kind == "parquet"
    assert (found.rows, found.rows_exact) == (50_000, True)
    assert found.columns == ("user", "score", "label")
    meta = pq.ParquetFile(workspace / "t.parquet").metadata
    for c, name in enumerate(found.columns):
        chunks = [meta.row_group(g).column(c) for g in range(meta.num_row_groups)]
        part = found.part(name)
        assert part.stored == sum(ch.total_compressed_size for ch in chunks)
        assert part.bytes == sum(ch.total_uncompressed_size for ch in chunks)
    assert found.part("user").dtype == "int64" and found.part("score").dtype == "double"


def test_row_groups_and_nested_columns_sum_per_top_level_column(workspace, size):
    table = pa.table({"id": pa.array(range(10_000)),
                      "point": pa.array([{"x": float(i), "y": 1.0} for i in range(10_000)]),
                      "tags": pa.array([["a", "b"]] * 10_000)})
    pq.write_table(table, workspace / "n.parquet", row_group_size=1_000)
    found = size("n.parquet")
    assert found.rows == 10_000 and found.columns == ("id", "point", "tags")
    meta = pq.ParquetFile(workspace / "n.parquet").metadata
    assert meta.num_row_groups == 10
    leaves = [meta.row_group(g).column(c) for g in range(meta.num_row_groups)
              for c in range(meta.num_columns)]
    point = sum(ch.total_uncompressed_size for ch in leaves
                if ch.path_in_schema.startswith("point."))
    assert found.part("point").bytes == point
    assert found.data_bytes == sum(meta.row_group(g).total_byte_size for g in range(10))


def test_reads_stay_small_on_a_large_file(workspace, size):
    _frame(2_000_000).to_parquet(workspace / "big.parquet")
    with bytes_read() as read:
        found = size("big.parquet")
    assert found.rows == 2_000_000
    assert read[0] < 64 * 1024


def test_without_pyarrow_the_byte_size_only(workspace, size, monkeypatch):
    _frame(100).to_parquet(workspace / "t.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` raises
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    found = size("t.parquet")
    assert found.kind == "parquet" and found.rows is None and "pyarrow" in found.note
    assert found.bytes == (workspace / "t.parquet").stat().st_size


def test_a_truncated_file(workspace, size):
    _frame(1000).to_parquet(workspace / "t.parquet")
    data = (workspace / "t.parquet").read_bytes()
    (workspace / "cut.parquet").write_bytes(data[:-100])
    (workspace / "footer.parquet").write_bytes(data[:4] + data[-60:])
    for name in ("cut.parquet", "footer.parquet"):
        found = size(name)
        assert found.rows is None and found.bytes is not None and found.note, name


def test_a_footer_that_claims_more_than_the_file_holds(workspace, size):
    _frame(50_000).to_parquet(workspace / "t.parquet")
    data = (workspace / "t.parquet").read_bytes()
    (length,) = struct.unpack("<I", data[-8:-4])
    # the footer kept, the column data cut out: its chunks point past the file's end
    (workspace / "liar.parquet").write_bytes(data[:4] + data[-8 - length:])
    found = size("liar.parquet")
    assert found.rows is None and "more bytes than the file" in found.note


def test_a_footer_over_the_bound_is_not_read(workspace, size):
    sparse(workspace / "huge.parquet", 10 * 2**30, head=b"PAR1",
           tail=struct.pack("<I", 2**31) + b"PAR1")
    with bytes_read() as read:
        found = size("huge.parquet")
    assert found.bytes == 10 * 2**30 and found.rows is None and "footer of" in found.note
    assert read[0] < 64


def test_garbage_footers(workspace, size):
    for i, footer in enumerate([b"\xff" * 200, b"\x00" * 200, b"\x19\x1c" * 100]):
        data = b"PAR1" + footer + struct.pack("<I", len(footer)) + b"PAR1"
        (workspace / f"g{i}.parquet").write_bytes(data)
        found = size(f"g{i}.parquet")
        assert found.rows is None and found.bytes == len(data)

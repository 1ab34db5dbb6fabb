"""CSV, TSV and text: the byte size, the header's columns, the rows (counted, or estimated
from the first 64 KiB)."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pandas as pd
from size_helpers import bytes_read, sparse

from memlens.sizes import text


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"id": np.arange(rows), "price": rng.random(rows),
                         "city": rng.choice(["Lyon", "Paris", "Saint-Étienne"], rows),
                         "note": ["a, quoted; text"] * rows})


def test_a_small_csv_is_counted_exactly(workspace, size):
    _frame(250).to_csv(workspace / "small.csv", index=False)
    found = size("small.csv")
    assert found.kind == "csv"
    assert found.bytes == (workspace / "small.csv").stat().st_size
    assert found.columns == ("id", "price", "city", "note")
    assert (found.rows, found.rows_exact) == (250, True)
    assert "250 rows" in found.summary() and "~" not in found.summary()


def test_a_large_csv_is_estimated_from_its_first_64_kib(workspace, size):
    rows = 100_000
    _frame(rows).to_csv(workspace / "large.csv", index=False)
    with bytes_read() as read:
        found = size("large.csv")
    assert found.columns == ("id", "price", "city", "note")
    assert found.rows_exact is False
    assert abs(found.rows - rows) / rows < 0.1
    assert "~" in found.summary()
    assert read[0] <= text.SAMPLE + 64  # the sample, and the first bytes once or twice


def test_tsv_semicolons_and_an_index_column(workspace, size):
    frame = _frame(30)
    frame.to_csv(workspace / "t.tsv", sep="\t")
    frame.to_csv(workspace / "semi.csv", sep=";", index=False)
    assert size("t.tsv").columns == ("", "id", "price", "city", "note")
    assert size("semi.csv").columns == ("id", "price", "city", "note")
    assert size("semi.csv").rows == 30


def test_a_quoted_header_with_a_line_end(workspace, size):
    (workspace / "q.csv").write_text('"first\nname",age\n"Ann",3\n"Bob",4\n')
    found = size("q.csv")
    assert found.columns == ("first\nname", "age")
    assert (found.rows, found.rows_exact) == (2, True)


def test_a_gzip_csv_is_sampled_through_its_decompressor(workspace, size):
    rows = 100_000
    _frame(rows).to_csv(workspace / "big.csv.gz", index=False, compression="gzip")
    with bytes_read() as read:
        found = size("big.csv.gz")
    assert found.kind == "csv" and "gzip" in found.note
    assert found.columns == ("id", "price", "city", "note")
    assert found.rows_exact is False
    assert abs(found.rows - rows) / rows < 0.25
    assert read[0] <= text.SAMPLE + 64
    small = workspace / "small.csv.gz"
    small.write_bytes(gzip.compress(b"a,b\n1,2\n3,4\n"))
    assert (size("small.csv.gz").rows, size("small.csv.gz").rows_exact) == (2, True)


def test_text_lines_and_jsonl(workspace, size):
    (workspace / "notes.txt").write_text("one\ntwo\nthree")
    pd.DataFrame({"a": range(5)}).to_json(workspace / "r.jsonl", orient="records", lines=True)
    assert (size("notes.txt").rows, size("notes.txt").kind) == (3, "text")
    assert size("r.jsonl").rows == 5 and size("r.jsonl").columns is None


def test_empty_and_header_only(workspace, size):
    (workspace / "empty.csv").write_bytes(b"")
    (workspace / "header.csv").write_text("a,b,c\n")
    assert (size("empty.csv").rows, size("empty.csv").bytes) == (0, 0)
    assert size("header.csv").columns == ("a", "b", "c") and size("header.csv").rows == 0


def test_a_huge_sparse_file_reads_no_more_than_its_sample(workspace, size):
    # 20 GiB of zeros behind a header: "binary", its byte size known, in no time
    sparse(workspace / "huge.csv", 20 * 2**30, head=b"a,b\n1,2\n")
    started = time.perf_counter()
    with bytes_read() as read:
        found = size("huge.csv")
    assert time.perf_counter() - started < 1.0
    assert found.bytes == 20 * 2**30 and found.rows is None and "binary" in found.note
    assert read[0] <= text.SAMPLE + 64


def test_no_line_end_in_the_sample(workspace, size):
    (workspace / "wide.csv").write_text(",".join(f"c{i}" for i in range(20_000)) + "\n1\n")
    found = size("wide.csv")
    assert found.rows is None and "no line end" in found.note
    assert found.bytes == (workspace / "wide.csv").stat().st_size


def test_a_broken_gzip_stream(workspace, size):
    (workspace / "bad.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    found = size("bad.csv.gz")
    assert found.kind == "csv" and found.rows is None and "gzip" in found.note
    assert found.bytes == 110

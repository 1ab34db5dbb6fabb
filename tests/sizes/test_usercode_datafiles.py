"""The user-code benchmark's synthetic data files (`benchmarks/usercode/datafiles.py`) read, by
memlens' own size readers, as the sizes `datafiles.toml` pins: else `run.py --data` would
measure something else than the files it claims, and drift silently."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from memlens.sizes import clear_cache, read_size

USERCODE = Path(__file__).resolve().parents[2] / "benchmarks" / "usercode"
sys.path.insert(0, str(USERCODE))

import datafiles  # noqa: E402

MANIFEST = datafiles.load_manifest()


def _read(df: datafiles.DataFile, root: Path):
    target = root / df.project / df.path
    datafiles.generate(df, target)
    clear_cache()
    return read_size(str(target), str(root))


@pytest.mark.parametrize("df", MANIFEST, ids=[df.where for df in MANIFEST])
def test_every_manifest_file_reads_as_pinned(df: datafiles.DataFile, tmp_path: Path) -> None:
    size = _read(df, tmp_path)
    expected_kind = {"zip": "file", "feather": "file"}.get(df.kind, df.kind)
    assert size.kind == expected_kind, size.note
    if df.bytes is not None:
        assert size.bytes is not None and abs(size.bytes - df.bytes) <= 0.01 * df.bytes + 512
    if df.kind in ("csv", "tsv"):
        assert size.columns == df.columns
        assert size.rows is not None and abs(size.rows - df.rows) <= 0.05 * df.rows + 1
    if df.kind == "parquet":
        assert size.rows == df.rows and size.columns == df.columns
        assert size.data_bytes >= 8 * df.rows * len(df.columns)


def test_manifest_is_unique_and_sourced() -> None:
    where = [df.where for df in MANIFEST]
    assert len(where) == len(set(where))
    assert all(df.source.strip() for df in MANIFEST)


def _one(kind: str, **fields) -> datafiles.DataFile:
    return datafiles.DataFile(project="p", path=fields.pop("path"), kind=kind, source="test",
                              **fields)


def test_npy_header_has_the_shape_and_dtype(tmp_path: Path) -> None:
    size = _read(_one("npy", path="x.npy", dtype="float32", shape=(50_000, 512)), tmp_path)
    assert (size.shape, size.dtype, size.rows) == ((50_000, 512), "float32", 50_000)
    assert size.data_bytes == 50_000 * 512 * 4


def test_torch_checkpoint_has_the_entries_and_their_bytes(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    df = _one("torch", path="ck.pth", entries={
        "model": {"bytes": 160_000_000, "tensors": 4},
        "optimizer": {"bytes": 320_000_000, "tensors": 8},
        "proj": {"shape": [1000, 300], "dtype": "float16"},
        "epoch": {"value": 3}})
    size = _read(df, tmp_path)
    parts = {p.name: p for p in size.parts}
    assert parts["model"].bytes == 160_000_000 and parts["model"].tensors == 4
    assert parts["optimizer"].bytes == 320_000_000 and parts["optimizer"].dtype == "float32"
    assert parts["proj"].shape == (1000, 300) and parts["proj"].bytes == 600_000
    assert parts["epoch"].bytes == 0
    assert size.data_bytes == 480_600_000
    # sparse: the storages take no disk
    assert (tmp_path / "p" / "ck.pth").stat().st_blocks * 512 < 1_000_000


def test_safetensors_and_model_folder_say_their_dtypes(tmp_path: Path) -> None:
    size = _read(_one("safetensors", path="m.safetensors",
                      entries={"enc": {"bytes": 5_000_000_000, "dtype": "float16",
                                       "tensors": 2}}), tmp_path)
    assert size.data_bytes == 5_000_000_000 and dict(size.dtypes) == {"float16": 5_000_000_000}
    folder = _read(_one("model-folder", path="bert", config={"torch_dtype": "float32"},
                        entries={"model.safetensors": {"bytes": 440_000_000}}), tmp_path)
    assert folder.kind == "model-folder" and folder.dtype == "float32"
    assert folder.data_bytes == 440_000_000


def test_hdf5_dataset_has_its_shape(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    size = _read(_one("hdf5", path="d.h5", entries={"image": {"shape": [50_000, 224, 224]}}),
                 tmp_path)
    assert size.shape == (50_000, 224, 224) and size.data_bytes == 50_000 * 224 * 224 * 4


def test_gzip_csv_rows_scale_by_its_compressed_bytes(tmp_path: Path) -> None:
    df = _one("csv", path="sub.csv.gz", bytes=600_000, rows=48_744,
              columns=("SK_ID_CURR", "TARGET"))
    size = _read(df, tmp_path)
    assert size.columns == df.columns and abs(size.rows - 48_744) <= 0.05 * 48_744


def test_column_ranges_expand() -> None:
    assert datafiles.expand_columns(["id", "d_{1..3}"]) == ("id", "d_1", "d_2", "d_3")

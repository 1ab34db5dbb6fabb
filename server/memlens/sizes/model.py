"""What a data file's metadata says about its size: one record for every kind of file.

Each field is None when the file did not say (or a bound stopped the read before it did); a
reader never guesses beyond what it read, and says in `note` why a field stayed unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The kinds a reader can give; "file" is any other regular file (its byte size only), "unknown"
# a path that was not read (outside the workspace, not a regular file, changed while read).
KINDS = ("csv", "tsv", "text", "parquet", "npy", "npz", "torch", "torch-legacy", "safetensors",
         "hdf5", "model-folder", "folder", "pickle", "joblib", "file", "unknown")


@dataclass(frozen=True)
class Part:
    """One named part of a file: a column, a member of an .npz, a tensor, an HDF5 dataset, a
    checkpoint's top-level entry, a model folder's weight file."""

    name: str
    bytes: int | None = None  # its data once loaded (uncompressed), when known
    stored: int | None = None  # on disk, when it differs (a compressed column or member)
    dtype: str | None = None
    shape: tuple[int, ...] | None = None
    tensors: int | None = None  # a checkpoint entry: how many storages (tensors) it holds


@dataclass(frozen=True)
class DataSize:
    path: str
    kind: str
    bytes: int | None = None  # on disk
    data_bytes: int | None = None  # the data once loaded, when the metadata tells (see docs)
    rows: int | None = None
    rows_exact: bool = False  # False: `rows` is an estimate (printed "~")
    columns: tuple[str, ...] | None = None
    parts: tuple[Part, ...] = ()
    dtype: str | None = None  # an array's dtype; a model folder's config torch_dtype
    shape: tuple[int, ...] | None = None
    fortran_order: bool | None = None
    dtypes: tuple[tuple[str, int], ...] = ()  # stored bytes per dtype (weights, checkpoints)
    container: str | None = None  # what a checkpoint's pickle holds at its top: dict, tensor...
    complete: bool = True  # False: a bound cut a listing (more parts than `parts` holds)
    note: str = ""  # why a field is unknown, in a few words

    @property
    def known(self) -> bool:
        """Whether the file was read at all (its byte size at least)."""
        return self.kind != "unknown" and self.bytes is not None

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)

    def summary(self) -> str:
        """A few words for a message: `3.9 GiB, 54 columns, ~10M rows`."""
        if not self.known:
            return f"size unknown ({self.note})" if self.note else "size unknown"
        bits = [human_bytes(self.bytes)]
        if self.data_bytes is not None and self.data_bytes != self.bytes:
            bits.append(f"{human_bytes(self.data_bytes)} loaded")
        if self.columns is not None:
            bits.append(f"{len(self.columns)} column{'s' * (len(self.columns) != 1)}")
        if self.rows is not None:
            bits.append(f"{'' if self.rows_exact else '~'}{human_count(self.rows)} rows")
        if self.shape is not None:
            bits.append(f"shape {self.shape}")
        if self.dtype is not None:
            bits.append(self.dtype)
        return ", ".join(bits)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["parts"] = [{k: v for k, v in p.items() if v is not None} for p in out["parts"]]
        out["dtypes"] = dict(self.dtypes)
        if self.rows is None:
            out.pop("rows_exact")
        return {k: v for k, v in out.items() if v not in (None, (), [], {}, "")}


def unknown(path: str, why: str, *, kind: str = "unknown", size: int | None = None) -> DataSize:
    return DataSize(path=path, kind=kind, bytes=size, rows_exact=False, note=why)


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def human_count(n: int) -> str:
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f}{unit}" if value >= 10 else f"{value:.1f}{unit}"
    return str(n)

"""Synthetic data files of the published sizes, for the user-code benchmark's `--data` run.

The corpus is code only: the data files its notebooks and scripts read are not in the mirrors,
and these machines cannot download them. `datafiles.toml` pins what the projects publish of
each file the code names (bytes, columns, rows, dtype and shape, a checkpoint's top-level
entries), with the source of each number; `generate` writes a file that memlens' size readers
(`memlens.sizes`) read as that file: the real header, a sample, and a sparse rest.

- csv / tsv / text: the header and plausible rows up to 64 KiB (each as long as the file's
  bytes over its rows, so that the reader's row estimate comes out right), then a hole up to
  the published bytes; `.gz`: the same sample gzip-stored (level 0), so that the rows scale
  by the compressed bytes the same way;
- zip (a `.csv.zip` as Kaggle publishes it): one stored member of the published bytes;
- npy: numpy's own header for the shape and dtype, a hole for the data;
- torch: `torch.save` of the entries with one-element storages expanded to their shapes, its
  zip rewritten with each storage member as large as the published entry (a hole);
- safetensors: the JSON header with every tensor's dtype, shape and offsets, a hole;
- hdf5: h5py datasets of the shape and dtype, never written (no space allocated);
- model-folder: `config.json` and safetensors weight files;
- pickle / feather / file: the format's first bytes, then a hole (their readers give bytes).

Holes take no disk: the whole corpus is a few MB of real blocks.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "datafiles.toml"
SAMPLE = 64 * 1024 + 4096  # a little over what the text reader samples (64 KiB)
KINDS = ("csv", "tsv", "text", "zip", "npy", "torch", "safetensors", "hdf5", "model-folder",
         "pickle", "feather", "parquet", "file")
_RANGE = re.compile(r"^(.*)\{(\d+)\.\.(\d+)\}(.*)$")
_ITEMSIZE = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8,
             "int32": 4, "int16": 2, "int8": 1, "uint8": 1, "bool": 1}
_SAFE_DTYPE = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
               "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8",
               "bool": "BOOL"}


@dataclass(frozen=True)
class DataFile:
    project: str
    path: str  # as the code resolves it, relative to the project's folder
    kind: str
    source: str
    bytes: int | None = None
    rows: int | None = None
    columns: tuple[str, ...] = ()
    dtype: str | None = None
    shape: tuple[int, ...] = ()
    entries: dict = field(default_factory=dict)  # torch / safetensors / hdf5 / model-folder
    config: dict = field(default_factory=dict)  # model-folder: config.json

    @property
    def where(self) -> str:
        return f"{self.project}/{self.path}"


def expand_columns(names: list[str]) -> tuple[str, ...]:
    """`d_{1..1913}` stands for d_1, d_2, ... d_1913 (the M5 day columns and the like)."""
    out: list[str] = []
    for name in names:
        m = _RANGE.match(name)
        if m:
            out += [f"{m.group(1)}{i}{m.group(4)}" for i in range(int(m.group(2)),
                                                                   int(m.group(3)) + 1)]
        else:
            out.append(name)
    return tuple(out)


def load_manifest(path: Path = MANIFEST) -> list[DataFile]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    seen = set()
    for n, entry in enumerate(data.get("file", []), start=1):
        where = f"{path.name}: file {n} ({entry.get('project')}/{entry.get('path')})"
        kind = entry.get("kind")
        if kind not in KINDS:
            raise SystemExit(f"{where}: kind {kind!r} not in {KINDS}")
        if not entry.get("source"):
            raise SystemExit(f"{where}: no source for its numbers")
        rel = os.path.normpath(entry["path"])
        if os.path.isabs(rel) or rel.startswith(".."):
            raise SystemExit(f"{where}: the path must lie in the project's folder")
        if (entry["project"], rel) in seen:
            raise SystemExit(f"{where}: listed twice")
        seen.add((entry["project"], rel))
        columns = expand_columns(entry.get("columns", []))
        if entry.get("ncolumns") and not columns:
            columns = tuple(f"c{i}" for i in range(entry["ncolumns"]))
        out.append(DataFile(project=entry["project"], path=rel, kind=kind,
                            source=entry["source"], bytes=entry.get("bytes"),
                            rows=entry.get("rows"), columns=columns, dtype=entry.get("dtype"),
                            shape=tuple(entry.get("shape", ())),
                            entries=entry.get("entries", {}), config=entry.get("config", {})))
    return out


def manifest_key(path: Path = MANIFEST) -> str:
    """What the generated tree depends on: the manifest and this generator."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


# -- writing ---------------------------------------------------------------------------------

def generate(df: DataFile, target: Path) -> None:
    """Write `df` at `target` (a file, or a folder for a model folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    writer = {"csv": _text, "tsv": _text, "text": _text, "zip": _zip_of_text, "npy": _npy,
              "torch": _torch, "safetensors": _safetensors, "hdf5": _hdf5,
              "model-folder": _model_folder, "pickle": _magic(b"\x80\x04\x95"),
              "feather": _magic(b"ARROW1\x00\x00"), "parquet": _parquet,
              "file": _magic(b"")}[df.kind]
    writer(df, target)


def _sparse(target: Path, head: bytes, size: int | None) -> None:
    """`head`, then a hole up to `size` bytes."""
    with open(target, "wb") as f:
        f.write(head)
        if size is not None and size > len(head):
            f.truncate(size)


def _magic(head: bytes):
    def write(df: DataFile, target: Path) -> None:
        _sparse(target, head, df.bytes)
    return write


def text_sample(df: DataFile, rng: random.Random, limit: int = SAMPLE,
                row_bytes: int | None = None) -> tuple[bytes, int]:
    """The header and rows of `row_bytes` each (the file's bytes over its rows), up to
    `limit` bytes or the file's rows; and how many rows it holds."""
    sep = "\t" if df.kind == "tsv" or df.path.endswith((".tsv", ".tsv.gz")) else ","
    header = (sep.join(df.columns) + "\n").encode() if df.columns else b""
    width = row_bytes or round(((df.bytes or limit) - len(header)) / max(df.rows or 1, 1))
    ncols = max(len(df.columns), 1)
    # fields of digits, separated, with a newline: `width` bytes in all (at least one digit)
    room = max(width - ncols, ncols)
    widths = [room // ncols + (i < room % ncols) for i in range(ncols)]
    out = [header]
    size, rows = len(header), 0
    while size < limit and (df.rows is None or rows < df.rows):
        fields = [str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(w - 1))
                  for w in widths]
        line = (sep.join(fields) + "\n").encode()
        out.append(line)
        size += len(line)
        rows += 1
    return b"".join(out), rows


def _text(df: DataFile, target: Path) -> None:
    rng = random.Random(df.where)
    if df.path.endswith(".gz"):
        # level 0 (stored blocks): the stream's bytes per row are the sample's, so the rows
        # the reader scales by the compressed bytes are the file's
        sample, _ = text_sample(df, rng)
        body = zlib.compressobj(0, zlib.DEFLATED, 31)
        head = body.compress(sample) + body.flush(zlib.Z_SYNC_FLUSH)
        _sparse(target, head, df.bytes)
        return
    sample, rows = text_sample(df, rng)
    whole = df.rows is not None and rows == df.rows
    _sparse(target, sample, None if whole else df.bytes)


def _zip_of_text(df: DataFile, target: Path) -> None:
    """A Kaggle `x.csv.zip`: one member, stored, as large as the file (its reader: bytes)."""
    inner = df.path[:-4] if df.path.endswith(".zip") else df.path + ".csv"
    sample, _ = text_sample(df, random.Random(df.where))
    size = max((df.bytes or 0) - 200 - 2 * len(os.path.basename(inner)), len(sample))
    write_zip(target, [(os.path.basename(inner), sample, size)])


def write_zip(target: Path, members: list[tuple[str, bytes, int]]) -> None:
    """A zip of stored members: each `(name, head, size)` holds `head` then a hole up to `size`
    bytes. CRCs are of the head only (never extracted: the readers read directories and
    headers); zip64 records where sizes or offsets pass 4 GiB."""
    directory = []
    with open(target, "wb") as f:
        for name, head, size in members:
            offset = f.tell()
            raw = name.encode()
            big = size >= 0xFFFFFFFF or offset >= 0xFFFFFFFF
            extra = struct.pack("<HHQQ", 1, 16, size, size) if big else b""
            crc = zlib.crc32(head) if len(head) == size else 0
            small = 0xFFFFFFFF if big else size
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if big else 20, 0, 0, 0, 0x21,
                                crc, small, small, len(raw), len(extra)) + raw + extra)
            f.write(head)
            f.seek(offset + 30 + len(raw) + len(extra) + size)
            directory.append((raw, crc, size, offset))
        start = f.tell()
        for raw, crc, size, offset in directory:
            big = size >= 0xFFFFFFFF or offset >= 0xFFFFFFFF
            extra = struct.pack("<HHQQQ", 1, 24, size, size, offset) if big else b""
            s = 0xFFFFFFFF if big else size
            o = 0xFFFFFFFF if big else offset
            f.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45 if big else 20, 0, 0,
                                0, 0x21, crc, s, s, len(raw), len(extra), 0, 0, 0, 0, o)
                    + raw + extra)
        end = f.tell()
        count = len(directory)
        if start >= 0xFFFFFFFF or count >= 0xFFFF:
            f.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                                end - start, start))
            f.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF),
                            min(count, 0xFFFF), min(end - start, 0xFFFFFFFF),
                            min(start, 0xFFFFFFFF), 0))


def _npy(df: DataFile, target: Path) -> None:
    import numpy as np
    from numpy.lib import format as npformat

    dtype = np.dtype(df.dtype or "float64")
    buf = io.BytesIO()
    npformat.write_array_header_1_0(buf, {"descr": npformat.dtype_to_descr(dtype),
                                          "fortran_order": False, "shape": df.shape})
    head = buf.getvalue()
    count = 1
    for d in df.shape:
        count *= d
    _sparse(target, head, len(head) + count * dtype.itemsize)


def _entry_tensors(name: str, spec: dict) -> list[tuple[str, str, tuple[int, ...], int]]:
    """An entry's tensors as (name, dtype, shape, bytes): one of `shape`, or `tensors` of
    equal size summing to `bytes`."""
    dtype = spec.get("dtype", "float32")
    size = _ITEMSIZE[dtype]
    if "shape" in spec:
        shape = tuple(spec["shape"])
        count = 1
        for d in shape:
            count *= d
        return [(name, dtype, shape, count * size)]
    n = max(int(spec.get("tensors", 1)), 1)
    per = max(int(spec["bytes"]) // n // size, 1)
    return [(f"{name}.{i}", dtype, (per,), per * size) for i in range(n)]


def _torch(df: DataFile, target: Path) -> None:
    import zipfile

    import torch

    state: dict = {}
    sizes: list[int] = []  # in the order torch.save numbers the storages
    for key, spec in df.entries.items():
        if "value" in spec:
            state[key] = spec["value"]
            continue
        tensors = _entry_tensors(key, spec)
        built = {}
        for name, dtype, shape, nbytes in tensors:
            built[name] = torch.zeros(1, dtype=getattr(torch, dtype)).expand(*shape)
            sizes.append(nbytes)
        state[key] = built[key] if "shape" in spec else \
            {name.split(".", 1)[1]: t for name, t in built.items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    archive = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    members = []
    for info in archive.infolist():
        data = archive.read(info)
        parts = info.filename.split("/")
        if len(parts) == 3 and parts[1] == "data" and parts[2].isdigit():
            members.append((info.filename, b"", sizes[int(parts[2])]))
        else:
            members.append((info.filename, data, len(data)))
    write_zip(target, members)


def _safetensors_header(tensors: list[tuple[str, str, tuple[int, ...], int]],
                        metadata: dict | None = None) -> tuple[bytes, int]:
    header: dict = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, dtype, shape, nbytes in tensors:
        header[name] = {"dtype": _SAFE_DTYPE[dtype], "shape": list(shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, offset


def _safetensor_list(entries: dict) -> list[tuple[str, str, tuple[int, ...], int]]:
    out = []
    for key, spec in entries.items():
        out += _entry_tensors(key, spec)
    return out


def _safetensors(df: DataFile, target: Path) -> None:
    head, data = _safetensors_header(_safetensor_list(df.entries), {"format": "pt"})
    _sparse(target, head, len(head) + data)


def _hdf5(df: DataFile, target: Path) -> None:
    import h5py

    with h5py.File(target, "w") as f:
        for name, spec in df.entries.items():
            # never written: the space is not allocated (h5py allocates late)
            f.create_dataset(name, shape=tuple(spec["shape"]), dtype=spec.get("dtype",
                                                                              "float32"))


def _model_folder(df: DataFile, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "config.json").write_text(json.dumps(df.config, indent=1), encoding="utf-8")
    for name, spec in df.entries.items():  # weight files: {dtype, bytes, tensors}
        head, data = _safetensors_header(_entry_tensors("w", spec), {"format": "pt"})
        _sparse(target / name, head, len(head) + data)


def _parquet(df: DataFile, target: Path) -> None:
    """Real rows of zeros, plain-encoded (no dictionary) and zstd-compressed: the footer says
    the published rows and an uncompressed size of 8 bytes a cell (the file stays small; its
    on-disk bytes are not the published ones)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = df.rows or 0
    schema = pa.schema([(c, pa.float64()) for c in df.columns])
    step = 1 << 20
    with pq.ParquetWriter(target, schema, compression="zstd", use_dictionary=False) as w:
        for start in range(0, rows, step):
            col = pa.array(np.zeros(min(step, rows - start)))
            w.write_table(pa.table([col] * len(df.columns), schema=schema))


# -- the overlay tree ------------------------------------------------------------------------

def build_tree(files: list[DataFile], code_root: Path, projects: list[str], scratch: Path,
               key: str) -> Path:
    """`scratch/<key>/`: each project's code (hard links to `code_root/<project>`, copies across
    file systems) with the manifest's files generated in it; built once per key."""
    import shutil

    root = scratch / key
    done = root / ".memlens-datafiles"
    if done.exists() and done.read_text().split() == sorted(projects):
        return root
    for old in scratch.glob("*/.memlens-datafiles"):  # trees of other manifests
        shutil.rmtree(old.parent)
    if root.exists():
        shutil.rmtree(root)
    for project in projects:
        source = code_root / project
        for path in sorted(source.rglob("*")):
            if not path.is_file() or path.suffix not in (".py", ".ipynb"):
                continue
            dest = root / project / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dest)
            except OSError:
                shutil.copyfile(path, dest)
    for df in files:
        if df.project in projects:
            generate(df, root / df.project / df.path)
    done.write_text("\n".join(sorted(projects)) + "\n")
    return root

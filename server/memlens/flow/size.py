"""Size evidence for a finding: the data file the code names, read without loading it
(`memlens.sizes`), or what a notebook printed about the value (its shape, its memory usage).

A rule says which argument names the file (`metadata.size: {of: SRC}`) and how what the code
keeps decides the waste (`compare`): `columns` (a table read whole to keep some columns: the
columns kept against the file's), `entries` (a checkpoint read whole to keep some entries),
or `bytes` (the whole value). The verdict is:
- `large`: the waste is at or over the threshold (`size-threshold`, 64 MiB by default): a
  warning that says the size;
- `small`: under it, or nothing is wasted (every column is kept): no finding;
- `unknown`: no file (not named by literals, not in the workspace, unreadable) and nothing
  printed: the rule's own evidence decides (a hint when it has none).
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass

from ast_grep_py import SgNode

from memlens.flow.project import FileRole
from memlens.flow.values import Kept
from memlens.lines import split_lines
from memlens.sizes.model import DataSize, human_bytes
from memlens.sizes.paths import resolve_path
from memlens.sizes.read import read_size

DEFAULT_THRESHOLD = 64 * 2**20
COMPARE = ("bytes", "columns", "entries", "dtype")
_HALF = ("float16", "bfloat16", "F16", "BF16", "torch.float16", "torch.bfloat16")


@dataclass(frozen=True)
class SizeSpec:
    of: str  # the metavariable naming the file
    compare: str = "bytes"


@dataclass(frozen=True)
class SizeVerdict:
    state: str  # "large" | "small" | "unknown"
    evidence: str = ""  # "file size" | "notebook output"
    summary: str = ""  # what the message says of the size


UNKNOWN = SizeVerdict("unknown")


def parse_size_spec(value: object) -> SizeSpec:
    if not isinstance(value, dict) or not isinstance(value.get("of"), str) or \
            not value["of"].isidentifier() or not value["of"].isupper():
        raise ValueError("size is {of: METAVAR, compare: bytes | columns | entries | dtype}")
    compare = value.get("compare", "bytes")
    if compare not in COMPARE or set(value) - {"of", "compare"}:
        raise ValueError("size is {of: METAVAR, compare: bytes | columns | entries | dtype}")
    return SizeSpec(value["of"], compare)


def size_verdict(node: SgNode, spec: SizeSpec, role: FileRole, path: str,
                 kept: Kept | None, threshold: int = DEFAULT_THRESHOLD) -> SizeVerdict:
    """What the file the match names, or a notebook's printed output, says of the waste."""
    target = node.get_match(spec.of)
    if target is None:
        return UNKNOWN
    if role.root is not None:
        named = resolve_path(target, path if os.path.isabs(path) else
                             os.path.join(os.getcwd(), path), role.root)
        if named is not None and named.path is not None:
            data = read_size(named.path, role.root)
            _consulted(role, named.path)
            if data.known:
                return _judge(data, spec, kept, threshold, named.written)
    printed = _printed_for(node, role)
    if printed is not None:
        return _judge_printed(printed, threshold)
    return UNKNOWN


def _consulted(role: FileRole, path: str) -> None:
    """Note the file as one the findings depend on (its stat as the check saw it)."""
    try:
        st = os.stat(path)
    except OSError:
        role.consulted.append((path, -1, -1))
        return
    role.consulted.append((path, st.st_size, st.st_mtime_ns))


def _judge(data: DataSize, spec: SizeSpec, kept: Kept | None, threshold: int,
           written: str) -> SizeVerdict:
    total = data.data_bytes or data.bytes or 0
    where = f"`{written}`: {data.summary()}"
    if spec.compare == "columns" and kept is not None and data.columns:
        used = [c for c in data.columns if c in kept.parts]
        if kept.only_parts and len(used) == len(data.columns):
            return SizeVerdict("small", "file size", f"{where}; every column is used")
        if kept.only_parts and used:
            wasted = total * (1 - len(used) / len(data.columns))
            state = "large" if wasted >= threshold else "small"
            return SizeVerdict(state, "file size",
                               f"{where}; {len(data.columns) - len(used)} of its "
                               f"{len(data.columns)} columns are never used")
    if spec.compare == "entries" and kept is not None and data.parts:
        sizes = {p.name: p.bytes for p in data.parts if p.bytes is not None}
        unused = {name: b for name, b in sizes.items() if not _kept_entry(name, kept.parts)}
        if kept.only_parts and sizes and not unused:
            return SizeVerdict("small", "file size", f"{where}; every entry is used")
        if kept.only_parts and unused:
            wasted = sum(unused.values())
            names = ", ".join(f"`{n}` {human_bytes(b)}" for n, b in
                              sorted(unused.items(), key=lambda kv: -kv[1])[:3])
            state = "large" if wasted >= threshold else "small"
            return SizeVerdict(state, "file size", f"{where}, of which {names} never used")
    if spec.compare == "dtype":
        return _judge_dtype(data, threshold, where)
    return SizeVerdict("large" if total >= threshold else "small", "file size", where)


def _kept_entry(name: str, parts: set[str]) -> bool:
    """An entry the code keeps: named, or picked by a key test (`enc.*`, `*enc*`)."""
    return name in parts or any("*" in p and fnmatch.fnmatchcase(name, p) for p in parts)


def _judge_dtype(data: DataSize, threshold: int, where: str) -> SizeVerdict:
    """Weights loaded without a dtype come in float32: a model stored in half precision doubles,
    one stored in float32 loads as it is stored (a dtype saves nothing)."""
    stored = dict(data.dtypes)
    half = sum(b for d, b in stored.items() if d in _HALF)
    if stored and not half or (not stored and data.dtype in ("float32", "torch.float32")):
        return SizeVerdict("small", "file size", f"{where}; stored in float32: loading it "
                                                 "without a dtype adds nothing")
    if half:
        state = "large" if half >= threshold else "small"
        return SizeVerdict(state, "file size", f"{where}; {human_bytes(half)} stored in half "
                                               "precision, loaded as float32 twice as large")
    return UNKNOWN


# -- what a notebook printed ---------------------------------------------------------------

@dataclass(frozen=True)
class Printed:
    """What a cell's output said of a value: its shape, or pandas' memory usage."""

    rows: int | None = None
    columns: int | None = None
    memory: int | None = None  # bytes, from `memory usage: 258.9+ MB`
    text: str = ""


_SHAPE = re.compile(r"^\((\d[\d_]*),\s*(\d+)\)$")
_FRAME_FOOTER = re.compile(r"\[(\d[\d,]*) rows x (\d+) columns\]")
_MEMORY = re.compile(r"memory usage:\s*([\d.]+)\+?\s*(bytes|KB|MB|GB|TB)")
_UNITS = {"bytes": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
# `df.shape`, `print(df.shape)`, `df.info()`, `df` alone: what the cell shows of `df`
_SHOWN = re.compile(r"^\s*(?:print\(|display\()?\s*([A-Za-z_]\w*)"
                    r"(?:\.shape|\.info\([^)]*\)|\.memory_usage\([^)]*\)(?:\.sum\(\))?)?\s*\)?\s*$")


def printed_sizes(source: str, outputs: tuple[str, ...]) -> dict[str, Printed]:
    """The values a cell's last lines show (`df.shape`, `df.info()`, `df`) with what its
    outputs printed of their size."""
    names = []
    for line in split_lines(source.rstrip())[-3:]:
        m = _SHOWN.match(line)
        if m:
            names.append(m.group(1))
    if not names:
        return {}
    rows = columns = memory = None
    texts = []
    for out in outputs:
        for line in split_lines(out.strip()):
            line = line.strip()
            m = _SHAPE.match(line) or _FRAME_FOOTER.search(line)
            if m:
                rows, columns = int(m.group(1).replace(",", "").replace("_", "")), \
                    int(m.group(2))
                texts.append(line)
            m = _MEMORY.search(line)
            if m:
                memory = int(float(m.group(1)) * _UNITS[m.group(2)])
                texts.append(line)
    if rows is None and memory is None:
        return {}
    found = Printed(rows, columns, memory, "; ".join(texts[:2]))
    return {name: found for name in names}


def _printed_for(node: SgNode, role: FileRole) -> Printed | None:
    """What the notebook printed of the name the match's value is assigned to."""
    if not role.printed:
        return None
    parent = node.parent()
    while parent is not None and parent.kind() in ("parenthesized_expression", "call",
                                                    "attribute", "subscript"):
        if parent.kind() == "assignment":
            break
        parent = parent.parent()
    if parent is None or parent.kind() != "assignment":
        return None
    left = parent.field("left")
    if left is None or left.kind() != "identifier":
        return None
    return role.printed.get(left.text())


def _judge_printed(printed: Printed, threshold: int) -> SizeVerdict:
    if printed.memory is not None:
        state = "large" if printed.memory >= threshold else "small"
        return SizeVerdict(state, "notebook output",
                           f"the notebook printed {printed.text or human_bytes(printed.memory)}")
    cells = (printed.rows or 0) * (printed.columns or 1)
    # (8 bytes a cell: a lower bound for numbers, far under for strings)
    state = "large" if cells * 8 >= threshold else "small"
    return SizeVerdict(state, "notebook output", f"the notebook printed {printed.text}")

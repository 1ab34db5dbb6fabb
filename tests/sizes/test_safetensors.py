"""safetensors headers, on files safetensors writes, and on broken ones."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors.torch import save_file
from size_helpers import bytes_read, sparse


def test_names_dtypes_shapes_and_bytes(workspace, size):
    tensors = {"embed.weight": torch.zeros(1000, 64, dtype=torch.bfloat16),
               "head.weight": torch.zeros(10, 64), "head.bias": torch.zeros(10, dtype=torch.float16)}
    save_file(tensors, workspace / "model.safetensors", metadata={"format": "pt"})
    found = size("model.safetensors")
    assert found.kind == "safetensors"
    parts = {p.name: (p.dtype, p.shape, p.bytes) for p in found.parts}
    assert parts == {k: (str(v.dtype).removeprefix("torch."), tuple(v.shape), v.nbytes)
                     for k, v in tensors.items()}
    assert found.data_bytes == sum(v.nbytes for v in tensors.values())
    assert dict(found.dtypes) == {"bfloat16": 128_000, "float32": 2560, "float16": 20}


def test_a_large_file_reads_its_header_only(workspace, size):
    save_file({"w": torch.zeros(4_000_000)}, workspace / "big.safetensors")
    with bytes_read() as read:
        assert size("big.safetensors").data_bytes == 16_000_000
    assert read[0] < 1024


def _file(header, data: bytes = b"") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.mark.parametrize("content", [
    _file({"w": {"dtype": "F32", "shape": [10], "data_offsets": [0, 40]}}, b"\0" * 8),  # short
    _file({"w": {"dtype": "F32", "shape": [10**12], "data_offsets": [0, 40]}}, b"\0" * 40),
    _file({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}),
    _file({"w": {"dtype": "XX", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
    _file({"w": "not an entry"}),
    _file([1, 2, 3]),
    _file(b"{" + b'"a":[' * 50_000 + b"]" * 50_000 + b"}"),  # deep nesting
    _file(b"{not json"),
    struct.pack("<Q", 2**63) + b"{}",  # a header of 8 EB
    struct.pack("<Q", 100) + b"{}",  # a header longer than the file
    b"\x05\x00",
])
def test_broken_headers_give_the_byte_size_only(workspace, size, content):
    (workspace / "bad.safetensors").write_bytes(content)
    found = size("bad.safetensors")
    assert found.bytes == len(content) and found.parts == () and found.data_bytes is None
    assert found.note


def test_a_header_over_the_bound_is_not_read(workspace, size):
    sparse(workspace / "wide.safetensors", 64 * 2**20, head=struct.pack("<Q", 32 * 2**20) + b"{")
    with bytes_read() as read:
        found = size("wide.safetensors")
    assert found.kind == "safetensors" and "header of" in found.note
    assert read[0] < 1024

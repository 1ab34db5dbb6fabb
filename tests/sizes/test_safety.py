"""What the size readers never do: read outside the workspace, follow a symlink out of it,
open a FIFO, a device or a socket, trust a file that changed while it was read, raise, or
hang."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlens.sizes import read, read_size, safe


@pytest.fixture
def opened(monkeypatch):
    """The names os.open is called with by the readers."""
    names = []
    original = os.open

    def recording(path, flags, mode=0o777, *, dir_fd=None):
        names.append(os.fspath(path))
        return original(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(safe.os, "open", recording)
    return names


def test_paths_outside_the_workspace(workspace, tmp_path):
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    for path in (tmp_path / "secret.csv", "../secret.csv", "/etc/passwd", "sub/../../secret.csv"):
        found = read_size(path, workspace)
        assert found.kind == "unknown" and found.bytes is None
        assert found.note == "outside the workspace", path


def test_symlinks_out_of_the_workspace_are_not_followed(workspace, tmp_path, opened):
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "x.csv").write_text("a\n1\n")
    os.symlink(tmp_path / "secret.csv", workspace / "link.csv")
    os.symlink(tmp_path / "folder", workspace / "dir")
    os.symlink("/dev/zero", workspace / "zero.npy")
    for name in ("link.csv", "dir/x.csv", "zero.npy"):
        found = read_size(name, workspace)
        assert found.kind == "unknown" and "symbolic link" in found.note, name
    assert not any("secret" in n or "zero" in n or n.endswith("x.csv") for n in opened)


def test_symlinks_inside_the_workspace_are_followed(workspace):
    (workspace / "data").mkdir()
    (workspace / "data" / "real.csv").write_text("a,b\n1,2\n")
    os.symlink("data/real.csv", workspace / "alias.csv")
    os.symlink("data", workspace / "d")
    assert read_size("alias.csv", workspace).rows == 1
    assert read_size("d/real.csv", workspace).columns == ("a", "b")


def test_a_link_swapped_in_after_the_check_is_refused(workspace, tmp_path, monkeypatch):
    (workspace / "data").mkdir()
    (workspace / "data" / "x.csv").write_text("a\n1\n")
    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "x.csv").write_text("secret\n1\n")
    original = safe.locate

    def then_swap(root, path):
        located = original(root, path)
        os.rename(workspace / "data", workspace / "old")
        os.symlink(tmp_path / "evil", workspace / "data")
        return located

    monkeypatch.setattr(safe, "locate", then_swap)
    found = read_size("data/x.csv", workspace)
    assert found.kind == "unknown" and "symbolic link" in found.note


def test_fifos_devices_and_sockets_are_never_opened(workspace, opened):
    os.mkfifo(workspace / "pipe.csv")
    os.mknod(workspace / "dev.npy", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(workspace / "sock.csv"))
    try:
        started = time.perf_counter()
        reasons = {name: read_size(name, workspace).note
                   for name in ("pipe.csv", "dev.npy", "sock.csv")}
        assert time.perf_counter() - started < 1
    finally:
        server.close()
    assert reasons == {"pipe.csv": "a FIFO", "dev.npy": "a device", "sock.csv": "a socket"}
    assert not [n for n in opened if n.startswith(("pipe", "dev", "sock"))]


def test_a_file_that_changes_while_read_is_skipped_and_not_cached(workspace, monkeypatch):
    np.save(workspace / "a.npy", np.zeros(10))
    original = read._READERS["npy"]

    def growing(handle):
        result = original(handle)
        with open(workspace / "a.npy", "ab") as f:
            f.write(b"\0" * 8)
        return result

    monkeypatch.setitem(read._READERS, "npy", growing)
    found = read_size("a.npy", workspace)
    assert found.kind == "unknown" and found.note == "changed while read"
    monkeypatch.setitem(read._READERS, "npy", original)
    assert read_size("a.npy", workspace).shape == (10,)


def test_answers_are_cached_by_path_size_and_mtime(workspace, monkeypatch):
    (workspace / "t.csv").write_text("a\n1\n")
    first = read_size("t.csv", workspace)
    assert read_size("t.csv", workspace) is first
    (workspace / "t.csv").write_text("a\n1\n2\n")
    assert read_size("t.csv", workspace).rows == 2
    monkeypatch.setattr(read.CACHE, "size", 3)
    for i in range(10):
        (workspace / f"{i}.csv").write_text("a\n")
        read_size(f"{i}.csv", workspace)
    assert len(read.CACHE._items) == 3


def test_a_reader_that_raises_still_answers(workspace, monkeypatch):
    (workspace / "t.csv").write_text("a\n1\n")

    def broken(handle):
        raise MemoryError

    monkeypatch.setitem(read._READERS, "csv", broken)
    found = read_size("t.csv", workspace)
    assert found.kind == "unknown" and "MemoryError" in found.note


def test_reads_from_many_threads(workspace):
    for i in range(20):
        np.save(workspace / f"{i}.npy", np.zeros(i + 1))
    results = {}

    def work(i):
        results[i] = read_size(f"{i % 20}.npy", workspace).shape

    threads = [threading.Thread(target=work, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == (i % 20 + 1,) for i in range(100))


_NAMES = ["x.csv", "x.tsv", "x.txt", "x.parquet", "x.npy", "x.npz", "x.pt", "x.bin",
          "x.safetensors", "x.h5", "x.pkl", "x.joblib", "x.csv.gz", "x.dat"]
_HEADS = [b"", b"\x93NUMPY\x01\x00", b"PAR1", b"PK\x03\x04", b"PK\x05\x06", b"\x89HDF\r\n\x1a\n",
          b"\x80\x02", b"\x1f\x8b", b"\x08\x00\x00\x00\x00\x00\x00\x00{"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(_NAMES), head=st.sampled_from(_HEADS),
       body=st.binary(max_size=600), tail=st.sampled_from([b"", b"PAR1", b"PK\x05\x06" + b"\0" * 18]))
def test_any_bytes_under_any_name_give_an_answer(workspace, name, head, body, tail):
    path = workspace / name
    path.write_bytes(head + body + tail)
    read.clear_cache()
    started = time.perf_counter()
    found = read_size(name, workspace)
    assert time.perf_counter() - started < 2
    assert found.bytes == len(head + body + tail)

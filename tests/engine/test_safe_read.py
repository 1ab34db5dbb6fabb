"""engine/safe_read.py: the one way memlens reads a file it was not handed. Each case runs in a
thread with a deadline, so that a regression fails instead of hanging the test run."""

from __future__ import annotations

import os
import threading

import pytest

from memlens.engine.safe_read import Refused, TooLarge, read_bytes, repository_of


def bounded(call, seconds: float = 10.0):
    out: dict = {}

    def target():
        try:
            out["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the read blocked"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_regular_file_is_read_whole(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 5000)
    assert bounded(lambda: read_bytes(tmp_path / "a", 5000)) == b"x" * 5000
    (tmp_path / "empty").write_bytes(b"")
    assert bounded(lambda: read_bytes(tmp_path / "empty", 10)) == b""


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(Refused, match="not a regular file"):
        bounded(lambda: read_bytes(tmp_path / "fifo", 100))


def test_a_link_to_a_device_is_refused_and_never_read(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero")
    with pytest.raises(Refused, match="not a regular file"):
        bounded(lambda: read_bytes(tmp_path / "zero", 100))


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(Refused, match="not a regular file"):
        bounded(lambda: read_bytes(tmp_path, 100))


def test_over_the_limit_is_refused_by_its_size(tmp_path):
    with open(tmp_path / "sparse", "wb") as fh:
        fh.truncate(1 << 40)  # a terabyte, sparse: read, it would never end
    with pytest.raises(TooLarge, match="over the 1 KB limit") as caught:
        bounded(lambda: read_bytes(tmp_path / "sparse", 1024))
    assert caught.value.size == 1 << 40


def test_a_symlink_is_refused_when_not_followed(tmp_path):
    (tmp_path / "target").write_text("x")
    os.symlink("target", tmp_path / "link")
    assert read_bytes(tmp_path / "link", 10) == b"x"
    with pytest.raises(Refused, match="a symbolic link"):
        read_bytes(tmp_path / "link", 10, follow=False)


def test_a_followed_link_must_stay_within_its_folder(tmp_path):
    (tmp_path / "repo" / "config").mkdir(parents=True)
    (tmp_path / "repo" / "config" / "base.toml").write_text("inside")
    (tmp_path / "secret").write_text("outside")
    os.symlink("config/base.toml", tmp_path / "repo" / "inside.toml")
    os.symlink("../secret", tmp_path / "repo" / "outside.toml")
    within = tmp_path / "repo"
    assert read_bytes(within / "inside.toml", 100, within=within) == b"inside"
    with pytest.raises(Refused, match="outside"):
        read_bytes(within / "outside.toml", 100, within=within)


def test_the_repository_of_a_folder_is_its_git_top_else_itself(tmp_path):
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "plain" / "c").mkdir(parents=True)
    assert repository_of(tmp_path / "repo" / "a" / "b") == str(tmp_path / "repo")
    assert repository_of(tmp_path / "plain" / "c") == str(tmp_path / "plain" / "c")

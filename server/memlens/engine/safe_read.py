"""How memlens reads a file it was not handed: a source file, a .gitignore, a pyproject.toml, a
rule file, its own cache. Only a regular file, opened once, never blocking, read up to a bound.

A repository can commit a symlink to /dev/zero (it reads forever), put a FIFO where a file was
(its open blocks), or ship a huge file; it can swap any of them in between a walk and the read.
So the file is opened with O_NONBLOCK (a FIFO's open returns at once), with O_NOFOLLOW where a
symlink is not to be followed, checked with `fstat` on the open descriptor (what is read is what
was checked), and read up to `limit` bytes. A symlink that is followed must stay inside a given
folder (`within`): a repository's config and rules are read from the repository only.
"""

from __future__ import annotations

import errno
import os
import stat

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | \
    getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class Refused(OSError):
    """The file is not read; `str()` says why, in one line."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class TooLarge(Refused):
    def __init__(self, size: int, limit: int):
        super().__init__(f"{_mb(size)} is over the {_mb(limit)} limit")
        self.size, self.limit = size, limit


def read_bytes(path: str | os.PathLike, limit: int, *, follow: bool = True,
               within: str | os.PathLike | None = None) -> bytes:
    """The content of the regular file `path`, at most `limit` bytes (TooLarge beyond).

    `follow=False`: a symlink is refused (as git refuses a symlinked .gitignore). `within`: the
    file, symlinks resolved, must lie in that folder. Raises Refused (a subclass of OSError)
    for a file that is not read, OSError for one that cannot be."""
    target = os.fspath(path)
    flags = _FLAGS
    if within is not None:
        target = os.path.realpath(target)
        folder = os.path.realpath(within)
        if target != folder and not target.startswith(os.path.join(folder, "")):
            raise Refused(f"a symbolic link to {target}, outside {folder}")
        flags |= _NOFOLLOW  # resolved: a link put there since is not followed either
    elif not follow:
        flags |= _NOFOLLOW
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and flags & _NOFOLLOW:
            raise Refused("a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused("not a regular file (a folder, a pipe, a socket or a device)")
        if st.st_size > limit:
            raise TooLarge(st.st_size, limit)
        # (one read for the content, one for the end: a file that grew is cut at the limit)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, max(st.st_size + 1 - total, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise TooLarge(total, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike, limit: int, *, follow: bool = True,
              within: str | os.PathLike | None = None, errors: str = "strict") -> str:
    """`read_bytes` decoded as UTF-8 (UnicodeDecodeError, unless `errors` says otherwise)."""
    return read_bytes(path, limit, follow=follow, within=within).decode("utf-8", errors)


def repository_of(folder: str | os.PathLike) -> str:
    """The folder a repository's own file may point into: the top of its git work tree (the
    nearest folder above with a `.git`), else `folder` itself."""
    folder = os.path.abspath(folder)
    candidate = folder
    while True:
        if os.path.lexists(os.path.join(candidate, ".git")):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            return folder
        candidate = parent


def _mb(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")
    return f"{size / 2**10:.0f} KB"

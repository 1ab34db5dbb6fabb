"""How a size reader opens a file the code names: only inside the workspace, never through a
symlink that leads out of it, never a FIFO, a device or a socket, and never more bytes than its
budget.

The path is resolved (symlinks inside the workspace are fine: a data folder linked from
elsewhere in the repository), then opened again component by component from the workspace
root with O_NOFOLLOW, so a link swapped in after the check is refused rather than followed.
The last component is `lstat`ed before it is opened: anything but a regular file (or a folder,
where one is asked for) is never opened at all, since opening a device can have effects of its
own. It is opened with O_NONBLOCK and checked again with `fstat` on the descriptor (what is read
is what was checked). Every read goes through `Handle.read_at`, which charges a budget and
refuses a read beyond it before allocating anything; `Handle.unchanged` tells whether the file
changed (size, mtime, inode) while it was read.
"""

from __future__ import annotations

import io
import os
import stat

_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | \
    getattr(os, "O_NOFOLLOW", 0)
_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0) | \
    getattr(os, "O_NOFOLLOW", 0)


# opening relative to a folder's descriptor (POSIX); elsewhere the resolved path is opened
_DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd
_PREAD = hasattr(os, "pread")


class Unreadable(Exception):
    """The file is not read; `str()` says why in a few words. Not an OSError on purpose: the
    libraries a reader hands a file object to (zipfile, h5py) treat OSError as "no such
    structure" and go on; this must stop them."""


class OverBudget(Unreadable):
    def __init__(self, wanted: int, budget: int):
        super().__init__(f"metadata over the {budget} byte read bound")
        self.wanted, self.budget = wanted, budget


def within(path: str, root: str) -> bool:
    return path == root or path.startswith(os.path.join(root, ""))


def locate(root: str, path: str) -> tuple[str, str]:
    """(real root, real path) of `path` (relative to `root`, or absolute), or Unreadable when
    it, or what its symlinks lead to, lies outside the root."""
    real_root = os.path.realpath(root)
    joined = os.path.normpath(os.path.join(os.path.abspath(root), path))
    if not within(joined, os.path.abspath(root)) and not within(joined, real_root):
        raise Unreadable("outside the workspace")
    real = os.path.realpath(joined)
    if not within(real, real_root):
        raise Unreadable("a symbolic link out of the workspace")
    return real_root, real


def describe(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def _walk(real_root: str, real: str) -> tuple[int | None, str]:
    """A descriptor of the folder holding `real` (opened from the root, no link followed) and
    the last component's name; (None, "") for the root itself."""
    relative = os.path.relpath(real, real_root)
    if relative == ".":
        return None, ""
    parts = relative.split(os.sep)
    fd = os.open(real_root, _DIR)
    try:
        for part in parts[:-1]:
            next_fd = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def open_path(root: str, path: str, *, folder: bool = False) -> tuple[int, os.stat_result, str]:
    """(descriptor, fstat, real path) of a regular file (or, with `folder`, a folder) inside
    `root`. Unreadable for anything else; the caller closes the descriptor."""
    real_root, real = locate(root, path)
    try:
        parent, name = _walk(real_root, real) if _DIR_FD else (None, "")
    except OSError as exc:
        raise Unreadable(_os_reason(exc)) from None
    try:
        if parent is None:  # the root itself (or no dir_fd on this platform: the real path)
            before = os.stat(real if not _DIR_FD else real_root, follow_symlinks=False)
        else:
            before = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if not (stat.S_ISREG(before.st_mode) or (folder and stat.S_ISDIR(before.st_mode))):
            raise Unreadable(describe(before.st_mode))  # never opened
        flags = _DIR if stat.S_ISDIR(before.st_mode) else _READ
        fd = os.open(real if not _DIR_FD else real_root, flags) if parent is None else \
            os.open(name, flags, dir_fd=parent)
    except OSError as exc:
        raise Unreadable(_os_reason(exc)) from None
    finally:
        if parent is not None:
            os.close(parent)
    st = os.fstat(fd)
    if (st.st_ino, st.st_dev, stat.S_IFMT(st.st_mode)) != \
            (before.st_ino, before.st_dev, stat.S_IFMT(before.st_mode)):
        os.close(fd)
        raise Unreadable("changed while read")
    return fd, st, real


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "a symbolic link"
    if exc.errno == errno.ENOTDIR:  # O_DIRECTORY | O_NOFOLLOW met a link on the way
        return "a symbolic link or a file where a folder was"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or type(exc).__name__


class Handle:
    """An open regular file, read at offsets within a byte budget."""

    def __init__(self, fd: int, st: os.stat_result, path: str, budget: int):
        self.fd, self.stat, self.path = fd, st, path
        self.size = st.st_size
        self.budget = budget
        self.used = 0

    def charge(self, n: int) -> None:
        if n < 0 or self.used + n > self.budget:
            raise OverBudget(self.used + max(n, 0), self.budget)
        self.used += n

    def read_at(self, offset: int, n: int) -> bytes:
        """At most `n` bytes at `offset` (fewer at the end of the file)."""
        n = max(0, min(n, self.size - offset)) if offset >= 0 else 0
        self.charge(n)
        if n == 0:
            return b""
        if _PREAD:
            return os.pread(self.fd, n, offset)
        os.lseek(self.fd, offset, os.SEEK_SET)
        return os.read(self.fd, n)

    def tail(self, n: int) -> bytes:
        n = min(n, self.size)
        return self.read_at(self.size - n, n)

    def reader(self) -> BoundedReader:
        return BoundedReader(self)

    def unchanged(self) -> bool:
        """Whether the file is the one that was opened, as it was (size, mtime, inode)."""
        try:
            now = os.fstat(self.fd)
        except OSError:
            return False
        return (now.st_size, now.st_mtime_ns, now.st_ino) == \
            (self.stat.st_size, self.stat.st_mtime_ns, self.stat.st_ino)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class BoundedReader(io.RawIOBase):
    """A read-only file object over a Handle, for libraries that want one (zipfile, h5py): each
    read is charged to the handle's budget, and one past it raises OverBudget before reading."""

    def __init__(self, handle: Handle):
        super().__init__()
        self._handle = handle
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            pos = offset
        elif whence == 1:
            pos = self._pos + offset
        elif whence == 2:
            pos = self._handle.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._handle.size - self._pos
        data = self._handle.read_at(self._pos, n)
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

"""The profiled run's process tree, and its memory: the runner and every process below it.

The memory cap counts the whole tree, and must see a child as soon as it exists: a child found
only by a scan every 0.5 s grew to 2.5 times the cap before it was counted, and one that lived
less than that could be missed altogether. On Linux the tree is read from each task's
`/proc/PID/task/TID/children` (cost in proportion to the tree, ~50 us a process: every poll);
elsewhere finding descendants scans every process of the machine, so it is done every 0.5 s.
"""

from __future__ import annotations

import os
import time

import psutil


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (empty when it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _children_file(pid: int) -> str:
    return f"/proc/{pid}/task/{pid}/children"


def proc_descendants(pid: int) -> list[int] | None:
    """The pids below `pid`, from /proc's children lists; None where the kernel has none."""
    if not os.path.exists(_children_file(pid)):
        return None
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue  # gone meanwhile
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", "rb") as f:
                    children = [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                continue
            found += children
            stack += children
    return found


class TreeRss:
    """RSS of a process and its descendants, read at each call."""

    def __init__(self, pid: int, rescan: float = 0.5):
        self.pid, self.rescan = pid, rescan
        self.procs: dict[int, psutil.Process | None] = {}
        self.scanned_at = -rescan
        self.from_proc = os.path.exists(_children_file(pid))

    def _refresh(self) -> None:
        if self.from_proc:
            pids = proc_descendants(self.pid)
            if pids is not None:
                self.procs = {p: self.procs.get(p) or _process(p) for p in [self.pid, *pids]}
                return
        now = time.monotonic()
        if now - self.scanned_at >= self.rescan:
            self.scanned_at = now
            self.procs = {p.pid: p for p in tree(self.pid)}

    def __call__(self) -> int:
        self._refresh()
        total = 0
        for proc in self.procs.values():
            try:
                if proc is not None:
                    total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None

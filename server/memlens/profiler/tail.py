"""The last few kilobytes of the profiled program's output, kept as it is written.

The target's stdout and stderr go to a pipe that a thread drains, keeping only the tail: a program
that prints gigabytes costs neither memory (the parent is the CLI or the language server itself)
nor disk. A file read at the end cost both: 2 GB of output took the server to 1.5 GiB of RSS.
"""

from __future__ import annotations

import os
import selectors
import threading

LIMIT = 8000  # bytes kept
_CHUNK = 1 << 16
_IDLE_S = 0.1  # once the run is over, the output is read until it stays quiet this long


class OutputTail:
    """Reads `fd` (the read end of the target's output pipe; closed when done) in a thread."""

    def __init__(self, fd: int, limit: int = LIMIT):
        self.limit, self.total = limit, 0
        self._fd = fd
        self._kept = bytearray()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="memlens-profile-output",
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_READ)
            try:
                while True:
                    if not selector.select(_IDLE_S):
                        if self._done.is_set():
                            return  # a process that escaped the run still holds the pipe
                        continue
                    data = os.read(self._fd, _CHUNK)
                    if not data:
                        return
                    self.total += len(data)
                    self._kept += data
                    if len(self._kept) > 2 * self.limit:
                        del self._kept[:-self.limit]
            except OSError:
                return
            finally:
                os.close(self._fd)

    def close(self, timeout: float = 5.0) -> str:
        """Once the run has ended: what is left in the pipe, then the tail as text."""
        self._done.set()
        self._thread.join(timeout)
        return bytes(self._kept[-self.limit:]).decode("utf-8", "replace")

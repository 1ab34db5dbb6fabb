"""The language server's handle on its checker process (`check_worker`): start it, send it one
request at a time, and stop it when a request overruns its budget, is overtaken, or it crashes.

Calls block the calling thread (never the event loop) on a pipe, which releases the GIL: the server
keeps answering while the engine works. A process that is stopped or dies is started again on the
next call, with the same configuration; only the incremental state of open documents is lost.
A settle (a whole-file re-check once typing pauses) is not stopped that way when typing resumes:
it is asked to stop over a pipe of its own, and stops at the engine's next step, process kept.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# A check overtaken by a newer version of its document is stopped only once it has run this
# long: starting a new process (and losing every document's incremental state) costs more than
# letting a short check finish.
OVERTAKEN_GRACE_S = 0.5
# A settle asked to stop (typing resumed) stops at the engine's next step; one step (a parse, one
# rule's search) can take a second on a large file on a loaded machine. It is stopped with its
# process only when it has not stopped this long after the ask: a new process costs its start
# and a whole-file check of every open document, more than such a wait.
INTERRUPT_GRACE_S = 2.0
POLL_S = 0.05


class CheckError(Exception):
    """A request to the checker process that gave no answer (the subclass says why)."""


class CheckerStopped(CheckError):
    """The checker process died during the request (a native crash, a kill)."""

    def __init__(self, returncode: int | None):
        self.returncode = returncode
        if returncode is not None and returncode < 0:
            how = f"signal {-returncode}"
        else:
            how = f"exit code {returncode}"
        super().__init__(f"the checker process stopped ({how})")


class CheckTimedOut(CheckError):
    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"the check took longer than {seconds:g} s")


class CheckCancelled(CheckError):
    """Overtaken (a newer version) or cancelled by the user: nobody wants the answer."""


class CheckFailed(CheckError):
    """The engine raised inside the checker process (the message says what)."""


# `-I`: neither the working folder (the workspace, for most editors) nor PYTHONPATH comes first on
# the checker's sys.path, so that no `pickle.py` or `ast_grep_py.py` of the workspace is imported
# in place of the real one (`-m` would put the working folder first). The checker then takes this
# server's own sys.path, which found memlens and its dependencies.
_BOOT = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
         "import memlens.lsp.check_worker as worker; sys.exit(worker.main())")


def checker_command() -> list[str]:
    """The command that starts a checker process: memlens from where this server imported it,
    then the server's sys.path, without its relative entries ("" is the working folder)."""
    package_root = str(Path(__file__).resolve().parents[2])
    paths = [package_root, *(p for p in sys.path if p and os.path.isabs(p) and p != package_root)]
    return [sys.executable, "-I", "-c", _BOOT, json.dumps(paths)]


class CheckProcess:
    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue | None = None
        self._config: tuple | None = None
        self._sent_config: tuple | None = None
        self._configured = 0
        self.starts = self.crashes = self.timeouts = self.cancels = self.interrupts = 0
        # requests are numbered in the order they are sent (the process counts them too); the
        # number of one in flight that may be interrupted, and the pipe that asks for it
        self._seq = 0
        self._interruptible: int | None = None
        self._interrupt_w: int | None = None
        self._closed = False
        # what the last configuration's engines found wrong (a bad selector, a broken rule file)
        self.problems: tuple[str, ...] = ()

    def configure(self, root: str | None, editor, trusted: bool, reread: bool = True) -> None:
        """The configuration the process builds its engines from (sent before the next call;
        sent again even when equal, so that a pyproject.toml that changed is read anew, unless
        `reread` is false: then the same facts keep the engines and what they checked)."""
        if not reread and self._config is not None and self._config[1:] == (root, editor,
                                                                             trusted):
            return
        self._configured += 1
        self._config = (self._configured, root, editor, trusted)

    @property
    def config(self) -> tuple | None:
        """The configuration the next call checks under (the same object until `configure`
        changes it)."""
        return self._config

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def call(self, op: str, *args, stop: Callable[[], bool] | None = None,
             budget: float | None = None, grace: float = 0.0, interruptible: bool = False):
        """`op(*args)` in the checker process. Raises CheckerStopped, CheckTimedOut (after
        `budget` seconds), CheckCancelled (`stop()` became true after `grace` seconds) or
        CheckFailed. An `interruptible` request (a settle) is asked to stop at once when
        `stop()` becomes true or `interrupt()` is called; it stops between two of the engine's
        steps, the process lives on, and CheckCancelled is raised."""
        with self._lock:
            if self._closed:
                raise CheckCancelled()
            started = time.monotonic()
            self._start_if_needed()
            config = self._config  # configure() may run meanwhile, on the event loop
            if config is not None and self._sent_config != config:
                problems = self._exchange(("configure", config[1:]), started, stop, budget,
                                          grace)
                self.problems = tuple(problems or ())
                self._sent_config = config
            return self._exchange((op, args), started, stop, budget, grace, interruptible)

    def interrupt(self) -> None:
        """Ask the interruptible request in flight, if any, to stop (from any thread)."""
        seq, fd = self._interruptible, self._interrupt_w
        if seq is None or fd is None:
            return
        try:
            os.write(fd, seq.to_bytes(8, "little"))
        except OSError:
            pass  # the process is gone, or the pipe full of earlier asks: it stops anyway

    def close(self) -> None:
        self._closed = True
        self._stop_process()

    # -- one process ----------------------------------------------------------------------

    def _start_if_needed(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._stop_process()
        env = dict(os.environ)
        interrupt_r = None
        if os.name == "posix":  # (elsewhere an overtaken settle is stopped with its process)
            interrupt_r, self._interrupt_w = os.pipe()
            os.set_blocking(self._interrupt_w, False)
            env["MEMLENS_INTERRUPT_FD"] = str(interrupt_r)
        self._proc = subprocess.Popen(
            checker_command(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env, close_fds=True,
            pass_fds=(interrupt_r,) if interrupt_r is not None else ())
        if interrupt_r is not None:
            os.close(interrupt_r)
        self._seq = 0
        self._replies = queue.Queue()
        threading.Thread(target=_read_replies, args=(self._proc.stdout, self._replies),
                         name="memlens-checker-replies", daemon=True).start()
        self._sent_config = None
        self.starts += 1

    def _stop_process(self) -> None:
        fd, self._interrupt_w = self._interrupt_w, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            log.warning("the checker process %s did not stop", proc.pid)
        for pipe in filter(None, (proc.stdin, proc.stdout)):
            try:
                pipe.close()
            except OSError:
                pass

    def _exchange(self, request: tuple, started: float, stop, budget, grace,
                  interruptible: bool = False):
        proc, replies = self._proc, self._replies
        assert proc is not None and proc.stdin is not None and replies is not None
        self._seq += 1
        try:
            pickle.dump(request, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.flush()
        except OSError:
            raise self._crashed() from None
        if interruptible:
            self._interruptible = self._seq
        try:
            return self._wait(replies, started, stop, budget, grace, interruptible)
        finally:
            self._interruptible = None

    def _wait(self, replies, started: float, stop, budget, grace, interruptible: bool):
        asked: float | None = None  # when an interruptible request was asked to stop
        while True:
            try:
                kind, reply = replies.get(timeout=POLL_S)
            except queue.Empty:
                now = time.monotonic()
                if budget is not None and now - started > budget:
                    self.timeouts += 1
                    self._stop_process()
                    raise CheckTimedOut(budget) from None
                if interruptible and asked is None and stop is not None and stop():
                    self.interrupt()  # it stops at its next step; stopped below if it does not
                    asked = now
                # the grace: an overtaken check that has run that long is stopped with its
                # process; an interrupted one gets it from the ask to stop at its next step
                since = started if asked is None else asked
                if stop is not None and now - since >= grace and stop():
                    self.cancels += 1
                    self._stop_process()
                    raise CheckCancelled() from None
                continue
            if kind == "eof":
                raise self._crashed()
            if kind == "torn":
                self._stop_process()
                raise CheckFailed(f"unreadable reply from the checker process: {reply}")
            ok, value = reply
            if ok is None:  # interrupted, as asked
                self.interrupts += 1
                raise CheckCancelled()
            if not ok:
                raise CheckFailed(value)
            return value

    def _crashed(self) -> CheckError:
        if self._closed:
            return CheckCancelled()  # close() stopped it: the server is exiting
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._stop_process()
        self.crashes += 1
        return CheckerStopped(code)


def _read_replies(stream, replies: queue.Queue) -> None:
    while True:
        try:
            replies.put(("reply", pickle.load(stream)))
        except (EOFError, OSError, ValueError):  # the process is gone, or its pipe closed
            replies.put(("eof", None))
            return
        except Exception as exc:  # a reply that does not unpickle: the stream is out of step
            replies.put(("torn", f"{type(exc).__name__}: {exc}"))
            return

"""Line memory of one code object in THIS process: the IPython extension's way, where the user
asked for the kernel's own state (its variables, its loaded model).

The same tracer (`target/tracer.py`: memory_profiler's line model) and the same result
(`result.py`) as a profile run in a separate process, filled in by the same code
(`parent.result_from_snapshot`). There is no timeout or memory cap here: the kernel's interrupt
stops a run (`cancelled`, with the lines measured so far).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from types import CodeType

from .parent import result_from_snapshot
from .result import LineRow, ProfileResult, Status

_HERE = os.path.abspath(__file__)


def _error_of(exc: BaseException) -> dict:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and \
            os.path.abspath(tb.tb_frame.f_code.co_filename) == _HERE:
        tb = tb.tb_next  # the user's code starts below this module's frames
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return {"type": type(exc).__name__, "message": str(exc), "traceback": text}


def profile_here(target: CodeType, run: Callable[[], object], rows: list[LineRow], *,
                 file: str, qualname: str | None, entry: str, call: str | None = None
                 ) -> tuple[ProfileResult, BaseException | None]:
    """Run `run()` with the lines of `target` traced; (result, the exception `run` raised, to
    be raised again by the caller once the result is shown)."""
    from .target.tracer import FastLineProfiler

    result = ProfileResult(file, qualname, python=sys.executable, entry=entry, call=call,
                           started_at=time.time())
    result.lines = rows
    if rows:
        result.first_line, result.last_line = rows[0].line, rows[-1].line
    profiler = FastLineProfiler(target)
    caught: BaseException | None = None
    error = None
    stopped = None
    profiler.enable()
    try:
        run()
    except KeyboardInterrupt as exc:  # the kernel's interrupt
        caught, stopped = exc, "cancelled"
    except BaseException as exc:
        caught, error = exc, _error_of(exc)
    finally:
        profiler.disable()
        profiler.finish_pending()
    handled = None
    if profiler.error is not None:
        etype, message, text = profiler.error
        raised = {"type": etype, "message": message, "traceback": text}
        if error is None and stopped is None:
            handled = raised  # raised in the function, caught by its caller
        elif error is not None and error["type"] == etype:
            error = raised  # the function's own traceback
    snap = dict(profiler.export(), status="raised" if error else Status.OK.value, error=error,
                handled_exception=handled, final=True)
    return result_from_snapshot(result, snap, stopped), caught

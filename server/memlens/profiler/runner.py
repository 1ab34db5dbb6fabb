"""Runs in the TARGET interpreter: `python runner.py CONFIG.json`.

Executed as a file path (not `-m`) so that it works where memlens is not installed: it needs only
the stdlib, psutil and memory_profiler. It runs the entry (script, call or pytest) with the
target function instrumented, and keeps writing JSON snapshots of the line table to
config["snapshot"] (atomically, every ~100 ms and at the end) so that the parent still has the
lines measured so far when it has to kill this process.
"""

import importlib.machinery
import importlib.util
import json
import os
import signal
import sys
import threading
import traceback
import types
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
# `python runner.py` put this package's directory first on sys.path: drop it so the target's
# own modules named e.g. `report` or `cli` are not shadowed by ours.
if sys.path and os.path.abspath(sys.path[0] or ".") == HERE:
    del sys.path[0]

SNAPSHOT_EVERY = 0.1
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Adopt the orphans of the target's processes (Linux). A daemon that double-forks, or a
    child started in a new session, leaves this process group, and once its parent is gone it
    would belong to init, out of the parent's reach. As a subreaper, this process adopts it,
    and kills it with everything else it has below it when the run ends."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def kill_descendants():
    """Kill every process below this one (the target's children, and the orphans adopted as
    subreaper), and reap them: no process of a run outlives it."""
    try:
        import psutil

        below = psutil.Process().children(recursive=True)
        for proc in below:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(below, timeout=5)
    except Exception:  # psutil missing or the table changing under us: the group kill remains
        pass


class Snapshots:
    """Writes the profiler's state to a file with write-then-rename (readers never see half)."""

    def __init__(self, path):
        self.path = path
        self.pid = os.getpid()  # a fork()ed child of the target must not overwrite our data
        self.lock = threading.Lock()
        self.profiler = None
        self.extra: dict[str, object] = {"status": "running", "error": None}
        self.finished = False

    def write(self, final=False, blocking=True):
        if os.getpid() != self.pid or not self.lock.acquire(blocking):
            return
        try:
            if self.finished:
                # a periodic write that woke just before the run ended must not replace the
                # final snapshot (the parent would report a finished run as died)
                return
            self.finished = final
            data = dict(self.extra, final=final)
            if self.profiler is not None:
                data.update(self.profiler.export())
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(data, f)
            os.replace(tmp, self.path)
        except Exception:  # a snapshot must never break the target
            pass
        finally:
            self.lock.release()

    def start_periodic(self):
        stop = threading.Event()
        parent = os.getppid()

        def loop():
            while not stop.wait(SNAPSHOT_EVERY):
                self.write()
                if os.getppid() != parent:  # the parent died (kill -9): leave no orphans
                    kill_descendants()
                    os.killpg(0, signal.SIGKILL)

        threading.Thread(target=loop, name="memlens-snapshots", daemon=True).start()
        return stop


def load_target_package():
    """memlens/profiler/target/ as the top-level package `_memlens_target`, from its path: the
    target interpreter may not have memlens installed (or another version of it)."""
    directory = os.path.join(HERE, "target")
    spec = importlib.util.spec_from_file_location(
        "_memlens_target", os.path.join(directory, "__init__.py"),
        submodule_search_locations=[directory],
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {directory}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    return importlib.import_module("_memlens_target.codefind"), importlib.import_module(
        "_memlens_target.tracer")


def setup_failed(snaps, **extra):
    snaps.extra.update(extra)
    snaps.write(final=True)


OWN_FILES = {os.path.abspath(__file__), os.path.join(HERE, "target", "cells.py")}


def error_of(exc):
    tb = exc.__traceback__
    # drop this runner's own frames: the user's code starts below them
    while (tb is not None and tb.tb_next is not None
           and os.path.abspath(tb.tb_frame.f_code.co_filename) in OWN_FILES):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return {"type": type(exc).__name__, "message": str(exc), "traceback": text}


def module_name_and_root(path):
    """Dotted module name of `path` and the directory its top package lives in."""
    directory, filename = os.path.split(os.path.abspath(path))
    parts = [] if filename == "__init__.py" else [os.path.splitext(filename)[0]]
    while os.path.exists(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    return ".".join(parts) or "__memlens_target__", directory


def project_root(path):
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        if any(os.path.exists(os.path.join(directory, m)) for m in ("pyproject.toml", ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def provide_profile_builtin():
    """Files still decorated with memory_profiler's `@profile` (which `python -m
    memory_profiler` injects as a builtin) run unchanged: here it is a no-op."""
    import builtins

    if not hasattr(builtins, "profile"):

        def profile(func=None, **options):
            return func if func is not None else (lambda f: f)

        builtins.__dict__["profile"] = profile


# Each entry turns the profiler on as late as it can: on 3.10/3.11 tracing slows down every
# Python call of the process, imports and pytest's start-up included.


def run_script(cfg, code, profiler):
    path = cfg["file"]
    sys.argv = [path, *cfg["args"]]
    sys.path.insert(0, os.path.dirname(path))
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=__builtins__, __cached__=None)
    sys.modules["__main__"] = main
    profiler.enable()  # the __main__ block may call the target anywhere
    exec(code, main.__dict__)


def run_call(cfg, code, profiler):
    path = cfg["file"]
    name, root = module_name_and_root(path)
    for entry in (project_root(path), os.path.dirname(path), root):
        if entry and entry not in sys.path:
            sys.path.insert(0, entry)
    sys.argv = [path, *cfg["args"]]
    # the source loader named: a file of any suffix (a script named like a command) loads
    spec = importlib.util.spec_from_file_location(
        name, path, loader=importlib.machinery.SourceFileLoader(name, path))
    if spec is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # our compiled code, not the loader's: the tracer matches this very code object
    exec(code, module.__dict__)
    # profiled: the calls made by the expression, not the module's import
    if cfg.get("call"):
        expression = compile(cfg["call"], "<--call>", "eval")
        profiler.enable()
        eval(expression, module.__dict__)
    else:
        target: Any = module
        for part in cfg["qualname"].replace(".<locals>", "").split("."):
            target = getattr(target, part)
        profiler.enable()
        drive(target())


def drive(result):
    """Run what calling a generator or coroutine function only created: a generator's body
    runs when it is iterated, a coroutine's when it is awaited (otherwise the profile would say
    `ok` for a body that never ran)."""
    import inspect

    if inspect.isgenerator(result):
        for _ in result:
            pass
    elif inspect.iscoroutine(result):
        import asyncio

        asyncio.run(result)
    elif inspect.isasyncgen(result):
        import asyncio

        async def consume():
            async for _ in result:
                pass

        asyncio.run(consume())
    return result


class EnableAtCollection:
    """pytest plugin: start profiling once pytest has loaded its plugins and configuration,
    before it imports any test module."""

    def __init__(self, profiler):
        self.profiler = profiler

    def pytest_collection(self, session):
        self.profiler.enable()


def run_pytest(cfg, profiler):
    import pytest

    sys.argv = ["pytest"]
    rc = pytest.main([cfg["pytest_node"], "-q", "-p", "no:cacheprovider", *cfg["args"]],
                     plugins=[EnableAtCollection(profiler)])
    if int(rc) != 0:
        return {"type": "PytestFailed", "message": f"pytest exited with code {int(rc)}",
                "traceback": ""}
    return None


def prepare_file(cfg, snaps, codefind):
    """(target code, run(profiler) -> error or None) for a .py file; None after reporting why
    it cannot run."""
    try:
        with open(cfg["file"], "rb") as f:
            source = f.read()
        code = compile(source, cfg["file"], "exec")
    except (OSError, SyntaxError) as exc:
        return setup_failed(snaps, status="setup_error", error=error_of(exc))
    target = codefind.find_code(code, cfg["qualname"], source)
    if target is None:
        return setup_failed(snaps, status="not_found")

    def run(profiler):
        if cfg["entry"] == "script":
            run_script(cfg, code, profiler)
        elif cfg["entry"] == "call":
            run_call(cfg, code, profiler)
        else:
            return run_pytest(cfg, profiler)
        return None

    return target, run


def prepare_notebook(cfg, snaps, codefind):
    """`prepare_file` for a notebook's cells (cfg["notebook"]["cells"]: the cells to run, the
    last being the profiled cell or the one defining the profiled function)."""
    cells = importlib.import_module("_memlens_target.cells")
    notebook = cfg["notebook"]
    try:
        transform = cells.ipython_transformer(notebook["cells"], sys.executable)
        compiled = cells.compile_cells(notebook["cells"], cfg["file"], transform)
    except cells.SetupError as exc:
        return setup_failed(snaps, status="setup_error", error=exc.error)
    except (SyntaxError, ValueError) as exc:
        return setup_failed(snaps, status="setup_error", error=error_of(exc))
    last, last_code, last_text = compiled[-1]
    qualname = cfg.get("qualname")
    target = codefind.find_code(last_code, qualname, last_text) if qualname else last_code
    if target is None:
        return setup_failed(snaps, status="not_found")

    def on_cell(number):
        snaps.extra["running_cell"] = number

    def run(profiler):
        path = cfg["file"]
        main = cells.main_module()
        sys.argv = [path, *cfg["args"]]
        for entry in (os.path.dirname(path), os.getcwd()):  # a kernel imports from its folder
            if entry not in sys.path:
                sys.path.insert(0, entry)
        if transform is not None:
            cells.start_shell(main, notebook["ipython_dir"])
        try:
            cells.run_cells(compiled if qualname else compiled[:-1], main.__dict__, on_cell)
        except cells.CellRaised as exc:
            error = error_of(exc.__cause__)
            error["message"] += f" (in cell {exc.number}, run before cell {last})" \
                if exc.number != last else f" (in cell {last}, which defines {qualname})"
            return error
        on_cell(None if qualname else last)  # a cell run before the profile no longer runs
        if not qualname:
            profiler.enable()
            exec(last_code, main.__dict__)
        elif cfg.get("call"):
            expression = compile(cfg["call"], "<--call>", "eval", dont_inherit=True)
            profiler.enable()
            eval(expression, main.__dict__)
        else:
            function = main
            for part in qualname.replace(".<locals>", "").split("."):
                function = getattr(function, part)
            profiler.enable()
            drive(function())
        return None

    return target, run


def main():
    become_subreaper()
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    snaps = Snapshots(cfg["snapshot"])

    if sys.version_info < (3, 10):  # noqa: UP036 - the TARGET interpreter may be older
        version = ".".join(map(str, sys.version_info[:3]))
        snaps.extra.update(status="setup_error", error={
            "type": "UnsupportedPython", "traceback": "",
            "message": f"{sys.executable} is Python {version}; memlens profile needs 3.10+"})
        snaps.write(final=True)
        return
    missing = []
    for module in ("memory_profiler", "psutil"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        snaps.extra.update(status="setup_error", missing=missing)
        snaps.write(final=True)
        return

    codefind, tracer = load_target_package()
    prepare = prepare_notebook if cfg.get("notebook") else prepare_file
    prepared = prepare(cfg, snaps, codefind)
    if prepared is None:
        return
    target, run = prepared

    profiler = tracer.FastLineProfiler(
        target, include_children=cfg["include_children"], backend=cfg.get("backend")
    )
    snaps.profiler = profiler
    snaps.write()  # from here on, a missing final snapshot means the run died, not the setup

    def on_term(signum, frame):  # the parent is stopping us: leave the freshest snapshot
        profiler.disable()
        snaps.write(blocking=False)
        kill_descendants()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    provide_profile_builtin()
    stop = snaps.start_periodic()
    status, error = "ok", None
    try:
        error = run(profiler)
        status = "raised" if error else "ok"
    except SystemExit as exc:
        if exc.code not in (None, 0):
            status, error = "raised", error_of(exc)
    except BaseException as exc:
        status, error = "raised", error_of(exc)
    finally:
        profiler.disable()
        profiler.finish_pending()
        stop.set()
    handled = None
    if profiler.error is not None:
        etype, message, text = profiler.error
        raised = {"type": etype, "message": message, "traceback": text}
        if error is None:  # the caller caught it (e.g. pytest.raises): the run is still ok
            handled = raised
        elif error["type"] in (etype, "PytestFailed", "SystemExit"):
            error = raised  # the function's own traceback says more than the entry's
    snaps.extra.update(status=status, error=error, handled_exception=handled)
    snaps.write(final=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        kill_descendants()
    sys.stdout.flush()
    sys.stderr.flush()

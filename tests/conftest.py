"""Every test process, and the servers and CLIs they start, keep memlens' cache of compiled
rules (`engine/rulecache.py`) in a folder of this session, not the user's."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("MEMLENS_CACHE_DIR", tempfile.mkdtemp(prefix="memlens-test-cache-"))


# Tests that measure time or memory, or wait on a server's timers (the language server, the
# profiler, the check timeout), run alone after the rest: `make test` runs the others on every
# core (pytest-xdist), where a neighbour's load would skew a timer.
_SERIAL = ("tests/lsp/", "tests/profiler/", "tests/kernel/", "tests/cli/test_cli_timeout.py")


def pytest_collection_modifyitems(config, items):
    import pytest

    root = str(config.rootpath)
    for item in items:
        where = os.path.relpath(str(item.path), root).replace(os.sep, "/")
        if where.startswith(_SERIAL):
            item.add_marker(pytest.mark.serial)

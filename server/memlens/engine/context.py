"""Test code: files whose data is small by construction, out of scope for the data-size rules.

A reviewer does not ask a test to memory-map its 3-row fixture. On 57 real projects, findings in
tests, fixtures and `tests/results/*.py` data modules were all false, so a rule whose
`metadata.test-code` is `skip` (the default) does not run on test code unless the setting
`skip-test-code = false` says so. A file is test code when:
- its path, below the project's root, has a folder named `tests`, `test`, `testing`, `demo` or
  `demos`, or its name is `test_*.py`, `*_test.py`, `tests.py` or `conftest.py`;
- or it imports pytest, unittest, hypothesis or nose.

Functions named `test_*` and `Test*` classes in other modules are left to the rules themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

# demos too: their data is a toy by construction (examples/ is left in: tutorials and pipelines
# there load real data sets)
TEST_FOLDERS = frozenset({"tests", "test", "testing", "demo", "demos"})
TEST_FRAMEWORKS = frozenset({"pytest", "unittest", "hypothesis", "nose"})


def is_test_path(path: str, root: str | None = None) -> bool:
    """Whether `path` (relative to `root`, the project's folder, when it lies below it; else
    relative to the current folder when below that) names test code. A relative path is read
    from the current folder, so the same file gets the same verdict however it is named."""
    return _is_test_path(path, root, os.getcwd())


@lru_cache(maxsize=4096)
def _is_test_path(path: str, root: str | None, cwd: str) -> bool:
    rel = _relative(path, root, cwd)
    parts = rel.replace("\\", "/").split("/")
    name = parts[-1]
    if any(part in TEST_FOLDERS for part in parts[:-1]):
        return True
    stem = name[:-3] if name.endswith(".py") else name
    return (stem.startswith("test_") or stem.endswith("_test") or stem in ("tests", "conftest"))


def imports_test_framework(bindings: Mapping[str, frozenset[str]]) -> bool:
    """Whether the file's import bindings name pytest, unittest, hypothesis or nose."""
    return any(target.split(".", 1)[0] in TEST_FRAMEWORKS
               for targets in bindings.values() for target in targets)


def mentions_test_framework(text: str) -> bool:
    """A cheap look at the text before the imports are read: False means no test framework is
    imported."""
    return any(word in text for word in TEST_FRAMEWORKS)


def _relative(path: str, root: str | None, cwd: str) -> str:
    absolute = os.path.normpath(path if os.path.isabs(path) else os.path.join(cwd, path))
    for base in (root, cwd):
        if base and absolute.startswith(base.rstrip(os.sep) + os.sep):
            return absolute[len(base.rstrip(os.sep)) + 1:]
    return path

import os
import sys

# `python -m memlens` put the working folder first on sys.path: in a repository, its own
# `pickle.py` or `tomllib.py` would be imported in place of the real module by this process (the
# `memlens` script puts its own folder there instead). Drop it before importing anything, unless
# Python left it out (-I, -P, PYTHONSAFEPATH). Modules of this package are found through the
# package itself, whichever folder it was found in.


def _added_by_dash_m() -> bool:
    if not sys.path or sys.flags.isolated or getattr(sys.flags, "safe_path", False):
        return False
    try:
        return os.path.abspath(sys.path[0] or os.curdir) == os.getcwd()
    except OSError:  # the working folder is gone
        return sys.path[0] == ""


if _added_by_dash_m():
    del sys.path[0]

from memlens.cli import main  # noqa: E402

raise SystemExit(main())

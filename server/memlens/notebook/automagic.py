"""IPython's automagic: a cell that is one line naming a line magic or shell alias, no `%`.

With automagic on (IPython's default), `cd data`, `pip install shap` or `time f()` run as
`%cd data`, `%pip install shap`, `%time f()`. IPython (7 and later) applies it to one-line cells
only: `InteractiveShell.transform_cell` prefilters a cell whose static transforms leave a single
line (leading blank lines dropped), so the same line inside a longer cell is a SyntaxError there
too, and stays one here. A name followed by `=` or `,` is Python (IPython's AssignmentChecker).

The names come from IPython where it is importable (its core and bundled-extension magics, and
its default shell aliases), imported on the first cell that needs them and cached; `FALLBACK`
when it is not. `EXTRA` are names a running kernel adds that no importable table lists.
"""

from __future__ import annotations

import functools
import re
from types import ModuleType

# Magic names a kernel registers at run time: the shell's aliases of magics (ed, hist, rep),
# ipykernel's KernelMagics and the terminal's aliases (clear, less, more, man, ...), and the
# magics of common extensions loaded with %load_ext.
EXTRA = frozenset({
    "ed", "hist", "rep",
    "clear", "less", "more", "man", "autosave", "connect_info", "qtconsole",
    "autoreload", "aimport", "store", "lprun", "memit", "mprun", "memlens", "tensorboard",
    "sql",
})

# IPython 9's line magics and default aliases (POSIX), for when IPython is not installed.
FALLBACK = EXTRA | frozenset({
    "alias", "alias_magic", "autoawait", "autocall", "automagic", "bookmark", "cd",
    "code_wrap", "colors", "conda", "config", "debug", "dhist", "dirs", "doctest_mode", "edit",
    "env", "gui", "history", "killbgscripts", "load", "load_ext", "loadpy", "logoff", "logon",
    "logstart", "logstate", "logstop", "lsmagic", "macro", "magic", "mamba", "matplotlib",
    "micromamba", "notebook", "page", "pastebin", "pdb", "pdef", "pdoc", "pfile", "pinfo",
    "pinfo2", "pip", "popd", "pprint", "precision", "prun", "psearch", "psource", "pushd", "pwd",
    "pycat", "pylab", "quickref", "recall", "rehashx", "reload_ext", "rerun", "reset",
    "reset_selective", "run", "save", "sc", "set_env", "sx", "system", "tb", "time", "timeit",
    "unalias", "unload_ext", "uv", "who", "who_ls", "whos", "xdel", "xmode",
    # IPython.core.alias.default_aliases() on POSIX
    "mkdir", "rmdir", "mv", "rm", "cp", "cat", "ls", "ll", "lf", "lk", "ldir", "lx",
})

_MAGIC_MODULES = ("IPython.core.magics", "IPython.extensions.autoreload",
                  "IPython.extensions.storemagic")

# IPython's split of a line: the name it looks up (`time.sleep` is one name, and no magic's),
# and the rest
_HEAD = re.compile(r"[ \t]*([A-Za-z_][\w.]*)(.*)")


def _line_magics(module: ModuleType) -> set[str]:
    """The line magics of the Magics classes `module` defines (IPython 9 lists its core ones in
    a table and imports their classes lazily; older versions define them in the module)."""
    from IPython.core.magic import Magics

    table = getattr(module, "BUILTIN_LAZY_MAGICS", None)
    if isinstance(table, dict) and isinstance(table.get("line"), dict):
        return set(table["line"])
    found: set[str] = set()
    for name in dir(module):
        value = getattr(module, name, None)
        if isinstance(value, type) and issubclass(value, Magics):
            found.update((getattr(value, "magics", None) or {}).get("line", ()))
    return found


def _from_ipython() -> frozenset[str]:
    import importlib

    from IPython.core.alias import default_aliases

    found = {name for name, _ in default_aliases()}
    for module_name in _MAGIC_MODULES:
        try:
            found |= _line_magics(importlib.import_module(module_name))
        except Exception:  # an extension missing from an odd build: the rest still count
            continue
    return frozenset(found)


@functools.cache
def names() -> frozenset[str]:
    """The names automagic runs: IPython's where it is importable, else `FALLBACK`."""
    try:
        found = _from_ipython()
    except Exception:  # not installed, or broken: ImportError and whatever a bad install raises
        return FALLBACK
    return found | EXTRA if found else FALLBACK


def is_automagic(line: str) -> bool:
    """Whether IPython runs the one-line cell `line` as a magic: it is not Python, its first
    word is a magic or alias name, and what follows is not an assignment."""
    m = _HEAD.fullmatch(line)
    if m is None:
        return False
    rest = m.group(2).lstrip()
    if rest[:1] in ("=", ","):  # `ls = ...`, `ls, x = ...`: Python, as IPython reads it
        return False
    return m.group(1) in names()

"""Whether a name is used after a statement, whether its value is held alone, whether work
follows: examples, and beside each the counterexample that must not read as it."""

from __future__ import annotations

import textwrap

import pytest
from ast_grep_py import SgRoot

from memlens.flow.liveness import holder, later_use, work_after
from memlens.flow.project import FileRole

NOTEBOOK = FileRole(notebook=True)  # a module's top level is the program


def _name(source: str, marker: str = "# <-"):
    """The identifier asked about: on the line marked `# <-`, the name after `@` in the
    marker (`# <- @a`), else the line's first name."""
    source = textwrap.dedent(source)
    root = SgRoot(source, "python").root()
    marked = [(i, line) for i, line in enumerate(source.splitlines()) if marker in line]
    assert marked, "no marked line"
    number, line = marked[0]
    want = line.split(marker, 1)[1].strip().lstrip("@") or None
    found = [n for n in root.find_all(kind="identifier") if n.range().start.line == number]
    if want is None:
        return found[0]
    return next(n for n in found if n.text() == want)


# -- used after ------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    # never read again
    """
    features = []
    for p in paths:
        features.append(np.load(p))
    big = np.concatenate(features)  # <- @features
    model.fit(big)
    """,
    # rebound unconditionally before the next read
    """
    x = load()
    y = x.copy()  # <- @x
    x = other()
    print(x)
    """,
    # a nested function binds its own `x`
    """
    def main():
        x = load()
        y = x.copy()  # <- @x
        def helper(x):
            return x + 1
        return helper(y)
    """,
    # a comprehension's own variable
    """
    frame = read()
    rgb = convert(frame)  # <- @frame
    out = [frame * 2 for frame in frames]
    """,
    # an unused load inside a function
    """
    def main():
        prior = read_data("prior")  # <- @prior
        orders = read_data("orders")
        return orders.shape
    """,
    # `x.name` and `f(name=...)` are not the variable
    """
    df = pd.read_csv(p)  # <- @df
    out = self.df
    run(df=3)
    """,
])
def test_not_used_after(source):
    assert later_use(_name(source), NOTEBOOK) is None


@pytest.mark.parametrize("source, why", [
    # a later read
    ("""
     x = load()
     y = x.copy()  # <- @x
     print(x.mean())
     """, "read on line 4"),
    # a rebinding only under a condition: the read may see the old value
    ("""
     x = load()
     y = x.copy()  # <- @x
     if flag:
         x = other()
     print(x)
     """, "read on line 6"),
    # a rebinding that reads the old value
    ("""
     x = load()
     y = x.copy()  # <- @x
     x = x[:10]
     """, "read on line 4"),
    # the next iteration copies the same value again
    ("""
     x = load()
     for i in range(3):
         y = x.copy()  # <- @x
     """, "read again in the loop"),
    # read earlier in the loop, in the next iteration
    ("""
     for p in paths:
         if prev is not None:
             use(prev)
         prev = load(p)  # <- @prev
     """, "read again in the loop"),
    # a function of the module reads the global, whenever it runs
    ("""
     def show():
         print(table)
     table = pd.read_csv(p)  # <- @table
     """, "read by a nested function"),
    # deleted by the code itself
    ("""
     x = load()
     y = x.copy()  # <- @x
     del x
     """, "deleted on line 4"),
    # names read by string
    ("""
     def f():
         x = load()  # <- @x
         return locals()
     """, "locals() reads names by string"),
    # a class attribute is read through the class
    ("""
     class A:
         x = load()  # <- @x
     """, "a class attribute"),
    # exported
    ("""
     __all__ = ["table"]
     table = pd.read_csv(p)  # <- @table
     """, "listed in __all__"),
    # global
    ("""
     def f():
         global x
         x = load()  # <- @x
     """, "declared global"),
    # a `break` may skip the rebinding
    ("""
     for p in paths:
         y = x.copy()  # <- @x
         if done:
             break
         x = other()
     print(x)
     """, "read on line 7"),
    # the body of a compound statement runs after its header
    ("""
     for row in np.concatenate(parts):  # <- @parts
         print(parts)
     """, "read on line 3"),
])
def test_used_after(source, why):
    use = later_use(_name(source), NOTEBOOK)
    assert use is not None and use.why.startswith(why), use


def test_a_module_whose_importers_are_not_known():
    # a library module: its names are there for others to import
    library = """
    import pandas as pd
    DEFAULTS = {"a": 1}
    CONFIG = DEFAULTS.copy()  # <- @DEFAULTS
    def f():
        return CONFIG
    """
    use = later_use(_name(library))
    assert use is not None and "may import" in use.why
    # a script: a __main__ block, or top-level statements that do work
    script = library + 'if __name__ == "__main__":\n    f()\n'
    assert later_use(_name(script)) is None
    notebook = library + "f()\nprint(1)\nfor i in range(3):\n    f()\nf()\nplt.show()\n"
    assert later_use(_name(notebook)) is None
    assert later_use(_name(library + "f()\nprint(1)\n")) is not None


def test_module_level_of_a_file_other_files_import():
    source = """
    table = pd.read_csv(p)  # <- @table
    """
    assert later_use(_name(source), FileRole(importers=())) is None
    assert later_use(_name(source), FileRole(notebook=True)) is None
    use = later_use(_name(source), FileRole(importers=("app.py",)))
    assert use is not None and "import" in use.why


def test_metadata_reads_need_none_of_the_data():
    source = """
    orig = X.copy()  # <- @orig
    cols = orig.columns
    n = len(orig)
    print(orig.shape)
    """
    assert later_use(_name(source), NOTEBOOK) is not None
    assert later_use(_name(source), NOTEBOOK, metadata=True) is None
    source += "m = orig.mean()\n"
    assert later_use(_name(source), NOTEBOOK, metadata=True) is not None


def test_deleted_unread():
    # made, then deleted before anything reads it: nothing reads the value
    source = """
    test_feat = test_feat.fillna(-999)  # <-
    del test_feat
    gc.collect()
    """
    assert later_use(_name(source), NOTEBOOK) is not None  # the del ends its life
    assert later_use(_name(source), NOTEBOOK, metadata=True, deletes=False) is None
    # counterexamples: a read before the del, a read in the next iteration of a loop
    read_first = source.replace("del test_feat", "model.fit(test_feat)\ndel test_feat")
    assert later_use(_name(read_first), NOTEBOOK, metadata=True, deletes=False) is not None
    looped = """
    out = df.copy()
    for k in keys:
        print(out[k])
        out = df.copy()  # <- @out
        del out
    """
    assert later_use(_name(looped), NOTEBOOK, metadata=True, deletes=False) is not None
    # a del under a condition: the value may still be read after it
    conditional = """
    x = df.fillna(0)  # <-
    if small:
        del x
    model.fit(x)
    """
    assert later_use(_name(conditional), NOTEBOOK, metadata=True, deletes=False) is not None


# -- held alone ------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    """
    features = []
    for p in paths:
        features.append(np.load(p))
    big = np.concatenate(features)  # <- @features
    """,
    """
    def f(path):
        df = pd.read_csv(path)
        df["x"] = 1
        df.head()
        print(len(df), df.shape)
        X = df.drop(columns=["y"])  # <- @df
    """,
    # unpacked from a call
    """
    a, b = split(data)
    c = a.copy()  # <- @a
    """,
])
def test_held_alone(source):
    assert holder(_name(source)) is None


@pytest.mark.parametrize("source, why", [
    ("""
     def f(frames):
         rgb = [cvt(f) for f in frames]  # <- @frames
     """, "`frames` is a parameter"),
    ("""
     def f():
         x = self.frames
         y = x.copy()  # <- @x
     """, "`x` is an alias of `self.frames`"),
    ("""
     x = load()
     self.x = x
     y = x.copy()  # <- @x
     """, "`x` is aliased"),
    ("""
     x = load()
     ds = Dataset(x)
     y = x.copy()  # <- @x
     """, "`x` is passed to Dataset"),
    ("""
     x = load()
     col = x["a"]
     y = x.drop(columns=["a"])  # <- @x
     """, "`x` is kept in part as `col`"),
    ("""
     x = load()
     v = x.reshape(-1)
     y = x.copy()  # <- @x
     """, "`x` is kept in part as `v`"),
    ("""
     x = list(frames)
     y = np.stack(x)  # <- @x
     """, "`x` is made by list()"),
    ("""
     for x in items:
         y = x.copy()  # <- @x
     """, "`x` is bound by for statement"),
    ("""
     def f():
         y = x.copy()  # <- @x
     """, "`x` is not assigned in this scope"),
])
def test_held_elsewhere(source, why):
    found = holder(_name(source))
    assert found is not None and found.startswith(why), found


# -- work after ------------------------------------------------------------------------------

def test_work_after():
    assert work_after(_name("""
    def f():
        y = np.concatenate(parts)  # <- @parts
        return y
    """)) is None
    assert work_after(_name("""
    def f():
        y = np.concatenate(parts)  # <- @parts
        pass
        return y, None
    """)) is None
    assert work_after(_name("""
    def f():
        y = np.concatenate(parts)  # <- @parts
        return model.fit(y)
    """)) is not None
    assert work_after(_name("""
    def f():
        for p in paths:
            y = np.concatenate(parts)  # <- @parts
        return 1
    """)) is not None
    assert work_after(_name("""
    y = np.concatenate(parts)  # <- @parts
    z = y + 1
    """)) is not None
    assert work_after(_name("""
    y = np.concatenate(parts)  # <- @parts
    """)) is None

"""What the code keeps of a value: examples, and beside each the counterexample that must not
read as it."""

from __future__ import annotations

import pytest
from flow_helpers import node_of

from memlens.flow.values import ValueFlow

READ = "pd.read_csv($$$)"


def kept(source: str, pattern: str = READ):
    root, node = node_of(source, pattern)
    return ValueFlow(root).kept(node)


@pytest.mark.parametrize("source, parts", [
    # columns taken right away
    ('df = pd.read_csv("a.csv")[["a", "b"]]', {"a", "b"}),
    # through a name, by subscript and attribute, after row filters and with display between
    ('''
     df = pd.read_csv("big.csv")
     df = df[df.year > 2000]
     df.head()
     print(df.shape)
     out = df[["a", "b"]].groupby("a").sum()
     m = df.c.mean()
     ''', {"a", "b", "c", "year"}),
    # a column list held in a name
    ('''
     cols = ["x", "y"]
     df = pd.read_csv("a.csv")
     z = df[cols]
     ''', {"x", "y"}),
    # .loc with a column list, a derived frame, groupby with a selected column
    ('''
     df = pd.read_csv("a.csv").dropna()
     a = df.loc[df.k > 0, ["p", "q"]]
     b = df.groupby("k")["v"].sum()
     ''', {"k", "p", "q", "v"}),
    # returned by a helper; the caller keeps four columns (one level of calls)
    ('''
     def load(path):
         df = pd.read_csv(path)
         return df
     def main():
         d = load("x.csv")
         return d[["a", "b", "c", "d"]]
     ''', {"a", "b", "c", "d"}),
    # passed to a helper of the same file, which keeps two columns
    ('''
     def prep(frame):
         return frame[["x", "y"]]
     out = prep(pd.read_csv("a.csv"))
     ''', {"x", "y"}),
    # named aggregation
    ('''
     df = pd.read_csv("a.csv")
     s = df.groupby("u").agg({"amount": "sum", "n": "count"})
     ''', {"u", "amount", "n"}),
    # read in a loop, one column kept each time
    ('''
     for f in files:
         df = pd.read_csv(f)
         total += df["x"].sum()
     ''', {"x"}),
])
def test_only_named_parts_are_kept(source, parts):
    found = kept(source)
    assert found.only_parts, [u.detail for u in found.whole]
    assert found.parts == parts


@pytest.mark.parametrize("source, why", [
    ('df = pd.read_csv("a.csv")\nmodel.fit(df)', "passed to fit"),
    ('df = pd.read_csv("a.csv")\nx = df.values', ".values"),
    ('df = pd.read_csv("a.csv")\nfor row in df.itertuples():\n    pass', ".itertuples()"),
    ('df = pd.read_csv("a.csv")\ncols = df[["a"]]\nself.frame = df', "stored"),
    ('def load(p, other):\n    return other.join(pd.read_csv(p))', "passed to join"),
    # returned, no caller in the file: another module may use every column
    ('def load(p):\n    df = pd.read_csv(p)\n    x = df["a"]\n    return df', "returned"),
    # a key held in a variable: which column is unknown
    ('df = pd.read_csv("a.csv")\nv = df[name]', "indexed by name"),
    # every column aggregated
    ('df = pd.read_csv("a.csv")\ng = df.groupby("a").sum()', "every column aggregated"),
    # grouped by a computed key
    ('df = pd.read_csv("a.csv")\ng = df.groupby(df.a // 10)["b"].sum()', "grouped by a computed key"),
    # read by a nested function
    ('def f():\n    df = pd.read_csv("a")\n    def g():\n        return df\n    return df["a"]',
     "read by a nested function"),
])
def test_a_use_of_the_whole_is_seen(source, why):
    found = kept(source)
    assert found.is_whole
    assert any(why in use.detail for use in found.whole), [u.detail for u in found.whole]


def test_display_alone_is_no_use():
    found = kept('df = pd.read_csv("a.csv")\ndf.head()\ndf.info()\nprint(df)\nlen(df)\ndf')
    assert not found.used and not found.is_whole and not found.only_parts


def test_first_rows():
    found = kept('s = pd.read_csv("big.csv").head(1000)\ns.to_csv("s.csv")')
    assert found.first_rows == {1000} and found.all_through_head
    # a head() shown is not a cut: the frame itself is then used
    found = kept('df = pd.read_csv("big.csv")\ndf.head(10)\nmodel.fit(df)')
    assert not found.all_through_head and found.is_whole


def test_rebinding_ends_the_value():
    found = kept('df = pd.read_csv("a.csv")\nx = df["a"]\ndf = other()\nmodel.fit(df)')
    assert found.only_parts and found.parts == {"a"}


def test_a_loop_that_rebinds_sees_uses_before_the_binding_in_the_next_iteration():
    source = '''
    prev = None
    for f in files:
        if prev is not None:
            keep(prev)
        prev = pd.read_csv(f)
        x = prev["a"]
    '''
    assert kept(source).is_whole


def test_checkpoint_entries_are_parts_and_methods_are_whole():
    root, node = node_of('ck = torch.load("m.pt")\nmodel.load_state_dict(ck["model"])',
                         "torch.load($$$)")
    found = ValueFlow(root, attributes_are_parts=False).kept(node)
    assert found.only_parts and found.parts == {"model"}
    root, node = node_of('ck = torch.load("m.pt")\nfor k, v in ck.items():\n    pass',
                         "torch.load($$$)")
    assert ValueFlow(root, attributes_are_parts=False).kept(node).is_whole


def test_a_column_list_named_at_module_level():
    source = '''
    categorical = ["PU", "DO"]
    def read_data(filename):
        df = pd.read_parquet(filename)
        df["duration"] = df.dropoff - df.pickup
        df = df[(df.duration >= 1) & (df.duration <= 60)].copy()
        df[categorical] = df[categorical].fillna(-1).astype("int").astype("str")
        return df
    df = read_data("x.parquet")
    dicts = df[categorical].to_dict(orient="records")
    '''
    found = kept(source, "pd.read_parquet($$$)")
    assert found.only_parts
    assert found.parts == {"PU", "DO", "dropoff", "pickup"}  # `duration`: made here
    # a column list rebound elsewhere is not known
    found = kept("cols = ['a']\ncols = pick()\ndf = pd.read_csv('a')\nx = df[cols]")
    assert found.is_whole


# --- one pass: a list only iterated, once, in order ----------------------------------------

FRAMES = "[]"


@pytest.mark.parametrize("source", [
    '''
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    for f in tqdm(frames, "writing"):
        out.write(f)
    ''',
    '''
    frames = []
    for p in paths:
        frames.append(load(p))
    print(len(frames))
    small = [resize(f) for f in frames]
    ''',
    '''
    frames = []
    frames.extend(read_all())
    for i, f in enumerate(frames):
        save(i, f)
    ''',
])
def test_one_pass(source):
    assert kept(source, FRAMES).one_pass


@pytest.mark.parametrize("source", [
    # iterated twice
    '''
    frames = []
    frames.append(x)
    for f in frames:
        a(f)
    for f in frames:
        b(f)
    ''',
    # indexed as well
    '''
    frames = []
    frames.append(x)
    first = frames[0]
    for f in frames:
        a(f)
    ''',
    # the loop runs again on each iteration of an outer loop
    '''
    frames = []
    frames.append(x)
    for epoch in range(10):
        for f in frames:
            a(f)
    ''',
    # returned, passed on, reversed (needs it whole)
    '''
    def read():
        frames = []
        frames.append(x)
        return frames
    ''',
    '''
    frames = []
    frames.append(x)
    detector.run(frames)
    ''',
    '''
    frames = []
    frames.append(x)
    for f in reversed(frames):
        a(f)
    ''',
])
def test_not_one_pass(source):
    assert not kept(source, FRAMES).one_pass


def test_a_list_built_inside_the_loop_that_reads_it_is_one_pass_each_time():
    source = '''
    for clip in clips:
        frames = []
        frames.append(x)
        for f in frames:
            a(f)
    '''
    assert kept(source, FRAMES).one_pass


# --- column cuts the code names through names, sums of lists and rebinding -------------------

@pytest.mark.parametrize("source, parts", [
    # a notebook repeats the column list in a later cell: the same literal, bound twice
    ('''
     categorical = ["PU", "DO"]
     df = pd.read_csv("a.csv")
     x = df[categorical]
     categorical = ["PU", "DO"]
     y = df[categorical]
     ''', {"PU", "DO"}),
    # a target column held in a name bound to a string
    ('target = "duration"\ndf = pd.read_csv("a.csv")\ny = df[target].values', {"duration"}),
    # a sum of a literal list and a list of names the code computes
    ('''
     def main():
         df = pd.read_csv("sales.csv")
         days = [f"d_{c}" for c in range(1900, 1941)]
         df = df[["id"] + days]
         df = pd.melt(df, id_vars="id")
     ''', {"id", "@days"}),
    # a column cut rebinding the name: what follows uses the narrower frame, not the read's
    ('df = pd.read_csv("a.csv")\ndf = df[["a", "b"]].copy()\ndf.to_csv("b.csv")', {"a", "b"}),
    # .loc with a list held in a name
    ('cols = ["p", "q"]\ndf = pd.read_csv("a.csv")\nz = df.loc[:, cols]', {"p", "q"}),
])
def test_column_lists_the_code_names(source, parts):
    found = kept(source)
    assert found.only_parts, [u.detail for u in found.whole]
    assert found.parts == parts


@pytest.mark.parametrize("source, why", [
    # the names of every column are read: a narrower read would change them
    ('df = pd.read_csv("a.csv")\nprint(len(df.columns))\nx = df["a"]', ".columns"),
    ('df = pd.read_csv("a.csv")\ndf.dtypes\nx = df["a"]', ".dtypes"),
    # a name bound to a list and to something else
    ('cols = ["a"]\ncols = pick()\ndf = pd.read_csv("a")\nx = df[cols]', "indexed by cols"),
    # a list of computed items that are not all strings
    ('idx = [i * 2 for i in r]\ndf = pd.read_csv("a")\nx = df[idx]', "indexed by idx"),
    # a cut under an `if` of its own: the whole frame may go on
    ('df = pd.read_csv("a.csv")\nif small:\n    df = df[["a"]]\nmodel.fit(df)', "passed to fit"),
])
def test_column_lists_that_are_not_known(source, why):
    found = kept(source)
    assert found.is_whole
    assert any(why in use.detail for use in found.whole), [u.detail for u in found.whole]


def test_a_computed_column_list_is_described_by_its_name():
    found = kept('days = [f"d_{i}" for i in r]\ndf = pd.read_csv("a")\nx = df[["id"] + days]')
    assert found.describe_parts() == "the columns in `days`, `id`"


# --- the entries a loop over .items() picks by a literal test on the key ------------------

LOAD = "load_file($$$)"


def entries(source: str):
    root, node = node_of(source, LOAD)
    return ValueFlow(root, attributes_are_parts=False).kept(node)


@pytest.mark.parametrize("source, parts", [
    ('''
     ck = load_file("all.safetensors")
     enc = {}
     for k, v in ck.items():
         if "encoder" in k:
             enc[k.replace("encoder.", "")] = v
     dec = {}
     for k, v in ck.items():
         if k.startswith(("dec.", "head.")):
             dec[k] = v
     ''', {"*encoder*", "dec.*", "head.*"}),
    ('''
     ck = load_file("all.safetensors")
     net.load_state_dict({k[4:]: v for k, v in ck.items() if k.startswith("enc.") or "ema" in k})
     ''', {"enc.*", "*ema*"}),
])
def test_entries_picked_by_a_test_on_the_key_are_parts(source, parts):
    found = entries(source)
    assert found.only_parts, [u.detail for u in found.whole]
    assert found.parts == parts


@pytest.mark.parametrize("source", [
    # an else keeps the others too
    '''
    ck = load_file("all.safetensors")
    for k, v in ck.items():
        if "encoder" in k:
            enc[k] = v
        else:
            rest[k] = v
    ''',
    # more than the one test in the loop
    '''
    ck = load_file("all.safetensors")
    for k, v in ck.items():
        print(k)
        if "encoder" in k:
            enc[k] = v
    ''',
    # a test on the value, not the key
    '''
    ck = load_file("all.safetensors")
    small = {k: v for k, v in ck.items() if v.numel() < 10}
    ''',
    # a computed prefix
    '''
    ck = load_file("all.safetensors")
    part = {k: v for k, v in ck.items() if k.startswith(prefix)}
    ''',
    # every entry
    '''
    ck = load_file("all.safetensors")
    for k, v in ck.items():
        out[k] = v.half()
    ''',
])
def test_entries_not_picked_by_a_literal_key_test_are_whole(source):
    assert entries(source).is_whole


# -- both branches of an if, a helper's return back to its call, a column list a parameter holds


def test_a_binding_in_the_other_branch_of_an_if_does_not_end_the_value():
    source = '''
    def read(path, options):
        if options is not None:
            df = pd.read_csv(path, storage_options=options)
        else:
            df = pd.read_csv(path)
        return df[["a", "b"]]
    '''
    found = kept(source)  # the read of the first branch: the other branch never runs after it
    assert found.only_parts and found.parts == {"a", "b"}, [u.detail for u in found.whole]


@pytest.mark.parametrize("source", [
    # a rebinding after the if (not in another branch of it) still ends the value
    '''
    if options is not None:
        df = pd.read_csv(path)
    df = other()
    model.fit(df)
    ''',
    # in a loop the other branch runs in a later iteration, on this value
    '''
    for f in files:
        if first:
            df = pd.read_csv(f)
        else:
            model.fit(df)
            df = other()
    ''',
])
def test_bindings_that_are_not_in_another_branch(source):
    found = kept(source)
    assert not found.only_parts
    if "for f" in source:
        assert found.is_whole


def test_a_value_passed_to_a_helper_comes_back_to_that_call_only():
    # through prepare() and read() to main(): each return goes back to the call it came from
    source = '''
    def prepare(df):
        df = df[df.a > 1].copy()
        return df
    def read(path):
        df = pd.read_csv(path)
        return prepare(df)
    def main():
        d = read("x.csv")
        return d[["a", "b"]]
    def other(frame):
        model.fit(prepare(frame))
    '''
    found = kept(source)
    assert found.only_parts and found.parts == {"a", "b"}, [u.detail for u in found.whole]


def test_a_helper_that_returns_to_a_caller_using_it_whole():
    source = '''
    def prepare(df):
        return df.dropna()
    def main():
        x = prepare(pd.read_csv("a.csv"))
        model.fit(x)
    '''
    found = kept(source)
    assert found.is_whole and any("fit" in u.detail for u in found.whole)


@pytest.mark.parametrize("source, parts", [
    # the list is the argument of the call the frame came through
    ('''
     def prepare(df, cols):
         return df[cols]
     x = prepare(pd.read_csv("x.csv"), ["a", "b"])
     ''', {"a", "b"}),
    # ... or a parameter of the caller too, named by every call of that caller
    ('''
     def prepare(df, categorical):
         df["duration"] = df.end - df.start
         df[categorical] = df[categorical].fillna(-1)
         return df
     def read(path, categorical):
         df = pd.read_csv(path)
         return prepare(df, categorical)
     def main():
         categorical = ["pu", "do"]
         df = read("x.csv", categorical)
         return df[categorical]
     ''', {"end", "start", "pu", "do"}),
])
def test_a_column_list_a_parameter_holds(source, parts):
    found = kept(source)
    assert found.only_parts, [u.detail for u in found.whole]
    assert found.parts == parts


@pytest.mark.parametrize("source", [
    # a parameter whose argument is not a list of names
    '''
    def prepare(df, cols):
        return df[cols]
    x = prepare(pd.read_csv("x.csv"), pick())
    ''',
    # two callers, one of which passes a list the code does not name
    '''
    def prepare(df, cols):
        return df[cols]
    def read(path, cols):
        return prepare(pd.read_csv(path), cols)
    a = read("x.csv", ["a"])
    b = read("y.csv", chosen)
    ''',
])
def test_a_parameter_whose_columns_are_not_known(source):
    found = kept(source)
    assert found.is_whole and any("indexed by cols" in u.detail for u in found.whole)


@pytest.mark.parametrize("source, parts", [
    ('df = pd.concat([pd.read_csv(f) for f in files])\ndf = df[["a", "b"]]', {"a", "b"}),
    ('df = pd.concat((pd.read_csv(f) for f in files), ignore_index=True)\ny = df.x', {"x"}),
    ('df = pd.concat(pd.read_csv(f) for f in files)\ny = df["x"]', {"x"}),
    ('df = pd.concat([pd.read_csv("a.csv"), other])\ny = df["x"]', {"x"}),
])
def test_reads_stacked_by_concat_keep_what_the_stack_keeps(source, parts):
    found = kept(source)
    assert found.only_parts and found.parts == parts, [u.detail for u in found.whole]


@pytest.mark.parametrize("source", [
    # side by side: each piece has its own columns, which the cut does not say
    'df = pd.concat([pd.read_csv(f) for f in files], axis=1)\ny = df["x"]',
    # a list kept as a list, or stacked by another call
    'frames = [pd.read_csv(f) for f in files]\ny = frames[0]["x"]',
    'df = merge_all([pd.read_csv(f) for f in files])\ny = df["x"]',
])
def test_reads_not_stacked_by_concat(source):
    assert kept(source).is_whole


@pytest.mark.parametrize("source, parts", [
    # a cut through .loc ends the value: what follows keeps the cut frame
    ('df = pd.read_csv("a.csv")\ndf = df.loc[:, ["a", "b"]]\ndf.to_csv("b.csv")', {"a", "b"}),
    ('df = pd.read_csv("a.csv")\ndf = df.loc[df.k > 0, ["a"]]\nmodel.fit(df)', {"a", "k"}),
    # ... and a cut after row methods or a row filter of the name
    ('df = pd.read_csv("a.csv")\ndf = df.dropna()[["a", "b"]]\nmodel.fit(df)', {"a", "b"}),
    ('df = pd.read_csv("a.csv")\ndf = df[df.k > 0][["a"]].copy()\nmodel.fit(df)', {"a", "k"}),
])
def test_a_cut_through_the_rebound_name(source, parts):
    found = kept(source)
    assert found.only_parts and found.parts == parts, [u.detail for u in found.whole]


@pytest.mark.parametrize("source", [
    # positions, or another frame's rows: not a cut of this value by name
    'df = pd.read_csv("a.csv")\ndf = df.iloc[:, [0, 1]]\nmodel.fit(df)',
    'df = pd.read_csv("a.csv")\ndf = df.dropna()[pick(df)]\nmodel.fit(df)',
    'df = pd.read_csv("a.csv")\ndf = df.groupby("a")[["b"]]\nmodel.fit(df)',
])
def test_not_a_cut_through_the_rebound_name(source):
    assert kept(source).is_whole


@pytest.mark.parametrize("source, parts", [
    ('df = pd.read_csv("a.csv").set_index("id")\ny = df["a"]', {"a", "id"}),
    ('df = pd.read_csv("a.csv").sort_values(by=["t", "u"])\ny = df["a"]', {"a", "t", "u"}),
    ('df = pd.read_csv("a.csv").drop_duplicates("k").dropna(subset=["v"])\ny = df.a',
     {"a", "k", "v"}),
    ('df = pd.read_csv("a.csv").nlargest(10, "score")\ny = df.a', {"a", "score"}),
    # no columns named: the rows of every column
    ('df = pd.read_csv("a.csv").dropna().drop_duplicates()\ny = df.a', {"a"}),
])
def test_row_methods_read_the_columns_they_name(source, parts):
    found = kept(source)
    assert found.only_parts and found.parts == parts, [u.detail for u in found.whole]


def test_a_row_method_by_a_computed_key_reads_the_whole():
    found = kept('df = pd.read_csv("a.csv").sort_values(by=order)\ny = df["a"]')
    assert found.is_whole and any("computed key" in u.detail for u in found.whole)


@pytest.mark.parametrize("source, parts", [
    # sorted in place, then used: the key is read
    ('df = pd.read_csv("a.csv")\ndf.sort_values("t", inplace=True)\ny = df["a"]', {"a", "t"}),
    # the sorted rows never used: the key is not what the code keeps
    ('df = pd.read_csv("a.csv")\ns = df.sort_values("t").reset_index()\ny = df["a"]', {"a"}),
])
def test_row_method_keys_count_when_the_rows_are_used(source, parts):
    found = kept(source)
    assert found.only_parts and found.parts == parts, [u.detail for u in found.whole]


@pytest.mark.parametrize("source", [
    'df = pd.read_csv("a.csv")\ndf.sort_values("t", inplace=True)',
    'df = pd.read_csv("a.csv").sort_values(by="Id").reset_index()',
])
def test_a_sort_of_rows_never_used_keeps_nothing(source):
    found = kept(source)
    assert not found.used and not found.parts and not found.is_whole


@pytest.mark.parametrize("source, parts", [
    # a column the code makes is no column of the file, also when read afterwards
    ('df = pd.read_csv("a.csv")\ndf["c"] = df["a"] * 2\ny = df[["c", "b"]]', {"a", "b"}),
    ('df = pd.read_csv("a.csv")\ndf["d"] = df.t1 - df.t0\ndf["d"] = df.d / 60\ny = df.d',
     {"t0", "t1"}),
    # ... but a column overwritten from itself is read first
    ('df = pd.read_csv("a.csv")\ndf["x"] = df["x"].fillna(0)\ny = df.x', {"x"}),
    ('df = pd.read_csv("a.csv")\ndf[["x", "y"]] = df[["x", "y"]].fillna(0)\nz = df["x"]',
     {"x", "y"}),
    # ... and one read before it is set
    ('df = pd.read_csv("a.csv")\nm = df["x"].mean()\ndf["x"] = 0\nz = df["x"]', {"x"}),
])
def test_columns_the_code_makes_are_not_kept_from_the_file(source, parts):
    found = kept(source)
    assert found.only_parts and found.parts == parts, [u.detail for u in found.whole]



@pytest.mark.parametrize("source, parts", [
    ('df = pd.read_csv("a.csv").rename(columns={"image_id": "Id"})\ny = df[["Id", "x"]]',
     {"image_id", "x"}),
    # renamed, then a column made under the old name's new name: not from the file
    ('df = pd.read_csv("a.csv").rename(columns={"a": "b"})\ndf["c"] = df.b\ny = df[["c"]]',
     {"a"}),
    # a rename the code does not spell as literals: the names as written
    ('df = pd.read_csv("a.csv").rename(columns=str.lower)\ny = df["x"]', {"x"}),
])
def test_renamed_columns_are_named_as_the_file_names_them(source, parts):
    found = kept(source)
    assert found.only_parts and found.parts == parts, [u.detail for u in found.whole]


def test_a_key_test_on_a_parameter_the_call_does_not_name_is_whole():
    source = '''
    def pick(checkpoint, key):
        return {k: v for k, v in checkpoint.items() if key in k}
    ck = load_file("all.safetensors")
    net.load_state_dict(pick(ck, args.part))
    '''
    assert not entries(source).only_parts


def test_a_key_test_on_a_parameter_names_what_the_call_passes():
    source = '''
    def pick(checkpoint, key):
        out = {}
        for k, v in checkpoint.items():
            if key in k:
                out[k.replace(key + ".", "")] = v
        return out
    ck = load_file("all.safetensors")
    net.load_state_dict(pick(ck, "audio2pose"))
    '''
    found = entries(source)
    assert found.only_parts and found.parts == {"*audio2pose*"}, [u.detail for u in found.whole]

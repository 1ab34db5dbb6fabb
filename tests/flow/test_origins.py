"""Where a value comes from: examples of reads, and beside them values that are not known to
be reads."""

from __future__ import annotations

import textwrap

import pytest
from ast_grep_py import SgRoot

from memlens.flow.origins import read_origin, weights_origin


def _origin(source: str, name: str):
    """The read behind the last occurrence of `name` in `source`."""
    root = SgRoot(textwrap.dedent(source), "python").root()
    found = [n for n in root.find_all(kind="identifier") if n.text() == name]
    return read_origin(found[-1])


@pytest.mark.parametrize("source, name, read", [
    ("df = pd.read_json(path)\nuse(df)", "df", "pd.read_json"),
    # through steps that keep its size
    ("raw = pd.read_csv(p)\nX = raw.drop(columns=['y']).astype('float32')\nuse(X)", "X",
     "pd.read_csv"),
    ("t = pq.read_table(p).to_pandas()\nuse(t)", "t", "pq.read_table"),
    # a join of reads
    ("X = pd.concat([pd.read_feather(f) for f in files], axis=1)\nuse(X)", "X",
     "pd.read_feather"),
    # a list the code fills with reads
    ("""
     features = []
     for name in names:
         features.append(np.load(name))
     use(features)
     """, "features", "np.load"),
    # frames unpacked from a capture's read(), collected in a list
    ("""
     frames = []
     while True:
         ok, frame = cap.read()
         frames.append(frame)
     use(frames)
     """, "frames", "cap.read"),
    # the loop variable over a list of reads
    ("""
     images = [cv2.imread(p) for p in paths]
     for img in images:
         use(img)
     """, "img", "cv2.imread"),
    # parsed from a file's bytes
    ("""
     with open(path, "rb") as f:
         data = orjson.loads(f.read())
     input_data = pd.DataFrame(data)
     use(input_data)
     """, "input_data", "f.read"),
    # split into train and test: each part keeps the read's columns
    ("""
     df = pd.read_csv(p)
     X_train, X_test = train_test_split(df.drop(columns=["y"]))
     use(X_train)
     """, "X_train", "pd.read_csv"),
    ("model = AutoModel.from_pretrained(n)\nsd = model.state_dict()\nuse(model)", "model",
     "AutoModel.from_pretrained"),
    # rebound from itself: the right side reads the value bound before the statement
    ("df = pd.read_pickle(p)\ndf = df.fillna(-999)\nuse(df)", "df", "pd.read_pickle"),
    ("df = pd.read_pickle(p)\ndf = df.fillna(-999).reset_index(drop=True)\nuse(df)", "df",
     "pd.read_pickle"),
    # joined to more columns: a frame at least as long as its left side
    ("df = pd.read_csv(p)\ndf = pd.merge(df, other, on='id', how='left')\nuse(df)", "df",
     "pd.read_csv"),
    ("df = pd.merge(pd.read_csv(p), get_trte(), on='id')\nuse(df)", "df", "pd.read_csv"),
    # columns added step by step: each step keeps the frame the one before it made
    ("""
     df = pd.read_csv(p)
     df = pd.merge(df, other, on="id", how="left")
     df = pd.concat([df, future], axis=1)
     df = pd.concat([df, past], axis=1)
     use(df)
     """, "df", "pd.read_csv"),
])
def test_reads(source, name, read):
    found = _origin(source, name)
    assert found is not None and found.startswith(read), found


@pytest.mark.parametrize("source, name", [
    # computed, not read
    ("x = np.abs(values).mean(0)\nuse(x)", "x"),
    # a cut of a read: five thousand rows
    ("t = pq.read_table(p).to_pandas().sample(n=5000)\nuse(t)", "t"),
    # a parameter
    ("def f(df):\n    use(df)", "df"),
    # small descriptions
    ("tok = AutoTokenizer.from_pretrained(n)\nuse(tok)", "tok"),
    ("cfg = AutoConfig.from_pretrained(n)\nuse(cfg)", "cfg"),
    # this file's own `read`/`load`, whatever they do
    ("x = read(p)\nuse(x)", "x"),
    # a list filled with computed values
    ("""
     outs = []
     for conv in convs:
         outs.append(conv(x))
     use(outs)
     """, "outs"),
    # rebound to something computed before the use
    ("df = pd.read_csv(p)\ndf = summarize(df)\nuse(df)", "df"),
    # rebound from itself, but computed before
    ("df = compute()\ndf = df.fillna(0)\nuse(df)", "df"),
    ("df = pd.read_csv(p)\ndf = summarize(df)\ndf = df.fillna(0)\nuse(df)", "df"),
    # a keyword argument's name is not a binding of the variable
    ("df = compute()\nrun(df=pd.read_csv(p))\nuse(df)", "df"),
    # a merge's left side decides: a computed frame joined to a read
    ("df = pd.merge(summary, pd.read_csv(p), on='id')\nuse(df)", "df"),
])
def test_not_known_reads(source, name):
    assert _origin(source, name) is None


def test_weights():
    root = SgRoot("best = copy.deepcopy(model.state_dict())\nx = copy.deepcopy(cfg)",
                  "python").root()
    calls = root.find_all(pattern="copy.deepcopy($A)")
    found = [weights_origin(c.get_match("A")) for c in calls]
    assert found[0] is not None and found[0].startswith("model.state_dict()")
    assert found[1] is None

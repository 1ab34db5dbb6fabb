"""Toys by construction: values made from literals of a few items, directly or through steps
that take only such values; with the counterexamples (a read, a parameter, a step that also
takes data, a big literal shape, a name bound again to data)."""

from __future__ import annotations

import pytest
from flow_helpers import name_marked

from memlens.flow.toy import toy_origin

TOYS = [
    """
    docs = np.array(["The sun is shining", "The weather is sweet", "one and two"])
    count = CountVectorizer()
    bag = count.fit_transform(docs)
    bag  # <-
    """,
    """
    df = pd.DataFrame([["green", "M", 10.1], ["red", "L", 13.5], ["blue", "XL", 15.3]])
    X = df[["color", "size", "price"]].values
    X[:, 0].reshape(-1, 1)  # <-
    """,
    """
    X = np.array([[1, -2.5], [3, 4]])
    encoder.fit_transform(X[:, 0].reshape(-1, 1))  # <-
    """,
    """
    x = torch.ones(4, 1, 28, 28)
    out = model(x)
    out  # <-
    """,

    """
    names = df.name.iloc[:3]
    X = cv.transform(names)
    X  # <-
    """,
    """
    text = "neighbourhood_group=brooklyn room_type=private_room"
    X = cv.transform([text])
    X  # <-
    """,
    """
    images = torch.randn(size=(32, 3, 64, 64))
    conv_layer(images[:1])  # <-
    """,
    """
    x = torch.ones((4, 3, 64, 64))
    model(x)  # <-
    """,
    """
    df = pd.DataFrame([["green", "M", 10.1], ["red", "L", 13.5]])
    df.columns = ["color", "size", "price"]
    df["size"] = df["size"].map({"M": 1, "L": 2})
    df[["color", "size"]].values  # <-
    """,
    """
    df = pd.DataFrame([["green", "class2"], ["red", "class1"]], columns=["color", "label"])
    mapping = {label: i for i, label in enumerate(np.unique(df["label"]))}
    df["label"] = df["label"].map(mapping)
    df.values  # <-
    """,
    """
    conv_layers(torch.tensor(explainer.data[0:1]))  # <-
    """,
    """
    top = frame.head(10)
    top.to_dict("records")  # <-
    """,
]

NOT_TOYS = [
    """
    df = pd.DataFrame([["green", "class2"], ["red", "class1"]], columns=["color", "label"])
    mapping = {label: i for i, label in enumerate(labels)}
    df["label"] = df["label"].map(mapping)
    df.values  # <-
    """,
    """
    word_indices: list[int] = []
    for token in tokens:
        word_indices.append(index(token))
    embedding(torch.tensor(word_indices))  # <-
    """,
    """
    rows = [[1, 2], [3, 4]]
    rows.extend(more_rows)
    np.array(rows)  # <-
    """,
    """
    totals = {"a": 1}
    totals["b"] = big
    totals  # <-
    """,
    """
    totals = {"a": 1}
    for k in keys:
        totals[k] = 1
    totals  # <-
    """,
    """
    input_file = f"s3://bucket/fhv_tripdata_{year:04d}.parquet"
    df = read_data(input_file)
    df[categorical]  # <-
    """,
    """
    path = "data/events.csv"
    df = pd.read_csv(path)
    df  # <-
    """,
    """
    names = df.name.iloc[3:]
    X = cv.transform(names)
    X  # <-
    """,
    """
    names = df.name.iloc[:100000]
    X = cv.transform(names)
    X  # <-
    """,
    """
    X = cv.transform([text, *others])
    X  # <-
    """,
    """
    top = frame.head(n)
    top  # <-
    """,
    """
    docs = pd.read_csv("reviews.csv")["text"]
    bag = CountVectorizer().fit_transform(docs)
    bag  # <-
    """,
    """
    def densify(bag):
        bag  # <-
    """,
    """
    docs = ["a b", "c d"]
    both = np.concatenate([docs, corpus])
    both  # <-
    """,
    """
    docs = ["a b", "c d"]
    bag = vectorizer.transform(docs, corpus)
    bag  # <-
    """,
    """
    x = torch.randn(4096, 3, 224, 224)
    x  # <-
    """,
    """
    x = np.arange(0, 100_000_000)
    x  # <-
    """,
    """
    x = torch.ones((4, 3, 64, 64))
    model(x, batch)  # <-
    """,
    """
    X = np.array([[1, 2], [3, 4]])
    X = load_matrix("big.npz")
    X  # <-
    """,
    """
    for X in matrices:
        X  # <-
    """,
]


def _marked(source):
    """The expression of the statement on the line marked `# <-`."""
    statement = name_marked(source)
    while statement.parent() is not None and statement.parent().kind() != "expression_statement":
        statement = statement.parent()
    return statement


@pytest.mark.parametrize("source", TOYS)
def test_toys(source):
    assert toy_origin(_marked(source)) is not None


@pytest.mark.parametrize("source", NOT_TOYS)
def test_not_toys(source):
    assert toy_origin(_marked(source)) is None


def test_a_toy_frame_changed_column_by_column_stays_a_toy():
    # each change reads the frame again: the walk follows them all back to the literal
    changes = "".join(f'df["c{i}"] = df["a"] * {i}\n' for i in range(15))
    source = 'df = pd.DataFrame({"a": [1, 2, 3]})\n' + changes + "df.values  # <-\n"
    assert toy_origin(_marked(source)) is not None
    assert toy_origin(_marked(source.replace("* 3", "* big"))) is None


def test_describe_names_the_literal():
    found = toy_origin(_marked("""
        x = torch.ones(4, 1, 28, 28)
        x  # <-
        """))
    assert found is not None and found.describe() == "`torch.ones(4, 1, 28, 28)` on line 2"

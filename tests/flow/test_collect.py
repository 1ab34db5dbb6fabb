"""What a collection filled in a loop becomes: examples, and beside each the counterexample."""

from __future__ import annotations

import pytest
from flow_helpers import node_of

from memlens.flow.collect import collected
from memlens.flow.loops import loop_around


def found(source: str, pattern: str):
    return collected(node_of(source, pattern)[1])


@pytest.mark.parametrize("source, pattern, becomes", [
    # a per-row list turned into a column
    ('''
     out = []
     for key, x in df[["k", "v"]].values:
         out.append(x - 1)
     df["d"] = out
     ''', "out.append($X)", "array"),
    # batches of embeddings extended, then stacked
    ('''
     def embed(texts):
         embeddings = []
         for i in range(0, len(texts), 64):
             embeddings.extend(model.encode(texts[i:i + 64]).tolist())
         print(len(embeddings))
         return np.array(embeddings)
     ''', "$L.extend($X)", "array"),
    # a dict of lists, then a frame
    ('''
     df = defaultdict(list)
     for batch in loader:
         df["emb"].extend(model(batch).tolist())
     df = pd.DataFrame.from_dict(df)
     ''', "$L.extend($X)", "array"),
    ('''
     rows = []
     for r in reader:
         rows += [r]
     t = torch.tensor(rows)
     ''', "rows += $X", "array"),
    ('''
     def f(items):
         out = []
         for it in items:
             out.append(g(it))
         return out
     ''', "out.append($X)", "returned"),
    ('''
     data = []
     for chunk, vector in zip(chunks, embeddings):
         data.append({"vector": vector.tolist(), "text": chunk})
     table.add(data)
     ''', "vector.tolist()", "kept"),
    ('''
     out = list()
     for x in xs:
         out.append(x)
     df = df.assign(y=out)
     ''', "out.append($X)", "array"),
])
def test_collected_across_the_loop(source, pattern, becomes):
    c = found(source, pattern)
    assert c is not None and c.becomes == becomes


@pytest.mark.parametrize("source, pattern", [
    # reset every iteration: one iteration's worth
    ('''
     for batch in loader:
         out = []
         out.append(model(batch))
         save(np.array(out))
     ''', "out.append($X)"),
    # not made empty before the loop (a parameter, a non-empty list)
    ('''
     def f(out, xs):
         for x in xs:
             out.append(x)
         return np.array(out)
     ''', "out.append($X)"),
    ('''
     out = [0]
     for x in xs:
         out.append(x)
     ''', "out.append($X)"),
    # not in a loop
    ('''
     out = []
     out.append(x)
     y = np.array(out)
     ''', "out.append($X)"),
    # an attribute, not a name
    ('''
     for x in xs:
         self.out.append(x)
     ''', "$O.append($X)"),
    # filled in a comprehension's function, not this loop
    ('''
     out = []
     for x in xs:
         pass
     out.append(1)
     ''', "out.append($X)"),
])
def test_not_collected_across_a_loop(source, pattern):
    assert found(source, pattern) is None


def test_a_dict_entry_is_not_a_column():
    c = found('''
     out = []
     for x in s.tolist():
         out.append(f(x))
     self.cache[name] = out
     ''', "out.append($X)")
    assert c is not None and c.becomes == "kept"
    c = found('''
     out = []
     for x in s.tolist():
         out.append(f(x))
     df.loc[:, f"{name}_f"] = out
     ''', "out.append($X)")
    assert c is not None and c.becomes == "array"


def test_display_after_the_loop_is_skipped_and_a_rebinding_ends_it():
    c = found('''
     out = []
     for x in xs:
         out.append(x)
     print(len(out))
     out = None
     ''', "out.append($X)")
    assert c is not None and c.becomes == "kept" and c.use is None


@pytest.mark.parametrize("source", [
    "for i, row in df.iterrows():\n    out.append(row.a)",
    "for row in df.itertuples(index=False):\n    out.append(row.a)",
    "for key, x in df[['k', c]].values:\n    out.append(x)",
    "for x in tqdm(df['a'].to_numpy()):\n    out.append(x)",
    "for i, (a, b) in enumerate(zip(df['a'], df['b'].values)):\n    out.append(a)",
    "for x in s.tolist():\n    out.append(x)",
])
def test_loops_over_rows(source):
    loop = loop_around(node_of(source, "out.append($X)")[1])
    assert loop is not None and loop.over == "rows" and not loop.handful


@pytest.mark.parametrize("source", [
    "for v in d.values():\n    out.append(v)",
    "for x in zip(a, b):\n    out.append(x)",
    "for x in zip(df['a'], other):\n    out.append(x)",
    "for p in paths:\n    out.append(p)",
    "for i in range(len(df)):\n    out.append(i)",
])
def test_loops_not_over_rows(source):
    loop = loop_around(node_of(source, "out.append($X)")[1])
    assert loop is not None and loop.over != "rows"


def test_the_conditions_ask_it():
    from memlens.flow.conditions import FileFlow, FlowError, parse_flow

    source = '''
     out = []
     for i, row in df.iterrows():
         out.append(row.a * 2)
     df["b"] = out
     '''
    root, node = node_of(source, "out.append($X)")
    flow = FileFlow(root)
    said = parse_flow([{"loop": "rows"}, {"collected": "array"}]).holds(node, flow)
    assert said == {"loop": "a loop over the rows of `df.iterrows()`",
                    "collected": '`df["b"] = out`'}
    assert parse_flow([{"collected": "returned"}]).holds(node, flow) is None
    assert parse_flow([{"collected": "any"}]).holds(node, flow) is not None
    with pytest.raises(FlowError):
        parse_flow([{"collected": "list"}])

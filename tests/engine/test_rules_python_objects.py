"""The python-objects family's ML44x rules: exact findings (line, tier, message) on shapes
seen in real code (hai-dash, m5-fujiwara), and the shapes beside them they must leave alone."""

from __future__ import annotations

import textwrap

from memlens.engine import Engine, Settings

ENGINE = Engine(Settings(select=("ML440", "ML441")))

CALLBACK = """\
import pandas as pd
from dash import Input, Output, State

@app.callback(Output("card", "children"),
              [Input("graph", "hoverData")],
              [State("dataset_store", "data"), State("id_col", "data")])
def update_patient_outcome(hovered_data, dataset_store, id_column):
    # Reconvert the dataframe to Pandas
    df = pd.DataFrame(dataset_store)
    subject_id = int(hovered_data["points"][0]["y"])
    filtered_df = df.copy()
    filtered_df = filtered_df[filtered_df[id_column] == subject_id]
    names = [c for c in df.columns if c.endswith("_shap")]
    return make_card(filtered_df[names])
"""


def _found(src: str):
    return [(f.code, f.start.line + 1, f.severity, f.evidence, f.message)
            for f in ENGINE.check_source(textwrap.dedent(src), "callbacks.py")]


def test_ml440_a_store_rebuilt_to_take_one_subjects_rows():
    assert _found(CALLBACK) == [(
        "ML440", 9, "hint", "pattern",
        "df is rebuilt from every record in dataset_store on each call of this handler, "
        "only to take the rows where `filtered_df[id_column] == subject_id`: every record is "
        "converted to keep a few rows, or none; pick the records first "
        "(pd.DataFrame([r for r in dataset_store if ...])), or read the column names from a "
        "record")]


def test_ml440_a_store_rebuilt_to_read_its_column_names():
    src = """\
    import pandas as pd
    from dash import callback

    @callback(Output("feature_dropdown", "options"), [State("dataset_store", "data")])
    def options(dataset_store):
        df = pd.DataFrame(dataset_store)
        return [c for c in df.columns if c.endswith("_shap")]
    """
    (finding,) = _found(src)
    assert finding[:4] == ("ML440", 6, "hint", "pattern")
    assert "only to read its columns" in finding[4]


def test_ml440_leaves_frames_the_callback_needs_whole():
    # the same callback, once the whole frame is also summarised
    whole = CALLBACK.replace("    return make_card(filtered_df[names])",
                             "    return make_card(filtered_df[names]), df.age.mean()")
    assert _found(whole) == []
    # the same code outside a callback runs once
    once = CALLBACK.replace("@app.callback(", "register(")
    assert _found(once) == []
    # rows kept by a range, not by one key
    ranged = CALLBACK.replace("filtered_df[id_column] == subject_id",
                              "filtered_df[id_column] >= subject_id")
    assert _found(ranged) == []


def test_ml441_a_day_id_parsed_per_row():
    src = """\
    import pandas as pd
    df = pd.read_pickle("sales.pkl")
    df['d_numeric'] = df['d'].apply(lambda x: str(x)[2:]).astype(int)
    """
    assert _found(src) == [(
        "ML441", 3, "hint", "pattern",
        "df['d'].apply(lambda ...) cuts and parses the string of every row in Python: an "
        "object per row (the number, or the cut string), all held until the column is made; "
        "when the codes repeat (day ids, category codes), parse each distinct value once and "
        "map: "
        "df['d'].map({v: <the lambda's result for v> for v in df['d'].unique()}) "
        "(may be fine: check the rows and the distinct values)")]


def test_ml441_leaves_other_lambdas_alone():
    src = """\
    import pandas as pd
    df = pd.read_pickle("sales.pkl")
    df['d_numeric'] = df['d'].apply(lambda x: str(x)[2:]).astype(int)
    """
    # the cut string is kept as a string
    assert _found(src.replace(".astype(int)", "")) == []
    # the lambda parses another value than its row's
    assert _found(src.replace("str(x)[2:]", "str(y)[2:]")) == []
    # the distinct values parsed once
    assert _found(src.replace("df['d'].apply(lambda x: str(x)[2:]).astype(int)",
                              "df['d'].map({d: int(d[2:]) for d in df['d'].unique()})")) == []

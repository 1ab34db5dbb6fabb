"""ML427 (a frame read, then rebound to its own fillna copy), ML428 (a frame read, then
rebound to a concat that adds columns to it) and ML429 (a drop whose result is dropped again
before any use): exact messages, tiers, the fix, and the shapes seen in real code
(ieee-fraud-kaggle's model notebooks, home-credit-onodera's 000.py, instacart's 500_xgb_cv.py)."""

from __future__ import annotations

import textwrap

from memlens.engine import Engine, Settings

ENGINE = Engine(Settings(select=("ML427", "ML428", "ML429")))


def _findings(src: str, code: str):
    return [f for f in ENGINE.check_source(textwrap.dedent(src), "t.py") if f.code == code]


# ieee-fraud-kaggle, "All 470 Features Model.ipynb", cell 4
IEEE = """\
import pandas as pd
from sklearn import preprocessing

train_full = pd.read_pickle('data/train_feat.pkl')
test_full = pd.read_pickle('data/test_feat.pkl')

for f in test_full.columns:
    if train_full[f].dtype == 'object' or test_full[f].dtype == 'object':
        train_full[f] = train_full[f].fillna('unseen_before_label')
        test_full[f] = test_full[f].fillna('unseen_before_label')
        lbl = preprocessing.LabelEncoder()
        lbl.fit(list(train_full[f].values) + list(test_full[f].values))
        train_full[f] = lbl.transform(list(train_full[f].values))

train_full = train_full.fillna(-999)
test_full = test_full.fillna(-999)
X = train_full[features_columns]
"""


def test_a_frame_read_then_rebound_to_its_fillna_is_a_hint_with_an_in_place_fix():
    found = _findings(IEEE, "ML427")
    assert [(f.start.line + 1, f.severity) for f in found] == [(15, "hint"), (16, "hint")]
    assert found[0].message == (
        "train_full (read by pd.read_pickle (line 4)) is filled into a new frame and rebound "
        "to it: the old and the new frame are both held while fillna() runs, twice the data "
        "at the peak; fill it in place: train_full.fillna(..., inplace=True)")
    fixed, applied = ENGINE.fix_source(IEEE, "t.py")
    assert [f.code for f in applied] == ["ML427", "ML427"]
    assert fixed == IEEE.replace(
        "train_full = train_full.fillna(-999)\ntest_full = test_full.fillna(-999)\n",
        "train_full.fillna(-999, inplace=True)\ntest_full.fillna(-999, inplace=True)\n")


def test_a_fill_of_a_shared_computed_or_parameter_frame_is_not_flagged():
    shared = IEEE.replace("for f in", "frames = [train_full]\nfor f in")
    assert [f.start.line + 1 for f in _findings(shared, "ML427")] == [17]  # test_full only
    computed = IEEE.replace("pd.read_pickle('data/train_feat.pkl')", "build()")
    assert [f.start.line + 1 for f in _findings(computed, "ML427")] == [16]
    assert _findings("""\
        import pandas as pd
        def prep(df):
            df = df.fillna(0)
            return df
        """, "ML427") == []
    assert _findings("""\
        import pandas as pd
        train = pd.read_csv("a.csv")
        train = train.fillna(0, inplace=False)
        """, "ML427") == []


# home-credit-onodera, py/000.py (the previous-application block)
HOME_CREDIT = """\
import numpy as np
import pandas as pd

def get_trte():
    return pd.read_csv('../input/application_train.csv.zip', usecols=['SK_ID_CURR'])

if True:
    df = pd.merge(pd.read_csv('../data/prev_new_v4.csv.gz'),
                  get_trte(), on='SK_ID_CURR', how='left')
    df_tmp = pd.DataFrame()
    for i in range(int(df['cnt_unpaid'].max())):
        c = f'future_payment_{i+1}m'
        df_tmp[c] = df['cnt_unpaid'].map(lambda x: min(x, 1)) * df['AMT_ANNUITY']
    df = pd.concat([df, df_tmp], axis=1)

    df_tmp = pd.DataFrame()
    for i in range(int(df['cnt_paid'].max())):
        c = f'past_payment_{i+1}m'
        df_tmp[c] = df['cnt_paid'].map(lambda x: min(x, 1)) * df['AMT_ANNUITY']
    df = pd.concat([df, df_tmp], axis=1)
    df['APP_CREDIT_PERC'] = df['AMT_APPLICATION'] / df['AMT_CREDIT']
"""


def test_a_frame_read_then_regrown_by_columns_is_a_hint_at_each_step():
    found = _findings(HOME_CREDIT, "ML428")
    assert [(f.start.line + 1, f.severity, f.fix) for f in found] == [
        (14, "hint", None), (20, "hint", None)]
    assert found[1].message == (
        "df (read by pd.read_csv (line 8)) is copied whole to add columns: pd.concat(..., "
        "axis=1) copies every column of it into the new frame (pandas before 3.0), and the "
        "old frame is held until the name is rebound: twice the data at the peak; pass "
        "copy=False, or assign the new columns into df")


def test_rows_added_a_copy_false_concat_or_a_regrowth_in_a_loop_is_not_flagged():
    rows = HOME_CREDIT.replace("[df, df_tmp], axis=1)", "[df, df_tmp], ignore_index=True)")
    assert _findings(rows, "ML428") == []
    shared = HOME_CREDIT.replace("axis=1)", "axis=1, copy=False)")
    assert _findings(shared, "ML428") == []
    in_loop = """\
        import pandas as pd
        df = pd.read_csv("a.csv")
        for c in cols:
            df = pd.concat([df, pd.get_dummies(df[c])], axis=1)
        """
    assert _findings(in_loop, "ML428") == []


# instacart-goqiao, 500_xgb_cv.py
INSTACART = """\
import pandas as pd

data_full_features = pd.read_pickle("data/train_full_features.pickle")
data_full_features = data_full_features.sample(frac=0.4, random_state=1).reset_index(drop=True)
X = data_full_features.drop("reordered", axis=1)
y = data_full_features["reordered"]

drop_cols = ["order_id", "user_id", "product_id"]
X = X.drop(columns=drop_cols)

X = feature_selection(X)
"""


def test_a_drop_dropped_again_before_any_use_is_flagged_on_the_first_drop():
    found = _findings(INSTACART, "ML429")
    assert [(f.start.line + 1, f.severity, f.fix) for f in found] == [(5, "info", None)]
    assert found[0].message == (
        "X is dropped again by drop() on line 9 before anything uses it: this drop() copies "
        "the whole frame only for the next one to copy it again; drop all the columns in one "
        "call (may be fine: check the size)")


def test_a_drop_used_before_the_next_one_or_dropped_into_another_name_is_not_flagged():
    used = INSTACART.replace('y = data_full_features["reordered"]', "print(X.head())")
    assert _findings(used, "ML429") == []
    other = INSTACART.replace("X = X.drop(columns=drop_cols)", "Z = X.drop(columns=drop_cols)")
    assert _findings(other, "ML429") == []


# iml-packt, Chapter13/Masks_part2.ipynb, cells 11 and 18
MASKS = """\
import numpy as np

X_train, X_test, y_train, y_test = load_masks()
X_train, X_test = X_train / 255.0, X_test / 255.0
min_ = X_train.min()
max_ = X_train.max()
X_test_mdsample = X_test[sampl_md_idxs].astype(np.float32)
X_train, X_test_mdsample = X_train.astype(np.float32), X_test_mdsample.astype(np.float32)
"""


def test_a_division_cast_to_float32_later_is_flagged_on_the_item_cast():
    engine = Engine(Settings(select=("ML433",)))
    found = [f for f in engine.check_source(MASKS, "t.py") if f.code == "ML433"]
    assert [(f.start.line + 1, f.start.column, f.severity, f.fix) for f in found] == [
        (4, 18, "info", None)]
    assert found[0].message == (
        "X_train / 255.0 is cast to float32 later (`X_train.astype(np.float32)` on line 8): "
        "from integers or float64 the division makes a float64 array, twice the size the "
        "code keeps, and astype copies it once more; cast first, then divide in place "
        "(x = X_train.astype(np.float32); x /= 255.0) (may be fine: check the size)")
    cast_first = MASKS.replace("X_train / 255.0, X_test / 255.0",
                               "X_train.astype(np.float32) / 255.0, X_test / 255.0")
    assert [f for f in engine.check_source(cast_first, "t.py") if f.code == "ML433"] == []

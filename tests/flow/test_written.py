"""Files the project writes itself: the writes found in a file's text and its project's, and
how a read's path matches them; with the counterexamples (a write after the read in the same
file, a loose pattern such as `{name}.csv`, another folder, the project's input data)."""

from __future__ import annotations

import json

import pytest
from flow_helpers import node_of

from memlens.flow import written
from memlens.flow.written import matches, writes_in, written_by


@pytest.fixture(autouse=True)
def _fresh():
    written.forget()
    yield
    written.forget()


def test_writes_in_text():
    text = ("imp.to_csv(f'LOG/imp_{__file__}.csv', index=False)\n"
            "sub.to_csv(path_or_buf=\"../output/submission.csv\")\n"
            "np.savetxt('preds_val.txt', p)\n"
            "with open('summary.json', 'w') as fh: pass\n"
            "with open('train.csv') as fh: pass\n"  # a read
            "df.to_csv(f'{name}.csv')\n"  # too loose to name one file
            "df.to_csv(OUT)\n")  # not a literal
    assert [p for p, _ in writes_in(text)] == [
        "LOG/imp_*.csv", "../output/submission.csv", "preds_val.txt", "summary.json"]


def test_matches():
    assert matches("LOG/imp_801_imp_lgb.py.csv", "LOG/imp_*.csv")
    assert matches("../data/user_id_v3.csv.gz", "../data/user_id_v*.csv.gz")
    assert matches("movie_data.csv", "./movie_data.csv")
    assert matches("submission.csv", "../output/submission.csv")  # one side names no folder
    assert not matches("input/submission.csv", "output/submission.csv")
    assert not matches("LOG/imp_801.csv", "LOG/imp_*.json")
    assert not matches("../input/train.csv", "../data/X_train_*.pkl")


def test_a_write_earlier_in_the_same_file():
    _, read = node_of("""
        import pandas as pd
        df.to_csv('movie_data.csv', index=False)
        df = pd.read_csv('movie_data.csv')
        """, "pd.read_csv($P)")
    found = written_by("movie_data.csv", read, None)
    assert found is not None and found.describe(None) == \
        "`movie_data.csv`, written earlier in this file"


def test_a_write_after_the_read_is_not_its_origin():
    _, read = node_of("""
        import pandas as pd
        df = pd.read_csv('events.csv')
        df = df[df.day > 3]
        df.to_csv('events.csv')
        """, "pd.read_csv($P)")
    assert written_by("events.csv", read, None) is None


def test_a_write_in_another_file_or_notebook_of_the_project(tmp_path):
    (tmp_path / "py").mkdir()
    (tmp_path / "py" / "801_imp.py").write_text(
        "imp.to_csv(f'LOG/imp_{__file__}.csv', index=False)\n")
    cell = {"cell_type": "code", "source": ["sub.to_csv('../output/blend_v3.csv')\n"]}
    (tmp_path / "blend.ipynb").write_text(json.dumps({"cells": [cell]}))
    (tmp_path / ".venv").mkdir()  # not the project's code
    (tmp_path / ".venv" / "lib.py").write_text("x.to_csv('../input/train.csv')\n")
    _, read = node_of("import pandas as pd\nx = pd.read_csv(p)\n", "pd.read_csv($P)")
    found = written_by("LOG/imp_801_imp.py.csv", read, str(tmp_path))
    assert found is not None and found.describe(str(tmp_path)) == \
        "`LOG/imp_*.csv`, written by py/801_imp.py"
    assert written_by("../output/blend_v3.csv", read, str(tmp_path)) is not None
    # the project's input data: nothing writes it
    assert written_by("../input/train.csv", read, str(tmp_path)) is None
    assert written_by("LOG/imp_801_imp.py.csv", read, None) is None  # no project read


def test_the_scan_stops_at_its_budget(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n" * 100)
    (tmp_path / "b.py").write_text("imp.to_csv('LOG/imp_b.csv')\n")
    _, read = node_of("import pandas as pd\nx = pd.read_csv(p)\n", "pd.read_csv($P)")
    assert written_by("LOG/imp_b.csv", read, str(tmp_path)) is not None
    written.forget()
    monkeypatch.setattr(written, "MAX_TOTAL", 300)  # a.py alone is over it
    assert written_by("LOG/imp_b.csv", read, str(tmp_path)) is None


def test_a_later_scan_reads_only_the_files_that_changed(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("imp.to_csv('LOG/imp_a.csv')\n")
    (tmp_path / "b.py").write_text("x = 1\n")
    _, read = node_of("import pandas as pd\nx = pd.read_csv(p)\n", "pd.read_csv($P)")
    assert written_by("LOG/imp_a.csv", read, str(tmp_path)) is not None
    opened: list[str] = []
    real = written._writes_of
    monkeypatch.setattr(written, "_writes_of", lambda path, nb: opened.append(path) or real(
        path, nb))
    monkeypatch.setattr(written, "FRESH_SECONDS", 0.0)  # every question scans again
    (tmp_path / "b.py").write_text("sub.to_csv('output/sub_b.csv')\n")
    assert written_by("output/sub_b.csv", read, str(tmp_path)) is not None
    assert written_by("LOG/imp_a.csv", read, str(tmp_path)) is not None
    assert opened == [str(tmp_path / "b.py")]  # a.py was read once, by the first scan

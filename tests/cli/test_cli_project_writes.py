"""A table the project writes itself (a feature-importance log, a submission) and reads back:
`memlens check` leaves ML201 silent on that read, flags a read of the input data beside it,
and follows the writer: once it no longer writes the file, the read is flagged (no stale
cache of the reader, which did not change)."""

from __future__ import annotations

import os

from cli_helpers import run, write

WRITER = """\
import pandas as pd
imp = pd.DataFrame({"feature": names, "gain": gains})
imp.to_csv(f"LOG/imp_{__file__}.csv", index=False)
"""
READER = """\
import pandas as pd
imp = pd.read_csv("LOG/imp_train_lgb.py.csv")
print(imp[["feature", "gain"]].head())
train = pd.read_csv("data/train.csv")
print(train[["a", "b"]].mean())
"""


def ml201(project):
    found = run("check", "--select", "ML201", "--show-hints", "--output-format", "json",
                "--exit-zero", ".", cwd=project)
    assert found.returncode == 0, found.stderr
    return sorted((os.path.basename(f["filename"]), f["location"]["row"])
                  for f in found.json() if f["code"] == "ML201")


def test_a_read_of_a_file_another_script_writes_is_left_alone(project):
    write(project, {"train_lgb.py": WRITER, "blend.py": READER})
    assert ml201(project) == [("blend.py", 4)]  # the input data only
    # the writer no longer writes the log: its read back is flagged too
    write(project, {"train_lgb.py": WRITER.replace("imp.to_csv", "print")})
    assert ml201(project) == [("blend.py", 2), ("blend.py", 4)]

"""A read whose frame goes through helpers of the same file, and is read in both branches of an
if: `memlens check` finds each read, as a user runs it."""

from __future__ import annotations

from cli_helpers import run, write

BATCH = '''\
import os
import pandas as pd


def prepare_data(df, categorical):
    df["duration"] = df.tpep_dropoff_datetime - df.tpep_pickup_datetime
    df = df[(df.duration >= 1) & (df.duration <= 60)].copy()
    df[categorical] = df[categorical].fillna(-1).astype("int").astype("str")
    return df


def read_data(filename, categorical):
    if os.getenv("S3_ENDPOINT_URL") is not None:
        df = pd.read_parquet(filename, storage_options={"anon": True})
    else:
        df = pd.read_parquet(filename)
    return prepare_data(df, categorical)


def main(year, month):
    categorical = ["PULocationID", "DOLocationID"]
    df = read_data(f"yellow_{year}-{month}.parquet", categorical)
    return df[categorical].to_dict(orient="records")
'''


def test_both_reads_of_a_frame_a_helper_cuts_for_its_caller(project):
    write(project, {"batch.py": BATCH})
    found = run("check", "--select", "ML202", "--show-hints", "--output-format", "json",
                "--exit-zero", "batch.py", cwd=project)
    assert found.returncode == 0, found.stderr
    lines = sorted(f["location"]["row"] for f in found.json() if f["code"] == "ML202")
    assert lines == [14, 16], found.stdout
    message = next(f["message"] for f in found.json() if f["code"] == "ML202")
    assert "`PULocationID`" in message and "`tpep_pickup_datetime`" in message
    assert "`duration`" not in message  # a column the code makes: columns= cannot name it


def test_a_frame_the_caller_uses_whole_is_not_flagged(project):
    write(project, {"batch.py": BATCH.replace('df[categorical].to_dict(orient="records")',
                                              'df.to_dict(orient="records")')})
    found = run("check", "--select", "ML202", "--show-hints", "--output-format", "json",
                "--exit-zero", "batch.py", cwd=project)
    assert found.returncode == 0, found.stderr
    assert [f for f in found.json() if f["code"] == "ML202"] == []

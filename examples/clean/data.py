"""Loading the churn data set, memory-aware: only the columns, rows and dtypes we use."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pandas as pd

DATA_DIR = "data"

CUSTOMER_DTYPES = {"customer_id": "string", "plan": "category", "region": "category",
                   "tenure_months": "int16", "monthly_spend": "float32"}


def load_customers(path: str = f"{DATA_DIR}/customers.csv") -> pd.DataFrame:
    return pd.read_csv(path, usecols=list(CUSTOMER_DTYPES), dtype=CUSTOMER_DTYPES)


def load_events(path: str = f"{DATA_DIR}/events.parquet") -> pd.DataFrame:
    return pd.read_parquet(path, columns=["customer_id", "event", "ts"])


def load_embeddings(path: str = f"{DATA_DIR}/embeddings.h5", rows: slice = slice(0, 10_000)):
    with h5py.File(path, "r") as f:
        return f["customer_embeddings"][rows, :32]


def load_labels(path: str = f"{DATA_DIR}/labels.npy") -> np.ndarray:
    return np.load(path, mmap_mode="r")


def load_tariffs(path: str = f"{DATA_DIR}/tariffs.csv") -> pd.DataFrame:
    return pd.read_csv(path, dtype="float32", usecols=["tariff", "price"])


def load_encoders(path: str = f"{DATA_DIR}/encoders.pkl"):
    with open(path, "rb") as f:
        return pickle.load(f)


def count_support_tickets(path: str = f"{DATA_DIR}/support.log") -> dict[str, int]:
    counts: dict[str, int] = {}
    with open(path) as f:
        for line in f:
            customer = line.split(" ", 1)[0]
            counts[customer] = counts.get(customer, 0) + 1
    return counts

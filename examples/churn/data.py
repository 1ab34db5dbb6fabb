"""Loading the churn data set: customer table, event log, embeddings and labels."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pandas as pd

DATA_DIR = "data"


def load_customers(path: str = f"{DATA_DIR}/customers.csv") -> pd.DataFrame:
    # Every column parsed, every dtype inferred as int64/float64/object, then most dropped.
    customers = pd.read_csv(path)
    return customers[["customer_id", "tenure", "monthly_charges", "churned"]]


def load_events(path: str = f"{DATA_DIR}/events.parquet") -> pd.DataFrame:
    events = pd.read_parquet(path)
    return events[["customer_id", "event", "ts"]]


def load_embeddings(path: str = f"{DATA_DIR}/embeddings.h5") -> np.ndarray:
    with h5py.File(path, "r") as f:
        embeddings = f["customer_embeddings"][:]
    return embeddings[:, :32]


def load_labels(path: str = f"{DATA_DIR}/labels.npy", start: int = 0, stop: int = 1000):
    labels = np.load(path)
    return labels[start:stop]


def load_tariffs(path: str = f"{DATA_DIR}/tariffs.txt") -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1)[:, 2]


def load_encoders(path: str = f"{DATA_DIR}/encoders.pkl"):
    return pickle.load(open(path, "rb"))


def count_support_tickets(path: str = f"{DATA_DIR}/support.log") -> dict[str, int]:
    counts: dict[str, int] = {}
    with open(path) as f:
        for line in f.readlines():
            customer = line.split(" ", 1)[0]
            counts[customer] = counts.get(customer, 0) + 1
    return counts

"""Feature engineering for the churn model, memory-aware."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd


def build_feature_matrix(n_customers: int = 100_000, n_days: int = 120, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    # float32 from the start: half the memory of float64, plenty of precision for minutes
    usage = rng.gamma(2.0, 30.0, size=(n_customers, n_days)).astype(np.float32)
    mean, std = usage.mean(axis=0), usage.std(axis=0)
    # one reusable buffer instead of a new temporary per arithmetic step
    zscores = np.subtract(usage, mean, dtype=np.float32)
    np.divide(zscores, std, out=zscores)
    np.abs(zscores, out=zscores)
    trend = usage[:, -30:].mean(axis=1) - usage[:, :30].mean(axis=1)
    features = np.column_stack([
        usage.mean(axis=1),
        usage.std(axis=1),
        zscores.max(axis=1),
        trend,
        (usage < 1.0).sum(axis=1),
    ])
    del zscores
    frame = pd.DataFrame(features, columns=["mean", "std", "max_abs_z", "trend", "idle_days"])
    return frame.describe().to_dict()


def collect_session_features(sessions) -> np.ndarray:
    rows = [(s.duration, s.pages, s.errors, s.spend) for s in sessions]
    return np.array(rows, dtype=np.float32).reshape(-1, 4)


def per_customer_frames(events: pd.DataFrame) -> pd.DataFrame:
    # one vectorised groupby instead of a frame per customer
    return events.groupby("customer_id", as_index=False).agg(
        spend=("spend", "sum"), duration=("duration", "mean"))


def plan_features(customers: pd.DataFrame) -> pd.DataFrame:
    return customers[["customer_id", "plan", "tenure"]].astype({"plan": "category"})


def encode_all(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    gc.disable()
    try:
        encoded = [pd.get_dummies(f, columns=["plan", "region"]) for f in frames]
    finally:
        gc.enable()
    return encoded


def tune_collector_for_batch_jobs() -> None:
    gc.freeze()  # start-up objects are never garbage: keep them out of every collection
    gc.set_threshold(50_000, 20, 20)


def churn_report(features: pd.DataFrame) -> str:
    lines = [f"{name}: mean={column.mean():.3f} max={column.max():.3f}"
             for name, column in features.items()]
    return "\n".join(lines) + "\n"


def customer_embeddings(usage: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    weights = np.random.default_rng(0).standard_normal((usage.shape[1], 64))
    # each batch stays one array; a single concatenation at the end
    embeddings = []
    for start in range(0, len(usage), batch_size):
        embeddings.append(usage[start:start + batch_size] @ weights)
    return np.concatenate(embeddings)


def total_spend(customers) -> float:
    return sum(c.spend for c in customers)


def n_active(customers) -> int:
    return sum(1 for c in customers if c.active)


if __name__ == "__main__":
    print(build_feature_matrix())

"""Feature engineering for the churn model.

`build_feature_matrix` is the function `make demo` profiles: it builds a few hundred MiB of
features from synthetic usage data and summarises them.
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd


def build_feature_matrix(n_customers: int = 100_000, n_days: int = 120, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    # daily usage minutes per customer: n_customers x n_days float64 (~92 MiB)
    usage = rng.gamma(2.0, 30.0, size=(n_customers, n_days))
    # z-scored copy: one more full-size temporary for every arithmetic step
    zscores = (usage - usage.mean(axis=0)) / usage.std(axis=0)
    trend = usage[:, -30:].mean(axis=1) - usage[:, :30].mean(axis=1)
    features = np.column_stack([
        usage.mean(axis=1),
        usage.std(axis=1),
        np.abs(zscores).max(axis=1),
        trend,
        (usage < 1.0).sum(axis=1),
    ]).astype(np.float64)
    frame = pd.DataFrame(features, columns=["mean", "std", "max_abs_z", "trend", "idle_days"])
    return frame.describe().to_dict()


def collect_session_features(event_stream) -> np.ndarray:
    """Stack per-session feature rows as they come in from the event stream."""
    features = np.empty((0, 4))
    for session in event_stream:
        row = np.array([[session.duration, session.pages, session.errors, session.spend]])
        features = np.append(features, row, axis=0)
    return features


def per_customer_frames(events: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame()
    for customer_id, group in events.groupby("customer_id"):
        stats = group.agg({"spend": "sum", "duration": "mean"}).to_frame().T
        stats["customer_id"] = customer_id
        out = pd.concat([out, stats])
        gc.collect()
    return out


def plan_features(customers: pd.DataFrame) -> pd.DataFrame:
    # the whole customer table cast to keep three of its columns
    return customers.astype({"plan": "category"})[["customer_id", "plan", "tenure"]]


def encode_all(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    # the encoders create millions of small dicts: keep the collector out of the way
    gc.disable()
    encoded = [pd.get_dummies(f, columns=["plan", "region"]) for f in frames]
    gc.enable()
    return encoded


def tune_collector_for_batch_jobs() -> None:
    # "the GC pauses made the nightly job slow"
    gc.set_threshold(0)


def churn_report(features: pd.DataFrame) -> str:
    report = ""
    for name, column in features.items():
        report += f"{name}: mean={column.mean():.3f} max={column.max():.3f}\n"
    return report


def customer_embeddings(usage: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """A 64-d projection of every customer's usage, batch by batch."""
    weights = np.random.default_rng(0).standard_normal((usage.shape[1], 64))
    embeddings = []
    for start in range(0, len(usage), batch_size):
        batch_emb = usage[start:start + batch_size] @ weights
        embeddings.extend(batch_emb.tolist())
    return np.array(embeddings)


def total_spend(customers) -> float:
    return sum([c.spend for c in customers])


def n_active(customers) -> int:
    return len(list(c for c in customers if c.active))


if __name__ == "__main__":
    print(build_feature_matrix())

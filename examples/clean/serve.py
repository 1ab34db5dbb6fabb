"""A Flask service that scores customers with the churn model, loaded once and lazily."""

from __future__ import annotations

import collections
import functools

import joblib
import numpy as np
from flask import Flask, jsonify, request

from train import MODEL_PATH

app = Flask(__name__)

# the last 1000 predictions, for the /recent endpoint: bounded
_RECENT = collections.deque(maxlen=1000)


@functools.cache
def get_model():
    return joblib.load(MODEL_PATH, mmap_mode="r")


@functools.cache
def get_baseline():
    return joblib.load("baseline_model.joblib", mmap_mode="r")


class ChurnScorer:
    def __init__(self, model):
        self.model = model
        # a per-instance cache, freed together with the scorer
        self.score = functools.lru_cache(maxsize=1024)(self._score)

    def _score(self, customer_id: str, features: tuple) -> float:
        return float(self.model.predict_proba(np.array([features]))[0, 1])


@functools.lru_cache(maxsize=4096)
def plan_features(plan: str, region: str, tenure_months: int) -> np.ndarray:
    return np.array([len(plan), hash(region) % 17, tenure_months], dtype=np.float32)


@app.route("/predict", methods=["POST"])
def predict():
    payload = request.get_json()
    X = np.array(payload["rows"], dtype=np.float32)
    proba = get_model().predict_proba(X)[:, 1]
    _RECENT.append(float(proba.mean()))
    return jsonify(scores=proba.tolist(), baseline=get_baseline().predict_proba(X)[:, 1].tolist())

"""A Flask service that scores customers with the churn model."""

from __future__ import annotations

import functools

import joblib
import numpy as np
from flask import Flask, jsonify, request

from train import MODEL_PATH

app = Flask(__name__)

# Loaded as soon as anything imports this module, tests and CLI tools included.
BASELINE = joblib.load("baseline_model.joblib")

_PREDICTION_LOG = []


class ChurnScorer:
    def __init__(self, model):
        self.model = model

    @functools.cache
    def score(self, customer_id: str, features: tuple) -> float:
        return float(self.model.predict_proba(np.array([features]))[0, 1])


@functools.cache
def feature_importances(model) -> np.ndarray:
    # every model ever retrained and scored stays alive as a key of this cache
    return np.asarray(model.feature_importances_, dtype=np.float32)


@app.route("/predict", methods=["POST"])
def predict():
    model = joblib.load(MODEL_PATH)
    payload = request.get_json()
    X = np.array(payload["rows"], dtype=np.float32)
    proba = model.predict_proba(X)[:, 1]
    _PREDICTION_LOG.append(proba)
    return jsonify(scores=proba.tolist(), baseline=BASELINE.predict_proba(X)[:, 1].tolist())

"""Explanations for the churn model with summarised backgrounds and batched attribution."""

from __future__ import annotations

import functools

import joblib
import numpy as np

from train import MODEL_PATH, make_data


@functools.cache
def get_model():
    return joblib.load(MODEL_PATH, mmap_mode="r")


def kernel_shap_values(n_explain: int = 50):
    import shap

    X_train, X_test, _, _ = make_data()
    background = shap.kmeans(X_train, 50)
    explainer = shap.KernelExplainer(get_model().predict_proba, background)
    return explainer.shap_values(X_test[:n_explain])


def tree_shap_values(n_explain: int = 500):
    import shap

    X_train, X_test, _, _ = make_data()
    explainer = shap.TreeExplainer(get_model(), shap.sample(X_train, 100))
    values = explainer.shap_values(X_test[:n_explain])
    interactions = explainer.shap_interaction_values(X_test[:100])
    return values, interactions


def embedding_attributions(inputs, checkpoint: str = "embedding_net.pt"):
    import torch
    from captum.attr import IntegratedGradients
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained("distilbert-base-uncased", torch_dtype="auto")
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    head.load_state_dict(torch.load(checkpoint, map_location="cpu", mmap=True))

    def forward(x):
        return head(encoder(inputs_embeds=x).last_hidden_state[:, 0])

    ig = IntegratedGradients(forward)
    return ig.attribute(inputs, n_steps=200, internal_batch_size=16)


def predict_scores(net, batches):
    import torch

    net.eval()
    with torch.inference_mode():
        return [net(batch).sigmoid() for batch in batches]


def alibi_explanations(predict_fn, X_background, X_explain):
    from alibi.explainers import KernelShap

    explainer = KernelShap(predict_fn)
    explainer.fit(X_background, summarise_background="auto")
    return explainer.explain(X_explain)


def lime_overview(model, X: np.ndarray, feature_names):
    from lime import lime_tabular, submodular_pick

    explainer = lime_tabular.LimeTabularExplainer(X, feature_names=feature_names)
    picker = submodular_pick.SubmodularPick(explainer, X, model.predict_proba,
                                            method="sample", sample_size=200,
                                            num_exps_desired=5)
    return picker.sp_explanations

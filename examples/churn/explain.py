"""Explanations for the churn model: SHAP, captum, alibi and LIME (imported lazily)."""

from __future__ import annotations

import joblib
import numpy as np

from train import MODEL_PATH, make_data


def kernel_shap_values(n_explain: int = 50):
    import shap

    X_train, X_test, _, _ = make_data()
    model = joblib.load(MODEL_PATH)
    explainer = shap.KernelExplainer(model.predict_proba, X_train)
    return explainer.shap_values(X_test[:n_explain])


def tree_shap_values():
    import shap

    X_train, X_test, _, _ = make_data()
    model = joblib.load(MODEL_PATH, mmap_mode="r")
    explainer = shap.TreeExplainer(model, X_train)
    values = explainer.shap_values(X_test)
    interactions = explainer.shap_interaction_values(X_test)
    return values, interactions


def embedding_attributions(inputs, checkpoint: str = "embedding_net.pt"):
    import torch
    from captum.attr import IntegratedGradients
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained("distilbert-base-uncased")
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    head.load_state_dict(torch.load(checkpoint))

    def forward(x):
        return head(encoder(inputs_embeds=x).last_hidden_state[:, 0])

    ig = IntegratedGradients(forward)
    return ig.attribute(inputs, n_steps=200)


def predict_scores(net, batches):
    net.eval()
    scores = []
    for batch in batches:
        scores.append(net(batch).sigmoid())
    return scores


def alibi_explanations(predict_fn, X_background, X_explain):
    from alibi.explainers import KernelShap

    explainer = KernelShap(predict_fn)
    explainer.fit(X_background)
    return explainer.explain(X_explain)


def lime_overview(model, X: np.ndarray, feature_names):
    from lime import lime_tabular, submodular_pick

    explainer = lime_tabular.LimeTabularExplainer(X, feature_names=feature_names)
    picker = submodular_pick.SubmodularPick(explainer, X, model.predict_proba,
                                            method="full", num_exps_desired=5)
    return picker.sp_explanations

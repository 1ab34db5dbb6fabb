"""Train the churn model on generated data and save it with joblib."""

from __future__ import annotations

import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

MODEL_PATH = "churn_model.joblib"


def make_data(n_samples: int = 5_000, n_features: int = 20, seed: int = 0):
    X, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=8,
                               weights=[0.8, 0.2], random_state=seed)
    return train_test_split(X.astype(np.float32), y, test_size=0.2, random_state=seed)


def train(path: str = MODEL_PATH) -> float:
    X_train, X_test, y_train, y_test = make_data()
    model = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0)
    model.fit(X_train, y_train)
    joblib.dump(model, path)
    return model.score(X_test, y_test)


def fine_tune_embedding_net(model, loader, epochs: int = 3):
    """Fine-tune the customer embedding network (needs torch)."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = torch.nn.BCEWithLogitsLoss()
    history = []
    for _ in range(epochs):
        epoch_loss = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()  # a float, not the graph
        history.append(epoch_loss)
    torch.save(model.state_dict(), "embedding_net.pt")
    return history


if __name__ == "__main__":
    print(f"test accuracy: {train():.3f}")

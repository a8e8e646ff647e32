"""The fixed model suite of test-set-creation: its models, fitted once per task on the public training set,
and their predictions on the whole pool (computed once per task and cached by the task object).

Everything here reads public files only, so participants can compute the same predictions offline:
`suite_predictions(train, pool, models)`. The hyperparameters are part of the benchmark: a change needs a new
evaluator version.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from evaluators.test_set_creation.data import Embeddings, IndexArray

MODEL_TITLES: dict[str, str] = {
    "logreg": "Logistic regression",
    "svc": "Support vector machine (RBF)",
    "mlp": "Multi-layer perceptron",
}
MODEL_NAMES = tuple(MODEL_TITLES)
RANDOM_STATE = 0

_FACTORIES: dict[str, Callable[[], Any]] = {
    "logreg": lambda: LogisticRegression(C=1.0, max_iter=1000, random_state=RANDOM_STATE),
    "svc": lambda: SVC(C=1.0, kernel="rbf", gamma="scale", random_state=RANDOM_STATE),
    "mlp": lambda: MLPClassifier(
        hidden_layer_sizes=(64,),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        learning_rate_init=1e-3,
        batch_size=64,
        max_iter=200,
        random_state=RANDOM_STATE,
    ),
}


def make_model(name: str) -> Any:
    """A fresh, unfitted instance of the named model (`logreg`, `svc` or `mlp`); KeyError otherwise."""
    return _FACTORIES[name]()


def suite_predictions(
    train: Embeddings, train_labels: IndexArray, pool: Embeddings, models: Sequence[str]
) -> IndexArray:
    """Label indexes predicted for every pool row by every model: shape (len(models), n_pool), row m = models[m].

    Each model is fitted on the training rows in file order, labels given as indexes into the config's labels.
    """
    predictions = np.empty((len(models), len(pool.ids)), dtype=np.int64)
    # One BLAS thread: the fitted models then do not depend on the worker's core count.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        # A training set smaller than batch_size is one batch; sklearn says so on every fit.
        warnings.filterwarnings("ignore", message="Got `batch_size`", category=UserWarning)
        for index, name in enumerate(models):
            model = make_model(name).fit(train.vectors, train_labels)
            predictions[index] = np.asarray(model.predict(pool.vectors), dtype=np.int64)
    return predictions

"""The fixed models of training-set-creation. Their hyperparameters are part of the benchmark: any change
moves scores, so it needs a new evaluator version (and README.md says the same)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

MODEL_TITLES: dict[str, str] = {
    "logreg": "Logistic regression",
    "svc": "Support vector machine (RBF)",
    "mlp": "Multi-layer perceptron",
}
MODEL_NAMES = tuple(MODEL_TITLES)
RANDOM_STATE = 0


def _logreg() -> Any:
    return LogisticRegression(C=1.0, max_iter=1000, random_state=RANDOM_STATE)


def _svc() -> Any:
    return SVC(C=1.0, kernel="rbf", gamma="scale", random_state=RANDOM_STATE)


def _mlp() -> Any:
    return MLPClassifier(
        hidden_layer_sizes=(64,),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        learning_rate_init=1e-3,
        batch_size=64,
        max_iter=100,
        random_state=RANDOM_STATE,
    )


_FACTORIES: dict[str, Callable[[], Any]] = {"logreg": _logreg, "svc": _svc, "mlp": _mlp}


def make_model(name: str) -> Any:
    """A fresh, unfitted instance of the named fixed model (`logreg`, `svc` or `mlp`); KeyError otherwise."""
    return _FACTORIES[name]()


def fit_predict(
    name: str, features: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], test: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Fit the named model on (features, labels) in the given row order and predict `test` (label indexes)."""
    # One BLAS thread: results then do not depend on the worker's core count (lbfgs differs in the last
    # digits with 2 threads), and a busy machine does not stall in OpenBLAS's spinning threads.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        # lbfgs and adam may stop at max_iter on a hard training set: that is the fixed recipe, not a fault.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # A training set smaller than batch_size is one batch; sklearn says so on every fit.
        warnings.filterwarnings("ignore", message="Got `batch_size`", category=UserWarning)
        model = make_model(name).fit(features, labels)
        predicted = model.predict(test)
    return np.asarray(predicted, dtype=np.int64)

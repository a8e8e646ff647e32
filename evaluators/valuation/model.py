"""The fixed model of the valuation benchmark and the quantity participants predict.

`make_pipeline(StandardScaler(), LogisticRegression(random_state=0))`, every other parameter a scikit-learn
default, trained on the rows of A followed by the rows of B (file order), scored by accuracy on the test set.
Standardising keeps lbfgs well inside its iteration limit on raw tabular features of very different scales.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from evaluators.valuation.data import FloatMatrix, IntArray


def fixed_model() -> Pipeline:
    """A fresh, unfitted copy of the fixed model."""
    return make_pipeline(StandardScaler(), LogisticRegression(random_state=0))


def trained_accuracy(
    train_features: FloatMatrix, train_labels: IntArray, test_features: FloatMatrix, test_labels: IntArray
) -> float:
    """Accuracy on the test rows of the fixed model trained on the given rows (at least two classes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fixed_model().fit(train_features, train_labels)
        predicted = model.predict(test_features)
    return float(accuracy_score(test_labels, predicted))


def accuracy_with_b(
    a_features: FloatMatrix,
    a_labels: IntArray,
    b_features: FloatMatrix,
    b_labels: IntArray,
    test_features: FloatMatrix,
    test_labels: IntArray,
) -> float:
    """The quantity to predict: test accuracy of the fixed model trained on A then B (row order kept)."""
    features = np.concatenate([a_features, b_features])
    labels = np.concatenate([a_labels, b_labels])
    return trained_accuracy(features, labels, test_features, test_labels)

"""The fixed pipeline of DCBench budgetclean: the preprocessor, the logistic regressions, the accuracies.

The preprocessor is fitted on the dirty training table (dirty cells missing): numeric columns (pandas number
dtypes) are mean-imputed and min-max scaled, the others imputed with the constant "missing" and one-hot
encoded (unknown categories ignored); labels are encoded by a `LabelEncoder` fitted on y_train. Every model
is `LogisticRegression()` with scikit-learn's defaults.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, MinMaxScaler, OneHotEncoder

from evaluators.base import TaskConfigError
from evaluators.budget_cleaning.data import HiddenTables, PublicTables

FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ColumnArrays:
    """A table as the preprocessor's two pipelines take it: the numeric columns' values and the others' values
    as objects (None when the table has no such column)."""

    numeric: npt.NDArray[Any] | None
    other: npt.NDArray[Any] | None

    def where(self, rows: npt.NDArray[np.bool_], replacement: ColumnArrays) -> ColumnArrays:
        """These arrays with the `rows` taken from `replacement` (an array of the same shapes): row by row,
        the values `DataFrame.mask` gives, since both tables have the same index and columns."""
        chosen = rows[:, np.newaxis]
        return ColumnArrays(
            numeric=_pick(chosen, replacement.numeric, self.numeric),
            other=_pick(chosen, replacement.other, self.other),
        )


def _pick(
    chosen: npt.NDArray[np.bool_], replacement: npt.NDArray[Any] | None, current: npt.NDArray[Any] | None
) -> npt.NDArray[Any] | None:
    if current is None or replacement is None:
        return current
    picked: npt.NDArray[Any] = np.where(chosen, replacement, current)
    return picked


class Preprocessor:
    """Features and labels as DCBench's `Preprocessor` builds them (fitted once, on the dirty table)."""

    def __init__(self, dirty: pd.DataFrame, y_train: pd.DataFrame) -> None:
        self.numeric = list(dirty.select_dtypes(include="number").columns)
        self.other = list(dirty.select_dtypes(exclude="number").columns)
        self.numeric_pipeline = Pipeline([("imputer", SimpleImputer(strategy="mean")), ("scaler", MinMaxScaler())])
        self.other_pipeline = Pipeline(
            [
                ("imputer", SimpleImputer(strategy="constant", fill_value="missing")),
                ("onehot", OneHotEncoder(sparse_output=False, handle_unknown="ignore")),
            ]
        )
        if self.numeric:
            self.numeric_pipeline.fit(dirty[self.numeric].values)
        if self.other:
            # Fitted on the values as they are; transform() casts to object first, as the original does.
            self.other_pipeline.fit(dirty[self.other].values)
        self.label_encoder = LabelEncoder().fit(y_train.values.ravel())

    def inputs(self, frame: pd.DataFrame) -> ColumnArrays:
        """The arrays the two pipelines receive for a table with the training columns."""
        numeric = frame[self.numeric].values if self.numeric else None
        other = frame[self.other].values.astype(object) if self.other else None
        return ColumnArrays(numeric=numeric, other=other)

    def transform(self, inputs: ColumnArrays) -> FloatMatrix:
        """The model's input matrix from the arrays of `inputs`."""
        parts: list[FloatMatrix] = []
        if inputs.numeric is not None:
            parts.append(self.numeric_pipeline.transform(inputs.numeric))
        if inputs.other is not None:
            parts.append(self.other_pipeline.transform(inputs.other))
        matrix: FloatMatrix = np.hstack(parts)
        return matrix

    def features(self, frame: pd.DataFrame) -> FloatMatrix:
        """The model's input matrix for a table with the training columns."""
        return self.transform(self.inputs(frame))

    def labels(self, frame: pd.DataFrame) -> IntArray:
        """Encoded labels; `ValueError` for a label the training labels do not have."""
        encoded: IntArray = self.label_encoder.transform(frame.values.ravel())
        return encoded


def fit_model(features: FloatMatrix, labels: IntArray) -> LogisticRegression:
    """`LogisticRegression()` with the defaults, as the original (lbfgs may stop at max_iter, as it did there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression().fit(features, labels)


@dataclass(frozen=True)
class Split:
    """A transformed evaluation split (validation or test)."""

    name: str
    features: FloatMatrix
    labels: IntArray


@dataclass(frozen=True)
class ReferenceModels:
    """What every submission of a task shares: the tables, the preprocessor, the splits, and the accuracies of
    the models trained on the dirty and on the clean table."""

    cleared: pd.DataFrame
    clean: pd.DataFrame
    preprocessor: Preprocessor
    cleared_inputs: ColumnArrays
    """`preprocessor.inputs(cleared)`, prepared once: a submission's table takes some rows from `clean_inputs`."""
    clean_inputs: ColumnArrays
    train_labels: IntArray
    splits: tuple[Split, ...]
    dirty_accuracy: dict[str, float]
    clean_accuracy: dict[str, float]
    dirty_predictions: dict[str, IntArray] = field(default_factory=dict)
    """The dirty model's predictions per split, for the accuracies on one side of a private split."""
    clean_predictions: dict[str, IntArray] = field(default_factory=dict)

    def zero_gaps(self) -> list[str]:
        """A problem per split where the clean and the dirty model are equally accurate (gap closed = x / 0)."""
        return [
            f"on the {split.name} split the clean and the dirty model have the same accuracy "
            f"({self.clean_accuracy[split.name]:.6f}): the gap closed would divide by zero"
            for split in self.splits
            if self.clean_accuracy[split.name] == self.dirty_accuracy[split.name]
        ]

    def accuracy(self, model: LogisticRegression, split: Split) -> float:
        """`model.score` on a split: the share of correct predictions."""
        return float(model.score(split.features, split.labels))


def accuracy_on(split: Split, predictions: IntArray, rows: BoolArray | None = None) -> float:
    """The share of correct `predictions` on `split`, or on its `rows` only: what `model.score` gives on them."""
    if rows is None:
        return float(accuracy_score(split.labels, predictions))
    return float(accuracy_score(split.labels[rows], predictions[rows]))


def fit_references(public: PublicTables, hidden: HiddenTables) -> ReferenceModels:
    """Fit the preprocessor and the dirty and clean models; `TaskConfigError` if the data do not allow it
    (no usable column, a single class, a label of val/test unknown to y_train, mixed-type categories)."""
    try:
        preprocessor = Preprocessor(public.cleared, public.y_train)
        if len(preprocessor.label_encoder.classes_) < 2:
            raise TaskConfigError("y_train.csv has a single class: no classifier can be trained")
        train_labels = preprocessor.labels(public.y_train)
        splits = (
            Split("validation", preprocessor.features(public.x_val), preprocessor.labels(public.y_val)),
            Split("test", preprocessor.features(hidden.x_test), preprocessor.labels(hidden.y_test)),
        )
        cleared_inputs, clean_inputs = preprocessor.inputs(public.cleared), preprocessor.inputs(hidden.clean)
        dirty_model = fit_model(preprocessor.transform(cleared_inputs), train_labels)
        clean_model = fit_model(preprocessor.transform(clean_inputs), train_labels)
    except (ValueError, TypeError) as exc:
        raise TaskConfigError(f"the task's tables cannot go through the fixed pipeline: {exc}") from exc
    models = ReferenceModels(
        cleared=public.cleared,
        clean=hidden.clean,
        preprocessor=preprocessor,
        cleared_inputs=cleared_inputs,
        clean_inputs=clean_inputs,
        train_labels=train_labels,
        splits=splits,
        dirty_accuracy={},
        clean_accuracy={},
    )
    for split in splits:
        models.dirty_accuracy[split.name] = models.accuracy(dirty_model, split)
        models.clean_accuracy[split.name] = models.accuracy(clean_model, split)
        models.dirty_predictions[split.name] = dirty_model.predict(split.features)
        models.clean_predictions[split.name] = clean_model.predict(split.features)
    return models

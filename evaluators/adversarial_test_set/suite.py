"""The model suite of adversarial-test-set: training-set-creation's fixed models, fitted the way that benchmark
fits them, so that a model fitted here on a training set behaves as it does there.

In suite order: each model of `config.models` fitted on the public `train/`; then, for each name of
`config.suite_sets`, the `config.suite_recipe` model fitted on the hidden `suite/<name>/` (named
`<recipe>@<name>`: in the data ratchet, a training set that the training-set task's participants built).
Rows are in file order, labels their index in `config.labels`; fitting and predicting use one BLAS thread.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from evaluators.adversarial_test_set.config import AdversarialConfig
from evaluators.adversarial_test_set.data import SUITE_DIR, TRAIN_DIR, IndexArray
from evaluators.base import TaskConfigError
from evaluators.training_set_creation.data import ITEMS_FILE, ItemTable, read_item_table
from evaluators.training_set_creation.images import FeatureArray
from evaluators.training_set_creation.models import make_model


@contextmanager
def fixed_recipe() -> Iterator[None]:
    """What `training_set_creation.models.fit_predict` fits and predicts under: one BLAS thread (results do not
    depend on the core count), and the recipe's expected warnings silenced (lbfgs and adam stopping at max_iter,
    a training set smaller than one batch)."""
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Got `batch_size`", category=UserWarning)
        yield


@dataclass(frozen=True, eq=False)
class FittedSuite:
    """The fitted models, `names[m]` the name of `models[m]`."""

    names: tuple[str, ...]
    models: tuple[Any, ...]

    def predict(self, vectors: FeatureArray) -> IndexArray:
        """Predicted label indexes, shape (number of models, number of vectors), row m = `names[m]`."""
        predictions = np.empty((len(self.models), len(vectors)), dtype=np.int64)
        if len(vectors):
            with fixed_recipe():
                for index, model in enumerate(self.models):
                    predictions[index] = np.asarray(model.predict(vectors), dtype=np.int64)
        return predictions


def fit_model(name: str, table: ItemTable, where: str) -> Any:
    """The named fixed model fitted on `table` (rows in order); `TaskConfigError` naming `where` when the table
    holds fewer than two labels (the model cannot be fitted)."""
    if len(np.unique(table.labels)) < 2:
        raise TaskConfigError(f"{where}: the training set has items of fewer than two labels; {name} cannot be fitted")
    with fixed_recipe():
        return make_model(name).fit(table.features, table.labels)


def read_training_table(
    task_dir: Path, relative: str, config: AdversarialConfig, feature_names: tuple[str, ...]
) -> ItemTable:
    """`<task_dir>/<relative>/items.csv` (and its images), read by training-set-creation's item-table reader."""
    return read_item_table(
        task_dir / relative, config.labels, image_size=config.image_size, feature_names=feature_names
    )


def fit_reference_models(task_dir: Path, config: AdversarialConfig, feature_names: tuple[str, ...]) -> list[Any]:
    """The models of `config.models` fitted on the public `train/` (the suite's public part)."""
    train = read_training_table(task_dir, TRAIN_DIR, config, feature_names)
    return [fit_model(name, train, f"{TRAIN_DIR}/{ITEMS_FILE}") for name in config.models]


def fit_suite(task_dir: Path, config: AdversarialConfig, feature_names: tuple[str, ...]) -> FittedSuite:
    """The whole suite: the reference models, then the recipe fitted on each suite set. `feature_names` are the
    pool's (every table must have the same). Raises `TaskConfigError` naming the file of a missing or malformed
    table, or a suite set with fewer than two labels."""
    models = fit_reference_models(task_dir, config, feature_names)
    for name in config.suite_sets:
        relative = f"{SUITE_DIR}/{name}"
        table = read_training_table(task_dir, relative, config, feature_names)
        models.append(fit_model(config.suite_recipe, table, f"suite set {name!r} ({relative}/{ITEMS_FILE})"))
    return FittedSuite(names=config.suite_names(), models=tuple(models))

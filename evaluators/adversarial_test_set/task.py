"""The loaded adversarial-test-set task: config, the public pool; lazily the fitted model suite, its predictions
of the pool, and the hidden human labels and validated labels (each computed or read once per task)."""

from __future__ import annotations

import threading
from pathlib import Path

from evaluators.adversarial_test_set.config import AdversarialConfig
from evaluators.adversarial_test_set.data import (
    HUMAN_LABELS_FILE,
    POOL_DIR,
    VALIDATED_FILE,
    IndexArray,
    read_human_labels,
    read_pool,
    read_validated,
)
from evaluators.adversarial_test_set.keys import vector_digest
from evaluators.adversarial_test_set.suite import FittedSuite, fit_suite
from evaluators.training_set_creation.data import ItemTable
from evaluators.training_set_creation.images import FeatureArray
from evaluators.training_set_creation.task import TrainingConfig, TrainingTask


class AdversarialTask:
    """The public pool (loaded by `load_adversarial_task`); on first use, thread-safely: the fitted suite (public
    `train/` and hidden `suite/`), its pool predictions, the human labels and the validated labels.

    Shared read-only by every submission of the task. `validated.csv` is read once per loaded task: the platform
    reloads the task when its data change (a new data version).
    """

    def __init__(self, *, task_dir: Path, config: AdversarialConfig, pool: ItemTable) -> None:
        self.task_dir = task_dir
        self.config = config
        self.pool = pool
        self.label_index: dict[str, int] = {label: index for index, label in enumerate(config.labels)}
        # The pool as training-set-creation's submission rules see it: a submission here is laid out and checked
        # exactly as a training set is. Those rules read ids, features and the config, never the pool's labels
        # (which this benchmark does not publish: they are all UNKNOWN_LABEL).
        self.submission_rules = TrainingTask(
            task_dir=task_dir,
            config=TrainingConfig(
                labels=config.labels,
                max_items=config.max_items,
                models=config.models,
                input=config.input,
                image_size=config.image_size,
                allow_new_items=config.allow_new_items,
            ),
            pool=pool,
        )
        self._suite: FittedSuite | None = None
        self._pool_predictions: IndexArray | None = None
        self._human: IndexArray | None = None
        self._validated: dict[str, int] | None = None
        self._pool_digests: dict[bytes, int] | None = None
        self._lock = threading.RLock()

    @property
    def dim(self) -> int:
        """The number of features of an item (image_size squared for image tasks)."""
        return self.pool.dim

    def suite(self) -> FittedSuite:
        """The fitted model suite (reads `train/` and the hidden `suite/<name>/`); fitted once per task."""
        if self._suite is None:
            with self._lock:
                if self._suite is None:
                    self._suite = fit_suite(self.task_dir, self.config, self.pool.feature_names)
        return self._suite

    def pool_predictions(self) -> IndexArray:
        """The suite's predicted label index per (model in suite order, pool row); computed once per task."""
        if self._pool_predictions is None:
            with self._lock:
                if self._pool_predictions is None:
                    self._pool_predictions = self.suite().predict(self.pool.features)
        return self._pool_predictions

    def human_labels(self) -> IndexArray:
        """The hidden human label index of every pool row."""
        if self._human is None:
            with self._lock:
                if self._human is None:
                    self._human = read_human_labels(
                        self.task_dir / HUMAN_LABELS_FILE, self.pool.row_of, self.label_index
                    )
        return self._human

    def validated_labels(self) -> dict[str, int]:
        """Key -> label index (`data.NO_LABEL`: no label fits) of the new items human validation has decided."""
        if self._validated is None:
            with self._lock:
                if self._validated is None:
                    self._validated = read_validated(self.task_dir / VALIDATED_FILE, self.label_index)
        return self._validated

    def pool_row_of_vector(self, vector: FeatureArray) -> int | None:
        """The first pool row whose preprocessed vector equals `vector` exactly, or None (public data only)."""
        if self._pool_digests is None:
            with self._lock:
                if self._pool_digests is None:
                    digests: dict[bytes, int] = {}
                    for row in range(len(self.pool.ids)):
                        digests.setdefault(vector_digest(self.pool.features[row]), row)
                    self._pool_digests = digests
        return self._pool_digests.get(vector_digest(vector))


def load_adversarial_task(task_dir: Path, config: AdversarialConfig) -> AdversarialTask:
    """Read the pool (decoding its images with training-set-creation's preprocessing); raise `TaskConfigError`."""
    pool = read_pool(task_dir / POOL_DIR, image_size=config.image_size)
    return AdversarialTask(task_dir=task_dir, config=config, pool=pool)

"""The loaded test-set-creation task: config, the pool's ids; lazily the suite's predictions and the hidden
human labels (both computed or read once per task and shared by every submission)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import TaskConfigError
from evaluators.splits import SPLIT_KEYS, SplitConfig, partition, split_and_rest
from evaluators.test_set_creation.data import (
    HUMAN_LABELS_FILE,
    POOL_FILE,
    TRAIN_FILE,
    IndexArray,
    read_human_labels,
    read_pool,
    read_pool_ids,
    read_train,
)
from evaluators.test_set_creation.suite import MODEL_NAMES, suite_predictions
from evaluators.training_set_creation.task import config_labels, config_models

MAX_N_ITEMS = 100_000
_CONFIG_KEYS = ("labels", "n_items", "models")
FOOLS_SOME = "fools at least one model"
FOOLS_NONE = "fools no model"


@dataclass(frozen=True)
class TestSetConfig:
    """A validated config: the label set, the exact number of items a submission holds, the model suite."""

    __test__ = False  # a name starting with "Test" is not a pytest test class
    labels: tuple[str, ...]
    n_items: int
    models: tuple[str, ...]
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> TestSetConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(
                f"unexpected config key(s) {', '.join(unexpected)}; allowed: {', '.join(_CONFIG_KEYS + SPLIT_KEYS)}"
            )
        n_items = config.get("n_items")
        if isinstance(n_items, bool) or not isinstance(n_items, int) or not 1 <= n_items <= MAX_N_ITEMS:
            raise TaskConfigError(f"config.n_items must be an integer from 1 to {MAX_N_ITEMS}, got {n_items!r}")
        return cls(
            labels=config_labels(config.get("labels")),
            n_items=n_items,
            models=config_models(config.get("models"), MODEL_NAMES),
            split=split,
        )

    def as_dict(self) -> dict[str, Any]:
        """The normalised config (defaults filled in; the split's keys only when there is a split)."""
        config = {"labels": list(self.labels), "n_items": self.n_items, "models": list(self.models)}
        return {**config, **self.split.as_dict()}


class TestSetTask:
    """Pool ids (public, loaded at once); suite predictions and human labels on first use (thread-safe)."""

    __test__ = False

    def __init__(self, *, task_dir: Path, config: TestSetConfig, pool_ids: tuple[str, ...]) -> None:
        self.task_dir = task_dir
        self.config = config
        self.pool_ids = pool_ids
        self.row_of: dict[str, int] = {item: row for row, item in enumerate(pool_ids)}
        self.label_index: dict[str, int] = {label: index for index, label in enumerate(config.labels)}
        self._predictions: IndexArray | None = None
        self._human: IndexArray | None = None
        self._private: npt.NDArray[np.bool_] | None = None
        self._lock = threading.Lock()

    def predictions(self) -> IndexArray:
        """The suite's predicted label index per (model in config order, pool row); fitted once per task."""
        if self._predictions is None:
            with self._lock:
                if self._predictions is None:
                    self._predictions = self._fit_suite()
        return self._predictions

    def human_labels(self) -> IndexArray:
        """The hidden human label index of every pool row."""
        if self._human is None:
            with self._lock:
                if self._human is None:
                    self._human = read_human_labels(self.task_dir / HUMAN_LABELS_FILE, self.row_of, self.label_index)
        return self._human

    def pool_strata(self) -> list[str]:
        """The split's stratum of each pool row: whether any model of the suite gets its human label wrong
        (FOOLS_SOME) or none does (FOOLS_NONE). Needs the hidden human labels."""
        fools = (self.predictions() != self.human_labels()[np.newaxis, :]).any(axis=0)
        return [FOOLS_SOME if flag else FOOLS_NONE for flag in fools.tolist()]

    def private_mask(self) -> npt.NDArray[np.bool_]:
        """Per pool row, whether the private leaderboard scores it; all False without a split. Read-only;
        computed on first use (a pure function of the seed, the pool ids and the strata)."""
        if self._private is None:
            if self.config.split.enabled:
                flags = partition(self.pool_ids, split=self.config.split, strata=self.pool_strata())
            else:
                flags = [False] * len(self.pool_ids)
            mask = np.array(flags, dtype=bool).reshape(len(self.pool_ids))
            mask.flags.writeable = False
            # Two threads may both compute it; they get the same mask, so the last write is harmless.
            self._private = mask
        return self._private

    def _fit_suite(self) -> IndexArray:
        train_file = self.task_dir / TRAIN_FILE
        train = read_train(train_file)
        train_labels = train.labels or ()
        unknown = sorted(set(train_labels) - set(self.label_index))
        if unknown:
            raise TaskConfigError(f"{train_file}: label(s) {', '.join(unknown[:5])} are not in config.labels")
        if len(set(train_labels)) < 2:
            raise TaskConfigError(f"{train_file}: the training set needs items of at least two labels")
        pool = read_pool(self.task_dir / POOL_FILE)
        if pool.ids != self.pool_ids:
            raise TaskConfigError(f"{self.task_dir / POOL_FILE}: changed since the task was loaded")
        if pool.vectors.shape[1] != train.vectors.shape[1]:
            raise TaskConfigError(f"{train_file}: embeddings of another length than the pool's")
        if set(train.ids) & set(self.row_of):
            raise TaskConfigError(f"{train_file}: shares ids with {POOL_FILE}; the pool must be new items")
        labels = np.asarray([self.label_index[label] for label in train_labels], dtype=np.int64)
        return suite_predictions(train, labels, pool, self.config.models)


def load_test_set_task(task_dir: Path, config: TestSetConfig) -> TestSetTask:
    """Read the pool's ids; raise `TaskConfigError` on a missing or malformed file or a pool too small."""
    pool_ids = read_pool_ids(task_dir / POOL_FILE)
    if len(pool_ids) < config.n_items:
        raise TaskConfigError(f"{task_dir / POOL_FILE}: {len(pool_ids)} items, fewer than n_items = {config.n_items}")
    return TestSetTask(task_dir=task_dir, config=config, pool_ids=pool_ids)

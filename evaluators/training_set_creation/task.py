"""The loaded training-set-creation task: config, the public pool, lazily the hidden test set."""

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
from evaluators.training_set_creation.data import POOL_DIR, TEST_DIR, ItemTable, read_item_table
from evaluators.training_set_creation.models import MODEL_NAMES

INPUT_KINDS = ("image", "features")
MAX_ITEMS_LIMIT = 100_000
MAX_LABELS = 1000
DEFAULT_IMAGE_SIZE = 32
_CONFIG_KEYS = ("labels", "max_items", "models", "input", "image_size", "allow_new_items")
_BAD_LABEL_CHARS = frozenset(',"\r\n\t')


def _label(value: Any, index: int) -> str:
    # YAML reads `labels: [0, 1]` as integers: they mean the labels "0" and "1".
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or value != value.strip() or len(value) > 64:
        raise TaskConfigError(f"config.labels[{index}] must be a non-empty string of at most 64 characters")
    if _BAD_LABEL_CHARS & set(value) or not value.isprintable():
        raise TaskConfigError(f"config.labels[{index}]: {value!r} holds a comma, quote or control character")
    return value


def config_labels(value: Any) -> tuple[str, ...]:
    """`config.labels`: 2 to MAX_LABELS distinct printable labels (integers become strings); TaskConfigError."""
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_LABELS:
        raise TaskConfigError(f"config.labels must be a list of 2 to {MAX_LABELS} class labels")
    labels = tuple(_label(item, index) for index, item in enumerate(value))
    if len(set(labels)) != len(labels):
        raise TaskConfigError("config.labels lists a label twice")
    return labels


def config_models(value: Any, known: tuple[str, ...] = MODEL_NAMES) -> tuple[str, ...]:
    """`config.models`: a non-empty list of distinct names out of `known` (default: all, in that order)."""
    if value is None:
        return known
    if not isinstance(value, list) or not value or any(name not in known for name in value):
        raise TaskConfigError(f"config.models must be a non-empty list of {', '.join(known)}")
    if len(set(value)) != len(value):
        raise TaskConfigError("config.models lists a model twice")
    return tuple(value)


def _int_in(config: Mapping[str, Any], key: str, low: int, high: int, default: int | None) -> int:
    value = config.get(key, default)
    # bool is an int subclass; `max_items: true` is a typo, not a limit of 1.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TaskConfigError(f"config.{key} must be an integer from {low} to {high}, got {value!r}")
    return value


def check_config_keys(config: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """Refuse a config key that is neither one of `keys` nor a split key, naming the allowed ones."""
    unexpected = sorted(str(key) for key in config if key not in keys and key not in SPLIT_KEYS)
    if unexpected:
        raise TaskConfigError(
            f"unexpected config key(s) {', '.join(unexpected)}; allowed: {', '.join(keys + SPLIT_KEYS)}"
        )


@dataclass(frozen=True)
class ItemInput:
    """What a task's items are: `input` (image or features), `image_size` (images only) and whether submissions
    may add items of their own."""

    input: str
    image_size: int | None
    allow_new_items: bool


def item_input(config: Mapping[str, Any]) -> ItemInput:
    """The `input`, `image_size` and `allow_new_items` keys of a config, checked (shared with the ratchet's
    adversarial-test-set, whose items are read the same way)."""
    kind = config.get("input", "image")
    if kind not in INPUT_KINDS:
        raise TaskConfigError(f"config.input must be one of {', '.join(INPUT_KINDS)}, got {kind!r}")
    if kind == "features" and "image_size" in config:
        raise TaskConfigError("config.image_size applies only to input: image")
    allow_new = config.get("allow_new_items", True)
    if not isinstance(allow_new, bool):
        raise TaskConfigError(f"config.allow_new_items must be true or false, got {allow_new!r}")
    image_size = _int_in(config, "image_size", 4, 256, DEFAULT_IMAGE_SIZE) if kind == "image" else None
    return ItemInput(str(kind), image_size, allow_new)


@dataclass(frozen=True)
class TrainingConfig:
    """A validated config. `image_size` is None for feature tasks."""

    labels: tuple[str, ...]
    max_items: int
    models: tuple[str, ...]
    input: str
    image_size: int | None
    allow_new_items: bool
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> TrainingConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        check_config_keys(config, _CONFIG_KEYS)
        items = item_input(config)
        return cls(
            labels=config_labels(config.get("labels")),
            max_items=_int_in(config, "max_items", 2, MAX_ITEMS_LIMIT, None),
            models=config_models(config.get("models")),
            input=items.input,
            image_size=items.image_size,
            allow_new_items=items.allow_new_items,
            split=split,
        )

    def as_dict(self) -> dict[str, Any]:
        """The normalised config (defaults filled in), as the platform stores it."""
        config: dict[str, Any] = {
            "labels": list(self.labels),
            "max_items": self.max_items,
            "models": list(self.models),
            "input": self.input,
            "allow_new_items": self.allow_new_items,
        }
        if self.image_size is not None:
            config["image_size"] = self.image_size
        return {**config, **self.split.as_dict()}


class TrainingTask:
    """The public pool (loaded by `load_training_task`) and the hidden test set (on first `test()`).

    Shared read-only by every submission of the task; `test()` and `private_mask()` are thread-safe.
    """

    def __init__(self, *, task_dir: Path, config: TrainingConfig, pool: ItemTable) -> None:
        self.task_dir = task_dir
        self.config = config
        self.pool = pool
        self.label_index: dict[str, int] = {label: index for index, label in enumerate(config.labels)}
        self._test: ItemTable | None = None
        self._test_lock = threading.Lock()
        self._private: npt.NDArray[np.bool_] | None = None

    @property
    def dim(self) -> int:
        """The number of features of an item (image_size squared for image tasks)."""
        return self.pool.dim

    def test(self) -> ItemTable:
        """The hidden test set, read on first use."""
        if self._test is None:
            with self._test_lock:
                if self._test is None:
                    self._test = read_item_table(
                        self.task_dir / TEST_DIR,
                        self.config.labels,
                        image_size=self.config.image_size,
                        feature_names=self.pool.feature_names,
                    )
        return self._test

    def test_strata(self) -> list[str]:
        """The split's stratum of each test item (its label), in test-set order."""
        return [self.config.labels[int(index)] for index in self.test().labels]

    def private_mask(self) -> npt.NDArray[np.bool_]:
        """Per test item (test-set order), whether the private leaderboard scores it; all False without a
        split. Read-only; computed on first use (a pure function of the seed, the ids and the labels)."""
        if self._private is None:
            test = self.test()
            flags = partition(test.ids, split=self.config.split, strata=self.test_strata())
            mask = np.array(flags, dtype=bool).reshape(len(test.ids))
            mask.flags.writeable = False
            # Two threads may both compute it; they get the same mask, so the last write is harmless.
            self._private = mask
        return self._private


def load_training_task(task_dir: Path, config: TrainingConfig) -> TrainingTask:
    """Read the pool (decoding its images with the submission path's preprocessing); raise `TaskConfigError`."""
    pool = read_item_table(task_dir / POOL_DIR, config.labels, image_size=config.image_size)
    if not pool.ids:
        raise TaskConfigError(f"{task_dir / POOL_DIR}: the pool has no item")
    return TrainingTask(task_dir=task_dir, config=config, pool=pool)

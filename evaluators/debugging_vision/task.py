"""The loaded debugging-vision task: config, the public noisy training sets, lazily the hidden files."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from evaluators.base import TaskConfigError
from evaluators.debugging_vision.data import (
    EmbeddingTable,
    GroundTruth,
    LabelArray,
    ground_truth_file,
    hidden_test_file,
    read_embedding_table,
    read_ground_truth,
    train_file,
    truth_for_rows,
    val_file,
)
from evaluators.splits import SPLIT_KEYS, SplitConfig, partition, split_and_rest, split_problems

MAX_TRAIN_SIZE = 100_000
MAX_DATASETS = 64
IGNORED_PREFIX = "time"
"""Submission files whose name starts with this are the original's run-time notes, never rankings."""
DEFAULTS: dict[str, Any] = {"noise_level": 0.3, "train_size": 300, "test_size": 500, "val_size": 100}
_CONFIG_KEYS = frozenset({"datasets", *DEFAULTS})
_ALLOWED_KEYS = ", ".join(sorted({*_CONFIG_KEYS, *SPLIT_KEYS}))
# A data id names files and is matched to a submission file by the part of its name before the first "_".
_DATA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,63}")
_NOISE_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,31}")

T = TypeVar("T")


def _data_id(value: object, index: int) -> str:
    if not isinstance(value, str) or not _DATA_ID.fullmatch(value):
        raise TaskConfigError(
            f"config.datasets[{index}] must be a data id of letters, digits, '.' and '-' (no '_': a submission "
            f"file is matched to its dataset by the part of its name before the first '_'), got {value!r}"
        )
    if value.startswith(IGNORED_PREFIX):
        raise TaskConfigError(
            f"config.datasets[{index}]: {value!r} starts with {IGNORED_PREFIX!r}, and submission files named "
            f"{IGNORED_PREFIX}... are ignored as run-time notes: choose another id"
        )
    return value


def _datasets(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_DATASETS:
        raise TaskConfigError(f"config.datasets must be a list of 1 to {MAX_DATASETS} data ids, got {value!r}")
    ids = tuple(_data_id(item, index) for index, item in enumerate(value))
    if len(set(ids)) != len(ids):
        raise TaskConfigError(f"config.datasets lists a data id more than once: {list(ids)}")
    return ids


def _noise_level(value: object) -> float | int | str:
    # The value only builds file names, exactly as the reference's f-string prints the parsed YAML value.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TaskConfigError(f"config.noise_level must be a number or a short text, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise TaskConfigError(f"config.noise_level must be finite, got {value!r}")
    if not _NOISE_TEXT.fullmatch(f"{value}"):
        raise TaskConfigError(f"config.noise_level {value!r} cannot be part of a file name")
    return value


def _size(config: Mapping[str, Any], key: str, maximum: int) -> int:
    value = config.get(key, DEFAULTS[key])
    # bool is an int subclass; `train_size: true` is a typo, not a size of 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= maximum:
        raise TaskConfigError(f"config.{key} must be an integer from 1 to {maximum}, got {value!r}")
    return value


@dataclass(frozen=True)
class DebuggingConfig:
    """A validated config: the data ids and the sizes that build the original file names."""

    datasets: tuple[str, ...]
    noise_level: float | int | str
    train_size: int
    test_size: int
    val_size: int
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> DebuggingConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(f"unexpected config key(s) {', '.join(unexpected)}; allowed: {_ALLOWED_KEYS}")
        if "datasets" not in config:
            raise TaskConfigError("config.datasets is required: the list of data ids of the task")
        return cls(
            split=split,
            datasets=_datasets(config["datasets"]),
            noise_level=_noise_level(config.get("noise_level", DEFAULTS["noise_level"])),
            train_size=_size(config, "train_size", MAX_TRAIN_SIZE),
            test_size=_size(config, "test_size", 10 * MAX_TRAIN_SIZE),
            val_size=_size(config, "val_size", 10 * MAX_TRAIN_SIZE),
        )

    @property
    def noise_text(self) -> str:
        """`noise_level` as it appears in the training file name (`0.3`)."""
        return f"{self.noise_level}"

    def train_file(self, data_id: str) -> str:
        """The noisy training parquet of `data_id`, relative to the task directory."""
        return train_file(data_id, self.noise_text, self.train_size)

    def val_file(self, data_id: str) -> str:
        """The public validation parquet of `data_id`."""
        return val_file(data_id, self.val_size)

    def test_file(self, data_id: str) -> str:
        """The hidden test parquet of `data_id`."""
        return hidden_test_file(data_id, self.test_size)

    def as_dict(self) -> dict[str, Any]:
        """The normalised config, as stored by the platform (defaults filled in)."""
        return {
            "datasets": list(self.datasets),
            "noise_level": self.noise_level,
            "train_size": self.train_size,
            "test_size": self.test_size,
            "val_size": self.val_size,
            **self.split.as_dict(),
        }


@dataclass(frozen=True)
class HiddenSet:
    """The hidden side of one dataset: the clean test set and the true label of every training row."""

    test: EmbeddingTable
    ground_truth: GroundTruth
    truth: LabelArray


class DebuggingTask:
    """Everything `validate` and `evaluate` need, loaded once and shared read-only by many submissions.

    The public noisy training sets are read by `load_debugging_task`; the hidden files on the first call of
    `hidden()`, so that validation works on a copy of the task holding only the public files. `derived()`
    keeps objects built from the data (the training tensors) for the life of the task.
    """

    def __init__(self, *, task_dir: Path, config: DebuggingConfig, train: dict[str, EmbeddingTable]) -> None:
        self.task_dir = task_dir
        self.config = config
        self.train = train
        self._hidden: dict[str, HiddenSet] = {}
        self._derived: dict[str, object] = {}
        # Re-entrant: building a derived object may read the hidden files under the same lock.
        self._lock = threading.RLock()

    def hidden(self, data_id: str) -> HiddenSet:
        """The hidden files of `data_id`, read on first use (thread-safe); `TaskConfigError` if unusable."""
        with self._lock:
            if data_id not in self._hidden:
                self._hidden[data_id] = self._load_hidden(data_id)
            return self._hidden[data_id]

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """`build()` once per task and key (thread-safe); the result is shared and must not be mutated."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = build()
            value: T = self._derived[key]  # type: ignore[assignment]  # the key fixes the type by convention
            return value

    def _load_hidden(self, data_id: str) -> HiddenSet:
        test = read_embedding_table(self.task_dir / self.config.test_file(data_id))
        if not len(test):
            raise TaskConfigError(f"{test.path}: the test set has no row")
        ground_truth = read_ground_truth(self.task_dir / ground_truth_file(data_id))
        train = self.train[data_id]
        return HiddenSet(
            test=test, ground_truth=ground_truth, truth=truth_for_rows(ground_truth, train.filenames, train.path)
        )


def check_hidden_set(task: DebuggingTask, data_id: str) -> list[str]:
    """Problems of one dataset's hidden files an organizer must fix (empty when scoring can run as intended)."""
    try:
        hidden = task.hidden(data_id)
    except TaskConfigError as exc:
        return [str(exc)]
    problems = []
    train = task.train[data_id]
    if len(hidden.test) != task.config.test_size:
        problems.append(f"{hidden.test.path}: has {len(hidden.test)} rows, config.test_size is {task.config.test_size}")
    if hidden.ground_truth.duplicated_ids:
        shown = ", ".join(repr(image_id) for image_id in hidden.ground_truth.duplicated_ids[:3])
        problems.append(
            f"{hidden.ground_truth.path}: ImageID(s) listed twice with different labels ({shown}); the first row wins"
        )
    if np.array_equal(hidden.truth, train.labels):
        problems.append(
            f"{train.path}: no training label differs from the ground truth, so every ranking scores 0 fixes"
        )
    return problems + check_split(task, data_id)


def split_units(task: DebuggingTask, data_id: str) -> tuple[list[str], list[str]]:
    """The split's units of one dataset, its test images: ids `<data id>/<ImageID>` and strata
    `<data id> label <label>` (each label of each dataset is split on its own). Reads the hidden test set."""
    test = task.hidden(data_id).test
    seen: dict[str, int] = {}
    ids = []
    for filename in test.filenames:
        seen[filename] = seen.get(filename, 0) + 1
        # A repeated ImageID gets its occurrence number, since unit ids must be distinct.
        ids.append(f"{data_id}/{filename}" if seen[filename] == 1 else f"{data_id}/{filename}#{seen[filename]}")
    return ids, [f"{data_id} label {label}" for label in test.labels.tolist()]


def private_test_rows(task: DebuggingTask, data_id: str) -> npt.NDArray[np.bool_]:
    """True for each private test row of `data_id` (all False without a split); computed once per task."""

    def build() -> npt.NDArray[np.bool_]:
        ids, strata = split_units(task, data_id)
        private = np.array(partition(ids, split=task.config.split, strata=strata), dtype=bool)
        private.flags.writeable = False
        return private

    return task.derived(f"private-test-rows:{data_id}", build)


def check_split(task: DebuggingTask, data_id: str) -> list[str]:
    """A label of `data_id`'s test set too rare to be on both sides of the split (nothing without one)."""
    if not task.config.split.enabled:
        return []
    ids, strata = split_units(task, data_id)
    return split_problems(ids, split=task.config.split, strata=strata, unit="test image")


def load_debugging_task(task_dir: Path, config: DebuggingConfig) -> DebuggingTask:
    """Load the public side of a task (the noisy training sets); raise `TaskConfigError` on a bad file."""
    train: dict[str, EmbeddingTable] = {}
    for data_id in config.datasets:
        table = read_embedding_table(task_dir / config.train_file(data_id))
        if len(table) != config.train_size:
            raise TaskConfigError(
                f"{table.path}: has {len(table)} rows, but config.train_size is {config.train_size} "
                "(a ranking's indexes are rows of this file)"
            )
        train[data_id] = table
    return DebuggingTask(task_dir=task_dir, config=config, train=train)

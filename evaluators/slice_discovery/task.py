"""The loaded slice-discovery task: config, public predictions, lazily the hidden ground-truth slices."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluators.base import TaskConfigError
from evaluators.slice_discovery.data import (
    EMBEDDINGS_FILE,
    PREDICTIONS_FILE,
    SLICES_FILE,
    GroundTruth,
    Predictions,
    embedding_ids,
    load_ground_truth,
    load_predictions,
    slice_name_problem,
)
from evaluators.slice_discovery.ids import NOT_FOUND
from evaluators.splits import SPLIT_KEYS, SplitConfig, partition, split_and_rest, split_problems

MAX_PRED_SLICES = 100
_CONFIG_KEYS = ("n_pred_slices", "slices")
_ALLOWED_KEYS = ", ".join((*_CONFIG_KEYS, *SPLIT_KEYS))


def _n_pred_slices(value: object) -> int:
    # bool is an int subclass; `n_pred_slices: true` is a typo, not one slice.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PRED_SLICES:
        raise TaskConfigError(f"config.n_pred_slices must be an integer from 1 to {MAX_PRED_SLICES}, got {value!r}")
    return value


def _slice_names(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not value:
        raise TaskConfigError("config.slices must be a non-empty list of the ground-truth slice names")
    for name in value:
        problem = slice_name_problem(name)
        if problem:
            raise TaskConfigError(f"config.slices: {problem}")
    if len(set(value)) != len(value):
        raise TaskConfigError("config.slices: a slice name appears more than once")
    return tuple(value)


@dataclass(frozen=True)
class SliceConfig:
    """A validated config: `n_pred_slices` (score columns per submission) and, optionally, `slices`.

    `slices` names the ground-truth slices (the header of test_slices.csv, in order). It is optional because
    the DCBench task needs only `n_pred_slices`; without it the per-slice metrics cannot be declared (and
    shown as leaderboard columns) before the hidden file is read, so `check_task` asks for it.
    """

    n_pred_slices: int
    slices: tuple[str, ...] | None = None
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SliceConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(f"unexpected config key(s) {', '.join(unexpected)}; allowed: {_ALLOWED_KEYS}")
        return cls(
            n_pred_slices=_n_pred_slices(config.get("n_pred_slices")),
            slices=_slice_names(config.get("slices")),
            split=split,
        )

    def as_dict(self) -> dict[str, Any]:
        """The normalised config, as stored by the platform."""
        config: dict[str, Any] = {"n_pred_slices": self.n_pred_slices}
        if self.slices is not None:
            config["slices"] = list(self.slices)
        return {**config, **self.split.as_dict()}


def membership_strata(truth: GroundTruth) -> list[str]:
    """The stratum of each example (ground-truth row order): the ground-truth slices it belongs to, joined by
    "+" ("no slice" for none), so that every slice has members on both sides of a split."""
    return [
        "+".join(name for name, member in zip(truth.names, row, strict=True) if member) or "no slice"
        for row in truth.members.tolist()
    ]


@dataclass(frozen=True)
class AlignedTruth:
    """The ground truth plus, for each of its rows, the row of the same id in test_predictions.csv."""

    truth: GroundTruth
    prediction_rows: npt.NDArray[np.intp]


class SliceTask:
    """What `validate` and `evaluate` need, loaded once and shared read-only by many submissions.

    The public predictions are read by `load_slice_task`; the hidden slices on the first `ground_truth()`
    call, so that validation works on a copy of the task holding only the public files.
    """

    def __init__(self, *, task_dir: Path, config: SliceConfig, predictions: Predictions) -> None:
        self.task_dir = task_dir
        self.config = config
        self.predictions = predictions
        self._truth: AlignedTruth | None = None
        self._private: npt.NDArray[np.bool_] | None = None
        self._lock = threading.Lock()

    @property
    def n_examples(self) -> int:
        """The number of examples a submission scores (rows of test_predictions.csv)."""
        return len(self.predictions.ids)

    def ground_truth(self) -> AlignedTruth:
        """The hidden slices aligned to the predictions, read on first use (thread-safe).

        Raises `TaskConfigError` when test_slices.csv is unusable or does not hold exactly the ids of
        test_predictions.csv, or when a slice has no member (its average precision would be undefined).
        """
        if self._truth is None:
            with self._lock:
                if self._truth is None:
                    self._truth = self._load_truth()
        return self._truth

    def private_rows(self) -> npt.NDArray[np.bool_]:
        """True for each private example, in the row order of the ground truth (all False without a split);
        computed on first use. Raises what `ground_truth()` raises."""
        if self._private is None:
            truth = self.ground_truth().truth
            strata = membership_strata(truth)
            private = np.array(partition(truth.ids, split=self.config.split, strata=strata), dtype=np.bool_)
            private.flags.writeable = False
            # Two threads may both compute it: the partition is a pure function, so either result is the same.
            self._private = private
        return self._private

    def _load_truth(self) -> AlignedTruth:
        path = self.task_dir / SLICES_FILE
        truth = load_ground_truth(path)
        found = self.predictions.ids.rows_of(truth.ids)
        unknown = [truth.ids[index] for index in np.flatnonzero(found == NOT_FOUND)]
        if unknown or len(truth.ids) != self.n_examples:
            raise TaskConfigError(
                f"{path}: must list exactly the ids of {PREDICTIONS_FILE} ({self.n_examples} ids; "
                f"{len(truth.ids)} listed, {len(unknown)} of them unknown, e.g. {unknown[:3]})"
            )
        empty = [name for name, count in zip(truth.names, truth.members.sum(axis=0), strict=True) if count == 0]
        if empty:
            raise TaskConfigError(f"{path}: slice(s) {', '.join(empty)} have no member: average precision is undefined")
        return AlignedTruth(truth=truth, prediction_rows=found.astype(np.intp))

    def problems(self) -> list[str]:
        """Organizer problems: unusable hidden slices, config.slices missing or not matching the file, and an
        embeddings file that does not cover the examples."""
        try:
            names = self.ground_truth().truth.names
        except TaskConfigError as exc:
            return [str(exc)]
        problems = []
        if self.config.slices is None:
            problems.append(
                f"config.slices is not set: set it to {list(names)} so that the per-slice metrics are declared "
                "and shown on the leaderboard"
            )
        elif self.config.slices != names:
            problems.append(f"config.slices {list(self.config.slices)} differs from the {SLICES_FILE} header {names}")
        if self.config.split.enabled:
            truth = self.ground_truth().truth
            problems += split_problems(
                truth.ids, split=self.config.split, strata=membership_strata(truth), unit="example"
            )
        embeddings = self.task_dir / EMBEDDINGS_FILE
        if embeddings.is_file():
            try:
                if set(embedding_ids(embeddings)) != set(self.predictions.ids):
                    problems.append(f"{EMBEDDINGS_FILE}: its ids differ from those of {PREDICTIONS_FILE}")
            except TaskConfigError as exc:
                problems.append(str(exc))
        return problems


def load_slice_task(task_dir: Path, config: SliceConfig) -> SliceTask:
    """Load the public side of a task (the predictions); raise `TaskConfigError` on a missing or bad file."""
    return SliceTask(task_dir=task_dir, config=config, predictions=load_predictions(task_dir / PREDICTIONS_FILE))

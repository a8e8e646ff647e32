"""The loaded budget-cleaning task: config, the public tables, lazily the hidden ones and the fixed models.

The dirty and the clean model, the preprocessor and the transformed validation and test sets are the same
for every submission, so they are computed once per task (`CleaningTask.reference()`, thread-safe) and
shared; only the model trained on a submission's table is fitted per submission.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from evaluators.base import TaskConfigError
from evaluators.budget_cleaning.data import (
    X_TEST,
    X_TRAIN_CLEAN,
    X_TRAIN_DIRTY,
    PublicTables,
    load_hidden,
    load_public,
    row_ids,
)
from evaluators.budget_cleaning.model import BoolArray, ReferenceModels, accuracy_on, fit_references
from evaluators.splits import PRIVATE, PUBLIC, SplitConfig, partition, split_and_rest, split_problems

MODELS = ("logreg",)
_CONFIG_KEYS = ("budget", "model")
TEST_UNIT = "test row"
TEST_SPLIT = "test"


@dataclass(frozen=True)
class CleaningConfig:
    """A validated config: `budget` (the fraction of training rows that may be cleaned, 0 < budget <= 1) and
    `model` (`logreg`; DCBench's `randomf` is unseeded, hence not reproducible, and not offered), and the
    public/private split of the test rows."""

    budget: float
    model: str = "logreg"
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> CleaningConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(
                f"unexpected config key(s) {', '.join(unexpected)}; allowed: budget, model, private_fraction, "
                "split_seed"
            )
        budget = config.get("budget")
        if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget <= 1:
            raise TaskConfigError(
                f"config.budget must be a fraction of the training rows, 0 < budget <= 1, got {budget!r}"
            )
        model = config.get("model", "logreg")
        if model not in MODELS:
            raise TaskConfigError(f"config.model must be one of {', '.join(MODELS)}, got {model!r}")
        return cls(budget=float(budget), model=str(model), split=split)

    def as_dict(self) -> dict[str, Any]:
        """The normalised config, as stored by the platform (the split keys only when there is a split)."""
        return {"budget": self.budget, "model": self.model} | self.split.as_dict()

    def max_selected(self, n_train: int) -> int:
        """How many rows may be cleaned: `int(budget * n_train)`, exactly as the original computes it."""
        return int(self.budget * n_train)


def _candidate_problem(dirty: pd.DataFrame, clean: pd.DataFrame) -> str | None:
    """A note when some clean value is not among its cell's candidate repairs (a sign of mixed-up files)."""
    outside = 0
    for column in dirty.columns:
        for candidates, value in zip(dirty[column], clean[column], strict=True):
            if isinstance(candidates, list) and not any(_same_value(value, c) for c in candidates):
                outside += 1
    if outside:
        return f"{X_TRAIN_CLEAN}: {outside} clean value(s) are not among the candidate repairs of their dirty cell"
    return None


def _same_value(value: Any, candidate: Any) -> bool:
    if isinstance(value, int | float) and isinstance(candidate, int | float):
        return math.isclose(float(value), float(candidate), rel_tol=1e-9, abs_tol=1e-12)
    return bool(value == candidate)


class CleaningTask:
    """Everything `validate` and `evaluate` need, loaded once and shared read-only by many submissions."""

    def __init__(self, *, task_dir: Path, config: CleaningConfig, public: PublicTables, ids: tuple[str, ...]) -> None:
        self.task_dir = task_dir
        self.config = config
        self.public = public
        self.ids = ids
        self.row_of: dict[str, int] = {row_id: row for row, row_id in enumerate(ids)}
        self.n_train = len(ids)
        self.max_selected = config.max_selected(self.n_train)
        dirty_cells = public.dirty.map(lambda value: isinstance(value, list)).to_numpy()
        self.dirty_cells_per_row: npt.NDArray[np.int64] = dirty_cells.sum(axis=1).astype(np.int64)
        self._reference: ReferenceModels | None = None
        self._reference_error: TaskConfigError | None = None
        self._private: BoolArray | None = None
        self._lock = threading.Lock()

    def _models(self) -> ReferenceModels:
        """The preprocessor and the dirty and clean models, computed on first use (thread-safe); a data fault
        is remembered and raised again, so a broken task is not refitted for every submission."""
        models = self._reference
        if models is None:
            with self._lock:
                models = self._reference
                if models is None:
                    if self._reference_error is not None:
                        raise self._reference_error
                    try:
                        models = fit_references(self.public, load_hidden(self.task_dir, self.public))
                    except TaskConfigError as exc:
                        self._reference_error = exc
                        raise
                    self._reference = models
        return models

    def reference(self) -> ReferenceModels:
        """The fixed models; raise `TaskConfigError` if the hidden data are unusable or if the clean and the
        dirty model have the same accuracy on a split (gap closed would divide by zero)."""
        models = self._models()
        gaps = models.zero_gaps()
        if gaps:
            raise TaskConfigError("; ".join(gaps))
        return models

    def _test_units(self, models: ReferenceModels) -> tuple[tuple[str, ...], list[str]]:
        """The split units: the test rows, by their X_test.csv index as written, with their labels as strata."""
        ids = row_ids(self.task_dir / X_TEST)
        test = next(split for split in models.splits if split.name == TEST_SPLIT)
        return ids, [str(label) for label in models.preprocessor.label_encoder.classes_[test.labels]]

    def _split_findings(self, models: ReferenceModels) -> tuple[BoolArray, list[str]]:
        """The private test rows, and what makes the split unusable: a class on one side only, or a side on
        which the clean and the dirty model tie (its gap closed would divide by zero)."""
        ids, strata = self._test_units(models)
        private = np.array(partition(ids, split=self.config.split, strata=strata), dtype=np.bool_)
        findings = split_problems(ids, split=self.config.split, strata=strata, unit=TEST_UNIT)
        test = next(split for split in models.splits if split.name == TEST_SPLIT)
        for side, rows in ((PUBLIC, ~private), (PRIVATE, private)):
            clean = accuracy_on(test, models.clean_predictions[TEST_SPLIT], rows)
            if not findings and clean == accuracy_on(test, models.dirty_predictions[TEST_SPLIT], rows):
                findings.append(
                    f"config.private_fraction {self.config.split.private_fraction:g}: on the {side} test rows the "
                    f"clean and the dirty model have the same accuracy ({clean:.6f}): the gap closed would divide "
                    "by zero; change split_seed or private_fraction"
                )
        return private, findings

    def private_test_rows(self) -> BoolArray:
        """Which test rows are private (a read-only array, computed once from the hidden files); raise
        `TaskConfigError` when the split is unusable (see `check_task`). Only for a task with a split."""
        models = self.reference()
        with self._lock:
            if self._private is None:
                private, findings = self._split_findings(models)
                if findings:
                    raise TaskConfigError("; ".join(findings))
                private.setflags(write=False)
                self._private = private
            return self._private

    def problems(self) -> list[str]:
        """Everything an organizer must fix (an empty list when the task is usable)."""
        try:
            models = self._models()
        except TaskConfigError as exc:
            return [str(exc)]
        problems = models.zero_gaps()
        if self.config.split.enabled:
            try:
                problems += self._split_findings(models)[1]
            except TaskConfigError as exc:
                problems.append(str(exc))
        if self.max_selected == 0:
            problems.append(f"budget {self.config.budget} x {self.n_train} rows allows no row at all")
        if not self.dirty_cells_per_row.any():
            problems.append(f"{X_TRAIN_DIRTY}: has no dirty cell (no list of candidate repairs)")
        note = _candidate_problem(self.public.dirty, models.clean)
        if note:
            problems.append(note)
        return problems


def load_cleaning_task(task_dir: Path, config: CleaningConfig) -> CleaningTask:
    """Load the public side of a task; raise `TaskConfigError` on a missing or inconsistent file."""
    public = load_public(task_dir)
    ids = row_ids(task_dir / X_TRAIN_DIRTY)
    if len(ids) != len(public.dirty):
        raise TaskConfigError(f"{task_dir / X_TRAIN_DIRTY}: {len(ids)} rows by text, {len(public.dirty)} by pandas")
    return CleaningTask(task_dir=task_dir, config=config, public=public, ids=ids)

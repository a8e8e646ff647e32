"""budget-cleaning: the submission's training arrays, taken row by row from arrays prepared once per task, are
what the original's `DataFrame.mask` table gives the preprocessor, bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evaluators.budget_cleaning.model import ColumnArrays, Preprocessor
from evaluators.budget_cleaning.scoring import solution_inputs, solution_table
from evaluators.budget_cleaning.synthetic import generate_cleaning_task
from evaluators.budget_cleaning.task import CleaningConfig, CleaningTask, load_cleaning_task
from evaluators.budget_cleaning.validation import CleaningSelection


def _same_objects(left: np.ndarray[Any, Any] | None, right: np.ndarray[Any, Any] | None) -> bool:
    """Equal shapes and, element by element, equal values of one type (NaN equal to NaN)."""
    if left is None or right is None:
        return left is right
    if left.shape != right.shape:
        return False
    for a, b in zip(left.ravel().tolist(), right.ravel().tolist(), strict=True):
        both_nan = isinstance(a, float) and isinstance(b, float) and a != a and b != b
        if type(a) is not type(b) or not (both_nan or a == b):
            return False
    return True


def _same_features(preprocessor: Preprocessor, ours: ColumnArrays, theirs: ColumnArrays) -> bool:
    left, right = preprocessor.transform(ours), preprocessor.transform(theirs)
    return left.dtype == right.dtype and left.shape == right.shape and left.tobytes() == right.tobytes()


def _selections(n_rows: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    random = [sorted(rng.choice(n_rows, size=int(rng.integers(1, n_rows)), replace=False).tolist()) for _ in range(8)]
    return [[], [0], [n_rows - 1], list(range(n_rows)), *random]


@pytest.fixture(scope="module")
def synthetic_task(tmp_path_factory: pytest.TempPathFactory) -> CleaningTask:
    task_dir: Path = tmp_path_factory.mktemp("cleaning") / "task"
    generate_cleaning_task(task_dir, budget=0.2, seed=3)
    return load_cleaning_task(task_dir, CleaningConfig(budget=0.2))


@pytest.mark.parametrize("which", ["reference", "synthetic"])
def test_the_prepared_arrays_give_the_masked_table_s_values(
    which: str, reference_task: CleaningTask, synthetic_task: CleaningTask
) -> None:
    task = reference_task if which == "reference" else synthetic_task
    models = task.reference()
    for rows in _selections(task.n_train, seed=len(which)):
        selection = CleaningSelection(rows=tuple(rows), file_format="list")
        ours = solution_inputs(models, task, selection)
        theirs = models.preprocessor.inputs(solution_table(models, task, selection))
        assert _same_objects(ours.numeric, theirs.numeric), rows
        assert _same_objects(ours.other, theirs.other), rows
        assert _same_features(models.preprocessor, ours, theirs), rows


def test_mixed_column_types_give_the_masked_table_s_features() -> None:
    """Columns whose type pandas may change when rows are masked in: an integer column next to float ones, a
    float column whose clean values are integers, text with missing cells, a boolean column."""
    cleared = pd.DataFrame(
        {
            "count": [1, 2, 3, 4, 5, 6],
            "size": [0.5, None, 2.5, None, 4.5, 5.5],
            "grade": ["a", None, "b", "c", None, "a"],
            "flag": [True, False, True, True, False, False],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    clean = pd.DataFrame(
        {
            "count": [1, 2, 3, 4, 5, 7],
            "size": [1, 2, 3, 4, 5, 6],
            "grade": ["a", "b", "b", "c", "c", "a"],
            "flag": [True, True, True, False, False, False],
        },
        index=cleared.index,
    )
    preprocessor = Preprocessor(cleared, pd.DataFrame({"y": [0, 1, 0, 1, 0, 1]}))
    prepared, replacement = preprocessor.inputs(cleared), preprocessor.inputs(clean)
    for rows in _selections(len(cleared), seed=7):
        selected = np.zeros(len(cleared), dtype=np.bool_)
        selected[rows] = True
        ours = prepared.where(selected, replacement)
        theirs = preprocessor.inputs(cleared.mask(pd.Series(selected, index=cleared.index), clean))
        assert _same_features(preprocessor, ours, theirs), rows

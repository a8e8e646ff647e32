"""adversarial-test-set: loading a task and `check_task` (training sets, suite sets, human and validated labels)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import TaskConfigError
from evaluators.adversarial_test_set.data import NO_LABEL
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.base import CollectiveEvaluator
from evaluators.taskdir import load_task_dir
from tests.evaluators.adversarial_test_set.helpers import FEATURES_CONFIG, copy_task

KEY = "new:" + "ab" * 32


def _load(evaluator: CollectiveEvaluator[Any, Any], directory: Path) -> AdversarialTask:
    task: AdversarialTask = evaluator.load_task(directory, evaluator.validate_config(load_task_dir(directory).config))
    return task


def test_the_demo_task_loads_its_pool_without_labels_and_checks_clean(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask
) -> None:
    assert len(roman.pool.ids) == 60
    assert roman.dim == 32 * 32
    assert evaluator.check_task(roman) == []
    assert roman.pool_predictions().shape == (3, 60)
    assert roman.validated_labels() == {}


def test_a_pool_with_a_label_column_is_refused(evaluator: CollectiveEvaluator[Any, Any], tmp_path: Path) -> None:
    directory = tmp_path / "task"
    (directory / "pool").mkdir(parents=True)
    (directory / "pool" / "items.csv").write_text("id,label\np1,a\n", encoding="utf-8")
    with pytest.raises(TaskConfigError, match=re.escape("an image task's pool header is exactly id")):
        evaluator.load_task(directory, evaluator.validate_config({"labels": ["a", "b"], "max_items": 3}))


def test_a_feature_pool_with_a_bad_value_names_the_line_and_the_column(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path
) -> None:
    directory = copy_task(features_dir, tmp_path / "task", FEATURES_CONFIG)
    pool = directory / "pool" / "items.csv"
    lines = pool.read_text(encoding="utf-8").splitlines()
    lines[3] = "p002,nan,0.1,0.2,0.3"
    pool.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TaskConfigError, match=re.escape("items.csv line 4: f1 = 'nan' is not a finite number")):
        _load(evaluator, directory)


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"human_labels.csv": "id,label\np001,a\n"}, "human_labels.csv: 29 pool item(s) have no human label"),
        ({"human_labels.csv": "id,label\nzzz,a\n"}, "human_labels.csv line 2: 'zzz' is not an id of pool/items.csv"),
        ({"validated.csv": "key,label\nnew:abc,a\n"}, "'new:abc' is not a key new:<64 lower-case hex digits>"),
        ({"validated.csv": f"key,label\n{KEY},z\n"}, "label 'z' is not one of the task's labels (nor empty)"),
        ({"validated.csv": f"key,label\n{KEY},a\n{KEY},b\n"}, f"validated.csv line 3: the key {KEY} appears twice"),
        ({"validated.csv": "id,label\n"}, "validated.csv: the header must be key,label"),
        ({"train/items.csv": "id,label,f1,f2,f3,f4\nt1,a,0,0,0,0\n"}, "train/items.csv: the training set has items of"),
    ],
)
def test_check_task_reports_broken_hidden_files(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    task = _load(evaluator, copy_task(features_dir, tmp_path / "task", FEATURES_CONFIG, files))
    problems = evaluator.check_task(task)
    assert len(problems) == 1
    assert problem in problems[0]


def test_a_suite_set_with_a_single_label_is_named(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path
) -> None:
    config = {**FEATURES_CONFIG, "suite_sets": ["round-1"]}
    files = {"suite/round-1/items.csv": "id,label,f1,f2,f3,f4\nx1,b,0,0,0,0\nx2,b,1,1,1,1\n"}
    task = _load(evaluator, copy_task(features_dir, tmp_path / "task", config, files))
    assert evaluator.check_task(task) == [
        "suite set 'round-1' (suite/round-1/items.csv): the training set has items of fewer than two labels; "
        "logreg cannot be fitted"
    ]


def test_a_missing_suite_set_is_reported(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path
) -> None:
    task = _load(evaluator, copy_task(features_dir, tmp_path / "task", {**FEATURES_CONFIG, "suite_sets": ["gone"]}))
    [problem] = evaluator.check_task(task)
    assert problem.endswith("suite/gone/items.csv: missing task file")


def test_validated_labels_map_keys_to_label_indexes_and_an_empty_label_to_no_label(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path
) -> None:
    other = "new:" + "cd" * 32
    files = {"validated.csv": f"key,label\n{KEY},c\n{other},\n"}
    task = _load(evaluator, copy_task(features_dir, tmp_path / "task", FEATURES_CONFIG, files))
    assert evaluator.check_task(task) == []
    assert task.validated_labels() == {KEY: 2, other: NO_LABEL}
    assert np.array_equal(np.unique(task.human_labels()), [0, 1, 2])

"""training-set-creation's `materialise.py`: a validated training set written as an item table, read back bit for
bit, and used as a suite set of an adversarial-test-set task (its model then predicts as in training-set-creation)."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import evaluators
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.base import CollectiveEvaluator, Evaluator
from evaluators.training_set_creation.data import read_item_table
from evaluators.training_set_creation.materialise import ItemRow, materialise_training_set, write_items_csv
from evaluators.training_set_creation.models import fit_predict
from evaluators.training_set_creation.synthetic import generate_task
from evaluators.training_set_creation.task import TrainingTask
from evaluators.training_set_creation.validation import TrainingSet
from tests.evaluators.adversarial_test_set.helpers import ROMAN_CONFIG, MakeSubmission, copy_task, png
from tests.evaluators.training_set_creation.helpers import DIGITS_CONFIG, pool_rows
from tests.evaluators.training_set_creation.helpers import ROMAN_CONFIG as TRAINING_ROMAN_CONFIG


@pytest.fixture(scope="module")
def training_evaluator() -> Evaluator[Any, Any]:
    return evaluators.get_evaluator("training-set-creation")


@pytest.fixture(scope="module")
def training_roman(training_evaluator: Evaluator[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> TrainingTask:
    directory = tmp_path_factory.mktemp("training_roman") / "task"
    generate_task(directory, config=TRAINING_ROMAN_CONFIG, seed=2, small=True)
    task: TrainingTask = training_evaluator.load_task(
        directory, training_evaluator.validate_config(TRAINING_ROMAN_CONFIG)
    )
    return task


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _image_training_set(
    evaluator: Evaluator[Any, Any], task: TrainingTask, make_submission: MakeSubmission
) -> tuple[Path, TrainingSet]:
    rows = [*pool_rows(task, 30), ["new/a.png", "iv"], ["b.png", "ix"], ["copy_of_a.png", "iv"]]
    rows[0][1] = "x" if rows[0][1] != "x" else "i"  # a relabelled pool item
    directory = make_submission(rows, {"new/a.png": png(1), "b.png": png(2), "copy_of_a.png": png(1)})
    parsed: TrainingSet = evaluator.validate(task, directory)
    return directory, parsed


def test_an_image_training_set_is_written_in_order_with_its_bytes_and_reads_back_bit_for_bit(
    training_evaluator: Evaluator[Any, Any],
    training_roman: TrainingTask,
    make_submission: MakeSubmission,
    tmp_path: Path,
) -> None:
    directory, parsed = _image_training_set(training_evaluator, training_roman, make_submission)
    out = tmp_path / "materialised"

    assert materialise_training_set(training_roman, parsed, out, submission_path=directory) == 33

    new_id = "n_" + hashlib.sha256(png(1)).hexdigest()[:16]
    ids = [row[0] for row in _rows(out / "items.csv")[1:]]
    assert ids[:30] == list(parsed.items[:30])
    assert ids[30:] == [new_id, "n_" + hashlib.sha256(png(2)).hexdigest()[:16], f"{new_id}_2"]
    assert (out / "images" / f"{new_id}_2.png").read_bytes() == png(1)
    pool_file = training_roman.task_dir / "pool" / "images" / f"{ids[0]}.png"
    assert (out / "images" / f"{ids[0]}.png").read_bytes() == pool_file.read_bytes()
    table = read_item_table(out, training_roman.config.labels, image_size=32)
    assert np.array_equal(table.features, parsed.features)
    assert np.array_equal(table.labels, parsed.labels)


def test_new_images_need_the_submission_directory(
    training_evaluator: Evaluator[Any, Any],
    training_roman: TrainingTask,
    make_submission: MakeSubmission,
    tmp_path: Path,
) -> None:
    directory, parsed = _image_training_set(training_evaluator, training_roman, make_submission)
    with pytest.raises(ValueError, match="pass the submission directory as submission_path"):
        materialise_training_set(training_roman, parsed, tmp_path / "out")
    shutil.rmtree(directory / "new")
    with pytest.raises(evaluators.EvaluatorError, match=re.escape("new/a.png: cannot be read again")):
        materialise_training_set(training_roman, parsed, tmp_path / "out", submission_path=directory)


def test_a_materialised_training_set_is_a_suite_set_whose_model_predicts_as_in_training_set_creation(
    evaluator: CollectiveEvaluator[Any, Any],
    training_evaluator: Evaluator[Any, Any],
    training_roman: TrainingTask,
    roman_dir: Path,
    make_submission: MakeSubmission,
    tmp_path: Path,
) -> None:
    directory, parsed = _image_training_set(training_evaluator, training_roman, make_submission)
    # The fast model of the three as reference and recipe: what is checked is the fit, not the model.
    config = evaluator.validate_config(
        {**ROMAN_CONFIG, "models": ["svc"], "suite_sets": ["team-a"], "suite_recipe": "svc"}
    )
    task_dir = copy_task(roman_dir, tmp_path / "task", config)
    materialise_training_set(training_roman, parsed, task_dir / "suite" / "team-a", submission_path=directory)
    task: AdversarialTask = evaluator.load_task(task_dir, config)

    assert evaluator.check_task(task) == []
    assert task.suite().names == ("svc", "svc@team-a")
    expected = fit_predict("svc", parsed.features, parsed.labels, task.pool.features)
    assert np.array_equal(task.pool_predictions()[1], expected)
    assert not np.array_equal(task.pool_predictions()[0], expected)


def test_a_feature_training_set_is_written_with_exact_values(
    training_evaluator: Evaluator[Any, Any], make_submission: MakeSubmission, tmp_path: Path
) -> None:
    task_dir = tmp_path / "digits"
    generate_task(task_dir, config=DIGITS_CONFIG, seed=1, small=True)
    task: TrainingTask = training_evaluator.load_task(task_dir, training_evaluator.validate_config(DIGITS_CONFIG))
    vector = (np.arange(64) / 7.0).tolist()
    features = "item," + ",".join(task.pool.feature_names) + "\nmine," + ",".join(repr(v) for v in vector) + "\n"
    parsed: TrainingSet = training_evaluator.validate(
        task, make_submission([*pool_rows(task, 5), ["mine", "3"]], {"features.csv": features})
    )

    assert materialise_training_set(task, parsed, tmp_path / "out") == 6

    table = read_item_table(
        tmp_path / "out", task.config.labels, image_size=None, feature_names=task.pool.feature_names
    )
    assert table.ids[:5] == parsed.items[:5]
    assert table.ids[5].startswith("n_")
    assert np.array_equal(table.features, parsed.features)
    assert not (tmp_path / "out" / "images").exists()


def test_write_items_csv_writes_the_format_and_refuses_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "test" / "items.csv"
    write_items_csv(path, [("a1", "x", [0.1, 1e-7]), ("b2", "y", [2.0, -3.5])], ["f1", "f2"])
    assert path.read_text(encoding="utf-8") == "id,label,f1,f2\na1,x,0.1,1e-07\nb2,y,2.0,-3.5\n"
    write_items_csv(path, [("a1", "x"), ("c3", "y")])
    assert path.read_text(encoding="utf-8") == "id,label\na1,x\nc3,y\n"
    assert [entry.name for entry in path.parent.iterdir()] == ["items.csv"]


@pytest.mark.parametrize(
    ("rows", "names", "message"),
    [
        ([("a1", "x"), ("a1", "y")], None, "the id 'a1' appears twice"),
        ([("x.png", "x")], None, "'x.png' is not a valid item id"),
        ([("a1", "")], None, "row 'a1': the label is empty"),
        ([("a1", "x")], ["f1"], "a feature task's row is (id, label, values)"),
        ([("a1", "x", [1.0])], ["f1", "f2"], "row 'a1': 1 values for 2 feature names"),
    ],
)
def test_write_items_csv_refuses_a_bad_row_and_leaves_the_file_as_it_was(
    tmp_path: Path, rows: list[ItemRow], names: list[str] | None, message: str
) -> None:
    path = tmp_path / "items.csv"
    write_items_csv(path, [("a1", "x"), ("c3", "y")])
    with pytest.raises(ValueError, match=re.escape(message)):
        write_items_csv(path, rows, names)
    assert path.read_text(encoding="utf-8") == "id,label\na1,x\nc3,y\n"

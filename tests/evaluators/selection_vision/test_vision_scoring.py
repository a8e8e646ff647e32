"""selection-vision scoring: row orders, repeats, metrics, details and progress."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from evaluators import EvaluationResult, Evaluator
from evaluators.selection_vision.scoring import score_selection
from evaluators.selection_vision.task import VisionTask
from evaluators.selection_vision.validation import VisionSelection, parse_selection
from tests.evaluators.selection_vision.helpers import VISION_CASE, WriteDir, to_csv


def _parsed(task: VisionTask, write_dir: WriteDir, files: dict[str, Any]) -> VisionSelection:
    return parse_selection(task, write_dir(files))


def _score(
    evaluator: Evaluator[Any, Any], task: VisionTask, write_dir: WriteDir, files: dict[str, Any]
) -> EvaluationResult:
    return evaluator.evaluate(task, _parsed(task, write_dir, files))


def _row(task: VisionTask, image_id: str) -> int:
    row = task.index.row_of(image_id)
    assert row is not None, image_id
    return row


def test_csv_rows_are_training_rows_in_file_order(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files["Hawk.csv"]
    parsed = _parsed(vision_task, write_dir, valid_files)
    expected = [vision_task.index.row_of(image_id) for image_id, _ in rows]
    assert parsed.concepts[1].rows.tolist() == expected
    assert parsed.concepts[1].labels.tolist() == [int(label) for _, label in rows]


def test_a_repeated_csv_row_is_a_repeated_training_row(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files["Hawk.csv"]
    valid_files["Hawk.csv"] = [*rows, rows[0], rows[0]]
    parsed = _parsed(vision_task, write_dir, valid_files)
    assert len(parsed.concepts[1].rows) == 202
    assert parsed.concepts[1].rows[-1] == parsed.concepts[1].rows[0]


def test_a_repeated_json_key_keeps_its_first_position_and_its_last_value(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files.pop("Hawk.csv")
    (first, _), (second, _) = rows[0], rows[1]
    pairs = [f'"{image_id}": {label}' for image_id, label in rows[2:]]
    text = "{" + ", ".join([f'"{first}": 1', f'"{second}": 1', *pairs, f'"{first}": 0']) + "}"
    parsed = _parsed(vision_task, write_dir, {**valid_files, "Hawk.json": text})
    assert parsed.concepts[1].rows[0] == vision_task.index.row_of(first)
    assert parsed.concepts[1].labels[0] == 0  # json.loads: the last value wins
    assert len(parsed.concepts[1].rows) == 200


def test_the_json_and_csv_forms_of_a_selection_score_the_same(
    vision_evaluator: Evaluator[Any, Any], vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    as_csv = _score(vision_evaluator, vision_task, write_dir, valid_files)
    as_json = {
        name.replace(".csv", ".json"): {i: int(label) for i, label in rows} for name, rows in valid_files.items()
    }
    assert _score(vision_evaluator, vision_task, write_dir, as_json).metrics == as_csv.metrics


def test_the_row_order_is_kept_because_the_model_depends_on_it(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    reversed_files = {name: rows[::-1] for name, rows in valid_files.items()}
    forward = _parsed(vision_task, write_dir, valid_files).concepts[0]
    backward = _parsed(vision_task, write_dir, reversed_files).concepts[0]
    assert forward.rows.tolist() == backward.rows.tolist()[::-1]


def test_the_metrics_are_the_reference_model_s_on_the_test_set(
    vision_evaluator: Evaluator[Any, Any], vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    result = _score(vision_evaluator, vision_task, write_dir, valid_files)
    rows = valid_files["Sushi.csv"]
    features = vision_task.pool[[_row(vision_task, image_id) for image_id, _ in rows]]
    model = LogisticRegression(random_state=0).fit(features, [int(label) for _, label in rows])
    test = vision_task.test_set("Sushi")
    assert result.metrics["f1.Sushi"] == f1_score(test.labels, model.predict(test.features))
    assert result.primary == pytest.approx(np.mean([result.metrics[f"f1.{c}"] for c in ("Cupcake", "Hawk", "Sushi")]))
    assert set(result.metrics) == {
        f"{m}.{c}" for m in ("f1", "accuracy", "precision", "recall") for c in ("Cupcake", "Hawk", "Sushi")
    }


def test_the_details_describe_the_selection_without_hidden_data(
    vision_evaluator: Evaluator[Any, Any], vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    valid_files["Hawk.csv"] = [*valid_files["Hawk.csv"], valid_files["Hawk.csv"][0]]
    details = _score(vision_evaluator, vision_task, write_dir, valid_files).details
    hawk = details["concepts"][1]
    assert (hawk["file"], hawk["rows"], hawk["distinct_images"], hawk["labelled_1"]) == ("Hawk.csv", 201, 200, 101)
    titles = {(chart["title"], chart["series"]) for chart in details["charts"]}
    assert titles == {
        ("F1 per concept", ""),
        ("Selected rows per concept", "labelled 1"),
        ("Selected rows per concept", "labelled 0"),
    }
    text = json.dumps(details)
    test_ids = pq.read_table(VISION_CASE / "task" / "test_sets" / "alpha_test_set_Hawk_256.parquet").column("ImageID")
    assert not any(image_id in text for image_id in test_ids.to_pylist())


def test_it_reports_progress_after_each_concept(
    vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    seen: list[tuple[float, str]] = []
    score_selection(vision_task, _parsed(vision_task, write_dir, valid_files), lambda f, m: seen.append((f, m)))
    assert [fraction for fraction, _ in seen] == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert seen[1][1].startswith("Cupcake: F1 ")


def test_a_json_selection_of_two_images_trains(
    vision_evaluator: Evaluator[Any, Any], vision_task: VisionTask, write_dir: WriteDir, valid_files: dict[str, Any]
) -> None:
    rows = valid_files.pop("Hawk.csv")
    smallest = {rows[0][0]: 1, rows[-1][0]: 0}
    result = _score(
        vision_evaluator,
        vision_task,
        write_dir,
        {**valid_files, "Hawk.csv": to_csv([[k, str(v)] for k, v in smallest.items()])},
    )
    assert 0.0 <= result.metrics["f1.Hawk"] <= 1.0

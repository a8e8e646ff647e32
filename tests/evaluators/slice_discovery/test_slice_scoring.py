"""slice-discovery scoring: complements, the 0.5 threshold, tie rules, alignment, details and progress."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import EvaluationResult, Evaluator, TaskConfigError
from evaluators.slice_discovery.scoring import precision_at_k, predicted_slices
from evaluators.slice_discovery.task import SliceTask

MakeTask = Callable[..., Path]
WriteFile = Callable[[str, "str | bytes"], Path]
IDS = [f"e{index:02d}" for index in range(12)]


def _submission(ids: Sequence[str], columns: Sequence[Sequence[float]]) -> str:
    header = "id," + ",".join(f"p{index}" for index in range(len(columns)))
    rows = [
        ",".join([example_id, *(repr(float(column[row])) for column in columns)]) for row, example_id in enumerate(ids)
    ]
    return "\n".join([header, *rows]) + "\n"


def _score(
    evaluator: Evaluator[Any, Any], task_dir: Path, write_file: WriteFile, text: str, **config: Any
) -> EvaluationResult:
    task = evaluator.load_task(task_dir, evaluator.validate_config(config or {"n_pred_slices": 2}))
    return evaluator.evaluate(task, evaluator.validate(task, write_file("s.csv", text)))


def test_the_public_case_matches_the_reference_values(
    slice_evaluator: Evaluator[Any, Any], reference_task: SliceTask, write_file: WriteFile, reference_csv: str
) -> None:
    result = slice_evaluator.evaluate(
        reference_task, slice_evaluator.validate(reference_task, write_file("s.csv", reference_csv))
    )
    assert result.primary == pytest.approx(0.9230700415666092, abs=1e-12)
    assert result.metrics["pred_slice_idx.A"] == 2
    assert result.metrics["pred_slice_idx.B"] == 9  # B is found by the complement of column 4
    assert result.details["matches"][1]["pred_slice"] == "1 - slice_4"
    assert result.details["matches"][1]["complement"] is True


def test_a_perfect_column_and_a_perfect_complement_both_score_one(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:3], "B": IDS[6:9]})
    in_a = [1.0 if example_id in IDS[:3] else 0.0 for example_id in IDS]
    not_b = [0.0 if example_id in IDS[6:9] else 1.0 for example_id in IDS]
    result = _score(slice_evaluator, task_dir, write_file, _submission(IDS, [in_a, not_b]))
    assert result.primary == 1.0
    assert result.metrics["pred_slice_idx.A"] == 0
    assert result.metrics["pred_slice_idx.B"] == 3  # m + 1: the complement of column 1
    assert result.metrics["f1.B"] == 1.0


def test_a_score_of_exactly_one_half_is_inside_the_complement(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    soft, hard = predicted_slices(np.array([[0.5], [0.50000001], [0.2]]))
    assert hard[:, 0].tolist() == [0, 1, 0]
    assert hard[:, 1].tolist() == [1, 0, 1]
    assert soft[:, 1].tolist() == [0.5, 1 - 0.50000001, 0.8]
    # A slice whose members all score exactly 0.5 is matched by the complement's hard prediction.
    task_dir = make_task(IDS, {"A": IDS[:4], "B": IDS[4:]})
    column = [0.5 if example_id in IDS[:4] else 0.9 for example_id in IDS]
    result = _score(slice_evaluator, task_dir, write_file, _submission(IDS, [column, column]))
    assert result.metrics["pred_slice_idx.A"] == 2
    assert result.metrics["recall.A"] == 1.0
    assert result.metrics["precision.A"] == 1.0


def test_the_lowest_index_wins_among_equal_average_precisions(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:3], "B": IDS[3:5]})
    column = [float(index) / 20 for index in range(12)]
    result = _score(slice_evaluator, task_dir, write_file, _submission(IDS, [column, column]))
    # Two identical columns, so complements 2 and 3 tie at the best average precision: 2 is kept.
    assert result.metrics["pred_slice_idx.A"] == 2
    assert result.metrics["pred_slice_idx.B"] == 2


def test_precision_at_k_breaks_ties_by_the_row_order_of_the_slices_file(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    assert precision_at_k(np.array([0, 1, 1]), np.array([0.5, 0.5, 0.5]), 1) == 0.0
    assert precision_at_k(np.array([1, 0, 0]), np.array([0.5, 0.5, 0.5]), 1) == 1.0
    ids = [f"e{index:02d}" for index in range(30)]
    members = ids[20:30]
    tied = [1.0] * 30
    other = [float(index) / 100 for index in range(30)]
    forward = make_task(ids, {"A": members})
    backward = make_task(ids, {"A": members}, slice_order=list(reversed(ids)))
    text = _submission(ids, [tied, other])
    # Every score of column 0 ties: its top 10 are the first 10 rows of test_slices.csv.
    first = _score(slice_evaluator, forward, write_file, text)
    second = _score(slice_evaluator, backward, write_file, text)
    assert first.metrics["average_precision.A"] == second.metrics["average_precision.A"]
    task = slice_evaluator.load_task(forward, {"n_pred_slices": 2, "slices": ["A"]})
    reversed_task = slice_evaluator.load_task(backward, {"n_pred_slices": 2, "slices": ["A"]})
    aligned = task.ground_truth()
    reversed_aligned = reversed_task.ground_truth()
    truth_forward = aligned.truth.members[:, 0].astype(np.int64)
    truth_backward = reversed_aligned.truth.members[:, 0].astype(np.int64)
    assert precision_at_k(truth_forward, np.ones(30), 10) == 0.0
    assert precision_at_k(truth_backward, np.ones(30), 10) == 1.0


def test_the_submission_row_order_does_not_change_the_score(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:3], "B": IDS[5:9]}, slice_order=IDS[::-1])
    rng = np.random.default_rng(3)
    columns = rng.random((2, 12))
    forward = _score(slice_evaluator, task_dir, write_file, _submission(IDS, columns.tolist()))
    order = rng.permutation(12)
    shuffled = _submission([IDS[i] for i in order], columns[:, order].tolist())
    backward = _score(slice_evaluator, task_dir, write_file, shuffled)
    assert forward.primary == backward.primary
    assert forward.metrics == backward.metrics


def test_the_primary_is_the_mean_of_the_best_average_precisions(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:4], "B": IDS[4:6]})
    columns = np.random.default_rng(5).random((2, 12)).tolist()
    result = _score(slice_evaluator, task_dir, write_file, _submission(IDS, columns))
    assert result.primary == pytest.approx(
        (result.metrics["average_precision.A"] + result.metrics["average_precision.B"]) / 2
    )
    assert set(result.metrics) == {
        f"{metric}.{name}"
        for name in ("A", "B")
        for metric in (
            "average_precision",
            "precision_at_10",
            "precision_at_25",
            "precision",
            "recall",
            "f1",
            "pred_slice_idx",
        )
    }


def test_details_hold_charts_and_no_hidden_membership(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:4], "B": IDS[4:6]})
    progress: list[float] = []
    task = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2, "slices": ["A", "B"]})
    parsed = slice_evaluator.validate(task, write_file("s.csv", _submission(IDS, [[0.1] * 12, [0.7] * 12])))
    result = slice_evaluator.evaluate(task, parsed, lambda fraction, message: progress.append(fraction))
    assert progress[0] == 0.0
    assert progress[-1] == 1.0
    titles = {chart["title"] for chart in result.details["charts"]}
    assert "Best predicted slice per ground-truth slice" in titles
    grouped = [
        chart for chart in result.details["charts"] if chart["title"] == "Best predicted slice per ground-truth slice"
    ]
    assert [chart["series"] for chart in grouped] == ["average precision", "precision@10", "precision@25", "F1"]
    assert all(chart["x"] == ["A", "B"] for chart in grouped)
    text = repr(result.details)
    assert not any(example_id in text for example_id in IDS)


def test_a_slice_without_members_is_a_task_error_not_a_score(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask, write_file: WriteFile
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:4], "Empty": []})
    task = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2, "slices": ["A", "Empty"]})
    assert any("Empty have no member" in problem for problem in slice_evaluator.check_task(task))
    parsed = slice_evaluator.validate(task, write_file("s.csv", _submission(IDS, [[0.1] * 12, [0.7] * 12])))
    with pytest.raises(TaskConfigError, match="average precision is undefined"):
        slice_evaluator.evaluate(task, parsed)


def test_slices_that_list_other_ids_than_the_predictions_are_a_task_error(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:4]}, slice_order=[*IDS[:-1], "stranger"])
    task = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2, "slices": ["A"]})
    (problem,) = slice_evaluator.check_task(task)
    assert "must list exactly the ids of test_predictions.csv" in problem
    assert "1 of them unknown" in problem


def test_check_task_asks_for_the_slice_names_in_the_config(
    slice_evaluator: Evaluator[Any, Any], make_task: MakeTask
) -> None:
    task_dir = make_task(IDS, {"A": IDS[:4], "B": IDS[4:6]})
    without = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2})
    assert slice_evaluator.check_task(without) == [
        "config.slices is not set: set it to ['A', 'B'] so that the per-slice metrics are declared and shown on "
        "the leaderboard"
    ]
    wrong = slice_evaluator.load_task(task_dir, {"n_pred_slices": 2, "slices": ["B", "A"]})
    assert "differs from the test_slices.csv header" in slice_evaluator.check_task(wrong)[0]
    assert (
        slice_evaluator.check_task(slice_evaluator.load_task(task_dir, {"n_pred_slices": 2, "slices": ["A", "B"]}))
        == []
    )


def test_check_task_reports_an_embeddings_file_for_other_examples(
    slice_evaluator: Evaluator[Any, Any], small_task_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "task"
    shutil.copytree(small_task_dir, copy)
    pq.write_table(pa.table({"id": ["nobody"], "embedding": [[0.0, 1.0]]}), copy / "test_embeddings.parquet")
    task = slice_evaluator.load_task(
        copy,
        slice_evaluator.validate_config(
            {"n_pred_slices": 5, "slices": ["low_light", "water_background", "small_object"]}
        ),
    )
    assert slice_evaluator.check_task(task) == [
        "test_embeddings.parquet: its ids differ from those of test_predictions.csv"
    ]


def test_metric_specs_declare_every_reported_metric_with_average_precision_as_leaderboard_column(
    slice_evaluator: Evaluator[Any, Any],
) -> None:
    specs = slice_evaluator.metric_specs({"n_pred_slices": 3, "slices": ["A", "B"]})
    assert len(specs) == 14
    assert [spec.name for spec in specs if spec.leaderboard_column] == ["average_precision.A", "average_precision.B"]
    assert slice_evaluator.metric_specs({"n_pred_slices": 3}) == []

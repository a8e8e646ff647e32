"""budget-cleaning scoring: the reference value, the ends of the scale, layouts, shared reference models,
and the zero-gap task error."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evaluators import EvaluationResult, Evaluator, TaskConfigError
from evaluators.budget_cleaning import task as task_module
from evaluators.budget_cleaning.data import clear_list, load_artifact
from evaluators.budget_cleaning.model import fit_references
from evaluators.budget_cleaning.task import CleaningTask

WriteFile = Callable[[str, "str | bytes"], Path]
CONFIG = {"budget": 0.4, "model": "logreg"}


def _score(evaluator: Evaluator[Any, Any], task: CleaningTask, write_file: WriteFile, text: str) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, write_file("s.csv", text)))


def _dirty_ids(task: CleaningTask) -> list[str]:
    return [task.ids[row] for row in range(task.n_train) if task.dirty_cells_per_row[row]]


def test_the_public_case_matches_the_reference_values(
    cleaning_evaluator: Evaluator[Any, Any],
    reference_task: CleaningTask,
    reference_ids: list[str],
    write_file: WriteFile,
) -> None:
    result = _score(cleaning_evaluator, reference_task, write_file, "\n".join(["id", *reference_ids]))
    assert result.primary == pytest.approx(0.8, abs=1e-12)
    assert result.metrics["acc_test_gapclosed"] == result.primary
    assert result.metrics["acc_val_gapclosed"] == pytest.approx(2 / 3, abs=1e-12)
    assert (
        result.metrics["acc_test_dirty"],
        result.metrics["acc_test_solution"],
        result.metrics["acc_test_clean"],
    ) == (
        0.87,
        0.89,
        0.895,
    )
    assert set(result.metrics) == {spec.name for spec in cleaning_evaluator.metric_specs(CONFIG)}


def test_cleaning_nothing_closes_nothing(
    cleaning_evaluator: Evaluator[Any, Any], reference_task: CleaningTask, write_file: WriteFile
) -> None:
    result = _score(cleaning_evaluator, reference_task, write_file, "id\n")
    assert result.primary == 0.0
    assert result.metrics["acc_val_gapclosed"] == 0.0
    assert result.metrics["acc_val_solution"] == result.metrics["acc_val_dirty"]


def test_cleaning_every_dirty_row_closes_the_whole_gap(
    cleaning_evaluator: Evaluator[Any, Any], reference_task: CleaningTask, write_file: WriteFile
) -> None:
    dirty = _dirty_ids(reference_task)
    assert len(dirty) == 120 == reference_task.max_selected
    result = _score(cleaning_evaluator, reference_task, write_file, "\n".join(["id", *dirty]))
    assert result.primary == 1.0
    assert result.metrics["acc_val_gapclosed"] == 1.0
    assert result.details["dirty_cells_repaired"] == 120


def test_cleaning_rows_without_dirty_cells_changes_nothing(
    cleaning_evaluator: Evaluator[Any, Any], reference_task: CleaningTask, write_file: WriteFile
) -> None:
    clean_rows = [reference_task.ids[row] for row in range(300) if not reference_task.dirty_cells_per_row[row]][:100]
    result = _score(cleaning_evaluator, reference_task, write_file, "\n".join(["id", *clean_rows]))
    assert result.primary == 0.0
    assert result.details["selected_rows_with_dirty_cells"] == 0


def test_a_mask_and_a_list_of_the_same_rows_score_the_same(
    cleaning_evaluator: Evaluator[Any, Any],
    reference_task: CleaningTask,
    reference_ids: list[str],
    write_file: WriteFile,
) -> None:
    as_list = _score(cleaning_evaluator, reference_task, write_file, "\n".join(["id", *reversed(reference_ids)]))
    chosen = set(reference_ids)
    mask = ",idx_selected\n" + "".join(f"{row},{str(row) in chosen!s}\n" for row in range(300))
    as_mask = _score(cleaning_evaluator, reference_task, write_file, mask)
    assert as_mask.primary == as_list.primary
    assert as_mask.metrics == as_list.metrics
    assert as_mask.details["file_format"] == "mask"


def test_details_report_the_selection_charts_and_progress(
    cleaning_evaluator: Evaluator[Any, Any],
    reference_task: CleaningTask,
    reference_ids: list[str],
    write_file: WriteFile,
) -> None:
    progress: list[float] = []
    parsed = cleaning_evaluator.validate(reference_task, write_file("s.csv", "\n".join(["id", *reference_ids])))
    result = cleaning_evaluator.evaluate(reference_task, parsed, lambda fraction, message: progress.append(fraction))
    assert progress == sorted(progress)
    assert progress[0] == 0.0
    assert progress[-1] == 1.0
    details = result.details
    assert (details["n_selected"], details["budget_rows"], details["n_train"]) == (60, 120, 300)
    assert details["selected_rows_with_dirty_cells"] == 60
    assert details["rows_with_dirty_cells"] == 120
    accuracy = [chart for chart in details["charts"] if chart["title"] == "Accuracy of the three models"]
    assert [chart["series"] for chart in accuracy] == ["validation", "test"]
    assert accuracy[1]["y"] == [0.87, 0.89, 0.895]


def test_the_reference_models_are_fitted_once_per_task_and_shared_between_threads(
    cleaning_evaluator: Evaluator[Any, Any], monkeypatch: pytest.MonkeyPatch, case_copy: Path, write_file: WriteFile
) -> None:
    calls: list[int] = []

    def counting(*args: Any) -> Any:
        calls.append(1)
        return fit_references(*args)

    monkeypatch.setattr(task_module, "fit_references", counting)
    task = cleaning_evaluator.load_task(case_copy, CONFIG)
    with ThreadPoolExecutor(max_workers=4) as pool:
        shared = list(pool.map(lambda _: task.reference(), range(6)))
    assert all(models is shared[0] for models in shared)
    for text in ("id\n", "id\n4\n", "id\n10\n"):
        _score(cleaning_evaluator, task, write_file, text)
    assert cleaning_evaluator.check_task(task) == []
    assert len(calls) == 1


def _clean_is_dirty_imputed(task_dir: Path) -> None:
    """Rewrite X_train_clean.csv as the dirty table with every dirty cell set to its column's observed mean:
    the clean model then sees what the dirty model sees, and both are equally accurate."""
    cleared = load_artifact(task_dir / "X_train_dirty.csv").map(clear_list)
    filled = cleared.fillna({column: cleared[column].mean() for column in cleared.select_dtypes("number")})
    filled.to_csv(task_dir / "X_train_clean.csv")


def test_equal_clean_and_dirty_accuracy_is_a_task_error_never_a_score(
    cleaning_evaluator: Evaluator[Any, Any], case_copy: Path, write_file: WriteFile
) -> None:
    _clean_is_dirty_imputed(case_copy)
    task = cleaning_evaluator.load_task(case_copy, CONFIG)
    problems = cleaning_evaluator.check_task(task)
    assert any("on the validation split the clean and the dirty model have the same accuracy" in p for p in problems)
    assert any("on the test split the clean and the dirty model have the same accuracy" in p for p in problems)
    parsed = cleaning_evaluator.validate(task, write_file("s.csv", "id\n4\n"))
    with pytest.raises(TaskConfigError, match="the gap closed would divide by zero"):
        cleaning_evaluator.evaluate(task, parsed)


def test_check_task_reports_a_budget_of_no_row(cleaning_evaluator: Evaluator[Any, Any]) -> None:
    case = Path(__file__).resolve().parents[3] / "tests/fixtures/reference_cases/budget-cleaning/f0_dirty/task"
    task = cleaning_evaluator.load_task(case, {"budget": 0.003})
    assert task.max_selected == 0
    assert cleaning_evaluator.check_task(task) == ["budget 0.003 x 300 rows allows no row at all"]


def test_check_task_reports_clean_values_outside_their_candidates(
    cleaning_evaluator: Evaluator[Any, Any], case_copy: Path
) -> None:
    clean = pd.read_csv(case_copy / "X_train_clean.csv", index_col=0)
    clean.loc[2, "f0"] = 99.0  # row 2's f0 is dirty: its candidates are 5.430486, 0.430486, 0.0
    clean.to_csv(case_copy / "X_train_clean.csv")
    task = cleaning_evaluator.load_task(case_copy, CONFIG)
    assert "X_train_clean.csv: 1 clean value(s) are not among the candidate repairs of their dirty cell" in (
        cleaning_evaluator.check_task(task)
    )


def test_a_hidden_data_fault_is_remembered_and_raised_again(
    cleaning_evaluator: Evaluator[Any, Any], case_copy: Path, write_file: WriteFile
) -> None:
    (case_copy / "X_test.csv").unlink()
    task = cleaning_evaluator.load_task(case_copy, CONFIG)
    parsed = cleaning_evaluator.validate(task, write_file("s.csv", "id\n4\n"))
    for _ in range(2):
        with pytest.raises(TaskConfigError, match=r"X_test\.csv: missing task file"):
            cleaning_evaluator.evaluate(task, parsed)
    assert cleaning_evaluator.check_task(task) == [f"{case_copy / 'X_test.csv'}: missing task file"]

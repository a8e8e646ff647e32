"""valuation scoring: the actual accuracies, the mean absolute error, what is (not) shown, progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from evaluators import Evaluator
from evaluators.valuation.model import accuracy_with_b
from evaluators.valuation.task import ValuationTask
from tests.evaluators.valuation.helpers import PAIRS, VALUATION_CASE, WriteFile, predictions_csv


def _actual(pair: str) -> float:
    """The stated recipe, written out: scaler + logistic regression on A then B, accuracy on test.csv."""
    directory = VALUATION_CASE / "task" / "pairs" / pair
    a, b = pd.read_csv(directory / "A.csv"), pd.read_csv(directory / "B.csv")
    b_labels = pd.read_csv(directory / "B_labels.csv")["label"]
    test = pd.read_csv(VALUATION_CASE / "task" / "test.csv")
    features = np.concatenate([a.drop(columns="label").to_numpy(), b.to_numpy()])
    labels = np.concatenate([a["label"].to_numpy(), b_labels.to_numpy()])
    model = make_pipeline(StandardScaler(), LogisticRegression(random_state=0)).fit(features, labels)
    return float((model.predict(test.drop(columns="label").to_numpy()) == test["label"].to_numpy()).mean())


def _score(evaluator: Evaluator[Any, Any], task: ValuationTask, path: Path) -> Any:
    return evaluator.evaluate(task, evaluator.validate(task, path))


def test_the_actual_accuracy_is_the_fixed_model_trained_on_a_then_b(pairs_task: ValuationTask) -> None:
    actual = pairs_task.actual_accuracies()
    assert list(actual) == PAIRS
    for pair in ("clean", "noisy-labels"):
        assert actual[pair] == _actual(pair)
    assert actual["noisy-labels"] < actual["clean"]


def test_the_primary_is_the_mean_absolute_error(
    valuation_evaluator: Evaluator[Any, Any], pairs_task: ValuationTask, write_file: WriteFile
) -> None:
    values = {pair: 0.1 * (index + 3) for index, pair in enumerate(PAIRS)}
    result = _score(valuation_evaluator, pairs_task, write_file(predictions_csv(values)))
    actual = pairs_task.actual_accuracies()
    errors = [abs(values[pair] - actual[pair]) for pair in PAIRS]
    assert result.primary == pytest.approx(np.mean(errors), abs=1e-15)
    assert result.metrics == {f"abs_error.{pair}": error for pair, error in zip(PAIRS, errors, strict=True)}


def test_the_actual_accuracies_are_computed_once_per_task(
    valuation_evaluator: Evaluator[Any, Any], write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counting(*args: Any) -> float:
        calls.append(1)
        return accuracy_with_b(*args)

    monkeypatch.setattr("evaluators.valuation.task.accuracy_with_b", counting)
    task: ValuationTask = valuation_evaluator.load_task(VALUATION_CASE / "task", {"pairs": PAIRS})
    for _ in range(3):
        _score(valuation_evaluator, task, write_file(predictions_csv(dict.fromkeys(PAIRS, 0.5))))
    assert len(calls) == len(PAIRS)


def test_without_pair_errors_only_the_mean_is_reported(
    valuation_evaluator: Evaluator[Any, Any], small_pairs_dir: Path, write_file: WriteFile
) -> None:
    task: ValuationTask = valuation_evaluator.load_task(
        small_pairs_dir, {"pairs": ["clean", "noisy-labels", "duplicates"]}
    )
    result = _score(valuation_evaluator, task, write_file(predictions_csv(dict.fromkeys(task.config.pairs, 0.0))))
    assert result.metrics == {}
    assert valuation_evaluator.metric_specs(task.config.as_dict()) == []
    assert [chart["title"] for chart in result.details["charts"]] == ["Predicted accuracy per pair"]
    text = json.dumps(result.details)
    for value in task.actual_accuracies().values():
        assert repr(value) not in text  # predicting 0 would make an error equal to the actual accuracy


def test_the_details_never_hold_the_actual_accuracies(
    valuation_evaluator: Evaluator[Any, Any], pairs_task: ValuationTask, write_file: WriteFile
) -> None:
    result = _score(valuation_evaluator, pairs_task, write_file(predictions_csv(dict.fromkeys(PAIRS, 0.123))))
    assert result.details["predicted"] == dict.fromkeys(PAIRS, 0.123)
    text = json.dumps(result.details)
    assert all(repr(value) not in text for value in pairs_task.actual_accuracies().values())
    assert "Absolute error per pair" in text


def test_it_reports_progress(
    valuation_evaluator: Evaluator[Any, Any], pairs_task: ValuationTask, write_file: WriteFile
) -> None:
    seen: list[float] = []
    parsed = valuation_evaluator.validate(pairs_task, write_file(predictions_csv(dict.fromkeys(PAIRS, 0.5))))
    valuation_evaluator.evaluate(pairs_task, parsed, lambda fraction, message: seen.append(fraction))
    assert seen == [0.0, 1.0]

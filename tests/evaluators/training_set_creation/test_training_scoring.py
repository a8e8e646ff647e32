"""training-set-creation scoring: the fixed models, row order, label encoding, metrics, details, progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.svm import SVC

from evaluators import EvaluationResult, Evaluator
from evaluators.training_set_creation.models import fit_predict, make_model
from evaluators.training_set_creation.task import TrainingTask
from tests.evaluators.training_set_creation.helpers import DIGITS_CONFIG, MakeSubmission, pool_rows


@pytest.fixture(scope="module")
def svc_only(evaluator: Evaluator[Any, Any], digits_dir: Path) -> TrainingTask:
    """The digits task with the SVC alone (fast), for the rules that do not depend on the model."""
    task: TrainingTask = evaluator.load_task(
        digits_dir, evaluator.validate_config({**DIGITS_CONFIG, "models": ["svc"]})
    )
    return task


def _score(evaluator: Evaluator[Any, Any], task: TrainingTask, path: Path) -> EvaluationResult:
    return evaluator.evaluate(task, evaluator.validate(task, path))


def test_the_models_have_the_documented_hyperparameters() -> None:
    assert make_model("logreg").get_params()["C"] == 1.0
    assert make_model("logreg").get_params()["max_iter"] == 1000
    assert make_model("svc").get_params()["gamma"] == "scale"
    mlp = make_model("mlp").get_params()
    assert (mlp["hidden_layer_sizes"], mlp["max_iter"], mlp["batch_size"], mlp["random_state"]) == ((64,), 100, 64, 0)


def test_the_primary_is_the_mean_of_the_per_model_accuracies(
    evaluator: Evaluator[Any, Any], digits: TrainingTask, make_submission: MakeSubmission
) -> None:
    progress: list[tuple[float, str]] = []
    parsed = evaluator.validate(digits, make_submission(pool_rows(digits, 150)))
    result = evaluator.evaluate(digits, parsed, lambda f, m: progress.append((f, m)))
    assert list(result.metrics) == ["accuracy.logreg", "accuracy.svc", "accuracy.mlp"]
    assert result.primary == pytest.approx(float(np.mean(list(result.metrics.values()))), abs=1e-15)
    test = digits.test()
    for model in ("logreg", "svc", "mlp"):
        expected = float(np.mean(fit_predict(model, parsed.features, parsed.labels, test.features) == test.labels))
        assert result.metrics[f"accuracy.{model}"] == expected
    assert [f for f, _ in progress] == [0.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]
    assert "svc: accuracy" in progress[2][1]


def test_the_svc_is_fitted_on_the_rows_in_labels_csv_order_with_label_indexes(
    evaluator: Evaluator[Any, Any], svc_only: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = pool_rows(svc_only, 80)[::-1]
    result = _score(evaluator, svc_only, make_submission(rows))
    features = np.stack([svc_only.pool.features[svc_only.pool.row_of[item]] for item, _ in rows])
    labels = np.array([svc_only.config.labels.index(label) for _, label in rows])
    test = svc_only.test()
    expected = SVC(C=1.0, kernel="rbf", gamma="scale", random_state=0).fit(features, labels).predict(test.features)
    assert result.primary == float(np.mean(expected == test.labels))


def test_relabelling_pool_items_changes_the_score(
    evaluator: Evaluator[Any, Any], svc_only: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = pool_rows(svc_only, 100)
    clean = _score(evaluator, svc_only, make_submission(rows))
    scrambled = [[item, svc_only.config.labels[(index * 7) % 10]] for index, (item, _) in enumerate(rows)]
    assert _score(evaluator, svc_only, make_submission(scrambled)).primary < clean.primary - 0.3


def test_new_feature_rows_equal_to_pool_rows_score_like_the_pool_items(
    evaluator: Evaluator[Any, Any], svc_only: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = pool_rows(svc_only, 60)
    by_id = _score(evaluator, svc_only, make_submission(rows))
    header = ["item", *svc_only.pool.feature_names]
    copies = [
        [f"copy_{n}", *(repr(float(v)) for v in svc_only.pool.features[svc_only.pool.row_of[item]])]
        for n, (item, _) in enumerate(rows)
    ]
    features_csv = ",".join(header) + "\n" + "".join(",".join(row) + "\n" for row in copies)
    new_rows = [[f"copy_{n}", label] for n, (_, label) in enumerate(rows)]
    as_new = _score(evaluator, svc_only, make_submission(new_rows, {"features.csv": features_csv}))
    assert as_new.primary == by_id.primary
    assert as_new.details["n_new_items"] == 60


def test_the_details_count_items_and_hold_only_aggregates(
    evaluator: Evaluator[Any, Any], svc_only: TrainingTask, make_submission: MakeSubmission
) -> None:
    rows = pool_rows(svc_only, 50)
    result = _score(evaluator, svc_only, make_submission(rows))
    details = result.details
    assert (details["n_items"], details["n_pool_items"], details["n_new_items"], details["max_items"]) == (
        50,
        50,
        0,
        200,
    )
    assert sum(details["label_counts"].values()) == 50
    matrix = np.array(details["confusion"]["svc"])
    assert matrix.shape == (10, 10)
    assert matrix.sum() == len(svc_only.test().ids)
    assert np.trace(matrix) / matrix.sum() == result.primary
    titles = {chart["title"] for chart in details["charts"]}
    assert {"Test accuracy per model", "Submitted items per label", "Recall per label"} <= titles
    text = json.dumps(details)
    assert not any(test_id in text for test_id in svc_only.test().ids[:50])


def test_scoring_is_deterministic(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, make_submission: MakeSubmission
) -> None:
    path = make_submission(pool_rows(roman, 40))
    first, second = _score(evaluator, roman, path), _score(evaluator, roman, path)
    assert first.primary == second.primary
    assert first.metrics == second.metrics

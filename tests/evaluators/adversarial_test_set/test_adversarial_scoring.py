"""adversarial-test-set scoring: credit for confirmed items the suite gets wrong, pending new items, validated
labels, sharing among submissions (evaluate_all), order independence, suite sets; aggregates only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluators import EvaluationResult
from evaluators.adversarial_test_set.keys import item_key_of_features
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.adversarial_test_set.validation import AdversarialItems
from evaluators.base import CollectiveEvaluator
from tests.evaluators.adversarial_test_set.helpers import (
    FEATURES_CONFIG,
    MakeSubmission,
    copy_task,
    features_csv,
    png,
)
from tests.evaluators.training_set_creation.helpers import csv_text

DEEP_A = [0.0, 0.0, 4.0, 0.0]
"""Far inside class a's region: every model trained on the feature task predicts a."""
ALSO_A = [0.0, 0.0, 4.5, 0.0]


class Truth:
    """The hidden truth of the small Roman-numeral task, to build submissions with known outcomes."""

    def __init__(self, task: AdversarialTask) -> None:
        self.task = task
        self.human = task.human_labels()
        self.wrong = (task.pool_predictions() != self.human[np.newaxis, :]).sum(axis=0)
        self.used: set[int] = set()

    def rows(self, n_wrong: int, count: int) -> list[int]:
        """`count` unused pool rows that exactly `n_wrong` models mispredict."""
        found = [int(r) for r in np.flatnonzero(self.wrong == n_wrong) if int(r) not in self.used][:count]
        assert len(found) == count, f"the small task has too few items with {n_wrong} wrong models"
        self.used.update(found)
        return found

    def claim(self, row: int, right: bool = True) -> list[str]:
        labels = self.task.config.labels
        human = int(self.human[row])
        return [self.task.pool.ids[row], labels[human] if right else labels[(human + 1) % len(labels)]]


@pytest.fixture
def truth(roman: AdversarialTask) -> Truth:
    return Truth(roman)


def _parse(evaluator: CollectiveEvaluator[Any, Any], task: AdversarialTask, path: Path) -> AdversarialItems:
    parsed: AdversarialItems = evaluator.validate(task, path)
    return parsed


def _alone(evaluator: CollectiveEvaluator[Any, Any], task: AdversarialTask, path: Path) -> EvaluationResult:
    return evaluator.evaluate(task, _parse(evaluator, task, path))


def _validated_task(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path, decided: dict[str, str], **extra: Any
) -> AdversarialTask:
    """The feature task with `validated.csv` giving `decided` (key -> label, "" for no label) and extra files."""
    files = {"validated.csv": csv_text(["key", "label"], [[key, label] for key, label in decided.items()])}
    config = evaluator.validate_config({**FEATURES_CONFIG, **extra.pop("config", {})})
    task: AdversarialTask = evaluator.load_task(
        copy_task(features_dir, tmp_path / "task", config, files | extra), config
    )
    return task


def test_credit_is_the_share_of_wrong_models_when_the_claim_is_confirmed(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, truth: Truth, make_submission: MakeSubmission
) -> None:
    rows = [truth.claim(row) for n_wrong in (3, 2, 1, 0) for row in truth.rows(n_wrong, 1)]
    result = _alone(evaluator, roman, make_submission(rows))
    assert result.primary == pytest.approx(1 + 2 / 3 + 1 / 3, abs=1e-15)
    assert result.metrics == {
        "raw_credit": result.primary,
        "items_accepted": 4.0,
        "items_fooling": 2.0,
        "items_pending": 0.0,
    }
    assert result.details["provisional"] is False


def test_a_wrong_claim_earns_nothing_even_when_every_model_is_wrong(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, truth: Truth, make_submission: MakeSubmission
) -> None:
    rows = [truth.claim(row, right=False) for row in truth.rows(3, 2)] + [truth.claim(truth.rows(3, 1)[0])]
    result = _alone(evaluator, roman, make_submission(rows))
    assert result.primary == 1.0
    assert result.metrics["items_accepted"] == 1.0


def test_new_items_are_pending_until_validated_and_the_score_is_provisional(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, truth: Truth, make_submission: MakeSubmission
) -> None:
    rows = [truth.claim(truth.rows(3, 1)[0]), ["a.png", "v"], ["b.png", "x"]]
    result = _alone(evaluator, roman, make_submission(rows, {"a.png": png(1), "b.png": png(2)}))
    assert result.primary == 1.0
    assert result.metrics["items_pending"] == 2.0
    details = {key: value for key, value in result.details.items() if key != "charts"}
    assert details == {
        "n_items": 3,
        "items_new": 2,
        "items_pending": 2,
        "provisional": True,
        "items_accepted": 1,
        "items_fooling": 1,
        "items_shared": 0,
        "n_submissions_compared": 1,
        "suite": ["logreg", "svc", "mlp"],
    }
    [items_chart, credit_chart] = result.details["charts"]
    assert items_chart["title"] == "Your items"
    assert dict(zip(items_chart["x"], items_chart["y"], strict=True))["awaiting validation"] == 2.0
    assert credit_chart["title"] == "Credit"


def test_a_validated_new_item_earns_credit_when_its_label_is_the_claimed_one(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path, make_submission: MakeSubmission
) -> None:
    deep, also = item_key_of_features(DEEP_A), item_key_of_features(ALSO_A)
    task = _validated_task(evaluator, features_dir, tmp_path, {deep: "c", also: "b"})
    files = {"features.csv": features_csv([("deep", DEEP_A), ("also", ALSO_A)])}
    result = _alone(evaluator, task, make_submission([["deep", "c"], ["also", "c"]], files))
    # deep: claimed c, validated c, every model predicts a. also: claimed c, validated b: not accepted.
    assert result.primary == 1.0
    assert result.metrics == {"raw_credit": 1.0, "items_accepted": 1.0, "items_fooling": 1.0, "items_pending": 0.0}
    assert result.details["provisional"] is False


def test_an_empty_validated_label_makes_every_claim_wrong(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path, make_submission: MakeSubmission
) -> None:
    task = _validated_task(evaluator, features_dir, tmp_path, {item_key_of_features(DEEP_A): ""})
    files = {"features.csv": features_csv([("deep", DEEP_A)])}
    for claim in ("a", "b", "c"):
        result = _alone(evaluator, task, make_submission([["deep", claim]], files))
        assert (result.primary, result.metrics["items_accepted"], result.metrics["items_pending"]) == (0.0, 0.0, 0.0)


def test_credit_is_shared_by_the_same_claim_and_not_diluted_by_another(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path, make_submission: MakeSubmission
) -> None:
    task = _validated_task(evaluator, features_dir, tmp_path, {item_key_of_features(DEEP_A): "c"})
    # The same item under other names and row ids: the key is its values.
    first = make_submission([["deep", "c"]], {"features.csv": features_csv([("deep", DEEP_A)])})
    second = make_submission([["mine", "c"]], {"features.csv": features_csv([("mine", [0, 0, 4, 0])])})
    other_claim = make_submission([["x", "b"]], {"features.csv": features_csv([("x", DEEP_A)])})
    parsed = {name: _parse(evaluator, task, path) for name, path in (("A", first), ("B", second), ("C", other_claim))}
    results = evaluator.evaluate_all(task, parsed)
    assert {name: result.primary for name, result in results.items()} == {"A": 0.5, "B": 0.5, "C": 0.0}
    assert results["A"].metrics["raw_credit"] == 1.0
    assert results["A"].details["items_shared"] == 1
    assert results["A"].details["n_submissions_compared"] == 3
    assert evaluator.evaluate(task, parsed["A"]).primary == 1.0


def test_pool_items_are_shared_by_id(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, truth: Truth, make_submission: MakeSubmission
) -> None:
    shared, own = truth.rows(3, 2)
    first = _parse(evaluator, roman, make_submission([truth.claim(shared), truth.claim(own)]))
    second = _parse(evaluator, roman, make_submission([truth.claim(shared)]))
    results = evaluator.evaluate_all(roman, {"one": first, "two": second})
    assert (results["one"].primary, results["two"].primary) == (1.5, 0.5)


def test_results_do_not_depend_on_row_order_nor_on_mapping_order(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, truth: Truth, make_submission: MakeSubmission
) -> None:
    rows = [truth.claim(row) for n_wrong in (3, 2, 1) for row in truth.rows(n_wrong, 2)]
    images = {"a.png": png(1), "b.png": png(2)}
    rows += [["a.png", "i"], ["b.png", "ii"]]
    forward = _parse(evaluator, roman, make_submission(rows, images))
    backward = _parse(evaluator, roman, make_submission(rows[::-1], images))
    partial = _parse(evaluator, roman, make_submission(rows[1:4] + rows[-1:], {"b.png": png(2)}))
    one = evaluator.evaluate_all(roman, {"f": forward, "p": partial})
    two = evaluator.evaluate_all(roman, {"p": partial, "b": backward})
    assert (one["f"].primary, one["f"].metrics, one["f"].details) == (
        two["b"].primary,
        two["b"].metrics,
        two["b"].details,
    )
    assert (one["p"].primary, one["p"].metrics) == (two["p"].primary, two["p"].metrics)
    assert evaluator.canonical(roman, forward) == evaluator.canonical(roman, backward)


def test_no_submission_gives_no_result(evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask) -> None:
    progress: list[float] = []
    assert evaluator.evaluate_all(roman, {}, lambda fraction, message: progress.append(fraction)) == {}
    assert progress[-1] == 1.0


def test_suite_sets_add_recipe_models_that_change_the_predictions_and_the_credit(
    evaluator: CollectiveEvaluator[Any, Any], features_dir: Path, tmp_path: Path, make_submission: MakeSubmission
) -> None:
    # A suite set that calls class a's region c: its model is right about the deep item the others get wrong.
    flipped = (features_dir / "train" / "items.csv").read_text(encoding="utf-8")
    flipped = flipped.replace(",a,", ",X,").replace(",c,", ",a,").replace(",X,", ",c,")
    task = _validated_task(
        evaluator,
        features_dir,
        tmp_path,
        {item_key_of_features(DEEP_A): "c"},
        config={"suite_sets": ["flipped"], "suite_recipe": "svc"},
        **{"suite/flipped/items.csv": flipped},
    )
    assert task.suite().names == ("logreg", "svc", "mlp", "svc@flipped")
    predictions = task.pool_predictions()
    assert predictions.shape == (4, len(task.pool.ids))
    assert not np.array_equal(predictions[3], predictions[1])
    result = _alone(
        evaluator, task, make_submission([["deep", "c"]], {"features.csv": features_csv([("deep", DEEP_A)])})
    )
    assert result.primary == 0.75
    assert result.details["suite"] == ["logreg", "svc", "mlp", "svc@flipped"]


def test_the_details_name_no_pool_item(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, truth: Truth, make_submission: MakeSubmission
) -> None:
    rows = [truth.claim(row) for row in truth.rows(3, 2)] + [truth.claim(row, right=False) for row in truth.rows(1, 2)]
    result = _alone(evaluator, roman, make_submission(rows))
    shown = json.dumps(result.details)
    assert not [item for item in roman.pool.ids if item in shown]


def test_the_canonical_form_is_the_claim_per_key(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> None:
    one = _parse(evaluator, roman, make_submission([[roman.pool.ids[0], "v"], ["a.png", "x"]], {"a.png": png(5)}))
    two = _parse(
        evaluator, roman, make_submission([["sub/b.png", "x"], [roman.pool.ids[0], "v"]], {"sub/b.png": png(5)})
    )
    form = evaluator.canonical(roman, one)
    assert form == {roman.pool.ids[0]: "v", "new:" + hashlib.sha256(png(5)).hexdigest(): "x"}
    assert evaluator.canonical(roman, two) == form

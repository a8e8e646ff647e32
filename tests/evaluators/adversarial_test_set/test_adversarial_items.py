"""adversarial-test-set: the plain functions the platform calls (verdicts, payloads, keys, predictions)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import evaluators.adversarial_test_set as adversarial
from evaluators import EvaluatorError
from evaluators.adversarial_test_set import ItemVerdict
from evaluators.adversarial_test_set.task import AdversarialTask
from evaluators.adversarial_test_set.validation import AdversarialItems
from evaluators.base import CollectiveEvaluator
from evaluators.training_set_creation.images import image_features
from tests.evaluators.adversarial_test_set.helpers import FEATURE_NAMES, MakeSubmission, features_csv, png


def _parse(evaluator: CollectiveEvaluator[Any, Any], task: AdversarialTask, path: Path) -> AdversarialItems:
    parsed: AdversarialItems = evaluator.validate(task, path)
    return parsed


@pytest.fixture
def mixed(
    evaluator: CollectiveEvaluator[Any, Any], roman: AdversarialTask, make_submission: MakeSubmission
) -> tuple[Path, AdversarialItems]:
    """A pool item claimed v and a new image claimed x."""
    directory = make_submission([[roman.pool.ids[3], "v"], ["drawn/a.png", "x"]], {"drawn/a.png": png(7)})
    return directory, _parse(evaluator, roman, directory)


def test_item_verdicts_give_the_suites_predictions_of_every_item_in_file_order(
    roman: AdversarialTask, mixed: tuple[Path, AdversarialItems]
) -> None:
    verdicts = adversarial.item_verdicts(roman, mixed[1])
    labels = roman.config.labels
    pool_predictions = [labels[int(p)] for p in roman.pool_predictions()[:, 3]]
    assert verdicts[0] == ItemVerdict(
        key=roman.pool.ids[3],
        kind="pool",
        claimed="v",
        source=roman.pool.ids[3],
        predictions=dict(zip(["logreg", "svc", "mlp"], pool_predictions, strict=True)),
        fooled=sum(1 for label in pool_predictions if label != "v") >= 2,
        line=2,
    )
    new = verdicts[1]
    assert (new.key, new.kind, new.claimed, new.source, new.line) == (
        "new:" + hashlib.sha256(png(7)).hexdigest(),
        "new",
        "x",
        "drawn/a.png",
        3,
    )
    expected = adversarial.predict_items(roman, image_features(mixed[0] / "drawn" / "a.png", 32)[np.newaxis, :])
    assert list(new.predictions.values()) == [labels[int(p)] for p in expected[:, 0]]
    assert new.fooled == (sum(1 for label in new.predictions.values() if label != "x") >= 2)


def test_new_item_payload_gives_the_png_bytes_as_submitted(
    roman: AdversarialTask, mixed: tuple[Path, AdversarialItems]
) -> None:
    key = "new:" + hashlib.sha256(png(7)).hexdigest()
    payload = adversarial.new_item_payload(roman, mixed[1], key)
    assert payload == png(7)
    assert np.array_equal(adversarial.vector_of_payload(roman, payload), mixed[1].new_vectors[0])


def test_new_item_payload_refuses_a_pool_id_and_a_changed_file(
    roman: AdversarialTask, mixed: tuple[Path, AdversarialItems]
) -> None:
    with pytest.raises(KeyError):
        adversarial.new_item_payload(roman, mixed[1], roman.pool.ids[3])
    (mixed[0] / "drawn" / "a.png").write_bytes(png(8))
    changed = "drawn/a.png: the file changed after the submission was validated"
    with pytest.raises(EvaluatorError, match=re.escape(changed)):
        adversarial.new_item_payload(roman, mixed[1], "new:" + hashlib.sha256(png(7)).hexdigest())


def test_a_feature_items_payload_is_its_canonical_text_and_gives_its_key_and_vector(
    evaluator: CollectiveEvaluator[Any, Any], features: AdversarialTask, make_submission: MakeSubmission
) -> None:
    values = [1, 0.1, -2.5, 1e-05]
    parsed = _parse(evaluator, features, make_submission([["x", "a"]], {"features.csv": features_csv([("x", values)])}))
    key = adversarial.item_key_of_features(values)
    payload = adversarial.new_item_payload(features, parsed, key)
    assert payload == b"1.0,0.1,-2.5,1e-05"
    assert key == "new:" + hashlib.sha256(payload).hexdigest() == parsed.items[0].key
    assert np.array_equal(adversarial.vector_of_payload(features, payload), values)
    assert adversarial.feature_names(features) == list(FEATURE_NAMES)


def test_vector_of_payload_refuses_what_the_task_cannot_use(roman: AdversarialTask, features: AdversarialTask) -> None:
    with pytest.raises(ValueError, match="not a usable PNG image: not a PNG image"):
        adversarial.vector_of_payload(roman, b"1.0,2.0")
    with pytest.raises(ValueError, match="must hold 4 finite numbers"):
        adversarial.vector_of_payload(features, b"1.0,2.0")
    with pytest.raises(ValueError, match="not a feature row"):
        adversarial.vector_of_payload(features, b"1.0,x,2,3")


def test_predict_items_agrees_with_the_cached_pool_predictions(roman: AdversarialTask) -> None:
    predicted = adversarial.predict_items(roman, roman.pool.features[:7])
    assert predicted.shape == (3, 7)
    assert np.array_equal(predicted, roman.pool_predictions()[:, :7])
    with pytest.raises(ValueError, match=r"expected vectors of shape \(n, 1024\)"):
        adversarial.predict_items(roman, roman.pool.features[:2, :10])


def test_suite_names_pool_paths_and_feature_names(
    roman: AdversarialTask, roman_dir: Path, features: AdversarialTask
) -> None:
    assert adversarial.suite_names(roman) == ["logreg", "svc", "mlp"]
    assert adversarial.pool_image_path(roman, "p00002") == roman_dir / "pool" / "images" / "p00002.png"
    assert adversarial.pool_image_path(roman, "p00002").is_file()
    assert adversarial.feature_names(roman) == []
    with pytest.raises(KeyError):
        adversarial.pool_image_path(roman, "nope")
    with pytest.raises(ValueError, match="a feature task's pool has no images"):
        adversarial.pool_image_path(features, features.pool.ids[0])


def test_item_keys_hash_the_canonical_bytes() -> None:
    assert adversarial.item_key_of_png(b"\x89PNG") == "new:" + hashlib.sha256(b"\x89PNG").hexdigest()
    assert adversarial.item_key_of_features(np.array([0.5, -0.0, 3])) == (
        "new:" + hashlib.sha256(b"0.5,-0.0,3.0").hexdigest()
    )

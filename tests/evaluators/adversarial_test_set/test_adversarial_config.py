"""adversarial-test-set: the config (defaults, every rule, the refused private split)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from evaluators import TaskConfigError
from evaluators.adversarial_test_set.config import SPLIT_REFUSAL, AdversarialConfig
from evaluators.base import CollectiveEvaluator
from tests.evaluators.adversarial_test_set.helpers import FEATURES_CONFIG

MINIMAL = {"labels": ["a", "b"], "max_items": 5}


def test_defaults_are_filled_in_and_the_result_is_a_fixed_point(evaluator: CollectiveEvaluator[Any, Any]) -> None:
    normalised = evaluator.validate_config(MINIMAL)
    assert normalised == {
        "labels": ["a", "b"],
        "max_items": 5,
        "models": ["logreg", "svc", "mlp"],
        "input": "image",
        "allow_new_items": True,
        "suite_sets": [],
        "suite_recipe": "logreg",
        "image_size": 32,
    }
    assert evaluator.validate_config(normalised) == normalised


def test_a_feature_task_has_no_image_size(evaluator: CollectiveEvaluator[Any, Any]) -> None:
    assert "image_size" not in evaluator.validate_config(FEATURES_CONFIG)


def test_suite_sets_and_recipe_are_kept_and_name_the_suites_models() -> None:
    config = AdversarialConfig.from_mapping(
        {**MINIMAL, "models": ["svc"], "suite_sets": ["team-a", "r2_b"], "suite_recipe": "mlp"}
    )
    assert config.suite_names() == ("svc", "mlp@team-a", "mlp@r2_b")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": ["a"]}, "config.labels must be a list of 2 to 1000 class labels"),
        ({"labels": ["a", "a"]}, "config.labels lists a label twice"),
        ({"labels": ["a", "b,c"]}, "config.labels[1]: 'b,c' holds a comma, quote or control character"),
        ({"max_items": 0}, "config.max_items must be an integer from 1 to 10000, got 0"),
        ({"max_items": 10_001}, "config.max_items must be an integer from 1 to 10000, got 10001"),
        ({"max_items": True}, "config.max_items must be an integer from 1 to 10000, got True"),
        ({"max_items": None}, "config.max_items must be an integer from 1 to 10000, got None"),
        ({"models": []}, "config.models must be a non-empty list of logreg, svc, mlp"),
        ({"models": ["svc", "svc"]}, "config.models lists a model twice"),
        ({"input": "audio"}, "config.input must be one of image, features, got 'audio'"),
        ({"input": "features", "image_size": 8}, "config.image_size applies only to input: image"),
        ({"image_size": 3}, "config.image_size must be an integer from 4 to 256, got 3"),
        ({"allow_new_items": "yes"}, "config.allow_new_items must be true or false, got 'yes'"),
        ({"suite_sets": "team-a"}, "config.suite_sets must be a list of names (folders of suite/)"),
        ({"suite_sets": ["Team-A"]}, "config.suite_sets: 'Team-A' does not match [a-z0-9][a-z0-9_-]{0,63}"),
        ({"suite_sets": ["../x"]}, "config.suite_sets: '../x' does not match"),
        ({"suite_sets": ["a" * 65]}, "does not match"),
        ({"suite_sets": ["a", "a"]}, "config.suite_sets lists a name twice"),
        ({"suite_recipe": "knn"}, "config.suite_recipe must be one of logreg, svc, mlp, got 'knn'"),
        ({"suite_recipe": ["logreg"]}, "config.suite_recipe must be one of logreg, svc, mlp, got ['logreg']"),
        ({"n_items": 3}, "unexpected config key(s) n_items; allowed: labels, max_items"),
    ],
)
def test_a_bad_config_is_refused_naming_the_key_and_the_rule(
    evaluator: CollectiveEvaluator[Any, Any], change: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaskConfigError, match=re.escape(message)):
        evaluator.validate_config({**MINIMAL, **change})


def test_a_private_split_is_refused_with_the_benchmarks_reason(evaluator: CollectiveEvaluator[Any, Any]) -> None:
    assert evaluator.split_refusal == SPLIT_REFUSAL
    with pytest.raises(TaskConfigError) as raised:
        evaluator.validate_config({**MINIMAL, "private_fraction": 0.3, "split_seed": 12345})
    assert str(raised.value) == f"config.private_fraction must be 0 for this benchmark: {SPLIT_REFUSAL}"


def test_a_withheld_split_is_refused_too(evaluator: CollectiveEvaluator[Any, Any]) -> None:
    with pytest.raises(TaskConfigError, match=re.escape(SPLIT_REFUSAL)):
        evaluator.validate_config({**MINIMAL, "private_fraction": 0.3, "split_seed": None})


def test_a_zero_private_fraction_is_accepted_and_left_out(evaluator: CollectiveEvaluator[Any, Any]) -> None:
    normalised = evaluator.validate_config({**MINIMAL, "private_fraction": 0, "split_seed": 7})
    assert "private_fraction" not in normalised
    assert "split_seed" not in normalised

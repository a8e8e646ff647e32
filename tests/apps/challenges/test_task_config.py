"""A task's configuration as the platform takes it: the evaluator's rules, and no private split until the
platform ranks private scores."""

from __future__ import annotations

import pytest

from apps.challenges.services import task_config_validate
from apps.core.errors import InvalidInput


def test_a_config_is_normalised_by_its_evaluator() -> None:
    assert task_config_validate(evaluator_slug="selection-speech", config={"language": "en", "train_size": 25}) == {
        "language": "en",
        "train_size": 25,
    }


def test_a_private_split_is_refused_with_what_to_do_instead() -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": 0.5, "split_seed": 1}

    with pytest.raises(InvalidInput, match=r"config.private_fraction: the platform does not rank private splits yet"):
        task_config_validate(evaluator_slug="selection-speech", config=config)


def test_a_fraction_of_zero_is_no_split_and_is_accepted() -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": 0}

    assert task_config_validate(evaluator_slug="selection-speech", config=config) == {
        "language": "en",
        "train_size": 25,
    }

"""A task's configuration as the platform takes it: the evaluator's rules, a private split on the task, none on
its concealed task."""

from __future__ import annotations

import pytest

from apps.challenges.services import task_config_validate
from apps.core.errors import InvalidInput


def test_a_config_is_normalised_by_its_evaluator() -> None:
    assert task_config_validate(evaluator_slug="selection-speech", config={"language": "en", "train_size": 25}) == {
        "language": "en",
        "train_size": 25,
    }


def test_a_private_split_is_kept_with_its_seed() -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": 0.5, "split_seed": 1}

    assert task_config_validate(evaluator_slug="selection-speech", config=config) == config


def test_a_private_split_without_a_seed_names_the_key() -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": 0.5}

    with pytest.raises(InvalidInput, match=r"config.split_seed is required with a private fraction"):
        task_config_validate(evaluator_slug="selection-speech", config=config)


@pytest.mark.parametrize("fraction", [1, 1.5, -0.1, "half", True])
def test_a_fraction_outside_the_range_names_the_rule(fraction: object) -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": fraction, "split_seed": 1}

    with pytest.raises(InvalidInput, match=r"config.private_fraction must be"):
        task_config_validate(evaluator_slug="selection-speech", config=config)


def test_a_valuation_task_refuses_per_pair_errors_beside_a_split() -> None:
    config = {"pairs": ["a", "b", "c", "d"], "pair_errors": True, "private_fraction": 0.5, "split_seed": 1}

    with pytest.raises(InvalidInput, match=r"pair_errors"):
        task_config_validate(evaluator_slug="valuation", config=config)


def test_a_fraction_of_zero_is_no_split_and_is_accepted() -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": 0}

    assert task_config_validate(evaluator_slug="selection-speech", config=config) == {
        "language": "en",
        "train_size": 25,
    }


def test_a_withheld_seed_is_what_participants_get_and_the_platform_refuses_it() -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": 0.5, "split_seed": None}

    with pytest.raises(InvalidInput, match=r"config.split_seed is null: the platform needs the seed"):
        task_config_validate(evaluator_slug="selection-speech", config=config)


def test_a_concealed_task_takes_no_split() -> None:
    config = {"language": "en", "train_size": 25, "private_fraction": 0.5, "split_seed": 1}

    with pytest.raises(InvalidInput, match=r"config.private_fraction means nothing on a concealed task"):
        task_config_validate(evaluator_slug="selection-speech", config=config, concealed=True)

"""The config of an adversarial-test-set task (`AdversarialConfig`): validated once, then read everywhere."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evaluators.base import TaskConfigError
from evaluators.splits import refuse_split, split_and_rest
from evaluators.training_set_creation.models import MODEL_NAMES
from evaluators.training_set_creation.task import check_config_keys, config_labels, config_models, item_input

MAX_ITEMS_LIMIT = 10_000
SUITE_SET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
SPLIT_REFUSAL = (
    "the ratchet's held-out data are its next rounds, and new items have no ground truth to split on until "
    "humans validate them"
)
_CONFIG_KEYS = ("labels", "max_items", "models", "input", "image_size", "allow_new_items", "suite_sets", "suite_recipe")


def _int_in(config: Mapping[str, Any], key: str, low: int, high: int, default: int | None) -> int:
    value = config.get(key, default)
    # bool is an int subclass; `max_items: true` is a typo, not a limit of 1.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TaskConfigError(f"config.{key} must be an integer from {low} to {high}, got {value!r}")
    return value


def _suite_sets(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or any(not isinstance(name, str) for name in value):
        raise TaskConfigError("config.suite_sets must be a list of names (folders of suite/)")
    for name in value:
        if SUITE_SET_NAME.fullmatch(name) is None:
            raise TaskConfigError(f"config.suite_sets: {name!r} does not match {SUITE_SET_NAME.pattern}")
    if len(set(value)) != len(value):
        raise TaskConfigError("config.suite_sets lists a name twice")
    return tuple(value)


def _suite_recipe(value: Any) -> str:
    if value not in MODEL_NAMES:
        raise TaskConfigError(f"config.suite_recipe must be one of {', '.join(MODEL_NAMES)}, got {value!r}")
    return str(value)


@dataclass(frozen=True)
class AdversarialConfig:
    """A validated config. `image_size` is None for feature tasks."""

    labels: tuple[str, ...]
    max_items: int
    models: tuple[str, ...]
    input: str
    image_size: int | None
    allow_new_items: bool
    suite_sets: tuple[str, ...]
    suite_recipe: str

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> AdversarialConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule (a private split too)."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        refuse_split(config, SPLIT_REFUSAL)
        _, config = split_and_rest(config)
        check_config_keys(config, _CONFIG_KEYS)
        items = item_input(config)
        return cls(
            labels=config_labels(config.get("labels")),
            max_items=_int_in(config, "max_items", 1, MAX_ITEMS_LIMIT, None),
            models=config_models(config.get("models")),
            input=items.input,
            image_size=items.image_size,
            allow_new_items=items.allow_new_items,
            suite_sets=_suite_sets(config.get("suite_sets")),
            suite_recipe=_suite_recipe(config.get("suite_recipe", "logreg")),
        )

    def as_dict(self) -> dict[str, Any]:
        """The normalised config (defaults filled in), as the platform stores it."""
        config: dict[str, Any] = {
            "labels": list(self.labels),
            "max_items": self.max_items,
            "models": list(self.models),
            "input": self.input,
            "allow_new_items": self.allow_new_items,
            "suite_sets": list(self.suite_sets),
            "suite_recipe": self.suite_recipe,
        }
        if self.image_size is not None:
            config["image_size"] = self.image_size
        return config

    def suite_names(self) -> tuple[str, ...]:
        """The names of the suite's models, in suite order: `models`, then `<suite_recipe>@<name>` for each name of
        `suite_sets`."""
        return (*self.models, *(f"{self.suite_recipe}@{name}" for name in self.suite_sets))

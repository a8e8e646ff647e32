"""The loaded valuation task: config, every pair's public tables, lazily the hidden actual accuracies."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from evaluators.base import TaskConfigError
from evaluators.splits import PRIVATE_FRACTION_KEY, SplitConfig, partition, split_and_rest
from evaluators.valuation.data import (
    A_FILE,
    B_FILE,
    B_LABELS_FILE,
    Table,
    held_out_path,
    pair_dir,
    read_b_labels,
    read_table,
)
from evaluators.valuation.model import accuracy_with_b

MAX_PAIRS = 1000
# A pair names a directory and appears in submissions.
PAIR_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CONFIG_KEYS = frozenset({"pairs", "pair_errors"})


def _pairs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_PAIRS:
        raise TaskConfigError(f"config.pairs must be a list of 1 to {MAX_PAIRS} pair names, got {value!r}")
    names: list[str] = []
    for item in value:
        name = str(item) if isinstance(item, int) and not isinstance(item, bool) and item >= 0 else item
        if not isinstance(name, str) or not PAIR_PATTERN.fullmatch(name) or ".." in name:
            raise TaskConfigError(
                f"config.pairs: {item!r} is not a usable pair name (letters, digits, '_', '-' and '.'; it names "
                "a directory)"
            )
        if name in names:
            raise TaskConfigError(f"config.pairs: {name!r} is listed twice")
        names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class ValuationConfig:
    """A validated config: the pairs (in display order), whether per-pair errors are reported, and the split of
    the pairs into public and private ones."""

    pairs: tuple[str, ...]
    pair_errors: bool = False
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ValuationConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(
                f"unexpected config key(s) {', '.join(unexpected)}; allowed: pairs, pair_errors, private_fraction, "
                "split_seed"
            )
        pair_errors = config.get("pair_errors", False)
        if not isinstance(pair_errors, bool):
            raise TaskConfigError(f"config.pair_errors must be true or false, got {pair_errors!r}")
        pairs = _pairs(config.get("pairs"))
        _check_split(split, pairs, pair_errors)
        return cls(pairs=pairs, pair_errors=pair_errors, split=split)

    def as_dict(self) -> dict[str, Any]:
        """The normalised config, as stored by the platform (the split keys only when there is a split)."""
        return {"pairs": list(self.pairs), "pair_errors": self.pair_errors} | self.split.as_dict()


def _check_split(split: SplitConfig, pairs: tuple[str, ...], pair_errors: bool) -> None:
    """A split of the pairs needs a pair on each side, and no per-pair errors (see the README)."""
    if not split.enabled:
        return
    if len(pairs) < 2:
        raise TaskConfigError(
            f"config.{PRIVATE_FRACTION_KEY} splits the pairs into public and private ones, so config.pairs needs "
            f"at least 2 pairs, got {len(pairs)}"
        )
    if pair_errors:
        raise TaskConfigError(
            f"config.pair_errors must be false with config.{PRIVATE_FRACTION_KEY} above 0: a pair's error gives "
            "its actual accuracy away, and the errors shown would tell which pairs are private"
        )


def private_pairs(config: ValuationConfig) -> tuple[bool, ...]:
    """For each pair of the config (in its order), whether it is private: the split's units are the pairs,
    by name, unstratified (the mean absolute error needs no class on either side)."""
    return tuple(partition(config.pairs, split=config.split))


@dataclass(frozen=True)
class PublicPair:
    """What participants get of a pair: A (labelled) and B (features only)."""

    name: str
    a: Table
    b: Table


class ValuationTask:
    """Everything `validate` and `evaluate` need, loaded once and shared read-only by many submissions.

    The actual accuracies do not depend on any submission (the data and the model are fixed), so they are
    computed once, on first use, from the hidden files (thread-safe).
    """

    def __init__(self, *, task_dir: Path, config: ValuationConfig, pairs: dict[str, PublicPair]) -> None:
        self.task_dir = task_dir
        self.config = config
        self.pairs = pairs
        # Public inputs only (the pair names and the seed): computed here once, never shown to participants.
        self.private = private_pairs(config)
        self._actual: dict[str, float] | None = None
        self._lock = threading.Lock()

    def _actual_accuracy(self, pair: PublicPair) -> float:
        directory = pair_dir(self.task_dir, pair.name)
        b_labels = read_b_labels(directory / B_LABELS_FILE, len(pair.b.features))
        test = read_table(held_out_path(self.task_dir, pair.name), labelled=True, columns=pair.a.columns)
        a_labels = pair.a.label_array()
        if len(set(a_labels.tolist()) | set(b_labels.tolist())) < 2:
            raise TaskConfigError(f"{directory}: A and B together hold one class only; the model cannot be trained")
        return accuracy_with_b(pair.a.features, a_labels, pair.b.features, b_labels, test.features, test.label_array())

    def actual_accuracies(self) -> dict[str, float]:
        """pair -> test accuracy of the fixed model trained on A + B. Hidden: never show these to participants."""
        with self._lock:
            if self._actual is None:
                # Small fits: BLAS threads only add wake-up costs, and do not change the results.
                with threadpool_limits(limits=1, user_api="blas"):
                    self._actual = {name: self._actual_accuracy(pair) for name, pair in self.pairs.items()}
            return self._actual

    def problems(self) -> list[str]:
        """What an organizer must fix, with every file present (see `Evaluator.check_task`)."""
        try:
            self.actual_accuracies()
        except TaskConfigError as exc:
            return [str(exc)]
        return []


def _public_pair(task_dir: Path, name: str) -> PublicPair:
    directory = pair_dir(task_dir, name)
    a = read_table(directory / A_FILE, labelled=True)
    return PublicPair(name=name, a=a, b=read_table(directory / B_FILE, labelled=False, columns=a.columns))


def load_valuation_task(task_dir: Path, config: ValuationConfig) -> ValuationTask:
    """Load the public side of every pair (A and B); raise `TaskConfigError` on missing or malformed files."""
    pairs = {name: _public_pair(task_dir, name) for name in config.pairs}
    return ValuationTask(task_dir=task_dir, config=config, pairs=pairs)

"""The loaded selection-vision task: config, the candidate pool (vectors + ImageID index), lazily the test sets."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators.base import TaskConfigError
from evaluators.selection_vision.cache import PoolVectors, load_pool_vectors
from evaluators.selection_vision.data import (
    POOL_FILE,
    HeldOutSet,
    ImageIndex,
    example_set_path,
    held_out_path,
    read_example_ids,
    read_pool_ids,
    read_test_ids,
    read_test_set,
)
from evaluators.splits import RowUnits, SplitConfig, row_units, split_and_rest, split_problems

DEFAULT_MAX_PER_CONCEPT = 1000
MAX_MAX_PER_CONCEPT = 1_000_000
MAX_CONCEPTS = 100
# A concept names files (<Concept>.csv, alpha_test_set_<Concept>_256.parquet): letters, digits, _ and -.
CONCEPT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_CONFIG_KEYS = frozenset({"concepts", "max_per_concept"})


def _concepts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_CONCEPTS:
        raise TaskConfigError(f"config.concepts must be a list of 1 to {MAX_CONCEPTS} concept names, got {value!r}")
    folded: set[str] = set()
    for name in value:
        if not isinstance(name, str) or not CONCEPT_PATTERN.fullmatch(name):
            raise TaskConfigError(
                f"config.concepts: {name!r} is not a usable concept name (letters, digits, '_' and '-', "
                "starting with a letter or digit; it names files)"
            )
        # Case-insensitive file systems would merge Hawk.csv and hawk.csv.
        if name.casefold() in folded:
            raise TaskConfigError(f"config.concepts: {name!r} is listed twice (names are compared ignoring case)")
        folded.add(name.casefold())
    return tuple(value)


@dataclass(frozen=True)
class VisionConfig:
    """A validated config: the concepts (in leaderboard order), the row limit per concept and the
    public/private split of the test images (`private_fraction`, `split_seed`; none by default)."""

    concepts: tuple[str, ...]
    max_per_concept: int = DEFAULT_MAX_PER_CONCEPT
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> VisionConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(
                f"unexpected config key(s) {', '.join(unexpected)}; allowed: concepts, max_per_concept, "
                "private_fraction, split_seed"
            )
        limit = config.get("max_per_concept", DEFAULT_MAX_PER_CONCEPT)
        # bool is an int subclass; `max_per_concept: true` is a typo, not a limit of 1.
        if isinstance(limit, bool) or not isinstance(limit, int) or not 2 <= limit <= MAX_MAX_PER_CONCEPT:
            raise TaskConfigError(
                f"config.max_per_concept must be an integer from 2 to {MAX_MAX_PER_CONCEPT} (DataPerf: 1000), "
                f"got {limit!r}"
            )
        return cls(concepts=_concepts(config.get("concepts")), max_per_concept=limit, split=split)

    def as_dict(self) -> dict[str, Any]:
        """The normalised config, as stored by the platform (the split keys only when there is a split)."""
        return {"concepts": list(self.concepts), "max_per_concept": self.max_per_concept, **self.split.as_dict()}


def concept_units(concept: str, image_ids: list[str], labels: list[int]) -> RowUnits:
    """The units of a concept's split: its distinct test images, "<Concept>/<ImageID>", stratified by the
    label (0 or 1) of the image's first row. An image listed twice is one unit, on one side."""
    return row_units([f"{concept}/{image_id}" for image_id in image_ids], labels)


class VisionTask:
    """Everything `validate` and `evaluate` need, loaded once and shared read-only by many submissions.

    `pool` is the (rows, dim) matrix of the candidate pool, float32 when the file holds float32 values and
    float64 otherwise, in memory or read from the cache file (`cache.CachedPool`): gather rows with
    `pool[rows]` and widen them to float64 to fit; and
    `index` maps an ImageID to its row. The test sets (hidden) are read on first use by `test_set()`, so
    that validation works on a copy of the task holding only the public files.
    """

    def __init__(self, *, task_dir: Path, config: VisionConfig, pool: PoolVectors, index: ImageIndex) -> None:
        self.task_dir = task_dir
        self.config = config
        self.pool = pool
        self.index = index
        self._test_sets: dict[str, HeldOutSet] = {}
        self._lock = threading.Lock()
        self._private_rows: dict[str, tuple[bool, ...]] = {}

    @property
    def dim(self) -> int:
        """The embedding length."""
        return int(self.pool.shape[1])

    def test_set(self, concept: str) -> HeldOutSet:
        """The hidden test set of `concept`, read once (thread-safe); `TaskConfigError` if unusable."""
        with self._lock:
            found = self._test_sets.get(concept)
            if found is None:
                path = held_out_path(self.task_dir, concept)
                found = read_test_set(path)
                if found.features.shape[1] != self.dim:
                    raise TaskConfigError(
                        f"{path}: embeddings have {found.features.shape[1]} values, the pool's have {self.dim}"
                    )
                self._test_sets[concept] = found
            return found

    def units(self, concept: str) -> RowUnits:
        """The split units of a concept's test set (reads its ImageIDs: hidden data)."""
        labels = self.test_set(concept).labels
        ids = read_test_ids(held_out_path(self.task_dir, concept), len(labels))
        return concept_units(concept, ids, labels.tolist())

    def private_rows(self, concept: str) -> tuple[bool, ...]:
        """For each test row of `concept`, whether it is private (all False without a split). Hidden data:
        never shown. Computed on first use; racing threads compute the same tuple, so caching needs no lock."""
        found = self._private_rows.get(concept)
        if found is None:
            if not self.config.split.enabled:
                found = (False,) * len(self.test_set(concept).labels)
            else:
                found = self.units(concept).private_rows(self.config.split)
            self._private_rows[concept] = found
        return found

    def problems(self) -> list[str]:
        """What an organizer must fix, with every file present (see `Evaluator.check_task`)."""
        found: list[str] = []
        for concept in self.config.concepts:
            try:
                labels = self.test_set(concept).labels
                found += self._split_problems(concept)
            except TaskConfigError as exc:
                found.append(str(exc))
                continue
            if labels.min() == labels.max():
                found.append(
                    f"{held_out_path(self.task_dir, concept)}: every test row has label {int(labels[0])}; "
                    "F1 needs positives and negatives"
                )
            examples = example_set_path(self.task_dir, concept)
            if examples.exists():
                try:
                    read_example_ids(examples)
                except TaskConfigError as exc:
                    found.append(str(exc))
        return found

    def _split_problems(self, concept: str) -> list[str]:
        if not self.config.split.enabled:
            return []
        units = self.units(concept)
        problems = split_problems(units.ids, split=self.config.split, strata=units.strata, unit="test image")
        return [f"{held_out_path(self.task_dir, concept)}: {problem}" for problem in problems]


def load_vision_task(task_dir: Path, config: VisionConfig) -> VisionTask:
    """Load the public side of a task (the pool); raise `TaskConfigError` on a missing or malformed pool."""
    pool_path = task_dir / POOL_FILE
    index = read_pool_ids(pool_path)
    pool = load_pool_vectors(pool_path, len(index))
    if len(pool) != len(index):
        raise TaskConfigError(f"{pool_path}: {len(index)} ImageIDs but {len(pool)} embeddings")
    return VisionTask(task_dir=task_dir, config=config, pool=pool, index=index)

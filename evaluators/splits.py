"""Public and private splits of a task's evaluation units: what the private leaderboard is ranked on.

A task's config may hold `private_fraction` (0 <= f < 1, default 0: no private split) and `split_seed` (an
integer, default 0). Each evaluator declares the units its metric is computed over (the evaluation clips, the
test rows, ...) and, where a metric needs every class on both sides, a stratum per unit (its label). The
partition is a pure function of the seed and the units' ids: within each stratum, units are ordered by
SHA-256 of (seed, id) and the first `private_count` of them are private. It is therefore the same offline and
on the platform, in every process and under every hash seed, and it does not depend on the order the units
were read in.

Which units are private is hidden data: an evaluator never puts it in `details` outside `details["sealed"]`.
No numpy here (`evaluators/__init__.py` must load without it); masks are lists of booleans.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evaluators.base import SplitScore, TaskConfigError

PRIVATE_FRACTION_KEY = "private_fraction"
SPLIT_SEED_KEY = "split_seed"
SPLIT_KEYS = (PRIVATE_FRACTION_KEY, SPLIT_SEED_KEY)
PUBLIC = "public"
PRIVATE = "private"


@dataclass(frozen=True)
class SplitConfig:
    """The validated split settings of a task."""

    private_fraction: float = 0.0
    seed: int = 0
    withheld: bool = False
    """The config says there is a private part but not where (`split_seed: null`, what participants get from
    `participant_config`): offline, the whole evaluation set is scored, as the reference defines it."""

    @property
    def enabled(self) -> bool:
        """Whether both parts are scored: a private fraction and its seed."""
        return self.private_fraction > 0 and not self.withheld

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SplitConfig:
        """Read `private_fraction` and `split_seed` from a raw config (other keys are ignored); raise
        `TaskConfigError` naming the key and the rule."""
        fraction = config.get(PRIVATE_FRACTION_KEY, 0.0)
        # bool is an int subclass; `private_fraction: true` is a typo, not a fraction of 1.
        # An int too large for a float cannot be in range either; isfinite would overflow on it.
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or (isinstance(fraction, float) and not math.isfinite(fraction))
        ):
            raise TaskConfigError(f"config.{PRIVATE_FRACTION_KEY} must be a number from 0 to 1, got {fraction!r}")
        if not 0 <= fraction < 1:
            raise TaskConfigError(
                f"config.{PRIVATE_FRACTION_KEY} must be at least 0 and below 1 (the share of the evaluation "
                f"units that only the private leaderboard scores), got {fraction!r}"
            )
        if fraction > 0 and SPLIT_SEED_KEY not in config:
            # Where the units' ids are public (pairs, a pool), a guessable seed would give the partition away.
            raise TaskConfigError(
                f"config.{SPLIT_SEED_KEY} is required with a private fraction: a large random integer, kept secret "
                "(python -c 'import secrets; print(secrets.randbits(63))')"
            )
        seed = config.get(SPLIT_SEED_KEY, 0)
        if fraction > 0 and seed is None:
            return cls(private_fraction=float(fraction), withheld=True)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise TaskConfigError(f"config.{SPLIT_SEED_KEY} must be an integer from 0 to 2**63 - 1, got {seed!r}")
        return cls(private_fraction=float(fraction), seed=seed)

    def as_dict(self) -> dict[str, Any]:
        """The keys to store in the normalised config: none when there is no split, so that a task without
        one keeps exactly the config it had."""
        if self.withheld:
            return {PRIVATE_FRACTION_KEY: self.private_fraction, SPLIT_SEED_KEY: None}
        if not self.enabled:
            return {}
        return {PRIVATE_FRACTION_KEY: self.private_fraction, SPLIT_SEED_KEY: self.seed}


def split_and_rest(config: Mapping[str, Any]) -> tuple[SplitConfig, dict[str, Any]]:
    """The split settings and the config without them, for an evaluator's own validation of the rest."""
    rest = {key: value for key, value in config.items() if key not in SPLIT_KEYS}
    return SplitConfig.from_mapping(config), rest


def refuse_split(config: Mapping[str, Any], reason: str) -> None:
    """For an evaluator whose metric has no sound public/private split: refuse a private fraction, saying
    why (the task page shows `reason` too)."""
    fraction_only = {PRIVATE_FRACTION_KEY: config.get(PRIVATE_FRACTION_KEY, 0.0), SPLIT_SEED_KEY: 0}
    if SplitConfig.from_mapping(fraction_only).enabled:
        raise TaskConfigError(f"config.{PRIVATE_FRACTION_KEY} must be 0 for this benchmark: {reason}")


def private_count(size: int, fraction: float) -> int:
    """How many of a stratum's `size` units are private: the nearest whole number to `fraction * size` (a
    half rounds up), kept between 1 and size - 1 so that both sides hold the stratum when it has two units
    or more. 0 without a split."""
    if fraction <= 0 or size == 0:
        return 0
    if size == 1:
        return 0
    return min(max(math.floor(fraction * size + 0.5), 1), size - 1)


def _unit_key(seed: int, unit_id: str) -> bytes:
    return hashlib.sha256(f"{seed}\x00{unit_id}".encode()).digest()


def partition(unit_ids: Sequence[str], *, split: SplitConfig, strata: Sequence[Hashable] | None = None) -> list[bool]:
    """For each unit (in the order given), whether it is private. `strata` (one per unit, e.g. its label):
    each stratum is split on its own, so that every class is on both sides. Unit ids must be distinct."""
    if strata is not None and len(strata) != len(unit_ids):
        raise ValueError(f"{len(strata)} strata for {len(unit_ids)} units")
    private = [False] * len(unit_ids)
    if not split.enabled:
        return private
    groups: dict[Hashable, list[int]] = {}
    for index in range(len(unit_ids)):
        groups.setdefault(None if strata is None else strata[index], []).append(index)
    for members in groups.values():
        members.sort(key=lambda index: (_unit_key(split.seed, unit_ids[index]), unit_ids[index]))
        for index in members[: private_count(len(members), split.private_fraction)]:
            private[index] = True
    return private


@dataclass(frozen=True)
class RowUnits:
    """The units of a table whose rows may repeat a unit (a clip or an image listed twice): `ids[u]` and
    `strata[u]` per distinct unit, in order of first row, and `unit_of_row[r]` the unit of row r, so that
    every row of a unit falls on its side."""

    ids: tuple[str, ...]
    strata: tuple[Hashable, ...]
    unit_of_row: tuple[int, ...]

    def private_rows(self, split: SplitConfig) -> tuple[bool, ...]:
        """For each row, whether it is private (`partition` of the units, stratified)."""
        private = partition(self.ids, split=split, strata=self.strata)
        return tuple(private[unit] for unit in self.unit_of_row)


def row_units(unit_ids: Sequence[str], strata: Sequence[Hashable]) -> RowUnits:
    """The `RowUnits` of rows whose unit ids are `unit_ids[r]`; a unit's stratum is that of its first row."""
    index_of: dict[str, int] = {}
    unit_strata: list[Hashable] = []
    unit_of_row: list[int] = []
    for unit_id, stratum in zip(unit_ids, strata, strict=True):
        if unit_id not in index_of:
            index_of[unit_id] = len(unit_strata)
            unit_strata.append(stratum)
        unit_of_row.append(index_of[unit_id])
    return RowUnits(ids=tuple(index_of), strata=tuple(unit_strata), unit_of_row=tuple(unit_of_row))


def split_problems(
    unit_ids: Sequence[str], *, split: SplitConfig, strata: Sequence[Hashable], unit: str = "evaluation unit"
) -> list[str]:
    """`check_task`'s findings for a stratified split: each stratum that would be empty on one side, with
    its counts. Nothing without a split."""
    if not split.enabled:
        return []
    counts: dict[Hashable, int] = {}
    for stratum in strata:
        counts[stratum] = counts.get(stratum, 0) + 1
    problems = []
    for stratum, size in sorted(counts.items(), key=lambda item: str(item[0])):
        private = private_count(size, split.private_fraction)
        if private == 0 or private == size:
            problems.append(
                f"config.{PRIVATE_FRACTION_KEY} {split.private_fraction:g}: class {stratum!r} has {size} "
                f"{unit}(s), so one side of the split would hold none of it (public {size - private}, private "
                f"{private}); every class needs at least 2"
            )
    return problems


def score_splits(
    private: Sequence[bool], compute: Callable[[list[bool]], tuple[float, dict[str, float]]]
) -> dict[str, SplitScore]:
    """`compute(mask)` (mask: True for the units to score) on the public side and on the private side."""
    public_mask = [not flag for flag in private]
    public_primary, public_metrics = compute(public_mask)
    private_primary, private_metrics = compute(list(private))
    return {
        PUBLIC: SplitScore(public_primary, public_metrics),
        PRIVATE: SplitScore(private_primary, private_metrics),
    }


def participant_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A task's config as participants may see it (downloads, the API, the sandbox's task.yaml): the seed,
    which with the units' ids would give the partition away, is withheld (`split_seed: null`; without a
    private fraction the key is left out). The fraction stays: knowing that a private part exists, and its
    share, is part of the rules. Such a config validates offline and scores the whole set
    (`SplitConfig.withheld`)."""
    shown = {key: value for key, value in config.items() if key != SPLIT_SEED_KEY}
    fraction = config.get(PRIVATE_FRACTION_KEY, 0)
    if isinstance(fraction, int | float) and not isinstance(fraction, bool) and fraction > 0:
        shown[SPLIT_SEED_KEY] = None
    return shown

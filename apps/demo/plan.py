"""The simulated history as data: which team submits what to which task, and when, as a fraction of the time
the challenge has run (0: its start; 1: now, or its end). Pure and deterministic: every draw comes from a
generator seeded by the names involved, so the same teams and tasks always give the same plan.

A team enters a quick task with the chance of its `activity` (the demo participant's team enters every one),
submits one to `most` times there, and its mixtures get better as it goes: the share of good choices climbs
towards its `skill`, with some noise, on the ladder of `LEVELS`. Besides: a few malformed files (rejected by
validation), a few submissions whose evaluation worker is lost (failed by the reaper), copies of the best
baseline on the tasks slow to score (their score is known already), and one cheat (disqualified)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from apps.demo.teams import DemoTeam

LEVELS = (0.0, 0.25, 0.45, 0.6, 0.75, 0.9, 1.0)
"""The shares of good choices a mixture may have: few levels, so that many submissions are the same file."""
VARIANTS = 2
"""Mixtures drawn per level (seeds): teams at one level do not all submit the same file."""
MISTAKES = ("unknown-key", "semicolons")
LATEST = 0.98
"""The latest submission, as a fraction of the time so far (the last one is not a moment ago)."""


class Kind(StrEnum):
    MIX = "mix"
    """A mixture of the good and the poor baseline (`share` of good choices)."""
    COPY = "copy"
    """A copy of the best baseline."""
    MALFORMED = "malformed"
    """The best baseline with a mistake (`mistake`, see `mixing.artifact_malformed`): validation rejects it."""
    LOST = "lost"
    """A mixture whose evaluation worker is lost, attempt after attempt: the reaper fails it."""
    CHEAT = "cheat"
    """A copy of the best baseline that the organizers disqualify (its team says it used the hidden labels)."""


@dataclass(frozen=True)
class Planned:
    at: float
    team: int
    """Index into the teams."""
    member: int
    """Who submits: this index modulo the team's size."""
    task: str
    kind: Kind
    share: float = 1.0
    variant: int = 0
    mistake: str = ""


@dataclass(frozen=True)
class PlanShape:
    """How busy one challenge's history is."""

    seed: str
    most: int
    """The most submissions of one team to one task."""
    malformed: int = 0
    lost: int = 0
    copies: int = 0
    """How many teams copy the best baseline on each task slow to score."""
    cheat: str = ""
    """The name of the team that cheats once (none when empty)."""


def history_plan(
    *, teams: Sequence[DemoTeam], quick: Sequence[str], slow: Sequence[str], shape: PlanShape
) -> list[Planned]:
    """Every planned submission, oldest first. `quick`: the tasks teams work on; `slow`: the tasks slow to
    score, where a few teams submit a copy of the best baseline."""
    plan = [
        planned
        for index, team in enumerate(teams)
        for task in quick
        for planned in _team_task(team, index, task, shape)
    ]
    plan += _copies(teams, slow, shape)
    if quick:
        plan += _mistakes(teams, quick, shape)
        plan += [_cheat(teams, quick, shape)] if shape.cheat in {team.name for team in teams} else []
    return sorted(plan, key=lambda planned: (planned.at, planned.team, planned.task))


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("/".join(str(part) for part in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _member(rng: np.random.Generator) -> int:
    return int(rng.integers(1 << 16))


def _team_task(team: DemoTeam, index: int, task: str, shape: PlanShape) -> list[Planned]:
    rng = _rng(shape.seed, team.name, task)
    if index > 0 and rng.random() > team.activity:
        return []
    count = 1 + int(rng.binomial(shape.most - 1, team.activity))
    times = np.sort(rng.uniform(team.start, LATEST, count))
    planned = []
    for number, at in enumerate(times, start=1):
        target = team.skill * (0.3 + 0.7 * number / count) + rng.normal(0.0, 0.06)
        share = min(LEVELS, key=lambda level: abs(level - target))
        variant = int(rng.integers(VARIANTS))
        planned.append(Planned(float(at), index, _member(rng), task, Kind.MIX, share, variant))
    return planned


def _copies(teams: Sequence[DemoTeam], slow: Sequence[str], shape: PlanShape) -> list[Planned]:
    planned = []
    for task in slow:
        rng = _rng(shape.seed, "copies", task)
        chosen = rng.choice(len(teams), size=min(shape.copies, len(teams)), replace=False)
        for index in sorted(int(i) for i in chosen):
            at = float(rng.uniform(max(teams[index].start, 0.2), 0.9))
            planned.append(Planned(at, index, _member(rng), task, Kind.COPY))
    return planned


def _mistakes(teams: Sequence[DemoTeam], quick: Sequence[str], shape: PlanShape) -> list[Planned]:
    """Malformed files from the least skilled teams, early on; lost workers of the busiest ones, later."""
    rng = _rng(shape.seed, "mistakes")
    by_skill = sorted(range(len(teams)), key=lambda index: (teams[index].skill, index))
    by_activity = sorted(range(1, len(teams)), key=lambda index: (-teams[index].activity, index))
    planned = []
    for number in range(shape.malformed):
        index = by_skill[number % len(by_skill)]
        at = teams[index].start + float(rng.uniform(0.01, 0.1))
        task = quick[number % len(quick)]
        mistake = MISTAKES[number % len(MISTAKES)]
        planned.append(Planned(at, index, _member(rng), task, Kind.MALFORMED, mistake=mistake))
    for number in range(min(shape.lost, len(by_activity))):
        index = by_activity[number]
        at = float(rng.uniform(max(teams[index].start, 0.3), 0.8))
        task = quick[-1 - number % len(quick)]
        planned.append(Planned(at, index, _member(rng), task, Kind.LOST, share=0.6))
    return planned


def _cheat(teams: Sequence[DemoTeam], quick: Sequence[str], shape: PlanShape) -> Planned:
    index = next(index for index, team in enumerate(teams) if team.name == shape.cheat)
    rng = _rng(shape.seed, "cheat")
    return Planned(float(rng.uniform(0.85, 0.95)), index, _member(rng), quick[0], Kind.CHEAT)

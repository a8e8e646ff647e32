"""Selectors of the challenge leaderboard: the tasks of a challenge combined with the organizers' weights
(as Dynabench does), per division, from the materialised task boards.

The score of a team is the weighted mean, over the division's tasks, of its normalised primary score on each
task (`NORMALISATION` states how); the page re-ranks in the browser with the viewer's own weights from the same
normalised values (static/js/challenge_leaderboard.js repeats `combine_scores` exactly).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Q

from apps.accounts.models import Team
from apps.challenges.evaluators import task_primary_metric
from apps.challenges.models import Challenge, Task
from apps.challenges.selectors import tasks_visible, user_is_organizer
from apps.core.errors import NotFound
from apps.core.users import AnyUser
from apps.divisions.models import Division
from apps.leaderboards.caching import cache_key, cached
from apps.leaderboards.models import Leaderboard, LeaderboardEntry, TaskWeight
from apps.leaderboards.ranking import board_compute
from apps.submissions.models import Score

NORMALISATION = (
    "Each task's primary score is normalised per task and division by min-max over the teams ranked on that "
    "task (after orienting it so that higher is better): the best team gets 1, the worst 0, and all get 1 when "
    "they are equal. A team with no ranked submission on a task gets 0 for it. A team's score is the weighted "
    "mean of its normalised scores over the division's tasks, with the organizers' weights (a weight of 0 leaves "
    "a task out; if every weight is 0, every score is 0). Baselines are not ranked here."
)
CHALLENGE_TIE_BREAK = (
    "Scores are compared to 12 decimal places. Equal scores share a rank; within a rank, the team whose latest "
    "counted submission came first is listed first (then by name)."
)
FINAL_BOARDS = (
    "This private board combines each task's private board; a task without a private split counts by its public "
    "board, which is its final one."
)
"""How the private challenge board picks each task's board (`_boards_of`), shown under its normalisation."""
SPLITS = (Score.Split.PUBLIC, Score.Split.PRIVATE)
"""The splits a challenge board exists for (concealed boards belong to the closed division alone)."""


@dataclass(frozen=True)
class TaskRow:
    """One team's row on one task's board, whichever way it was obtained (materialised, or from scratch)."""

    team_id: int
    team: str
    rank: int
    primary: float
    submitted_at: dt.datetime


@dataclass(frozen=True)
class ChallengeBoard:
    split: str
    normalisation: str
    tie_break: str
    tasks: list[dict[str, Any]]
    divisions: list[dict[str, Any]]

    def division(self, slug: str | None) -> dict[str, Any]:
        """The named division's board (the first when `slug` is empty); `NotFound` for an unknown one."""
        for division in self.divisions:
            if not slug or division["slug"] == slug:
                return division
        raise NotFound("No such division.")


def _private_visible(challenge: Challenge, tasks: list[Task], user: AnyUser) -> bool:
    """The private board of every listed task that has one is visible (the rule of `selectors.split_visible`,
    in three queries at most for all tasks together). A task without a private board needs no reveal: the
    private challenge board counts it by its public board (`FINAL_BOARDS`)."""
    if challenge.phase == challenge.Phase.CLOSED or user_is_organizer(challenge=challenge, user=user):
        return True
    private = Leaderboard.objects.filter(task__in=tasks, split=Score.Split.PRIVATE).values_list("task_id")
    hidden = private.exclude(task__split_reveals__split=Score.Split.PRIVATE)
    return not hidden.exists()


def challenge_splits(*, challenge: Challenge, user: AnyUser) -> list[str]:
    """The splits of the challenge board the user may choose: public, and private when some visible task has a
    private board and the user may see every one of them (`_private_visible`)."""
    tasks = list(tasks_visible(challenge=challenge, user=user))
    has_private = Leaderboard.objects.filter(task__in=tasks, split=Score.Split.PRIVATE).exists()
    if tasks and has_private and _private_visible(challenge, tasks, user):
        return [Score.Split.PUBLIC.value, Score.Split.PRIVATE.value]
    return [Score.Split.PUBLIC.value]


def _normalised(rows: list[TaskRow], higher_is_better: bool) -> dict[int, float]:
    """team id -> min-max normalised primary score, oriented so that 1 is the best row."""
    oriented = {row.team_id: row.primary if higher_is_better else -row.primary for row in rows}
    if not oriented:
        return {}
    low, high = min(oriented.values()), max(oriented.values())
    if high == low:
        return dict.fromkeys(oriented, 1.0)
    return {team_id: (value - low) / (high - low) for team_id, value in oriented.items()}


SCORE_DECIMALS = 12
"""Scores are rounded to this many decimals, so that mathematically equal scores (0.2 + 0.8 and 0.6 + 0.4) tie
instead of differing in their last floating-point bit."""


def combine_scores(normalised: list[float | None], weights: list[float]) -> float:
    """The weighted mean of a team's normalised scores (a missing task counts 0), rounded to `SCORE_DECIMALS`;
    0 when every weight is 0. Summed in column order, as the page's script does."""
    total = 0.0
    weight_sum = 0.0
    for value, weight in zip(normalised, weights, strict=True):
        total += weight * (value or 0.0)
        weight_sum += weight
    return round(total / weight_sum, SCORE_DECIMALS) if weight_sum > 0 else 0.0


def _rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (-r["score"], r["last_submitted_at"], r["team"]))
    for index, row in enumerate(rows):
        shared = index > 0 and rows[index - 1]["score"] == row["score"]
        row["rank"] = rows[index - 1]["rank"] if shared else index + 1
    return rows


def _division_board(
    division: Division, columns: list[Task], weights: dict[int, float], boards: dict[tuple[int, int], list[TaskRow]]
) -> dict[str, Any]:
    teams: dict[int, dict[str, Any]] = {}
    count = len(columns)
    for index, task in enumerate(columns):
        rows = boards.get((task.pk, division.pk), [])
        normal = _normalised(rows, task_primary_metric(task).higher_is_better)
        for row in rows:
            team = teams.setdefault(
                row.team_id,
                {
                    "team_id": row.team_id,
                    "team": row.team,
                    "normalised": [None] * count,
                    "primary": [None] * count,
                    "task_ranks": [None] * count,
                    "last_submitted_at": "",
                },
            )
            team["normalised"][index] = normal[row.team_id]
            team["primary"][index] = row.primary
            team["task_ranks"][index] = row.rank
            team["last_submitted_at"] = max(team["last_submitted_at"], row.submitted_at.isoformat())
    column_weights = [weights.get(task.pk, TaskWeight.DEFAULT) for task in columns]
    for team in teams.values():
        team["score"] = combine_scores(team["normalised"], column_weights)
    return {
        "slug": division.slug,
        "name": division.name,
        "columns": [task.pk for task in columns],
        "rows": _rank(list(teams.values())),
    }


def _accepted(challenge: Challenge, divisions: list[Division], tasks: list[Task]) -> dict[int, list[Task]]:
    """division id -> the listed tasks it accepts (a division with no tasks listed accepts all)."""
    through = Division.tasks.through.objects.filter(division__challenge=challenge)
    listed: dict[int, set[int]] = {}
    for division_id, task_id in through.values_list("division_id", "task_id"):
        listed.setdefault(division_id, set()).add(task_id)
    return {d.pk: [t for t in tasks if d.pk not in listed or t.pk in listed[d.pk]] for d in divisions}


def _task_data(task: Task, weight: float) -> dict[str, Any]:
    primary = task_primary_metric(task)
    return {
        "id": task.pk,
        "slug": task.slug,
        "title": task.title,
        "weight": weight,
        "metric": primary.label,
        "higher_is_better": primary.higher_is_better,
        "scale": primary.display_scale,
    }


@dataclass(frozen=True)
class _Inputs:
    """What a challenge board depends on besides the task boards (all in the cache key)."""

    tasks: list[Task]
    divisions: list[Division]
    accepted: dict[int, list[Task]]
    weights: dict[int, float]

    def key_parts(self) -> tuple[Any, ...]:
        return (
            [(t.pk, t.slug, t.title, t.evaluator_slug, t.data_version, t.updated_at) for t in self.tasks],
            [(d.pk, d.slug, d.name, [t.pk for t in self.accepted[d.pk]]) for d in self.divisions],
            sorted(self.weights.items()),
        )


def _combine(inputs: _Inputs, boards: dict[tuple[int, int], list[TaskRow]], split: str) -> ChallengeBoard:
    tasks, divisions, weights, accepted = inputs.tasks, inputs.divisions, inputs.weights, inputs.accepted
    return ChallengeBoard(
        split=split,
        normalisation=f"{NORMALISATION} {FINAL_BOARDS}" if split == Score.Split.PRIVATE else NORMALISATION,
        tie_break=CHALLENGE_TIE_BREAK,
        tasks=[_task_data(task, weights.get(task.pk, TaskWeight.DEFAULT)) for task in tasks],
        divisions=[_division_board(d, accepted[d.pk], weights, boards) for d in divisions],
    )


@dataclass(frozen=True)
class _BoardState:
    """A materialised task board the challenge board is made of: what its cache key and rows come from."""

    leaderboard_id: int
    split: str
    version: int
    rebuilt_at: dt.datetime | None


def _boards_of(tasks: list[Task], split: str) -> dict[tuple[int, int], _BoardState]:
    """(task id, division id) -> the task board each task counts by on the challenge board of `split`: its board
    of that split; on the private challenge board, where a task has no private board (a task without a private
    split), its public board, which is its final one (`FINAL_BOARDS`). One query."""
    found = Leaderboard.objects.filter(task__in=tasks, split__in=[Score.Split.PUBLIC, split]).values_list(
        "task_id", "division_id", "pk", "split", "version", "rebuilt_at"
    )
    boards: dict[tuple[int, int], _BoardState] = {}
    for task_id, division_id, pk, board_split, version, rebuilt_at in found:
        if board_split == split or (task_id, division_id) not in boards:
            boards[(task_id, division_id)] = _BoardState(pk, board_split, version, rebuilt_at)
    return boards


def _materialised_rows(counted: dict[tuple[int, int], _BoardState]) -> dict[tuple[int, int], list[TaskRow]]:
    ids = [board.leaderboard_id for board in counted.values()]
    entries = LeaderboardEntry.objects.filter(leaderboard_id__in=ids, is_baseline=False).values_list(
        "leaderboard__task_id", "leaderboard__division_id", "team_id", "team__name", "rank", "primary", "submitted_at"
    )
    boards: dict[tuple[int, int], list[TaskRow]] = {}
    for task_id, division_id, team_id, team, rank, primary, submitted_at in entries:
        boards.setdefault((task_id, division_id), []).append(TaskRow(team_id, team, rank, primary, submitted_at))
    return boards


def _inputs(challenge: Challenge, user: AnyUser, split: str) -> _Inputs:
    if split not in SPLITS:
        raise NotFound("No such leaderboard.")
    tasks = list(tasks_visible(challenge=challenge, user=user))
    for task in tasks:
        task.challenge = challenge
    if split == Score.Split.PRIVATE and not (tasks and _private_visible(challenge, tasks, user)):
        raise NotFound("No such leaderboard.")
    divisions = list(Division.objects.filter(challenge=challenge).order_by("order", "slug"))
    weights = dict(TaskWeight.objects.filter(task__in=tasks).values_list("task_id", "weight"))
    return _Inputs(tasks, divisions, _accepted(challenge, divisions, tasks), weights)


def challenge_leaderboard(*, challenge: Challenge, user: AnyUser, split: str = Score.Split.PUBLIC) -> ChallengeBoard:
    """The challenge board of the tasks the user may see, per division, from the materialised task boards
    (a constant number of queries, whatever the number of submissions), cached per version of every board
    and per weight; on the private split, each task by its private board, or its public one where it has no
    private board (`FINAL_BOARDS`). Raises `NotFound` for a split other than public and private, or a private
    board the user may not see for some task."""
    inputs = _inputs(challenge, user, split)
    boards = _boards_of(inputs.tasks, split)
    versions = sorted((board.leaderboard_id, board.version, board.rebuilt_at) for board in boards.values())
    key = cache_key("challenge", challenge.pk, split, versions, *inputs.key_parts())
    return cached(key, lambda: _combine(inputs, _materialised_rows(boards), split))


def challenge_leaderboard_from_scratch(
    *, challenge: Challenge, user: AnyUser, split: str = Score.Split.PUBLIC
) -> ChallengeBoard:
    """The same board with every task board computed from the scores (`ranking.board_compute`), ignoring the
    materialised entries (each task counted by the split `_boards_of` picks): what `challenge_leaderboard` must
    always equal. For checks and tests."""
    inputs = _inputs(challenge, user, split)
    counted = _boards_of(inputs.tasks, split)
    boards: dict[tuple[int, int], list[TaskRow]] = {}
    for task in inputs.tasks:
        for division in inputs.divisions:
            state = counted.get((task.pk, division.pk))
            rows = board_compute(task=task, division=division, split=state.split if state else split)
            boards[(task.pk, division.pk)] = [
                TaskRow(c.team_id, c.team_name, rank, c.primary, c.submitted_at)
                for rank, c, _ in rows
                if not c.is_baseline
            ]
    return _combine(inputs, boards, split)


def team_task_breakdown(
    *, team: Team, challenge: Challenge, user: AnyUser, split: str = Score.Split.PUBLIC
) -> list[dict[str, Any]]:
    """Per division where the team is ranked: its row on every task of the division (rank, primary score,
    normalised score, weight and its share of the team's score), from `challenge_leaderboard`, so the numbers
    are the board's. Empty when the team is ranked nowhere. Same access rules as the board."""
    return board_breakdown(challenge_leaderboard(challenge=challenge, user=user, split=split), team.pk)


def board_breakdown(board: ChallengeBoard, team_id: int) -> list[dict[str, Any]]:
    """`team_task_breakdown` of a board already read."""
    tasks = {task["id"]: task for task in board.tasks}
    breakdown = []
    for division in board.divisions:
        row = next((r for r in division["rows"] if r["team_id"] == team_id), None)
        if row is None:
            continue
        weights = [tasks[task_id]["weight"] for task_id in division["columns"]]
        weight_sum = sum(weights)
        items = [
            {
                **{key: tasks[task_id][key] for key in ("id", "slug", "title", "metric", "scale")},
                "weight": weight,
                "rank": row["task_ranks"][index],
                "primary": row["primary"][index],
                "normalised": row["normalised"][index] or 0.0,
                "contribution": weight * (row["normalised"][index] or 0.0) / weight_sum if weight_sum > 0 else 0.0,
            }
            for index, (task_id, weight) in enumerate(zip(division["columns"], weights, strict=True))
        ]
        breakdown.append(
            {
                "division": division["slug"],
                "name": division["name"],
                "team": row["team"],
                "rank": row["rank"],
                "score": row["score"],
                "tasks": items,
            }
        )
    return breakdown


def viewer_team_on_board(*, board: ChallengeBoard, user: AnyUser) -> int | None:
    """The id of a team of the user that is on the board (the breakdown shown by default), if any."""
    if not user.is_authenticated:
        return None
    on_board = {row["team_id"] for division in board.divisions for row in division["rows"]}
    mine = Team.objects.filter(Q(memberships__user=user), pk__in=on_board).values_list("pk", flat=True)
    return mine.first()


def board_data(board: ChallengeBoard) -> dict[str, Any]:
    return asdict(board)

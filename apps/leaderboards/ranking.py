"""The ranking itself, computed from scratch: the current scores of a task's submissions in one division and
split, plus the task's ranking rule, in; ranked rows out. Pure reads; no materialised row is consulted.

`leaderboard_rebuild` stores exactly this; the selectors serve what it stored; the tests compare the two.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

from apps.challenges.evaluators import task_primary_metric
from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.submissions.models import Score, Submission

TIE_BREAK = (
    "Rows are ranked by the primary metric. Equal primary values share a rank (1, 2, 2, 4); within a rank, the row "
    "whose submission came first is listed first. Baselines are ranked among the teams and marked."
)
"""The stated tie-break, shown under every leaderboard table and sent in the JSON as `tie_break`."""


@dataclass
class Candidate:
    submission_id: int
    team_id: int
    is_baseline: bool
    submitted_at: dt.datetime
    primary: float
    metrics: dict[str, float]
    is_selected_final: bool = False
    team_name: str = ""
    method_description: str = ""
    public_rank: int | None = None
    """On a private board: the rank of the same row on the public board (the shake-up), None when it has none."""


RankedRow = tuple[int, Candidate, int]
"""(rank, the candidate representing the row, the ranked submissions of its team)."""


def candidates(task: Task, division: Division, split: str, primary_name: str) -> list[Candidate]:
    """Every submission of the division that ranks (`Submission.objects.ranking`) with a value of the primary
    metric on this split. Two queries, whatever the number of submissions."""
    submissions = Submission.objects.ranking(task=task, division=division).values(
        "pk",
        "team_id",
        "team__name",
        "is_baseline",
        "created_at",
        "current_evaluation_id",
        "is_selected_final",
        "method_description",
    )
    by_evaluation = {row["current_evaluation_id"]: row for row in submissions}
    metrics: dict[int, dict[str, float]] = {}
    scores = Score.objects.filter(evaluation_id__in=list(by_evaluation), split=split)
    for evaluation_id, metric, value in scores.values_list("evaluation_id", "metric", "value"):
        metrics.setdefault(evaluation_id, {})[metric] = value
    return [
        Candidate(
            submission_id=row["pk"],
            team_id=row["team_id"],
            is_baseline=row["is_baseline"],
            submitted_at=row["created_at"],
            primary=values[primary_name],
            metrics=values,
            is_selected_final=row["is_selected_final"],
            team_name=row["team__name"],
            method_description=row["method_description"],
        )
        for evaluation_id, row in by_evaluation.items()
        if primary_name in (values := metrics.get(evaluation_id, {}))
    ]


def _representatives(candidates: list[Candidate]) -> list[Candidate]:
    """Under the selected-final rule: a team with a ranked selected submission is represented by it alone;
    a team that selected none (or whose selection has no score on this split yet) competes with all its
    submissions, so its best one represents it. Baselines are unaffected."""
    selected_teams = {c.team_id for c in candidates if c.is_selected_final and not c.is_baseline}
    return [c for c in candidates if c.is_baseline or c.team_id not in selected_teams or c.is_selected_final]


def _final_choices(
    candidates: list[Candidate], *, public: dict[int, float], allowed: int, higher_is_better: bool
) -> list[Candidate]:
    """The private board's rule (`PRIVATE_RULE`): a team competes with the submissions it selected as final,
    or, when it selected none that ranks, with its `allowed` best public ones (`public`: submission -> public
    primary value; ties go to the earlier submission). Had a team selected more than `allowed` (the organizers
    lowered the number since), its `allowed` best public selected ones count. Baselines are unaffected."""
    sign = -1.0 if higher_is_better else 1.0
    teams: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        if not candidate.is_baseline:
            teams.setdefault(candidate.team_id, []).append(candidate)

    def public_order(c: Candidate) -> tuple[float, dt.datetime, int]:
        value = public.get(c.submission_id)
        # Best public first; a submission without a public value (none is stored apart from its private one)
        # comes last.
        return (math.inf if value is None else sign * value, c.submitted_at, c.submission_id)

    kept = {c.submission_id for c in candidates if c.is_baseline}
    for own in teams.values():
        selected = [c for c in own if c.is_selected_final]
        kept.update(c.submission_id for c in sorted(selected or own, key=public_order)[:allowed])
    return [c for c in candidates if c.submission_id in kept]


def rank_candidates(
    candidates: list[Candidate],
    *,
    higher_is_better: bool,
    selected_final: bool = False,
    competing: Callable[[list[Candidate]], list[Candidate]] | None = None,
) -> list[RankedRow]:
    """One row per team (its best; on equal scores its earliest submission; under the `selected_final` rule
    its best selected submission, see `_representatives`; or its best among those `competing` keeps), each
    baseline on its own row, ordered and ranked as `TIE_BREAK` states: equal primary values share a rank
    (1, 2, 2, 4), the earlier submission listed first (then the smaller id, so that the order is total). The
    count is every ranked submission of the team, whichever represents it."""
    sign = -1.0 if higher_is_better else 1.0
    counts: dict[int, int] = {}
    for candidate in candidates:
        if not candidate.is_baseline:
            counts[candidate.team_id] = counts.get(candidate.team_id, 0) + 1
    if selected_final:
        candidates = _representatives(candidates)
    if competing is not None:
        candidates = competing(candidates)
    order = sorted(candidates, key=lambda c: (sign * c.primary, c.submitted_at, c.submission_id))
    seen: set[int] = set()
    rows: list[RankedRow] = []
    for candidate in order:
        if not candidate.is_baseline:
            if candidate.team_id in seen:
                continue
            seen.add(candidate.team_id)
        rank = rows[-1][0] if rows and rows[-1][1].primary == candidate.primary else len(rows) + 1
        rows.append((rank, candidate, 1 if candidate.is_baseline else counts[candidate.team_id]))
    return rows


def row_key(candidate: Candidate) -> tuple[bool, int]:
    """What a row stands for across the splits of one board: its team, or a baseline's own submission."""
    return (True, candidate.submission_id) if candidate.is_baseline else (False, candidate.team_id)


def board_compute(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> list[RankedRow]:
    """The ranked rows of a task's board in one division and split, computed from scratch from the current
    scores, the submissions' flags and the task's ranking rule. The private board follows `PRIVATE_RULE`
    whatever the ranking rule, and each of its rows carries its public rank (`Candidate.public_rank`)."""
    primary = task_primary_metric(task)
    higher = primary.higher_is_better
    selected_final = task.ranking_rule == Task.RankingRule.SELECTED_FINAL
    if split != Score.Split.PRIVATE:
        found = candidates(task, division, split, primary.name)
        return rank_candidates(found, higher_is_better=higher, selected_final=selected_final)
    public = candidates(task, division, Score.Split.PUBLIC, primary.name)
    public_rank = {
        row_key(c): rank
        for rank, c, _ in rank_candidates(public, higher_is_better=higher, selected_final=selected_final)
    }
    public_values = {c.submission_id: c.primary for c in public}
    rows = rank_candidates(
        candidates(task, division, split, primary.name),
        higher_is_better=higher,
        competing=lambda found: _final_choices(
            found, public=public_values, allowed=task.final_selections, higher_is_better=higher
        ),
    )
    return [(rank, dataclasses.replace(c, public_rank=public_rank.get(row_key(c))), n) for rank, c, n in rows]

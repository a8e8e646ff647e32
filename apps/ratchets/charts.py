"""The ratchet chart's data, built from rows: for each round, the best training-set score on that round's test
data beside the suite's accuracy on that round's validated items. Both sides of the ratchet turning, as plain
lists and dicts that the page embeds (`json_script`) and draws (static/js/ratchet.js), and that its table for
screen readers repeats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apps.challenges.evaluators import task_primary_metric
from apps.divisions.models import Division
from apps.divisions.selectors import divisions_of_task
from apps.leaderboards.models import LeaderboardEntry
from apps.ratchets.models import Ratchet, Round, Standing
from apps.ratchets.selectors import LIVE_ROUNDS, RoundFigures
from apps.submissions.models import Score

SUITE_LABEL = "The round's models' accuracy on its validated items"


def _best_frozen(round_: Round, task_id: int, division: Division) -> float | None:
    """The best team's (non-baseline) primary score on the round's frozen public board, rows in rank order."""
    standing = Standing.objects.filter(
        round=round_, task_id=task_id, division=division, split=Score.Split.PUBLIC
    ).first()
    if standing is None:
        return None
    rows = standing.document.get("rows", [])
    return next((float(row["primary"]) for row in rows if not row["is_baseline"]), None)


def _best_live(task_id: int, division: Division) -> float | None:
    """The best team's (non-baseline) primary score on the live public board now."""
    entry = (
        LeaderboardEntry.objects.filter(
            leaderboard__task_id=task_id,
            leaderboard__division=division,
            leaderboard__split=Score.Split.PUBLIC,
            is_baseline=False,
        )
        .order_by("rank", "submitted_at", "pk")
        .first()
    )
    return entry.primary if entry is not None else None


def _training_best(round_: Round, task_id: int, division: Division | None) -> float | None:
    if division is None:
        return None
    if round_.status == Round.Status.CLOSED:
        return _best_frozen(round_, task_id, division)
    if round_.status in LIVE_ROUNDS:
        return _best_live(task_id, division)
    return None


def ratchet_chart(*, ratchet: Ratchet, rounds: Sequence[Round], figures: Mapping[int, RoundFigures]) -> dict[str, Any]:
    """The chart's points, one per round that has run (drafts have no data yet): the round's number and status,
    `training` (the best training set's primary score on the round's test data: the round's frozen standing of
    the training-set task's first division once closed, its live public board while the round runs) and
    `suite` (`RoundFigures.suite_accuracy`); None where a round has no such value. With the series' labels (what a
    screen reader reads) and short names (the legend's, the table's headings)."""
    divisions = divisions_of_task(task=ratchet.training_task)
    division = divisions[0] if divisions else None
    points = [
        {
            "round": round_.number,
            "status": round_.status,
            "training": _training_best(round_, ratchet.training_task_id, division),
            "suite": figures[round_.number].suite_accuracy,
        }
        for round_ in rounds
        if round_.status != Round.Status.DRAFT
    ]
    metric = task_primary_metric(ratchet.training_task).label
    return {
        "points": points,
        "training_label": f"Best training set on the round's test data ({metric})",
        "suite_label": SUITE_LABEL,
        "metric": metric,
        # The legend's and the table's names: short enough for a phone's width (the table's headings say it in full).
        "training_name": "Best training set",
        "suite_name": "Models on validated items",
    }

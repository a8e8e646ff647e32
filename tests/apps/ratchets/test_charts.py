"""The ratchet chart's data (apps/ratchets/charts.py) from rows: the best team's score on the training-set
task's first division's public board (frozen for a closed round, live for a running one), and the round's
models' accuracy on the items validation accepted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.challenges.models import Challenge
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard, LeaderboardEntry
from apps.ratchets.charts import ratchet_chart
from apps.ratchets.models import Item, Ratchet, Round
from apps.ratchets.selectors import round_figures
from tests.apps.conftest import make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round
from tests.apps.ratchets.test_pages import freeze

pytestmark = pytest.mark.django_db
Status = Item.Status


@pytest.fixture
def ratchet(challenge: Challenge) -> Ratchet:
    return make_ratchet(challenge)


def live_board(
    ratchet: Ratchet, division: Division, rows: list[tuple[User, float, bool]], split: str = "public"
) -> None:
    """The training-set task's materialised board: (user, primary, is_baseline) in rank order."""
    board = Leaderboard.objects.create(task=ratchet.training_task, division=division, split=split, version=1)
    for rank, (user, primary, baseline) in enumerate(rows, start=1):
        submission = make_scored_submission(
            task=ratchet.training_task, division=division, user=user, primary=primary, baseline=baseline
        )
        LeaderboardEntry.objects.create(
            leaderboard=board,
            team=submission.team,
            submission=submission,
            rank=rank,
            primary=primary,
            is_baseline=baseline,
            submitted_at=timezone.now() - dt.timedelta(minutes=rank),
        )


def chart_of(ratchet: Ratchet) -> list[tuple[int, float | None, float | None]]:
    rounds = list(ratchet.rounds.order_by("number"))
    figures = {round_.number: round_figures(round_=round_) for round_ in rounds}
    points = ratchet_chart(ratchet=ratchet, rounds=rounds, figures=figures)["points"]
    return [(point["round"], point["training"], point["suite"]) for point in points]


def test_each_round_pairs_the_best_training_set_with_the_suites_accuracy_on_validated_items(
    ratchet: Ratchet,
    open_division: Division,
    closed_division: Division,
    participant: User,
    other_participant: User,
    organizer: User,
) -> None:
    first = make_round(ratchet, 1, Round.Status.CLOSED)
    second = make_round(ratchet, 2, Round.Status.OPEN)
    make_round(ratchet, 3, Round.Status.DRAFT)
    # Round 1 froze its boards: the first division's public one counts; baselines, other splits and divisions not.
    freeze(first, open_division, [("baseline", 0.95, True), ("alice", 0.7, False), ("bob", 0.6, False)])
    freeze(first, open_division, [("alice", 0.99, False)], split="private")
    freeze(first, closed_division, [("carol", 0.98, False)])
    # Its accepted items: one fooled both models, one fooled neither; rejected and pending items do not count.
    make_item(first, status=Status.ACCEPTED, fooled=True)
    make_item(first, status=Status.ACCEPTED, fooled=False)
    make_item(first, status=Status.REJECTED, fooled=False)
    make_item(first, fooled=False)
    # Round 2 runs: the live public board, in rank order, its best team after the baseline.
    live_board(ratchet, open_division, [(organizer, 0.97, True), (other_participant, 0.8, False)])
    live_board(ratchet, open_division, [(participant, 0.99, False)], split="private")
    make_item(second, status=Status.ACCEPTED, fooled=True)

    assert chart_of(ratchet) == [(1, 0.7, 0.5), (2, 0.8, 0.0)]


def test_rounds_without_boards_or_validated_items_have_no_values(ratchet: Ratchet, open_division: Division) -> None:
    make_round(ratchet, 1, Round.Status.CLOSED)
    second = make_round(ratchet, 2, Round.Status.VALIDATING)
    make_item(second)

    assert chart_of(ratchet) == [(1, None, None), (2, None, None)]


def test_the_series_are_named_for_the_training_tasks_metric(ratchet: Ratchet) -> None:
    chart = ratchet_chart(ratchet=ratchet, rounds=[], figures={})

    assert chart["points"] == []
    assert (
        chart["training_label"] == "Best training set on the round's test data (Accuracy, mean over the fixed models)"
    )
    assert chart["suite_label"] == "The round's models' accuracy on its validated items"

"""Selecting a submission as final, and the ranking rule that honours it (`Task.ranking_rule`)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import TeamMembership
from apps.challenges.models import Task
from apps.core.errors import Forbidden, InvalidInput
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard
from apps.leaderboards.ranking import Candidate, rank_candidates
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Submission
from apps.submissions.services.choices import submission_select_final
from tests.api.conftest import World
from tests.apps.conftest import make_scored_submission

T0 = timezone.now()


def _candidate(pk: int, team: int, primary: float, *, final: bool = False, baseline: bool = False) -> Candidate:
    return Candidate(pk, team, baseline, T0 + dt.timedelta(minutes=pk), primary, {"m": primary}, final)


def _rows(candidates: list[Candidate], *, selected_final: bool) -> list[tuple[int, int, int]]:
    ranked = rank_candidates(candidates, higher_is_better=True, selected_final=selected_final)
    return [(rank, candidate.submission_id, count) for rank, candidate, count in ranked]


def test_under_the_best_rule_a_selection_changes_nothing() -> None:
    candidates = [_candidate(1, 10, 0.5, final=True), _candidate(2, 10, 0.9), _candidate(3, 20, 0.7)]
    assert _rows(candidates, selected_final=False) == [(1, 2, 2), (2, 3, 1)]


def test_under_the_selected_final_rule_a_team_is_ranked_by_its_selection_even_if_worse() -> None:
    candidates = [_candidate(1, 10, 0.5, final=True), _candidate(2, 10, 0.9), _candidate(3, 20, 0.7)]
    assert _rows(candidates, selected_final=True) == [(1, 3, 1), (2, 1, 2)]


def test_under_the_selected_final_rule_a_team_with_several_selections_is_ranked_by_their_best() -> None:
    candidates = [
        _candidate(1, 10, 0.5, final=True),
        _candidate(2, 10, 0.6, final=True),
        _candidate(3, 10, 0.9),
        _candidate(4, 20, 0.55),
    ]
    assert _rows(candidates, selected_final=True) == [(1, 2, 3), (2, 4, 1)]


def test_a_team_that_selected_nothing_is_ranked_by_its_best() -> None:
    candidates = [_candidate(1, 10, 0.5), _candidate(2, 10, 0.9), _candidate(3, 20, 0.7, final=True)]
    assert _rows(candidates, selected_final=True) == [(1, 2, 2), (2, 3, 1)]


def test_baselines_are_ranked_on_their_own_rows_whatever_the_rule() -> None:
    candidates = [
        _candidate(1, 10, 0.4, final=True),
        _candidate(2, 10, 0.8),
        _candidate(3, 99, 0.6, baseline=True),
        _candidate(4, 99, 0.6, baseline=True),
    ]
    assert _rows(candidates, selected_final=True) == [(1, 3, 1), (1, 4, 1), (3, 1, 2)]


def test_a_team_selects_up_to_the_tasks_number_per_division_and_clears_one_to_choose_another(
    world: World, closed_division: Division
) -> None:
    alice = world.user("participant_a")
    second = make_scored_submission(task=world.task, division=world.division, user=alice, primary=0.9)
    third = make_scored_submission(task=world.task, division=world.division, user=alice, primary=0.7)
    elsewhere = make_scored_submission(task=world.task, division=closed_division, user=alice, primary=0.1)
    assert world.task.final_selections == 2
    for chosen in (elsewhere, world.submission, second, second):  # selecting one twice is one selection
        submission_select_final(submission=chosen, user=alice)

    with pytest.raises(
        InvalidInput, match=rf"selected 2 final submissions .*\(#{world.submission.pk}, #{second.pk}\).*clear one"
    ):
        submission_select_final(submission=third, user=alice)

    submission_select_final(submission=second, user=alice, selected=False)
    submission_select_final(submission=third, user=alice)
    finals = set(Submission.objects.filter(is_selected_final=True).values_list("pk", flat=True))
    assert finals == {world.submission.pk, third.pk, elsewhere.pk}


def test_the_number_of_selections_is_the_tasks_setting(world: World) -> None:
    alice = world.user("participant_a")
    second = make_scored_submission(task=world.task, division=world.division, user=alice, primary=0.9)
    Task.objects.filter(pk=world.task.pk).update(final_selections=1)
    submission_select_final(submission=world.submission, user=alice)

    with pytest.raises(InvalidInput, match=r"the most it may \(1\)"):
        submission_select_final(submission=second, user=alice)


def test_the_database_refuses_a_number_of_selections_out_of_range(world: World) -> None:
    for wrong in (0, 21):
        with pytest.raises(IntegrityError), transaction.atomic():
            Task.objects.filter(pk=world.task.pk).update(final_selections=wrong)


def test_any_member_of_the_team_may_select_and_nobody_else(world: World) -> None:
    bob = world.user("participant_b")
    with pytest.raises(Forbidden, match="Only members of team alice"):
        submission_select_final(submission=world.submission, user=bob)
    TeamMembership.objects.create(team=world.submission.team, user=bob)
    assert submission_select_final(submission=world.submission, user=bob).is_selected_final


@pytest.mark.parametrize("status", ["rejected", "failed", "cancelled"])
def test_a_submission_that_was_not_scored_cannot_be_selected(world: World, status: str) -> None:
    Submission.objects.filter(pk=world.submission.pk).update(status=status)
    world.submission.refresh_from_db()
    with pytest.raises(InvalidInput, match=status):
        submission_select_final(submission=world.submission, user=world.submission.submitted_by)


def test_a_baseline_is_not_selectable(world: World) -> None:
    organizer = world.user("organizer")
    baseline = make_scored_submission(
        task=world.task, division=world.division, user=organizer, primary=0.3, baseline=True
    )
    with pytest.raises(Forbidden, match="Baselines"):
        submission_select_final(submission=baseline, user=organizer)


def _board(world: World) -> list[tuple[int, float]]:
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/leaderboard/"
    return [(row["submission_id"], row["primary"]) for row in world.client("anonymous").get(url).json()["rows"]]


def test_selecting_through_the_api_reranks_a_selected_final_task_at_once(world: World) -> None:
    alice = world.user("participant_a")
    better = make_scored_submission(task=world.task, division=world.division, user=alice, primary=0.9)
    Task.objects.filter(pk=world.task.pk).update(ranking_rule=Task.RankingRule.SELECTED_FINAL)
    world.task.refresh_from_db()
    leaderboard_rebuild(task=world.task, division=world.division)
    assert _board(world) == [(better.pk, 0.9)]

    api = world.client("participant_a")
    url = f"/api/v1/submissions/{world.submission.pk}/select-final/"
    assert api.post(url, {"selected": True}, format="json").json()["is_selected_final"] is True
    assert _board(world) == [(world.submission.pk, 0.5)]
    assert api.post(url, {"selected": False}, format="json").json()["is_selected_final"] is False
    assert _board(world) == [(better.pk, 0.9)]


def test_under_the_best_rule_a_selection_does_not_rebuild_the_leaderboard(world: World) -> None:
    leaderboard_rebuild(task=world.task, division=world.division)
    version = Leaderboard.objects.get(task=world.task, division=world.division).version
    world.client("participant_a").post(f"/api/v1/submissions/{world.submission.pk}/select-final/", {}, format="json")
    assert Leaderboard.objects.get(task=world.task, division=world.division).version == version

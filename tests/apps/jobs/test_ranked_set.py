"""Which submissions rank is one rule (`Submission.objects.ranking`): the board, the score history and the
collective rescore take part with the same submissions, division by division, in every state a submission
can be in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.jobs.collective import task_rescore_collective
from apps.leaderboards.ranking import board_compute
from apps.leaderboards.selectors import score_history
from apps.submissions.models import Evaluation, Submission
from apps.submissions.services.admin_actions import submission_queue_rescore
from tests.apps.jobs.conftest import HandIn
from tests.conftest import make_user

Status = Submission.Status


def _updated(**fields: object) -> Callable[[Submission], None]:
    def put(submission: Submission) -> None:
        Submission.objects.filter(pk=submission.pk).update(**fields)

    return put


def _queued_for_rescore(submission: Submission) -> None:
    assert submission_queue_rescore(submission=submission)


RANKED: dict[str, Callable[[Submission], None]] = {
    "scored": lambda submission: None,
    "queued-for-rescore": _queued_for_rescore,
    "rescore-running": _updated(status=Status.RUNNING, lease_owner="w", lease_expires_at=timezone.now()),
    "rescore-failed": _updated(status=Status.FAILED),
    "reverifying": _updated(status=Status.VERIFYING),
}
"""States in which a scored submission keeps ranking on its last evaluation."""

UNRANKED: dict[str, Callable[[Submission], None]] = {
    "rejected-by-rescore": _updated(status=Status.REJECTED),
    "cancelled": _updated(status=Status.CANCELLED),
    "withdrawn": _updated(is_withdrawn=True),
    "disqualified": _updated(is_disqualified=True),
}


def _hand_in_every_state(hand_in: HandIn, division: Division) -> dict[str, Submission]:
    """One scored submission per state, each from its own team (one board row each), all holding items a and b."""
    made = {}
    for name, put in {**RANKED, **UNRANKED}.items():
        submission = hand_in(make_user(f"{division.slug}-{name}"), ["a", "b"], division)
        put(submission)
        made[name] = submission
    return made


def _every_state_in_two_divisions(hand_in: HandIn, *divisions: Division) -> dict[Division, dict[str, Submission]]:
    return {division: _hand_in_every_state(hand_in, division) for division in divisions}


def _board_ids(task: Task, division: Division) -> set[int]:
    return {candidate.submission_id for _, candidate, _ in board_compute(task=task, division=division)}


def _history_teams(task: Task, division: Division) -> set[str]:
    return {point["team"] for point in score_history(task=task, division=division)}


def _rescored_ids(division: Division, round_: int) -> set[int]:
    evaluations = Evaluation.objects.filter(round=round_, submission__division=division)
    return set(evaluations.values_list("submission_id", flat=True))


def _primary(submission: Submission) -> float:
    submission.refresh_from_db()
    assert submission.current_evaluation is not None
    score = submission.current_evaluation.scores.get(split="public", metric="credit")
    return score.value


@pytest.fixture
def second_division(challenge: Challenge) -> Division:
    return Division.objects.create(challenge=challenge, slug="second", kind="open", name="Second", order=1)


def test_the_board_the_history_and_the_collective_job_rank_the_same_submissions(
    hand_in: HandIn, toy_task: Task, open_division: Division, second_division: Division
) -> None:
    made = _every_state_in_two_divisions(hand_in, open_division, second_division)

    round_ = task_rescore_collective(task_id=toy_task.pk)

    assert round_ is not None
    for division, submissions in made.items():
        expected = {submissions[name].pk for name in RANKED}
        assert _board_ids(toy_task, division) == expected
        assert _rescored_ids(division, round_) == expected
        assert _history_teams(toy_task, division) == {submissions[name].team.name for name in RANKED}


def test_each_ranked_submission_shares_credit_with_its_own_division_only(
    hand_in: HandIn, toy_task: Task, open_division: Division, second_division: Division
) -> None:
    made = _every_state_in_two_divisions(hand_in, open_division, second_division)

    task_rescore_collective(task_id=toy_task.pk)

    for submissions in made.values():
        credits = {name: _primary(submissions[name]) for name in RANKED}
        # a and b, each shared among the division's ranked submissions
        assert credits == {name: pytest.approx(2 / len(RANKED)) for name in RANKED}

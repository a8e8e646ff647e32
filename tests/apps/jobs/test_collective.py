"""Collective scoring on the platform: one task-wide job re-scores every ranked submission together, records
a new immutable round, and rebuilds the leaderboard; requests made before the job started are served once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.challenges.models import Challenge, Task
from apps.core.queues import RESCORE_COLLECTIVE_TASK
from apps.divisions.models import Division
from apps.jobs.collective import task_rescore_collective
from apps.leaderboards.models import LeaderboardEntry
from apps.submissions.models import Evaluation, Submission
from apps.submissions.services.admin_actions import submission_queue_rescore
from apps.submissions.services.reaper import submissions_reap
from tests.apps.conftest import RecordingBroker
from tests.conftest import make_user


def _credit(submission: Submission) -> Any:
    return LeaderboardEntry.objects.get(submission=submission).primary


def test_a_landed_score_asks_for_one_task_wide_rescore(
    hand_in: Callable[..., Submission], toy_task: Task, broker: RecordingBroker, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        hand_in(make_user("carol"), ["a", "b"])

    toy_task.refresh_from_db()
    assert toy_task.collective_requested == 1
    assert broker.ids(RESCORE_COLLECTIVE_TASK) == [toy_task.pk]


def test_the_rescore_divides_shared_credit_and_ranks_by_it(hand_in: Callable[..., Submission], toy_task: Task) -> None:
    carol = hand_in(make_user("carol"), ["a", "b", "c"])
    dave = hand_in(make_user("dave"), ["a", "b", "d"])
    assert _credit(carol) == _credit(dave) == 3.0  # alone, before the collective round

    round_ = task_rescore_collective(task_id=toy_task.pk)

    assert round_ == 2
    assert _credit(carol) == pytest.approx(2.0)  # a and b shared (0.5 + 0.5), c alone
    assert _credit(dave) == pytest.approx(2.0)
    toy_task.refresh_from_db()
    assert toy_task.collective_done == toy_task.collective_requested == 2
    assert toy_task.collective_rescored_at is not None


def test_a_rescore_keeps_earlier_results_and_adds_a_round(hand_in: Callable[..., Submission], toy_task: Task) -> None:
    carol = hand_in(make_user("carol"), ["a"])
    task_rescore_collective(task_id=toy_task.pk)
    hand_in(make_user("dave"), ["a"])

    task_rescore_collective(task_id=toy_task.pk)

    rounds = sorted(Evaluation.objects.filter(submission=carol).values_list("round", flat=True))
    assert rounds == [0, 1, 2]
    carol.refresh_from_db()
    assert carol.current_evaluation is not None and carol.current_evaluation.round == 2
    assert _credit(carol) == pytest.approx(0.5)


def test_a_second_job_for_the_same_requests_does_nothing(hand_in: Callable[..., Submission], toy_task: Task) -> None:
    carol = hand_in(make_user("carol"), ["a", "b"])
    assert task_rescore_collective(task_id=toy_task.pk) == 1

    assert task_rescore_collective(task_id=toy_task.pk) is None
    assert Evaluation.objects.filter(submission=carol).count() == 2


def test_withdrawn_submissions_take_no_share(hand_in: Callable[..., Submission], toy_task: Task) -> None:
    carol = hand_in(make_user("carol"), ["a", "b"])
    dave = hand_in(make_user("dave"), ["a", "b"])
    Submission.objects.filter(pk=dave.pk).update(is_withdrawn=True)

    task_rescore_collective(task_id=toy_task.pk)

    assert _credit(carol) == pytest.approx(2.0)
    assert not LeaderboardEntry.objects.filter(submission=dave).exists()


def test_a_submission_being_rescored_keeps_its_collective_credit(
    hand_in: Callable[..., Submission], toy_task: Task
) -> None:
    carol = hand_in(make_user("carol"), ["a", "b"])
    dave = hand_in(make_user("dave"), ["a"])
    assert submission_queue_rescore(submission=dave)  # queued again; its last evaluation stays current meanwhile

    round_ = task_rescore_collective(task_id=toy_task.pk)

    dave.refresh_from_db()
    assert dave.current_evaluation is not None and dave.current_evaluation.round == round_
    assert _credit(dave) == pytest.approx(0.5)  # still ranked, and holding its share of a
    assert _credit(carol) == pytest.approx(1.5)


def test_credit_is_shared_within_a_division_only(
    hand_in: Callable[..., Submission], toy_task: Task, challenge: Challenge
) -> None:
    second = Division.objects.create(challenge=challenge, slug="second", kind="open", name="Second", order=1)
    carol = hand_in(make_user("carol"), ["a", "b"])
    dave = hand_in(make_user("dave"), ["a"])
    erin = hand_in(make_user("erin"), ["a", "b"], second)

    task_rescore_collective(task_id=toy_task.pk)

    assert (_credit(carol), _credit(dave)) == (pytest.approx(1.5), pytest.approx(0.5))
    assert _credit(erin) == pytest.approx(2.0)  # alone in its division: neither carol nor dave dilutes it


def test_the_reaper_resends_a_rescore_that_never_ran(
    hand_in: Callable[..., Submission], toy_task: Task, broker: RecordingBroker, django_capture_on_commit_callbacks: Any
) -> None:
    hand_in(make_user("carol"), ["a"])
    broker.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        report = submissions_reap()

    assert report.collective == [toy_task.pk]
    assert broker.ids(RESCORE_COLLECTIVE_TASK) == [toy_task.pk]

"""Collective scoring on the platform: one task-wide job re-scores every ranked submission together, records
a new immutable round, and rebuilds the leaderboard; requests made before the job started are served once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register, task_data_file_put
from apps.core.queues import RESCORE_COLLECTIVE_TASK
from apps.divisions.models import Division
from apps.jobs.collective import task_rescore_collective
from apps.jobs.pipeline import evaluate_and_rank
from apps.leaderboards.models import LeaderboardEntry
from apps.submissions.models import Evaluation, Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.reaper import submissions_reap
from tests.apps.conftest import RecordingBroker
from tests.conftest import make_user


@pytest.fixture
def toy_task(challenge: Challenge, open_division: Division) -> Task:
    task = Task.objects.create(
        challenge=challenge, slug="toy", title="Toy", evaluator_slug="toy-collective", ml_task="tabular", config={}
    )
    task_data_file_put(task=task, relative_path="items.json", content=ContentFile(json.dumps(list("abcdef")).encode()))
    task.refresh_from_db()
    return task


@pytest.fixture
def hand_in(toy_task: Task, open_division: Division, challenge: Challenge) -> Callable[..., Submission]:
    def _hand_in(user: User, items: list[str]) -> Submission:
        participation_register(challenge=challenge, user=user, accept_rules=True)
        data = SubmissionInput(artifact=ContentFile(json.dumps(items).encode()), artifact_name="items.json")
        submission = submission_create(task=toy_task, division=open_division, user=user, data=data)
        assert evaluate_and_rank(submission_id=submission.pk) == "scored"
        return submission

    return _hand_in


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


def test_the_reaper_resends_a_rescore_that_never_ran(
    hand_in: Callable[..., Submission], toy_task: Task, broker: RecordingBroker, django_capture_on_commit_callbacks: Any
) -> None:
    hand_in(make_user("carol"), ["a"])
    broker.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        report = submissions_reap()

    assert report.collective == [toy_task.pk]
    assert broker.ids(RESCORE_COLLECTIVE_TASK) == [toy_task.pk]

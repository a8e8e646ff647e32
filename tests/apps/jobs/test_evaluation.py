"""Evaluating a queued submission: claim, lease, record once, retries, rejections, rescoring."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.challenges.models import Task
from apps.core.queues import EVALUATE_TASK
from apps.jobs.pipeline import evaluate_and_rank
from apps.leaderboards.models import Leaderboard, LeaderboardEntry
from apps.submissions.models import Evaluation, Score, Submission
from apps.submissions.services.admin_actions import submission_queue_rescore
from apps.submissions.services.evaluation import submission_claim, submission_record
from apps.submissions.services.leases import Outcome
from evaluators import EvaluationResult, SubmissionError, get_evaluator
from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator
from tests.apps.conftest import PRIMARY, SEED_METRICS, RecordingBroker

pytestmark = pytest.mark.django_db
Submit = Callable[..., Submission]
Selections = dict[str, dict[str, Any]]


@pytest.fixture
def queued(submit: Submit, registered: User, speech_selections: Selections) -> Submission:
    submission = submit(registered, speech_selections["first-k"])
    assert submission.status == Submission.Status.QUEUED
    return submission


def _fail_evaluate_with(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def evaluate(self: SelectionSpeechEvaluator, task: object, parsed: object, report: object = None) -> None:
        raise error

    monkeypatch.setattr(SelectionSpeechEvaluator, "evaluate", evaluate)


def test_it_scores_a_queued_submission(queued: Submission) -> None:
    outcome = evaluate_and_rank(submission_id=queued.pk)

    queued.refresh_from_db()
    assert outcome == Outcome.SCORED
    assert queued.status == Submission.Status.SCORED
    assert queued.progress == 1.0
    assert (queued.lease_owner, queued.lease_expires_at) == ("", None)
    assert queued.attempts == 1


def test_it_records_one_evaluation_with_the_primary_and_every_seed_metric(queued: Submission) -> None:
    evaluate_and_rank(submission_id=queued.pk)

    evaluation = Evaluation.objects.get(submission=queued)
    queued.refresh_from_db()
    metrics = set(Score.objects.filter(evaluation=evaluation).values_list("metric", flat=True))
    assert queued.current_evaluation == evaluation
    assert metrics == {PRIMARY, *SEED_METRICS}
    assert len(SEED_METRICS) == 10
    assert evaluation.primary_metric == PRIMARY
    assert evaluation.data_version == queued.task.data_version


def test_it_records_the_mean_over_the_seeds_as_the_primary_score(queued: Submission) -> None:
    evaluate_and_rank(submission_id=queued.pk)

    values = dict(Score.objects.filter(evaluation__submission=queued).values_list("metric", "value"))
    assert values[PRIMARY] == pytest.approx(sum(values[m] for m in SEED_METRICS) / len(SEED_METRICS))


def test_it_ranks_the_scored_submission_on_its_leaderboard(queued: Submission) -> None:
    evaluate_and_rank(submission_id=queued.pk)

    entry = LeaderboardEntry.objects.get(leaderboard__task=queued.task, leaderboard__division=queued.division)
    primary = Score.objects.get(evaluation__submission=queued, metric=PRIMARY).value
    assert (entry.rank, entry.submission_id, entry.primary) == (1, queued.pk, primary)


def test_evaluating_twice_skips_the_second_run_and_adds_nothing(queued: Submission) -> None:
    evaluate_and_rank(submission_id=queued.pk)
    version = Leaderboard.objects.get().version

    outcome = evaluate_and_rank(submission_id=queued.pk)

    assert outcome == Outcome.SKIPPED
    assert Evaluation.objects.count() == 1
    assert Score.objects.count() == 11
    assert Leaderboard.objects.get().version == version
    queued.refresh_from_db()
    assert queued.attempts == 1


def test_a_claimed_submission_cannot_be_claimed_by_a_second_worker(queued: Submission) -> None:
    first = submission_claim(submission_id=queued.pk, worker="worker-a")
    second = submission_claim(submission_id=queued.pk, worker="worker-b")

    assert first is not None
    assert first.status == Submission.Status.RUNNING
    assert second is None
    queued.refresh_from_db()
    assert queued.lease_owner == "worker-a"


def test_a_running_submission_whose_lease_expired_can_be_claimed_again(queued: Submission) -> None:
    submission_claim(submission_id=queued.pk, worker="worker-a")
    Submission.objects.filter(pk=queued.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))

    second = submission_claim(submission_id=queued.pk, worker="worker-b")

    assert second is not None
    assert (second.lease_owner, second.attempts) == ("worker-b", 2)


def test_a_worker_that_lost_its_lease_records_nothing(queued: Submission) -> None:
    claimed = submission_claim(submission_id=queued.pk, worker="worker-a")
    assert claimed is not None
    Submission.objects.filter(pk=queued.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    submission_claim(submission_id=queued.pk, worker="worker-b")
    recorded: list[Submission] = []

    kept = submission_record(
        submission=claimed,
        worker="worker-a",
        evaluator=get_evaluator("selection-speech"),
        result=EvaluationResult(primary=0.5, metrics={}),
        duration=1.0,
        on_recorded=recorded.append,
    )

    assert kept is False
    assert recorded == []
    assert not Evaluation.objects.exists()
    queued.refresh_from_db()
    assert (queued.status, queued.lease_owner) == (Submission.Status.RUNNING, "worker-b")


def test_an_evaluator_fault_requeues_the_submission_with_a_message(
    queued: Submission,
    monkeypatch: pytest.MonkeyPatch,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    _fail_evaluate_with(monkeypatch, ValueError("boom"))

    with django_capture_on_commit_callbacks(execute=True):
        outcome = evaluate_and_rank(submission_id=queued.pk)

    queued.refresh_from_db()
    assert outcome == Outcome.FAILED
    assert queued.status == Submission.Status.QUEUED
    assert queued.message == "The evaluator failed unexpectedly (ValueError)."
    assert (queued.lease_owner, queued.lease_expires_at) == ("", None)
    assert broker.ids(EVALUATE_TASK) == [queued.pk]
    assert broker.sent[0].countdown > 0


def test_an_evaluator_fault_fails_the_submission_after_the_last_attempt(
    queued: Submission, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_evaluate_with(monkeypatch, ValueError("boom"))

    statuses = []
    for _ in range(settings.EVALUATION_MAX_ATTEMPTS):
        evaluate_and_rank(submission_id=queued.pk)
        statuses.append(Submission.objects.get(pk=queued.pk).status)

    queued.refresh_from_db()
    assert statuses == [Submission.Status.QUEUED] * (settings.EVALUATION_MAX_ATTEMPTS - 1) + [Submission.Status.FAILED]
    assert queued.message == "The evaluator failed unexpectedly (ValueError)."
    assert queued.finished_at is not None
    assert not Evaluation.objects.exists()


def test_a_submission_error_during_evaluation_rejects_the_submission(
    queued: Submission, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_evaluate_with(monkeypatch, SubmissionError("targets.fifty: the rule that only a full run can check"))

    outcome = evaluate_and_rank(submission_id=queued.pk)

    queued.refresh_from_db()
    assert outcome == Outcome.REJECTED
    assert queued.status == Submission.Status.REJECTED
    assert queued.message == "targets.fifty: the rule that only a full run can check"
    assert not LeaderboardEntry.objects.exists()


def test_rescoring_requeues_a_scored_submission_and_keeps_its_evaluation_meanwhile(
    queued: Submission,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    evaluate_and_rank(submission_id=queued.pk)
    queued.refresh_from_db()
    evaluation = queued.current_evaluation

    with django_capture_on_commit_callbacks(execute=True):
        requeued = submission_queue_rescore(submission=queued)

    queued.refresh_from_db()
    assert requeued is True
    assert (queued.status, queued.attempts) == (Submission.Status.QUEUED, 0)
    assert queued.current_evaluation == evaluation
    assert LeaderboardEntry.objects.filter(submission=queued).exists()
    assert broker.ids(EVALUATE_TASK) == [queued.pk]


def test_a_rescore_after_a_data_change_records_a_new_current_evaluation(queued: Submission) -> None:
    evaluate_and_rank(submission_id=queued.pk)
    queued.refresh_from_db()
    old = queued.current_evaluation
    assert old is not None
    submission_queue_rescore(submission=queued)
    Task.objects.filter(pk=queued.task_id).update(data_version=F("data_version") + 1)

    outcome = evaluate_and_rank(submission_id=queued.pk)

    queued.refresh_from_db()
    assert outcome == Outcome.SCORED
    assert queued.current_evaluation is not None
    assert queued.current_evaluation != old
    assert queued.current_evaluation.data_version == old.data_version + 1
    assert Evaluation.objects.filter(submission=queued).count() == 2
    assert LeaderboardEntry.objects.get().submission_id == queued.pk


def test_rescoring_refuses_a_submission_that_is_not_scored(queued: Submission) -> None:
    assert submission_queue_rescore(submission=queued) is False
    queued.refresh_from_db()
    assert queued.status == Submission.Status.QUEUED

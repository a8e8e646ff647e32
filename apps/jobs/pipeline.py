"""The evaluation pipeline, orchestrated here because it spans submissions and leaderboards: a score and
its leaderboard rebuild are committed in one transaction. So are a team's withdrawal or final selection
and the rebuild they call for."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.challenges.models import Task
from apps.jobs.collective import collective_request, is_collective
from apps.leaderboards.services import leaderboards_rebuild_for_submission
from apps.ratchets.selectors import is_ratchet_test_task
from apps.submissions.models import Submission
from apps.submissions.services.choices import submission_select_final, submission_withdraw
from apps.submissions.services.dispatch import enqueue_ratchet_items
from apps.submissions.services.evaluation import submission_evaluate
from apps.submissions.services.leases import Outcome, worker_name
from apps.submissions.services.verification import submission_verify


def _rebuild_for(submission: Submission) -> None:
    leaderboards_rebuild_for_submission(submission=submission)
    if is_collective(submission.task):
        collective_request(task=submission.task)


def _recorded(submission: Submission) -> None:
    """A new score: rank it, and record the new items of a ratchet's test-set submission for validation."""
    _rebuild_for(submission)
    if is_ratchet_test_task(task_id=submission.task_id):
        enqueue_ratchet_items(submission.pk)


def evaluate_and_rank(*, submission_id: int) -> Outcome:
    """Evaluate one submission and, if this run recorded its score, rebuild its leaderboard. Idempotent."""
    return submission_evaluate(submission_id=submission_id, worker=worker_name(), on_recorded=_recorded)


def verify_and_rank(*, submission_id: int) -> Outcome:
    """Rerun a closed-division submission's code (`submission_verify`); a re-verification that rejects a ranked
    submission rebuilds its leaderboards in the same transaction. Idempotent."""
    return submission_verify(submission_id=submission_id, worker=worker_name(), on_rejected=_rebuild_for)


def submission_withdraw_and_rank(*, submission: Submission, user: User) -> Submission:
    """Withdraw a submission (`submission_withdraw`) and rebuild its leaderboard in the same transaction, so
    no reader sees it ranked after the withdrawal is committed. Raises what `submission_withdraw` raises."""
    with transaction.atomic():
        withdrawn = submission_withdraw(submission=submission, user=user)
        _rebuild_for(withdrawn)
    return withdrawn


def submission_select_final_and_rank(*, submission: Submission, user: User, selected: bool = True) -> Submission:
    """Select (or unselect) a submission as one of its team's final ones (`submission_select_final`); when a
    board depends on the selection (the selected-final rule, or a private split), rebuild the boards in the same
    transaction."""
    with transaction.atomic():
        chosen = submission_select_final(submission=submission, user=user, selected=selected)
        if chosen.task.ranking_rule == Task.RankingRule.SELECTED_FINAL or chosen.task.has_private_split:
            _rebuild_for(chosen)
    return chosen

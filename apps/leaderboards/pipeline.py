"""The evaluation pipeline, orchestrated here because it spans submissions and leaderboards: a score and
its leaderboard rebuild are committed in one transaction."""

from __future__ import annotations

from apps.leaderboards.collective import collective_request, is_collective
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Submission
from apps.submissions.services.evaluation import submission_evaluate
from apps.submissions.services.leases import worker_name


def _rebuild_for(submission: Submission) -> None:
    leaderboard_rebuild(task=submission.task, division=submission.division)
    if is_collective(submission.task):
        collective_request(task=submission.task)


def evaluate_and_rank(*, submission_id: int) -> str:
    """Evaluate one submission and, if this run recorded its score, rebuild its leaderboard. Idempotent."""
    return submission_evaluate(submission_id=submission_id, worker=worker_name(), on_recorded=_rebuild_for)

"""What an evaluation of a task with a private split stores, written directly (no evaluator run): the task's
split settings, private Score rows beside the public ones, and the whole set's values sealed in the details
(`submissions.services.evaluation.evaluation_store` writes the same shapes)."""

from __future__ import annotations

from apps.challenges.models import Task
from apps.submissions.models import Evaluation, Score, Submission
from apps.submissions.services.evaluation import WHOLE_SET_KEY
from tests.apps.conftest import PRIMARY, SEED_METRICS

SPLIT_SEED = 8_123_456_789_012_345_678
"""A seed that no page may show (participants get the config without it)."""


def give_private_split(task: Task, *, fraction: float = 0.25) -> Task:
    """Give the task a private split (without rescoring anything)."""
    config = {**task.config, "private_fraction": fraction, "split_seed": SPLIT_SEED}
    Task.objects.filter(pk=task.pk).update(config=config)
    task.refresh_from_db()
    return task


def add_split_scores(submission: Submission, *, private: float, whole: float) -> None:
    """Private scores (the primary and the seed metric, both `private`) and the whole set's values (`whole`),
    on the submission's current evaluation, as a scored evaluation of a split task holds them."""
    evaluation = submission.current_evaluation
    assert evaluation is not None
    Score.objects.bulk_create(
        [
            Score(evaluation=evaluation, split=Score.Split.PRIVATE, metric=PRIMARY, value=private),
            Score(evaluation=evaluation, split=Score.Split.PRIVATE, metric=SEED_METRICS[0], value=private),
        ]
    )
    whole_set = {"primary": whole, "metrics": {PRIMARY: whole, SEED_METRICS[0]: whole}}
    details = {**evaluation.details, "sealed": {WHOLE_SET_KEY: whole_set}}
    Evaluation.objects.filter(pk=evaluation.pk).update(details=details)

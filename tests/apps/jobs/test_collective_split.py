"""Collective scoring with a private split (test-set creation): the task-wide rescore writes, for every ranked
submission, its credit over the public pool items and over the private ones, with the divisors of the whole
competing set, exactly as the evaluator's `evaluate_all` computes them offline; both boards follow."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from apps.challenges.evaluators import task_loaded
from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.jobs.collective import task_rescore_collective
from apps.jobs.pipeline import evaluate_and_rank
from apps.leaderboards.models import LeaderboardEntry
from apps.submissions.models import Score, Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators import get_evaluator
from evaluators.base import CollectiveEvaluator
from evaluators.taskdir import load_task_dir
from evaluators.test_set_creation.synthetic import DEMO_TASKS, generate_task, write_baselines
from tests.conftest import make_user, put_task_data

pytestmark = pytest.mark.django_db
SLUG = "test-set-creation"


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    path = tmp_path / "task"
    generate_task(path, config=DEMO_TASKS[0].config, seed=0, small=True)
    return path


@pytest.fixture
def split_task(challenge: Challenge, open_division: Division, task_dir: Path) -> Task:
    config = {**load_task_dir(task_dir).config, "private_fraction": 0.5, "split_seed": 2024}
    task = Task.objects.create(
        challenge=challenge,
        slug="test-set",
        title="Test set",
        evaluator_slug=SLUG,
        ml_task="image-classification",
        config=get_evaluator(SLUG).validate_config(config),
    )
    put_task_data(task, task_dir)
    return task


def _hand_in(task: Task, division: Division, user: User, path: Path) -> Submission:
    participation_register(challenge=task.challenge, user=user, accept_rules=True)
    data = SubmissionInput(artifact=ContentFile(path.read_bytes()), artifact_name=path.name)
    submission = submission_create(task=task, division=division, user=user, data=data)
    assert evaluate_and_rank(submission_id=submission.pk) == "scored", submission.message
    return submission


def _split_values(submission: Submission, split: str) -> dict[str, float]:
    submission.refresh_from_db()
    assert submission.current_evaluation_id is not None
    scores = Score.objects.filter(evaluation_id=submission.current_evaluation_id, split=split)
    return dict(scores.values_list("metric", "value"))


def test_the_task_wide_rescore_writes_public_and_private_credit_as_offline(
    split_task: Task, open_division: Division, task_dir: Path, tmp_path: Path
) -> None:
    baselines = write_baselines(task_dir, tmp_path / "baselines", seed=0)
    files = sorted(baselines.items())[:2]
    handed = {
        method: _hand_in(split_task, open_division, make_user(f"user{index}"), path)
        for index, (method, path) in enumerate(files)
    }

    assert task_rescore_collective(task_id=split_task.pk) is not None

    evaluator, loaded = task_loaded(split_task)
    assert isinstance(evaluator, CollectiveEvaluator)
    parsed = {method: evaluator.validate(loaded, path) for method, path in files}
    expected = evaluator.evaluate_all(loaded, parsed)
    primary = evaluator.primary_metric(split_task.config).name
    for method, submission in handed.items():
        for split in ("public", "private"):
            part = expected[method].splits[split]
            assert _split_values(submission, split) == {primary: part.primary, **part.metrics}, (method, split)
        entries = dict(
            LeaderboardEntry.objects.filter(submission=submission).values_list("leaderboard__split", "primary")
        )
        assert entries == {split: _split_values(submission, split)[primary] for split in ("public", "private")}

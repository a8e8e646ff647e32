"""Every benchmark's example algorithm goes through the closed division: unpacked, rerun in the real sandbox,
found to reproduce its artifact, run on a concealed task, scored on both."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from apps.challenges.models import CONCEALED_DIR, Challenge, Task
from apps.core.archives import make_zip
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank, verify_and_rank
from apps.submissions.models import Score, Submission, VerificationStage
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.leases import Outcome
from evaluators import available_slugs, get_evaluator
from evaluators.algorithm import example_algorithm_dir, run_locally, write_public_inputs
from evaluators.demo import demo_module
from evaluators.taskdir import load_task_dir
from tests.conftest import put_task_data

pytestmark = [pytest.mark.usefixtures("sandbox_ready"), pytest.mark.django_db(transaction=True)]
WITH_EXAMPLES = [slug for slug in available_slugs() if example_algorithm_dir(get_evaluator(slug)) is not None]


def _task(challenge: Challenge, slug: str, work: Path) -> tuple[Task, Path]:
    module = demo_module(get_evaluator(slug))
    assert module is not None
    spec = module.DEMO_TASKS[0]
    task_dir, concealed = work / "task", work / "concealed-src" / CONCEALED_DIR
    module.generate_task(task_dir, config=spec.config, seed=0, small=True)
    module.generate_task(concealed, config=spec.config, seed=1, small=True)
    # A small task may have another config than the demo's (smaller sizes): take the one it wrote.
    evaluator = get_evaluator(slug)
    task = Task.objects.create(
        challenge=challenge,
        slug=spec.slug,
        title=spec.title,
        evaluator_slug=slug,
        ml_task=spec.ml_task,
        config=evaluator.validate_config(load_task_dir(task_dir).config),
        concealed_config=evaluator.validate_config(load_task_dir(concealed).config),
        concealed_visibility="always",
    )
    (concealed / "task.yaml").unlink()
    put_task_data(task, task_dir)
    put_task_data(task, concealed.parent)
    return task, task_dir


def _artifact(slug: str, code_dir: Path, task_dir: Path, work: Path) -> Path:
    inputs = work / "inputs"
    write_public_inputs(get_evaluator(slug), task_dir, inputs)
    produced = run_locally(code_dir, inputs, work / "out")
    return make_zip(produced, work / "artifact.zip") if produced.is_dir() else produced


@pytest.mark.parametrize("slug", WITH_EXAMPLES)
def test_the_example_algorithm_is_verified_and_scored_on_the_concealed_task(
    slug: str, challenge: Challenge, closed_division: Division, registered: User, tmp_path: Path
) -> None:
    task, task_dir = _task(challenge, slug, tmp_path)
    code_dir = example_algorithm_dir(get_evaluator(slug))
    assert code_dir is not None
    artifact = _artifact(slug, code_dir, task_dir, tmp_path)
    code = make_zip(
        shutil.copytree(code_dir, tmp_path / "code", ignore=shutil.ignore_patterns("__pycache__")),
        tmp_path / "code.zip",
    )
    data = SubmissionInput(
        artifact=ContentFile(artifact.read_bytes(), name=artifact.name),
        artifact_name=artifact.name,
        code_archive=ContentFile(code.read_bytes(), name="code.zip"),
    )
    submission = submission_create(task=task, division=closed_division, user=registered, data=data)
    assert submission.status == Submission.Status.VERIFYING, submission.message

    assert verify_and_rank(submission_id=submission.pk) == Outcome.VERIFIED, _stages(submission)
    scored = evaluate_and_rank(submission_id=submission.pk)
    assert scored == Outcome.SCORED, Submission.objects.get(pk=submission.pk).message
    splits = set(Score.objects.filter(evaluation__submission=submission).values_list("split", flat=True))
    assert splits == {"public", "concealed"}


def _stages(submission: Submission) -> list[tuple[str, str, str, str]]:
    rows = VerificationStage.objects.filter(submission=submission)
    return [(row.stage, row.status, row.message, row.organizer_detail) for row in rows]

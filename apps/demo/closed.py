"""The demo's closed division: every task (whose bundle holds a concealed task, see `apps.demo.bundle`) gets a
baseline submitted with its code, the benchmark's example algorithm, which the sandbox reruns."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files import File

from apps.challenges.models import Task
from apps.core.archives import make_zip
from apps.divisions.models import Division
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators import get_evaluator
from evaluators.algorithm import example_algorithm_dir, run_locally, write_public_inputs


def demo_submit_algorithm(task: Task, division: Division, organizer: User, task_dir: Path, work: Path) -> int | None:
    """Run the benchmark's example algorithm as a participant would at home, and submit its output with its
    code to the closed division (as a baseline). None when the benchmark has no example."""
    evaluator = get_evaluator(task.evaluator_slug)
    code_dir = example_algorithm_dir(evaluator)
    if code_dir is None:
        return None
    folder = work / task.slug / "algorithm"
    inputs = folder / "inputs"
    write_public_inputs(evaluator, task_dir, inputs)
    artifact = run_locally(code_dir, inputs, folder / "output")
    if artifact.is_dir():
        artifact = make_zip(artifact, folder / "artifact.zip")
    copy = shutil.copytree(code_dir, folder / "code", ignore=shutil.ignore_patterns("__pycache__"))
    code = make_zip(copy, folder / "code.zip")
    with artifact.open("rb") as artifact_file, code.open("rb") as code_file:
        data = SubmissionInput(
            artifact=File(artifact_file, name=artifact.name),
            artifact_name=artifact.name,
            code_archive=File(code_file, name=code.name),
            method_description="Baseline: the benchmark's example algorithm, rerun and verified in the sandbox.",
        )
        submission = submission_create(task=task, division=division, user=organizer, data=data, as_baseline=True)
    return submission.pk

"""The demo's closed division: every task (whose bundle holds a concealed task, see `apps.demo.bundle`) gets a
baseline submitted with its code, the benchmark's example algorithm, which the sandbox reruns; a few teams
submit the same algorithm's output with its code, as entries of their own."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files import File

from apps.challenges.models import Task
from apps.core.archives import make_zip
from apps.divisions.models import Division
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators import get_evaluator
from evaluators.algorithm import example_algorithm_dir, run_locally, write_public_inputs

BASELINE_METHOD = "Baseline: the benchmark's example algorithm, rerun and verified in the sandbox."
TEAM_METHOD = "The benchmark's example algorithm, run at home; its code is attached for the sandbox to rerun."


@dataclass(frozen=True)
class AlgorithmRun:
    """The example algorithm's output on a task's public inputs, and its code, as files to submit."""

    artifact: Path
    code: Path


def demo_algorithm_run(task: Task, task_dir: Path, work: Path) -> AlgorithmRun | None:
    """Run the benchmark's example algorithm as a participant would at home, and zip its code. None when the
    benchmark has no example."""
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
    return AlgorithmRun(artifact, make_zip(copy, folder / "code.zip"))


def demo_submit_algorithm(
    task: Task, division: Division, user: User, run: AlgorithmRun, *, as_baseline: bool = True
) -> int:
    """Submit the algorithm's output with its code to the closed division (as a baseline, or as `user`'s
    team's entry); returns the submission's id."""
    method = BASELINE_METHOD if as_baseline else TEAM_METHOD
    with run.artifact.open("rb") as artifact_file, run.code.open("rb") as code_file:
        data = SubmissionInput(
            artifact=File(artifact_file, name=run.artifact.name),
            artifact_name=run.artifact.name,
            code_archive=File(code_file, name=run.code.name),
            method_description=method,
        )
        submission = submission_create(task=task, division=division, user=user, data=data, as_baseline=as_baseline)
    return submission.pk

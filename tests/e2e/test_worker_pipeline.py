"""End to end with real processes: the web form, the broker, a Celery worker, the database, the leaderboard."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.challenges.models import Task
from apps.core.archives import make_zip
from apps.divisions.models import Division
from apps.leaderboards.models import LeaderboardEntry
from apps.submissions.models import Evaluation, Score, Submission, VerificationStage
from evaluators import get_evaluator
from evaluators.algorithm import example_algorithm_dir, run_locally, write_public_inputs
from tests.e2e.conftest import Process, wait_until

pytestmark = [pytest.mark.e2e]


def _post_selection(client: Client, task: Task, division: Division, selection: dict[str, Any]) -> Submission:
    url = reverse("submissions:new", args=[task.challenge.slug, task.slug])
    upload = SimpleUploadedFile("selection.json", json.dumps(selection).encode(), content_type="application/json")
    response = client.post(url, {"division": division.pk, "artifact": upload, "method_description": "balanced"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Submission.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def _status(submission: Submission) -> str:
    submission.refresh_from_db()
    return submission.status


def test_a_submission_through_the_web_form_is_scored_by_a_worker_and_ranked(
    client: Client,
    registered: User,
    speech_task: Task,
    open_division: Division,
    speech_selections: dict[str, dict[str, Any]],
    start_worker: Callable[[], Process],
) -> None:
    worker = start_worker()
    client.force_login(registered)
    submission = _post_selection(client, speech_task, open_division, speech_selections["random-balanced"])

    wait_until(lambda: _status(submission) == "scored", timeout=90, what="the score", logs=worker.log)

    board = client.get(reverse("leaderboards:task_json", args=[speech_task.challenge.slug, speech_task.slug])).json()
    rows = [row for row in board["rows"] if row["team"] == registered.username]
    assert [row["submission_id"] for row in rows] == [submission.pk]
    assert rows[0]["rank"] == 1
    primary = Score.objects.get(evaluation__submission=submission, metric="macro_f1").value
    assert rows[0]["primary"] == primary
    assert 0 < primary <= 1


def test_a_worker_killed_while_evaluating_leaves_the_submission_scored_exactly_once(
    client: Client,
    registered: User,
    slow_task: Task,
    open_division: Division,
    speech_selections: dict[str, dict[str, Any]],
    start_worker: Callable[[], Process],
    beat: Process,
) -> None:
    first = start_worker()
    client.force_login(registered)
    submission = _post_selection(client, slow_task, open_division, speech_selections["random-balanced"])

    def evaluating() -> bool:
        submission.refresh_from_db()
        return submission.status == "running" and submission.progress > 0

    wait_until(evaluating, timeout=60, what="the evaluation to start", logs=first.log)
    first.kill()
    second = start_worker()

    wait_until(
        lambda: _status(submission) == "scored", timeout=120, what="the rescue", logs=lambda: second.log() + beat.log()
    )

    submission.refresh_from_db()
    assert submission.attempts == 2
    assert Evaluation.objects.filter(submission=submission).count() == 1
    assert Score.objects.filter(evaluation__submission=submission).count() == 11
    assert LeaderboardEntry.objects.filter(submission=submission).count() == 1
    assert "'scored'" in second.log()
    assert "'scored'" not in first.log()


@pytest.mark.usefixtures("sandbox_ready")
def test_a_closed_division_submission_is_verified_in_the_sandbox_by_a_worker_and_ranked(
    client: Client,
    registered: User,
    speech_task: Task,
    closed_division: Division,
    speech_task_dir: Path,
    tmp_path: Path,
    start_worker: Callable[[], Process],
) -> None:
    """The whole closed division with real processes: form upload, the sandbox queue, bubblewrap, then the
    evaluate queue and the leaderboard."""
    code_dir = example_algorithm_dir(get_evaluator("selection-speech"))
    assert code_dir is not None
    artifact = _run_example_offline(code_dir, speech_task_dir, tmp_path)
    code = make_zip(
        shutil.copytree(code_dir, tmp_path / "code", ignore=shutil.ignore_patterns("__pycache__")),
        tmp_path / "code.zip",
    )
    worker = start_worker()
    client.force_login(registered)
    url = reverse("submissions:new", args=[speech_task.challenge.slug, speech_task.slug])
    response = client.post(
        url,
        {
            "division": closed_division.pk,
            "method_description": "the example algorithm",
            "artifact": SimpleUploadedFile("selection.json", artifact.read_bytes()),
            "code_archive": SimpleUploadedFile("code.zip", code.read_bytes()),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    submission = Submission.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))

    wait_until(lambda: _status(submission) == "scored", timeout=120, what="verification and score", logs=worker.log)
    assert [stage.status for stage in VerificationStage.objects.filter(submission=submission)] == ["passed"] * 2
    board = client.get(
        reverse("leaderboards:task_json", args=[speech_task.challenge.slug, speech_task.slug]),
        {"division": closed_division.slug},
    ).json()
    assert [row["submission_id"] for row in board["rows"]] == [submission.pk]


def _run_example_offline(code_dir: Path, task_dir: Path, tmp_path: Path) -> Path:
    inputs = tmp_path / "inputs"
    write_public_inputs(get_evaluator("selection-speech"), task_dir, inputs)
    return run_locally(code_dir, inputs, tmp_path / "out")

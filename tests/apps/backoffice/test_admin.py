"""The organizer back office: pages render, hidden task data stays hidden, archives import, rescoring."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.challenges.models import Challenge, Task, TaskDataFile
from apps.challenges.services import data_file_required_role, task_data_file_put, task_data_import_archive
from apps.core.errors import InvalidInput
from apps.core.queues import EVALUATE_TASK
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Submission
from evaluators.base import DataFileRule
from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator
from tests.apps.conftest import RecordingBroker, make_scored_submission
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
CONFIG = {"language": "en", "train_size": 25}
EVAL_YAML = b"fifty: [fifty/common_voice_en_1.wav]\n"


@pytest.fixture
def staff(client: Client, db: None) -> Client:
    client.force_login(make_user("staff", staff=True))
    return client


@pytest.fixture
def scored(speech_task: Task, open_division: Division, registered: User) -> Submission:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    leaderboard_rebuild(task=speech_task, division=open_division)
    return submission


def _bare_task(challenge: Challenge, slug: str = "bare") -> Task:
    return Task.objects.create(
        challenge=challenge, slug=slug, title=slug, evaluator_slug="selection-speech", config=CONFIG
    )


def _task_form(challenge: Challenge, *data_files: dict[str, Any], initial: int = 0, **fields: Any) -> dict[str, Any]:
    """The POST body of the task admin form with its data-file inline rows."""
    config = json.dumps(CONFIG)
    body: dict[str, Any] = {
        "challenge": challenge.pk,
        "slug": "new-task",
        "title": "New task",
        "description": "",
        "order": 0,
        "evaluator_slug": "selection-speech",
        "ml_task": Task.MLTask.KEYWORD_SPOTTING,
        "config": config,
        "initial-config": config,
        "is_published": "on",
        "max_upload_bytes": 1_000_000,
        "ranking_rule": Task.RankingRule.BEST,
        "final_selections": 2,
        "concealed_visibility": "after-end",
        "quota_window": "rolling",
        "concealed_config": "null",
        "initial-concealed_config": "null",
        "data_files-TOTAL_FORMS": len(data_files),
        "data_files-INITIAL_FORMS": initial,
        "data_files-MIN_NUM_FORMS": 0,
        "data_files-MAX_NUM_FORMS": 1000,
        **fields,
    }
    for index, row in enumerate(data_files):
        body.update({f"data_files-{index}-{key}": value for key, value in row.items()})
    return body


def _eval_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("eval.yaml", EVAL_YAML)


@pytest.mark.parametrize(
    ("model", "row"),
    [
        ("challenges_challenge", "Speech challenge"),
        ("challenges_task", "speech-challenge/speech-en-25"),
        ("submissions_submission", "alice"),
        ("leaderboards_leaderboard", "speech-challenge/speech-en-25 / open / public"),
    ],
)
def test_the_changelist_renders_its_rows(staff: Client, scored: Submission, model: str, row: str) -> None:
    response = staff.get(reverse(f"admin:{model}_changelist"))

    assert response.status_code == 200
    assert row in response.text


@pytest.mark.parametrize("model", ["challenges_challenge", "challenges_task"])
def test_the_add_page_renders(staff: Client, model: str) -> None:
    assert staff.get(reverse(f"admin:{model}_add")).status_code == 200


def test_the_change_pages_render(staff: Client, scored: Submission, speech_task: Task) -> None:
    pages = [
        reverse("admin:challenges_challenge_change", args=[speech_task.challenge_id]),
        reverse("admin:challenges_task_change", args=[speech_task.pk]),
        reverse("admin:submissions_submission_change", args=[scored.pk]),
        reverse("admin:leaderboards_leaderboard_change", args=[Leaderboard.objects.get().pk]),
    ]

    assert [staff.get(page).status_code for page in pages] == [200, 200, 200, 200]


def test_the_task_page_reports_that_its_data_is_complete(staff: Client, speech_task: Task) -> None:
    response = staff.get(reverse("admin:challenges_task_change", args=[speech_task.pk]))

    assert "All files the benchmark needs are present." in response.text


def test_saving_a_task_without_data_file_rows_succeeds(staff: Client, challenge: Challenge) -> None:
    response = staff.post(reverse("admin:challenges_task_add"), _task_form(challenge))

    assert response.status_code == 302
    assert Task.objects.filter(slug="new-task").exists()


def test_deleting_a_data_file_row_removes_the_file(staff: Client, challenge: Challenge) -> None:
    task = _bare_task(challenge)
    stored = task_data_file_put(task=task, relative_path="eval.yaml", content=ContentFile(EVAL_YAML))
    row = {"id": stored.pk, "task": task.pk, "relative_path": "eval.yaml", "role": "hidden", "DELETE": "on"}

    staff.post(
        reverse("admin:challenges_task_change", args=[task.pk]),
        _task_form(challenge, row, initial=1, slug=task.slug, title=task.title),
    )

    assert not task.data_files.exists()
    assert not (task.data_dir / "eval.yaml").exists()


def test_it_refuses_an_inline_upload_that_makes_hidden_data_public(staff: Client, challenge: Challenge) -> None:
    row = {"relative_path": "eval.yaml", "role": TaskDataFile.Role.PUBLIC, "upload": _eval_upload()}

    response = staff.post(reverse("admin:challenges_task_add"), _task_form(challenge, row))

    assert response.status_code == 200
    assert "eval.yaml is hidden data for this benchmark; it cannot be public." in response.text
    assert not Task.objects.filter(slug="new-task").exists()
    assert not TaskDataFile.objects.exists()


def test_it_stores_an_inline_upload_of_hidden_data_as_hidden(staff: Client, challenge: Challenge) -> None:
    row = {"relative_path": "eval.yaml", "role": "", "upload": _eval_upload()}

    response = staff.post(reverse("admin:challenges_task_add"), _task_form(challenge, row))

    assert response.status_code == 302
    data_file = TaskDataFile.objects.get(task__slug="new-task")
    assert (data_file.relative_path, data_file.role, data_file.size) == ("eval.yaml", "hidden", len(EVAL_YAML))


def test_it_refuses_to_publish_a_hidden_file_by_renaming_its_row(staff: Client, challenge: Challenge) -> None:
    task = _bare_task(challenge)
    hidden = task_data_file_put(task=task, relative_path="eval.yaml", content=ContentFile(EVAL_YAML))
    row = {"id": hidden.pk, "task": task.pk, "relative_path": "notes.yaml", "role": TaskDataFile.Role.PUBLIC}

    staff.post(
        reverse("admin:challenges_task_change", args=[task.pk]),
        _task_form(challenge, row, initial=1, slug=task.slug, title=task.title),
    )

    # The row's file is still eval.yaml's bytes: publishing it under another name leaks the ground truth.
    assert not TaskDataFile.objects.filter(task=task, role=TaskDataFile.Role.PUBLIC, sha256=hidden.sha256).exists()


def test_it_reports_an_inline_path_outside_the_task_directory_as_a_form_error(
    staff: Client, challenge: Challenge
) -> None:
    row = {"relative_path": "../escape.yaml", "role": TaskDataFile.Role.HIDDEN, "upload": _eval_upload()}

    response = staff.post(reverse("admin:challenges_task_add"), _task_form(challenge, row))

    assert response.status_code == 200
    assert "is not a relative path inside the task directory" in response.text
    assert not TaskDataFile.objects.exists()


def test_task_data_file_put_refuses_to_make_a_hidden_path_public(challenge: Challenge) -> None:
    task = _bare_task(challenge)

    with pytest.raises(InvalidInput, match=re.escape("eval.yaml is hidden data for this benchmark")):
        task_data_file_put(task=task, relative_path="eval.yaml", content=ContentFile(EVAL_YAML), role="public")

    task.refresh_from_db()
    assert not task.data_files.exists()
    assert task.data_version == 1


def test_task_data_file_put_stores_the_file_with_its_declared_role_and_bumps_the_data_version(
    challenge: Challenge,
) -> None:
    task = _bare_task(challenge)

    stored = task_data_file_put(task=task, relative_path="train_embeddings/fifty.parquet", content=ContentFile(b"x"))

    task.refresh_from_db()
    assert stored.role == TaskDataFile.Role.PUBLIC
    assert task.data_version == 2
    assert (task.data_dir / "train_embeddings" / "fifty.parquet").read_bytes() == b"x"


def test_task_data_file_put_replaces_a_file_at_the_same_path(challenge: Challenge) -> None:
    task = _bare_task(challenge)
    task_data_file_put(task=task, relative_path="eval.yaml", content=ContentFile(b"old"))

    task_data_file_put(task=task, relative_path="eval.yaml", content=ContentFile(b"new"))

    data_file = task.data_files.get()
    assert data_file.size == 3
    assert (task.data_dir / "eval.yaml").read_bytes() == b"new"


def _zip_of(directory: Path, top: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            archive.write(path, f"{top}/{path.relative_to(directory).as_posix()}")
    return buffer.getvalue()


def test_importing_an_archive_stores_each_file_with_its_declared_role(
    challenge: Challenge, speech_task_dir: Path, tmp_path: Path
) -> None:
    task = _bare_task(challenge)
    archive = tmp_path / "task.zip"
    archive.write_bytes(_zip_of(speech_task_dir, "task"))

    task_data_import_archive(task=task, archive_path=archive)

    roles = dict(task.data_files.values_list("relative_path", "role"))
    expected = {p.relative_to(speech_task_dir).as_posix() for p in speech_task_dir.rglob("*") if p.is_file()}
    assert set(roles) == expected - {"task.yaml"}
    assert roles["eval.yaml"] == roles["eval_embeddings/fifty.parquet"] == TaskDataFile.Role.HIDDEN
    assert roles["allowed_training_set.yaml"] == roles["train_embeddings/fifty.parquet"] == TaskDataFile.Role.PUBLIC


def test_an_imported_archive_makes_the_task_complete(
    challenge: Challenge, speech_task_dir: Path, tmp_path: Path, staff: Client
) -> None:
    archive = SimpleUploadedFile("task.zip", _zip_of(speech_task_dir, "task"))

    response = staff.post(
        reverse("admin:challenges_task_add"), _task_form(challenge, data_archive=archive), follow=True
    )

    task = Task.objects.get(slug="new-task")
    assert f"Imported {task.data_files.count()} data files from the archive." in response.text
    assert (
        "All files the benchmark needs are present."
        in staff.get(reverse("admin:challenges_task_change", args=[task.pk])).text
    )


def test_the_rescore_action_queues_the_selected_scored_submissions(
    staff: Client,
    scored: Submission,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:submissions_submission_changelist"),
            {"action": "rescore", "_selected_action": [scored.pk]},
            follow=True,
        )

    scored_before = scored.current_evaluation_id
    scored.refresh_from_db()
    assert "Queued 1 submission(s) for rescoring" in response.text
    assert scored.status == Submission.Status.QUEUED
    assert scored.current_evaluation_id == scored_before
    assert broker.ids(EVALUATE_TASK) == [scored.pk]


def test_the_rebuild_action_bumps_the_leaderboard_version(staff: Client, scored: Submission) -> None:
    leaderboard = Leaderboard.objects.get()

    staff.post(
        reverse("admin:leaderboards_leaderboard_changelist"),
        {"action": "rebuild", "_selected_action": [leaderboard.pk]},
    )

    leaderboard.refresh_from_db()
    assert leaderboard.version == 2


def test_a_path_matching_a_hidden_and_a_public_rule_is_hidden_whatever_the_rule_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    broad_public_first = (
        DataFileRule("*.yaml", hidden=False, description="any yaml"),
        DataFileRule("eval.yaml", hidden=True, description="the evaluation clips"),
    )
    monkeypatch.setattr(SelectionSpeechEvaluator, "data_files", broad_public_first)

    assert data_file_required_role(evaluator_slug="selection-speech", relative_path="eval.yaml") == "hidden"
    assert data_file_required_role(evaluator_slug="selection-speech", relative_path="other.yaml") == "public"
    assert data_file_required_role(evaluator_slug="selection-speech", relative_path="x.bin") is None

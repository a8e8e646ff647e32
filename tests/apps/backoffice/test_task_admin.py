"""Organizers' changes of tasks, challenges and divisions in the admin: audited with their diff, leaderboards
rebuilt when ranking changes; the task actions (rescore the whole task, reveal a held-out board early)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.challenges.models import AuditAction, AuditEntry, Challenge, Task
from apps.core.errors import InvalidInput
from apps.core.queues import EVALUATE_TASK
from apps.divisions.models import Division
from apps.leaderboards.models import SplitReveal
from apps.leaderboards.services import leaderboard_reveal_split
from apps.submissions.models import Score, Submission
from tests.apps.backoffice.conftest import Board, assert_boards_fresh, entries, rows, run_action, version
from tests.apps.conftest import RecordingBroker, make_scored_submission

pytestmark = pytest.mark.django_db
TASKS = "challenges_task"


def _task_body(task: Task, **fields: Any) -> dict[str, Any]:
    """The task admin form as the change page would post it back, with `fields` changed."""
    config = json.dumps(task.config)
    concealed = json.dumps(task.concealed_config)
    body: dict[str, Any] = {
        "challenge": task.challenge_id,
        "slug": task.slug,
        "title": task.title,
        "description": task.description,
        "order": task.order,
        "evaluator_slug": task.evaluator_slug,
        "ml_task": task.ml_task,
        "config": config,
        "initial-config": config,
        "max_upload_bytes": task.max_upload_bytes,
        "ranking_rule": task.ranking_rule,
        "final_selections": task.final_selections,
        "concealed_visibility": task.concealed_visibility,
        "concealed_config": concealed,
        "initial-concealed_config": concealed,
        "quota_per_day": task.quota_per_day or "",
        "quota_window": task.quota_window,
        "quota_concurrent": task.quota_concurrent or "",
        "data_files-TOTAL_FORMS": 0,
        "data_files-INITIAL_FORMS": 0,
        "data_files-MIN_NUM_FORMS": 0,
        "data_files-MAX_NUM_FORMS": 1000,
    }
    for flag in ("is_published", "quota_counts_rejected", "quota_counts_failed"):
        if getattr(task, flag):
            body[flag] = "on"
    return {**body, **fields}


def _save_task(client: Client, task: Task, **fields: Any) -> Any:
    return client.post(reverse("admin:challenges_task_change", args=[task.pk]), _task_body(task, **fields))


def test_changing_the_ranking_rule_rebuilds_the_leaderboard_and_audits_the_diff(
    staff: Client, board: Board, staff_user: User
) -> None:
    # bob's better submission ranks him under "best"; under "selected final" his selected, worse one does.
    better = make_scored_submission(task=board.task, division=board.division, user=board.bob.submitted_by, primary=0.9)
    Submission.objects.filter(pk=board.bob.pk).update(is_selected_final=True)
    before = version(board.task, board.division)

    response = _save_task(staff, board.task, ranking_rule=Task.RankingRule.SELECTED_FINAL)

    assert response.status_code == 302
    assert [row[2] for row in rows(board.task, board.division)] == [board.alice.pk, board.bob.pk]
    assert better.pk not in [row[2] for row in rows(board.task, board.division)]
    assert version(board.task, board.division) > before
    [entry] = entries()
    assert (entry.action, entry.actor) == (AuditAction.TASK_CHANGE, staff_user)
    assert entry.details["changes"] == {"ranking_rule": {"from": "best", "to": "selected-final"}}
    assert_boards_fresh(board.task)


def test_saving_a_task_unchanged_records_nothing(staff: Client, board: Board) -> None:
    assert _save_task(staff, board.task).status_code == 302

    assert entries() == []


def test_a_visibility_and_quota_change_is_audited_without_a_rebuild(staff: Client, board: Board) -> None:
    before = version(board.task, board.division)
    body = _task_body(board.task, quota_per_day=9)
    del body["is_published"]

    staff.post(reverse("admin:challenges_task_change", args=[board.task.pk]), body)

    [entry] = entries()
    assert entry.details["changes"] == {
        "is_published": {"from": True, "to": False},
        "quota_per_day": {"from": 5, "to": 9},
    }
    assert version(board.task, board.division) == before


def test_a_configuration_change_bumps_the_data_version_and_asks_for_a_rescore(staff: Client, board: Board) -> None:
    config = {**board.task.config, "train_size": 20}
    data_version = board.task.data_version

    response = staff.post(
        reverse("admin:challenges_task_change", args=[board.task.pk]),
        _task_body(board.task, config=json.dumps(config)),
        follow=True,
    )

    board.task.refresh_from_db()
    assert board.task.data_version == data_version + 1
    assert "the configuration changed; rescore its submissions" in response.text
    [entry] = entries()
    assert entry.details["changes"]["config"]["to"] == config


def test_creating_a_task_is_audited(staff: Client, challenge: Challenge) -> None:
    task = Task(
        challenge=challenge,
        slug="new-task",
        title="New",
        evaluator_slug="selection-speech",
        ml_task=Task.MLTask.KEYWORD_SPOTTING,
        config={"language": "en", "train_size": 25},
    )

    response = staff.post(reverse("admin:challenges_task_add"), _task_body(task))

    assert response.status_code == 302
    [entry] = entries()
    assert (entry.action, entry.challenge) == (AuditAction.TASK_CREATE, challenge)


def test_uploading_task_data_is_audited(staff: Client, board: Board) -> None:
    upload = SimpleUploadedFile("notes.txt", b"hello")
    rows_ = {
        "data_files-TOTAL_FORMS": 1,
        "data_files-0-relative_path": "notes.txt",
        "data_files-0-role": "public",
        "data_files-0-upload": upload,
    }

    staff.post(reverse("admin:challenges_task_change", args=[board.task.pk]), _task_body(board.task, **rows_))

    [entry] = entries()
    assert (entry.action, entry.details["files"]) == (AuditAction.TASK_DATA, {"stored": ["notes.txt"]})


def test_the_task_rescore_action_queues_every_scored_submission_with_one_entry(
    staff: Client,
    board: Board,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    Submission.objects.filter(pk=board.bob.pk).update(is_withdrawn=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff, TASKS, "rescore_tasks", [board.task.pk])

    assert "queued 1 submission(s) for rescoring" in response.text
    assert broker.ids(EVALUATE_TASK) == [board.alice.pk]
    [entry] = entries()
    assert (entry.action, entry.details["submissions"]) == (AuditAction.TASK_RESCORE, [board.alice.pk])
    assert_boards_fresh(board.task)


def test_the_reveal_action_asks_for_confirmation(staff: Client, board: Board) -> None:
    response = run_action(staff, TASKS, "reveal_private", [board.task.pk])

    assert response.status_code == 200
    assert 'name="confirm"' in response.text
    assert not SplitReveal.objects.exists()
    assert entries() == []


def test_revealing_the_private_board_early_is_audited_once(staff: Client, board: Board, staff_user: User) -> None:
    run_action(staff, TASKS, "reveal_private", [board.task.pk], apply="1", confirm="on")
    run_action(staff, TASKS, "reveal_private", [board.task.pk], apply="1", confirm="on")

    reveal = SplitReveal.objects.get()
    assert (reveal.task, reveal.split, reveal.revealed_by) == (board.task, Score.Split.PRIVATE, staff_user)
    [entry] = entries()
    assert (entry.action, entry.details) == (
        AuditAction.LEADERBOARD_REVEAL,
        {"task": board.task.slug, "split": "private"},
    )


def test_a_task_without_a_concealed_task_cannot_reveal_one(board: Board, staff_user: User) -> None:
    with pytest.raises(InvalidInput):
        leaderboard_reveal_split(task=board.task, split=Score.Split.CONCEALED, user=staff_user)

    assert entries() == []


def _split_datetime(name: str, moment: dt.datetime) -> dict[str, str]:
    """The admin's split date and time widgets (UTC, the site's time zone)."""
    return {f"{name}_0": moment.strftime("%Y-%m-%d"), f"{name}_1": moment.strftime("%H:%M:%S")}


def _challenge_body(challenge: Challenge, *, check_inlines: bool = True, **fields: Any) -> dict[str, Any]:
    """The challenge admin form as its change page would post it back (dates in whole seconds, as the widgets
    show them), with `fields` changed."""
    challenge.starts_at = challenge.starts_at.replace(microsecond=0)
    challenge.ends_at = challenge.ends_at.replace(microsecond=0)
    Challenge.objects.filter(pk=challenge.pk).update(starts_at=challenge.starts_at, ends_at=challenge.ends_at)
    body: dict[str, Any] = {
        "slug": challenge.slug,
        "title": challenge.title,
        "summary": challenge.summary,
        "description": challenge.description,
        "rules": challenge.rules,
        "organizers": [user.pk for user in challenge.organizers.all()],
        **_split_datetime("starts_at", challenge.starts_at),
        **_split_datetime("ends_at", challenge.ends_at),
        "visibility": challenge.visibility,
        "registration": challenge.registration,
    }
    for field in ("allowed_email_domains", "blocked_email_domains", "max_team_size", "time_zone"):
        if hasattr(challenge, field):
            body[field] = getattr(challenge, field) or ""
    for prefix, related in (("tasks", challenge.tasks.all()), ("divisions", challenge.divisions.all())):
        body.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        assert not (check_inlines and related.exists()), "the body posts no inline rows"
    return {**body, **fields}


def test_a_change_of_the_challenge_dates_and_visibility_is_audited(
    staff: Client, challenge: Challenge, staff_user: User
) -> None:
    body = _challenge_body(challenge, visibility="unlisted")
    ends = challenge.ends_at + dt.timedelta(days=7)
    body.update(_split_datetime("ends_at", ends))

    response = staff.post(reverse("admin:challenges_challenge_change", args=[challenge.pk]), body)

    assert response.status_code == 302, response.content
    [entry] = entries()
    assert (entry.action, sorted(entry.details["changes"])) == (AuditAction.CHALLENGE_CHANGE, ["ends_at", "visibility"])
    assert entry.details["changes"]["visibility"] == {"from": "public", "to": "unlisted"}


def test_changing_a_division_kind_is_audited_and_rebuilds_the_boards(staff: Client, board: Board) -> None:
    before = version(board.task, board.division)
    body = {
        "challenge": board.division.challenge_id,
        "slug": "open",
        "kind": "closed",
        "name": "Open",
        "description": "",
        "order": 0,
    }

    response = staff.post(reverse("admin:divisions_division_change", args=[board.division.pk]), body)

    assert response.status_code == 302, response.content
    [entry] = entries()
    assert (entry.action, entry.details["changes"]) == (
        AuditAction.DIVISION_CHANGE,
        {"open": {"kind": {"from": "open", "to": "closed"}}},
    )
    assert version(board.task, Division.objects.get(pk=board.division.pk)) > before


def test_the_audit_log_is_read_only_in_the_admin(staff: Client, board: Board, staff_user: User) -> None:
    leaderboard_reveal_split(task=board.task, split=Score.Split.PRIVATE, user=staff_user)
    entry = AuditEntry.objects.get()

    listing = staff.get(reverse("admin:challenges_auditentry_changelist"))
    page = staff.get(reverse("admin:challenges_auditentry_change", args=[entry.pk]))
    deleted = staff.post(reverse("admin:challenges_auditentry_delete", args=[entry.pk]), {"post": "yes"})

    assert listing.status_code == page.status_code == 200
    assert "Revealed the private leaderboards" in listing.text
    assert 'name="_save"' not in page.text
    assert deleted.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_an_audit_entry_cannot_be_changed(board: Board, staff_user: User) -> None:
    leaderboard_reveal_split(task=board.task, split=Score.Split.PRIVATE, user=staff_user)
    entry = AuditEntry.objects.get()
    entry.summary = "Nothing happened."

    with pytest.raises(ValueError, match="immutable"):
        entry.save()


def test_a_task_changed_inline_on_the_challenge_page_is_audited(staff: Client, board: Board) -> None:
    task, challenge = board.task, board.task.challenge
    config = json.dumps(task.config)
    body = _challenge_body(challenge, check_inlines=False)
    body.update(
        {
            "tasks-TOTAL_FORMS": 1,
            "tasks-INITIAL_FORMS": 1,
            "tasks-0-id": task.pk,
            "tasks-0-challenge": challenge.pk,
            "tasks-0-slug": task.slug,
            "tasks-0-title": "Renamed",
            "tasks-0-order": 0,
            "tasks-0-evaluator_slug": task.evaluator_slug,
            "tasks-0-ml_task": task.ml_task,
            "tasks-0-config": config,
            "initial-tasks-0-config": config,
            "tasks-0-is_published": "on",
            "tasks-0-quota_per_day": 7,
            "divisions-TOTAL_FORMS": 1,
            "divisions-INITIAL_FORMS": 1,
            "divisions-0-id": board.division.pk,
            "divisions-0-challenge": challenge.pk,
            "divisions-0-slug": "open",
            "divisions-0-kind": "open",
            "divisions-0-name": "Open",
            "divisions-0-order": 0,
            "divisions-0-description": "",
        }
    )

    response = staff.post(reverse("admin:challenges_challenge_change", args=[challenge.pk]), body)

    assert response.status_code == 302, response.content
    [entry] = entries()
    assert (entry.action, entry.details["changes"]) == (
        AuditAction.TASK_CHANGE,
        {"title": {"from": "Speech en 25", "to": "Renamed"}, "quota_per_day": {"from": 5, "to": 7}},
    )

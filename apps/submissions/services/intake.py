"""Receiving a submission: access, division and size rules, quotas (atomically with the insert), storage."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Team
from apps.accounts.services import team_ensure_personal
from apps.challenges.models import Challenge, Participation, Task
from apps.challenges.selectors import competing_team, user_is_organizer
from apps.core.errors import Forbidden, InvalidInput
from apps.core.files import human_size
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services.dispatch import enqueue_validation
from apps.submissions.services.quotas import quota_consume_check
from apps.submissions.services.validation import submission_validate


@dataclass(frozen=True)
class SubmissionInput:
    """What a participant hands in, from any interface (web form, API, CLI)."""

    artifact: File[Any]
    artifact_name: str
    code_archive: File[Any] | None = None
    method_description: str = ""
    code_url: str = ""


def _digest(content: File[Any], limit: int, what: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    content.seek(0)
    for chunk in content.chunks():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"The {what} is larger than the {human_size(limit)} this task accepts.")
        digest.update(chunk)
    content.seek(0)
    if size == 0:
        raise InvalidInput(f"The {what} is empty.")
    return digest.hexdigest(), size


def _check_rules(*, task: Task, division: Division, data: SubmissionInput, as_baseline: bool, now: dt.datetime) -> None:
    if division.challenge_id != task.challenge_id:
        raise InvalidInput("That division belongs to another challenge.")
    if division.tasks.exists() and not division.tasks.filter(pk=task.pk).exists():
        raise InvalidInput(f"The {division.name} division does not accept submissions to this task.")
    if division.requires_code and data.code_archive is None:
        raise InvalidInput(
            f"The {division.name} division requires the code that produced the submission (a zip or tar.gz archive)."
        )
    if not as_baseline and task.challenge.phase_at(now) != Challenge.Phase.OPEN:
        raise Forbidden(
            f"This challenge is {task.challenge.phase_at(now).label.lower()}: it accepts no submissions now."
        )


def _team_for(*, task: Task, user: User, as_baseline: bool) -> Team:
    if as_baseline:
        if not user_is_organizer(challenge=task.challenge, user=user):
            raise Forbidden("Only organizers can add baseline submissions.")
        return team_ensure_personal(user=user)
    return competing_team(challenge=task.challenge, user=user)


def submission_create(
    *, task: Task, division: Division, user: User, data: SubmissionInput, as_baseline: bool = False
) -> Submission:
    """Store a new submission and start its validation.

    Raises `InvalidInput` (bad division, size, empty file), `Forbidden` (not registered, challenge not open)
    or `QuotaExceeded`; nothing is stored then. Quotas are checked and consumed under a row lock on the
    team's participation, in the transaction that inserts the row: parallel requests cannot exceed them.
    A small artifact is validated before returning (the participant sees a rejection at once); a large
    one is validated by a worker. Either way the returned row is in its state after that step.
    """
    now = timezone.now()
    _check_rules(task=task, division=division, data=data, as_baseline=as_baseline, now=now)
    team = _team_for(task=task, user=user, as_baseline=as_baseline)
    sha256, size = _digest(data.artifact, task.max_upload_bytes, "submission file")
    code_sha = _digest(data.code_archive, task.max_upload_bytes, "code archive")[0] if data.code_archive else ""
    with transaction.atomic():
        if not as_baseline:
            # The lock serialises this team's submissions in the challenge; other teams are not blocked.
            Participation.objects.select_for_update().get(challenge_id=task.challenge_id, team=team)
            # The clock is read after the lock is granted: a request that waited for it across midnight must
            # count the new day, the one its row will be inserted into.
            quota_consume_check(task=task, team=team, now=timezone.now())
        submission = Submission(
            task=task,
            team=team,
            division=division,
            submitted_by=user,
            artifact_name=data.artifact_name[:255],
            artifact_size=size,
            artifact_sha256=sha256,
            code_archive_sha256=code_sha,
            is_baseline=as_baseline,
            method_description=data.method_description,
            code_url=data.code_url,
        )
        submission.artifact.save(data.artifact_name, data.artifact, save=False)
        if data.code_archive is not None:
            submission.code_archive.save("code.archive", data.code_archive, save=False)
        _save_or_remove_files(submission)
    if size <= settings.SUBMISSION_SYNC_VALIDATION_MAX_BYTES:
        return submission_validate(submission_id=submission.pk)
    with transaction.atomic():
        enqueue_validation(submission.pk)
    return submission


def _save_or_remove_files(submission: Submission) -> None:
    """Insert the row; if that fails, remove the files already written so nothing is left orphaned."""
    try:
        submission.save()
    except BaseException:
        submission.artifact.delete(save=False)
        if submission.code_archive:
            submission.code_archive.delete(save=False)
        raise

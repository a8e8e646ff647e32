"""Exports for organizers: every submission of a challenge with its metadata and scores, as CSV, written by a
background task (`dataperf.export_submissions`) into private storage and downloaded through a view that
checks the organizer. Never file contents, never hidden task data; the organizers may see every split."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.challenges.evaluators import task_primary_metric
from apps.challenges.models import Challenge, Task
from apps.challenges.selectors import user_is_organizer
from apps.core.errors import Forbidden
from apps.leaderboards.models import Export
from apps.submissions.models import Score, Submission
from apps.submissions.services.dispatch import enqueue_export

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=15)
"""A running export older than this was lost with its worker (the task's hard limit is shorter): it may be
claimed again when its message is redelivered."""
UNSENT_MESSAGE = "The export could not be queued; request it again."
"""Shown on an export whose task the broker could not take (no reaper re-sends exports)."""

SUBMISSION_COLUMNS = [
    "submission_id",
    "task",
    "division",
    "team",
    "submitted_by",
    "created_at",
    "finished_at",
    "status",
    "message",
    "artifact_name",
    "artifact_size",
    "artifact_sha256",
    "code_archive_sha256",
    "code_url",
    "method_description",
    "is_baseline",
    "is_withdrawn",
    "is_disqualified",
    "is_selected_final",
    "evaluator_version",
    "primary_metric",
    "public_primary",
    "private_primary",
    "concealed_primary",
    "scores",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value safe for a spreadsheet: text that would start a formula gets a leading quote (numbers pass)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(header: list[str], rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def export_request(*, challenge: Challenge, user: User) -> Export:
    """Ask for an export of every submission of the challenge. Organizers (and staff) only (`Forbidden`).
    The task is queued once the transaction commits; if the broker cannot take it, the export is failed."""
    if not user_is_organizer(challenge=challenge, user=user):
        raise Forbidden("Only the challenge's organizers can export its submissions.")
    with transaction.atomic():
        export = Export.objects.create(challenge=challenge, requested_by=user)
        unsent = functools.partial(export_fail, export_id=export.pk, message=UNSENT_MESSAGE)
        enqueue_export(export.pk, on_unsent=unsent)
    return export


def export_fail(*, export_id: int, message: str) -> None:
    Export.objects.filter(pk=export_id).exclude(status=Export.Status.DONE).update(
        status=Export.Status.FAILED, message=message, finished_at=timezone.now()
    )


def _claim(export_id: int) -> bool:
    """Move the export to running if it is queued (or running but lost); True if this call did."""
    now = timezone.now()
    claimable = Q(status=Export.Status.QUEUED) | Q(status=Export.Status.RUNNING, started_at__lt=now - STALE_AFTER)
    return Export.objects.filter(claimable, pk=export_id).update(status=Export.Status.RUNNING, started_at=now) == 1


def _scores(evaluation_ids: list[int]) -> dict[int, dict[str, dict[str, float]]]:
    found: dict[int, dict[str, dict[str, float]]] = {}
    rows = Score.objects.filter(evaluation_id__in=evaluation_ids).values_list(
        "evaluation_id", "split", "metric", "value"
    )
    for evaluation_id, split, metric, value in rows:
        found.setdefault(evaluation_id, {}).setdefault(split, {})[metric] = value
    return found


def _submission_rows(challenge: Challenge, chunk: int = 1000) -> Iterator[list[Any]]:
    submissions = (
        Submission.objects.filter(task__challenge=challenge)
        .select_related("task", "division", "team", "submitted_by", "current_evaluation")
        .order_by("pk")
    )
    primaries: dict[int, str] = {}
    batch: list[Submission] = []
    for submission in submissions.iterator(chunk_size=chunk):
        batch.append(submission)
        if len(batch) == chunk:
            yield from _rows_of(batch, primaries)
            batch = []
    yield from _rows_of(batch, primaries)


def _primary_name(task: Task, primaries: dict[int, str]) -> str:
    if task.pk not in primaries:
        primaries[task.pk] = task_primary_metric(task).name
    return primaries[task.pk]


def _rows_of(batch: list[Submission], primaries: dict[int, str]) -> Iterator[list[Any]]:
    scores = _scores([s.current_evaluation_id for s in batch if s.current_evaluation_id is not None])
    for s in batch:
        primary = _primary_name(s.task, primaries)
        values = scores.get(s.current_evaluation_id or 0, {})
        evaluation = s.current_evaluation
        yield [
            s.pk,
            s.task.slug,
            s.division.slug,
            s.team.name,
            s.submitted_by.get_username(),
            s.created_at.isoformat(),
            s.finished_at.isoformat() if s.finished_at else "",
            s.status,
            s.message,
            s.artifact_name,
            s.artifact_size,
            s.artifact_sha256,
            s.code_archive_sha256,
            s.code_url,
            s.method_description,
            s.is_baseline,
            s.is_withdrawn,
            s.is_disqualified,
            s.is_selected_final,
            evaluation.evaluator_version if evaluation else "",
            primary,
            *(values.get(split, {}).get(primary, "") for split in Score.Split.values),
            json.dumps(values, sort_keys=True) if values else "",
        ]


def export_run(*, export_id: int) -> str:
    """Write the export's CSV into private storage and mark it done: "done", or "skipped" when it is not
    claimable (done already, failed, or running elsewhere), or "failed" (recorded on the export). Safe to run
    twice."""
    if not _claim(export_id):
        return "skipped"
    export = Export.objects.select_related("challenge").get(pk=export_id)
    try:
        rows = list(_submission_rows(export.challenge))
        content = csv_text(SUBMISSION_COLUMNS, rows)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        export.file.save(
            f"{export.challenge.slug}-submissions-{stamp}-{export.pk}.csv", ContentFile(content.encode()), save=False
        )
    except Exception:
        log.exception("export %s failed", export_id)
        export_fail(export_id=export_id, message="The export failed; request it again or ask the platform's staff.")
        return "failed"
    Export.objects.filter(pk=export_id, status=Export.Status.RUNNING).update(
        status=Export.Status.DONE, file=export.file.name, rows=len(rows), finished_at=timezone.now()
    )
    return "done"

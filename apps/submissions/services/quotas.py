"""Submission quotas per team and task: per rolling 24 hours and in total."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Team
from apps.challenges.models import Task
from apps.core.errors import DomainError
from apps.submissions.models import Submission

WINDOW = dt.timedelta(hours=24)


class QuotaExceeded(DomainError):
    """The team has used up a quota; the message says which and when it resets (`resets_at`, None for the
    total quota, which never resets)."""

    def __init__(self, message: str, *, resets_at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


@dataclass(frozen=True)
class QuotaStatus:
    per_day: int | None
    used_today: int
    total: int | None
    used_total: int
    resets_at: dt.datetime | None
    """When the oldest submission of the window leaves it (only when the daily quota is used up)."""

    @property
    def remaining_today(self) -> int | None:
        return None if self.per_day is None else max(self.per_day - self.used_today, 0)

    @property
    def remaining_total(self) -> int | None:
        return None if self.total is None else max(self.total - self.used_total, 0)

    @property
    def remaining(self) -> int | None:
        values = [v for v in (self.remaining_today, self.remaining_total) if v is not None]
        return min(values) if values else None


def _counted(task: Task, team: Team) -> QuerySet[Submission]:
    submissions = Submission.objects.filter(task=task, team=team, is_baseline=False)
    # Platform faults (failed) never cost the team a submission.
    excluded = [Submission.Status.CANCELLED, Submission.Status.FAILED]
    if not task.quota_counts_rejected:
        excluded.append(Submission.Status.REJECTED)
    return submissions.exclude(status__in=excluded)


def quota_status(*, task: Task, team: Team, now: dt.datetime | None = None) -> QuotaStatus:
    now = now or timezone.now()
    since = now - WINDOW
    counts = _counted(task, team).aggregate(
        total=Count("pk"),
        today=Count("pk", filter=Q(created_at__gt=since)),
        oldest=Min("created_at", filter=Q(created_at__gt=since)),
    )
    used_today = counts["today"]
    resets_at = None
    if task.quota_per_day is not None and used_today >= task.quota_per_day and counts["oldest"] is not None:
        resets_at = counts["oldest"] + WINDOW
    return QuotaStatus(task.quota_per_day, used_today, task.quota_total, counts["total"], resets_at)


def quota_consume_check(*, task: Task, team: Team, now: dt.datetime) -> None:
    """Raise `QuotaExceeded` if one more submission would break a quota.

    The caller holds a row lock on the team's participation, in the transaction that inserts the submission,
    so that parallel requests are serialised and can never exceed the quota together.
    """
    status = quota_status(task=task, team=team, now=now)
    if status.remaining_total == 0:
        raise QuotaExceeded(f"Your team has used all {status.total} submissions allowed for this task.")
    if status.remaining_today == 0:
        resets = status.resets_at.strftime("%Y-%m-%d %H:%M UTC") if status.resets_at else "later"
        raise QuotaExceeded(
            f"Your team has used its {status.per_day} submissions for the last 24 hours; "
            f"the next one is possible at {resets}.",
            resets_at=status.resets_at,
        )

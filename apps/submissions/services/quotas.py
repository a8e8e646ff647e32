"""Submission quotas per team and task: per day (a rolling 24 hours, or a calendar day in the challenge's time
zone), in total, and at once (submissions being processed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Team
from apps.challenges.models import Task
from apps.core.errors import DomainError
from apps.submissions.models import Submission

WINDOW = dt.timedelta(hours=24)
IN_FLIGHT = (
    Submission.Status.RECEIVED,
    Submission.Status.VALIDATING,
    Submission.Status.VERIFYING,
    Submission.Status.QUEUED,
    Submission.Status.RUNNING,
)
"""The states of a submission the platform is still processing: what the concurrent quota counts."""


class QuotaExceeded(DomainError):
    """The team has used up a quota; the message says which and when it resets (`resets_at`: None for the
    total quota, which never resets, and for the concurrent one, which frees up when a submission finishes)."""

    def __init__(self, message: str, *, resets_at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


@dataclass(frozen=True)
class QuotaLimit:
    """One quota of a task as it stands for a team: what the form and the API show, line by line."""

    kind: str
    """"day", "total" or "concurrent"."""
    label: str
    limit: int
    used: int
    resets_at: dt.datetime | None
    """When the quota gives a submission back: the daily one only (the total never resets; the concurrent one
    frees up when a submission in progress finishes, which no clock says)."""

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(frozen=True)
class QuotaStatus:
    per_day: int | None
    used_today: int
    total: int | None
    used_total: int
    resets_at: dt.datetime | None
    """When the daily quota allows the next submission, set only while it is used up (rolling window: when the
    oldest submission of the window leaves it; calendar day: the next local midnight)."""
    window: str = Task.QuotaWindow.ROLLING
    time_zone: str = "UTC"
    day_resets_at: dt.datetime | None = None
    """When the daily quota next gives a submission back, used up or not (None: nothing used in a rolling
    window, or no daily quota)."""
    concurrent: int | None = None
    in_flight: int = 0
    """The team's submissions to the task still being processed (received to running)."""
    limits: list[QuotaLimit] = field(default_factory=list)

    @property
    def remaining_today(self) -> int | None:
        return None if self.per_day is None else max(self.per_day - self.used_today, 0)

    @property
    def remaining_total(self) -> int | None:
        return None if self.total is None else max(self.total - self.used_total, 0)

    @property
    def remaining_concurrent(self) -> int | None:
        return None if self.concurrent is None else max(self.concurrent - self.in_flight, 0)

    @property
    def remaining(self) -> int | None:
        """Submissions possible now (None: no limit)."""
        values = [v for v in (self.remaining_today, self.remaining_total, self.remaining_concurrent) if v is not None]
        return min(values) if values else None


def day_window(*, task: Task, now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """The start of the task's current quota day and, for a calendar day, its end (the next local midnight).

    Calendar days are built from local dates, never by adding 24 hours: a day with a daylight-saving change
    lasts 23 or 25 hours, and its midnight still falls at local midnight.
    """
    if task.quota_window != Task.QuotaWindow.CALENDAR_DAY:
        return now - WINDOW, None
    zone = task.challenge.zone
    today = now.astimezone(zone).date()
    start = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _counted(task: Task, team: Team) -> QuerySet[Submission]:
    submissions = Submission.objects.filter(task=task, team=team, is_baseline=False)
    # Cancelled submissions never cost the team anything; platform faults (failed) and rejections only where
    # the task says so.
    excluded = [Submission.Status.CANCELLED]
    if not task.quota_counts_failed:
        excluded.append(Submission.Status.FAILED)
    if not task.quota_counts_rejected:
        excluded.append(Submission.Status.REJECTED)
    return submissions.exclude(status__in=excluded)


def quota_status(*, task: Task, team: Team, now: dt.datetime | None = None) -> QuotaStatus:
    """The team's quotas on the task at `now` (default: now): used, remaining, and when each resets."""
    now = now or timezone.now()
    start, end = day_window(task=task, now=now)
    # A rolling window excludes its start (a submission exactly 24 hours old has left it); a calendar day
    # includes its midnight.
    in_day = Q(created_at__gt=start) if end is None else Q(created_at__gte=start, created_at__lt=end)
    counts = _counted(task, team).aggregate(
        total=Count("pk"),
        today=Count("pk", filter=in_day),
        oldest=Min("created_at", filter=in_day),
        in_flight=Count("pk", filter=Q(status__in=IN_FLIGHT)),
    )
    used_today = counts["today"]
    day_resets_at = None
    if task.quota_per_day is not None:
        day_resets_at = end if end is not None else (counts["oldest"] + WINDOW if counts["oldest"] else None)
    used_up = task.quota_per_day is not None and used_today >= task.quota_per_day
    return QuotaStatus(
        per_day=task.quota_per_day,
        used_today=used_today,
        total=task.quota_total,
        used_total=counts["total"],
        resets_at=day_resets_at if used_up else None,
        window=task.quota_window,
        time_zone=task.challenge.time_zone,
        day_resets_at=day_resets_at,
        concurrent=task.quota_concurrent,
        in_flight=counts["in_flight"],
        limits=_limits(task, used_today, counts["total"], counts["in_flight"], day_resets_at),
    )


def _limits(
    task: Task, used_today: int, used_total: int, in_flight: int, day_resets_at: dt.datetime | None
) -> list[QuotaLimit]:
    limits = []
    if task.quota_per_day is not None:
        label = (
            f"today ({task.challenge.time_zone})"
            if task.quota_window == Task.QuotaWindow.CALENDAR_DAY
            else "in the last 24 hours"
        )
        limits.append(QuotaLimit("day", label, task.quota_per_day, used_today, day_resets_at))
    if task.quota_total is not None:
        limits.append(QuotaLimit("total", "in total", task.quota_total, used_total, None))
    if task.quota_concurrent is not None:
        limits.append(QuotaLimit("concurrent", "being processed at once", task.quota_concurrent, in_flight, None))
    return limits


def quota_consume_check(*, task: Task, team: Team, now: dt.datetime) -> None:
    """Raise `QuotaExceeded` if one more submission would break a quota (total, then daily, then concurrent).

    The caller holds a row lock on the team's participation, in the transaction that inserts the submission,
    so that parallel requests are serialised and can never exceed the quota together. Workers move
    submissions out of the concurrent quota's states without that lock; that only ever frees room, so at
    worst a submission is refused that could have been taken a moment later, never the reverse.
    """
    status = quota_status(task=task, team=team, now=now)
    if status.remaining_total == 0:
        raise QuotaExceeded(f"Your team has used all {status.total} submissions allowed for this task.")
    if status.remaining_today == 0:
        raise QuotaExceeded(_day_message(status), resets_at=status.resets_at)
    if status.remaining_concurrent == 0:
        raise QuotaExceeded(
            f"Your team already has {status.in_flight} submissions being processed for this task, the most "
            f"allowed at once; submit again when one of them has finished."
        )


def _day_message(status: QuotaStatus) -> str:
    resets = status.resets_at.strftime("%Y-%m-%d %H:%M UTC") if status.resets_at else "later"
    if status.window == Task.QuotaWindow.CALENDAR_DAY:
        return (
            f"Your team has used its {status.per_day} submissions for today; the quota resets at midnight "
            f"({status.time_zone}), at {resets}."
        )
    return (
        f"Your team has used its {status.per_day} submissions for the last 24 hours; "
        f"the next one is possible at {resets}."
    )

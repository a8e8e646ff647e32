"""Challenges, their tasks (one benchmark cell each), task data, participations, and the audit log of what
organizers and staff change in them."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, Storage
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.accounts.models import Team
from evaluators.splits import SplitConfig, participant_config


def task_data_storage() -> Storage:
    """Files of task data under TASK_DATA_ROOT/<task id>/<relative path>. No URL serves them by path."""
    return FileSystemStorage(location=str(settings.TASK_DATA_ROOT), base_url="/not-served/", allow_overwrite=True)


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def parse_email_domains(text: str) -> list[str]:
    """The domains of an allow or block list: one per line or comma-separated, lower-cased, a leading "@" or
    "." dropped (so "@Example.edu" and "example.edu" are the same rule)."""
    items = (item.strip().lstrip("@.").rstrip(".").lower() for item in re.split(r"[,\s]+", text))
    return list(dict.fromkeys(item for item in items if item))


def validate_email_domains(text: str) -> None:
    bad = [domain for domain in parse_email_domains(text) if not _DOMAIN.match(domain)]
    if bad:
        raise ValidationError(f"Not a domain name: {', '.join(bad)}")


def validate_time_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{name!r} is not a time zone (use an IANA name such as Europe/Paris or UTC).") from exc


class Challenge(models.Model):
    class Visibility(models.TextChoices):
        DRAFT = "draft", "Draft (organizers only)"
        PUBLIC = "public", "Public"
        UNLISTED = "unlisted", "Unlisted (anyone with the link)"

    class Registration(models.TextChoices):
        OPEN = "open", "Open: registering accepts the rules"
        APPROVAL = "approval", "Organizer approval required"

    class Phase(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="Markdown; rendered and sanitised.")
    rules = models.TextField(blank=True, help_text="Markdown; participants accept these when registering.")
    organizers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organized_challenges", blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.DRAFT)
    registration = models.CharField(max_length=10, choices=Registration.choices, default=Registration.OPEN)
    allowed_email_domains = models.TextField(
        blank=True,
        validators=[validate_email_domains],
        help_text="Only addresses at these domains may register (one per line or comma-separated; a subdomain "
        "matches its parent: cs.example.edu matches example.edu). Empty: any address.",
    )
    blocked_email_domains = models.TextField(
        blank=True,
        validators=[validate_email_domains],
        help_text="Addresses at these domains (or their subdomains) may not register, even if allowed above.",
    )
    max_team_size = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="The most members a registered team may have. Empty: no limit.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone (e.g. Europe/Paris) in which calendar-day quotas reset at midnight.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "slug"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="challenge_dates_order"),
            models.CheckConstraint(
                condition=models.Q(max_team_size__isnull=True) | models.Q(max_team_size__gte=1),
                name="challenge_max_team_size_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def phase_at(self, moment: dt.datetime) -> Challenge.Phase:
        if moment < self.starts_at:
            return self.Phase.UPCOMING
        if moment >= self.ends_at:
            return self.Phase.CLOSED
        return self.Phase.OPEN

    @property
    def phase(self) -> Challenge.Phase:
        return self.phase_at(timezone.now())

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The challenge's time zone (UTC if the stored name is somehow unknown: the validator refuses those)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class Participation(models.Model):
    """A team registered for a challenge (rules accepted). Quotas and ranks are per team."""

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        PENDING = "pending", "Awaiting organizer approval"
        REJECTED = "rejected", "Rejected"

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="participations")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="participations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPROVED)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    accepted_rules_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The organizer who approved or rejected the registration last.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["challenge", "team"], name="participation_unique")]

    def __str__(self) -> str:
        return f"{self.team} in {self.challenge}"


CONCEALED_DIR = "concealed"
MAX_FINAL_SELECTIONS = 20
PRIVATE_RULE = (
    "Each team is ranked by the best private score among the submissions it selected as final; a team that "
    "selected none, by the best private score among its {n} best public submissions."
)
"""The private board's rule (Kaggle's; applied by `leaderboards.ranking._final_choices`), stated on every page
that speaks of it through `Task.private_rule`; `{n}` is the task's `final_selections`."""
"""Task data under this folder forms the concealed task of the closed division (never served)."""


class ConcealedVisibility(models.TextChoices):
    ALWAYS = "always", "Everyone, at once"
    AFTER_END = "after-end", "Everyone, once the challenge has ended"
    ORGANIZERS = "organizers", "Organizers only"


class Task(models.Model):
    """One cell of the DataPerf matrix: a benchmark type (evaluator) applied to an ML task, with its data."""

    class MLTask(models.TextChoices):
        KEYWORD_SPOTTING = "keyword-spotting", "Keyword spotting (speech)"
        IMAGE_CLASSIFICATION = "image-classification", "Image classification"
        OCR = "ocr", "Optical character recognition"
        NLP = "nlp", "Natural language processing"
        TABULAR = "tabular", "Tabular classification"

    class QuotaWindow(models.TextChoices):
        ROLLING = "rolling", "Rolling 24 hours"
        CALENDAR_DAY = "calendar-day", "Calendar day (resets at midnight in the challenge's time zone)"

    class RankingRule(models.TextChoices):
        BEST = "best", "Each team's best submission"
        SELECTED_FINAL = "selected-final", "Each team's best submission selected as final (else its best)"

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="tasks")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown; rendered and sanitised.")
    order = models.PositiveIntegerField(default=0)
    evaluator_slug = models.CharField(max_length=60, help_text="The benchmark type; fixed once submissions exist.")
    ml_task = models.CharField(max_length=30, choices=MLTask.choices)
    config = models.JSONField(default=dict, blank=True, help_text="Evaluator configuration (validated on save).")
    data_version = models.PositiveIntegerField(default=1, help_text="Bumped whenever data or config change.")
    is_published = models.BooleanField(default=True)
    quota_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per team and day (a rolling 24 hours or a calendar day: see the window)."
    )
    quota_window = models.CharField(
        max_length=12,
        choices=QuotaWindow.choices,
        default=QuotaWindow.ROLLING,
        help_text="What a day of the daily quota is.",
    )
    quota_total = models.PositiveIntegerField(null=True, blank=True, help_text="Per team, whole challenge.")
    quota_concurrent = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Per team, submissions being processed at once (received to running). Empty: no limit.",
    )
    quota_counts_rejected = models.BooleanField(
        default=False, help_text="Whether submissions rejected by validation use up quota."
    )
    quota_counts_failed = models.BooleanField(
        default=False, help_text="Whether submissions that failed (a fault, not the participant's) use up quota."
    )
    max_upload_bytes = models.PositiveBigIntegerField(default=50 * 1024 * 1024)
    ranking_rule = models.CharField(
        max_length=20,
        choices=RankingRule.choices,
        default=RankingRule.BEST,
        help_text="Which submission of a team its leaderboard row shows. Rebuild the leaderboards after a change.",
    )
    final_selections = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FINAL_SELECTIONS)],
        help_text="How many submissions a team may select as final per division. The private leaderboard ranks "
        "a team by the best private score among them (by its this many best public ones if it selects none).",
    )
    # Closed division: limits of the sandbox that reruns a participant's algorithm (empty: the platform's
    # default from settings), and the concealed task it is scored on.
    sandbox_cpu_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="CPU seconds per run.")
    sandbox_wall_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Wall-clock seconds per run.")
    sandbox_memory_mb = models.PositiveIntegerField(null=True, blank=True, help_text="Memory (MB) of all processes.")
    sandbox_processes = models.PositiveIntegerField(null=True, blank=True, help_text="Processes at once.")
    sandbox_output_mb = models.PositiveIntegerField(null=True, blank=True, help_text="Bytes written (MB).")
    concealed_config = models.JSONField(
        null=True,
        blank=True,
        help_text="Evaluator configuration of the concealed task, whose data lives under concealed/ in the task "
        "data (empty: no concealed task). Concealed files are never served; the public ones are the sandbox's "
        "inputs, the hidden ones only the evaluator's.",
    )
    concealed_visibility = models.CharField(
        max_length=12,
        choices=ConcealedVisibility.choices,
        default=ConcealedVisibility.AFTER_END,
        help_text="Who sees the concealed leaderboard.",
    )
    # Collective scoring (an item's credit depends on every submission holding it): each landed score asks
    # for a task-wide rescore; one job serves all requests made before it started.
    collective_requested = models.PositiveIntegerField(default=0)
    collective_done = models.PositiveIntegerField(default=0)
    collective_rescored_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["challenge", "order", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "slug"], name="task_slug_unique_in_challenge"),
            models.CheckConstraint(
                condition=models.Q(final_selections__gte=1, final_selections__lte=MAX_FINAL_SELECTIONS),
                name="task_final_selections_range",
                violation_error_message=f"A team selects from 1 to {MAX_FINAL_SELECTIONS} final submissions.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge.slug}/{self.slug}"

    @property
    def data_dir(self) -> Path:
        return Path(settings.TASK_DATA_ROOT) / str(self.pk)

    @property
    def concealed_dir(self) -> Path:
        return self.data_dir / CONCEALED_DIR

    @property
    def participant_config(self) -> dict[str, Any]:
        """The config as participants see it (downloads, the API, the sandbox): no split seed."""
        return participant_config(self.config)

    @property
    def has_private_split(self) -> bool:
        """Whether part of the evaluation data scores only the private leaderboard (`private_fraction` > 0)."""
        return SplitConfig.from_mapping(self.config).enabled

    @property
    def private_rule(self) -> str:
        """How the private leaderboard ranks teams, with this task's number of final selections."""
        return PRIVATE_RULE.format(n=self.final_selections)

    @property
    def private_fraction(self) -> float:
        """The share of the evaluation data that scores only the private leaderboard (0 without a split)."""
        return SplitConfig.from_mapping(self.config).private_fraction

    @property
    def has_concealed_task(self) -> bool:
        return self.concealed_config is not None


def _task_data_path(instance: TaskDataFile, filename: str) -> str:
    return str(PurePosixPath(str(instance.task_id)) / instance.relative_path)


class TaskDataFile(models.Model):
    class Role(models.TextChoices):
        PUBLIC = "public", "Public (downloadable by registered participants)"
        HIDDEN = "hidden", "Hidden (evaluator only, never served)"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="data_files")
    role = models.CharField(max_length=10, choices=Role.choices)
    relative_path = models.CharField(max_length=255, help_text="Path inside the task directory, e.g. eval.yaml")
    file = models.FileField(storage=task_data_storage, upload_to=_task_data_path, max_length=400)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task", "relative_path"]
        constraints = [models.UniqueConstraint(fields=["task", "relative_path"], name="task_data_path_unique")]

    def __str__(self) -> str:
        return f"{self.relative_path} ({self.role})"


class AuditAction(models.TextChoices):
    SUBMISSION_RESCORE = "submission-rescore", "Rescored a submission"
    SUBMISSION_REVERIFY = "submission-reverify", "Reran a submission's verification"
    TASK_RESCORE = "task-rescore", "Rescored a whole task"
    SUBMISSION_DISQUALIFY = "submission-disqualify", "Disqualified a submission"
    SUBMISSION_REQUALIFY = "submission-requalify", "Undid a disqualification"
    SUBMISSION_BASELINE = "submission-baseline", "Marked a submission as a baseline"
    SUBMISSION_UNBASELINE = "submission-unbaseline", "Unmarked a baseline"
    SUBMISSION_MOVE_OPEN = "submission-move-open", "Moved a submission to the open division"
    AWARD_GRANT = "award-grant", "Granted an award"
    AWARD_REVOKE = "award-revoke", "Revoked an award"
    LEADERBOARD_REVEAL = "leaderboard-reveal", "Revealed a leaderboard early"
    LEADERBOARD_REBUILD = "leaderboard-rebuild", "Rebuilt a leaderboard"
    TASK_CREATE = "task-create", "Created a task"
    TASK_CHANGE = "task-change", "Changed a task"
    TASK_DATA = "task-data", "Changed a task's data"
    TASK_SLICE = "task-slice", "Added a discovered slice to the ground truth"
    TASK_WEIGHT = "task-weight", "Changed a task's weight on the challenge leaderboard"
    CHALLENGE_CHANGE = "challenge-change", "Changed the challenge"
    DIVISION_CHANGE = "division-change", "Changed a division"
    PARTICIPATION_APPROVE = "participation-approve", "Approved a registration"
    PARTICIPATION_REJECT = "participation-reject", "Rejected a registration"
    ROUND_OPEN = "round-open", "Opened a ratchet round"
    ROUND_VALIDATE = "round-validate", "Ended a ratchet round's collection"
    ROUND_CLOSE = "round-close", "Closed a ratchet round"


class AuditEntry(models.Model):
    """One action of an organizer or staff member on a challenge. Append-only: written by `audit_record` in the
    transaction of the change it records, never changed afterwards (saving an existing entry raises).

    Here, in the lowest layer that knows challenges, so that each layer's services write their own entries.
    Deleted with its challenge (nothing is left to audit then; a challenge with submissions cannot be deleted).
    The actor's name is copied, so the entry still says who acted after the account is gone."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    summary = models.TextField(help_text="What happened, in a sentence.")
    submission_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The submission concerned, if any.")
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["challenge", "-created_at"], name="audit_challenge_time_idx")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("audit entries are immutable")
        super().save(*args, **kwargs)

"""Submissions, their evaluations and the immutable scores those produce."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models

from apps.accounts.models import Team
from apps.challenges.models import Task
from apps.divisions.models import Division


def private_storage() -> Storage:
    """Uploaded artifacts under MEDIA_ROOT/private. No URL serves them by path."""
    return FileSystemStorage(location=f"{settings.MEDIA_ROOT}/private", base_url="/not-served/")


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def ranking(self, *, task: Task, division: Division | None = None) -> SubmissionQuerySet:
        """The submissions of a task that rank, in one division or (None) in every division: the one rule that
        the boards, the score history and the collective rescore share.

        A submission ranks while it has a current evaluation and is neither withdrawn, disqualified, rejected
        nor cancelled. So a scored submission being rescored or re-verified (queued, running, verifying), or
        whose rescore failed (a platform fault), keeps ranking on its last evaluation; a rescore that rejects it
        unranks it. Whether it has a score on a given split is the caller's filter."""
        ranking = self.filter(task=task, is_withdrawn=False, is_disqualified=False, current_evaluation__isnull=False)
        if division is not None:
            ranking = ranking.filter(division=division)
        return ranking.exclude(status__in=[Submission.Status.REJECTED, Submission.Status.CANCELLED])

    def rescorable(self, *, task: Task) -> SubmissionQuerySet:
        """The submissions of a task that a task-wide rescore queues again (after a change of its data, config
        or evaluator): scored or failed, and not withdrawn (a withdrawn one never ranks again)."""
        return self.filter(
            task=task, status__in=[Submission.Status.SCORED, Submission.Status.FAILED], is_withdrawn=False
        )


class Submission(models.Model):
    """One artifact submitted by a team to a task in a division.

    States: received -> validating -> [verifying ->] queued -> running -> scored, or rejected (invalid input, or
    code that does not reproduce its artifact), failed (a fault after the retry budget), cancelled. `verifying`
    (closed division: the code reruns in the sandbox) waits for a sandbox worker while `lease_owner` is empty.
    Transitions are conditional updates in `services`, never `save()`.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        VALIDATING = "validating", "Validating"
        VERIFYING = "verifying", "Verifying the code"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SCORED = "scored", "Scored"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    TERMINAL = (Status.SCORED, Status.REJECTED, Status.FAILED, Status.CANCELLED)

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="submissions")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="submissions")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="submissions")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    artifact = models.FileField(storage=private_storage, upload_to="submissions/%Y/%m/", max_length=300)
    artifact_name = models.CharField(max_length=255)
    artifact_size = models.PositiveBigIntegerField()
    artifact_sha256 = models.CharField(max_length=64)
    code_archive = models.FileField(storage=private_storage, upload_to="code/%Y/%m/", blank=True, max_length=300)
    code_archive_sha256 = models.CharField(max_length=64, blank=True)
    concealed_output = models.FileField(
        storage=private_storage,
        upload_to="concealed/%Y/%m/",
        blank=True,
        max_length=300,
        help_text="What the verified code produced on the concealed task (never shown to the participant).",
    )
    method_description = models.TextField(blank=True)
    code_url = models.URLField(blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    message = models.TextField(blank=True, help_text="Shown to the participant: why rejected or failed.")
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    validation_started_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True, help_text="When a task message was last sent for it.")
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    is_baseline = models.BooleanField(default=False)
    is_withdrawn = models.BooleanField(default=False)
    is_disqualified = models.BooleanField(default=False)
    disqualified_reason = models.TextField(
        blank=True, help_text="Why the organizers disqualified it; shown to its team."
    )
    is_selected_final = models.BooleanField(
        default=False, help_text="Chosen by its team to represent it (tasks ranked by selected submissions)."
    )
    current_evaluation = models.ForeignKey(
        "Evaluation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["task", "team", "created_at"], name="submission_quota_idx"),
            models.Index(fields=["status", "lease_expires_at"], name="submission_lease_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=1), name="submission_progress_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="running") | models.Q(lease_expires_at__isnull=False),
                name="submission_running_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.task} by {self.team}"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class Evaluation(models.Model):
    """One completed evaluation of a submission: which evaluator version and data it used. Immutable."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="evaluations")
    evaluator_slug = models.CharField(max_length=60)
    evaluator_version = models.CharField(max_length=40)
    data_version = models.PositiveIntegerField()
    round = models.PositiveIntegerField(default=0, help_text="0: scored alone; n: the task's n-th collective rescore.")
    primary_metric = models.CharField(max_length=100)
    details = models.JSONField(default=dict, blank=True)
    environment = models.JSONField(default=dict, blank=True, help_text="Library versions used.")
    worker = models.CharField(max_length=200, blank=True)
    duration_seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A second run of the same evaluation (a redelivered message) can never add a second result.
            models.UniqueConstraint(
                fields=["submission", "evaluator_version", "data_version", "round"], name="evaluation_unique_run"
            )
        ]

    def __str__(self) -> str:
        return f"evaluation of #{self.submission_id} ({self.evaluator_slug} {self.evaluator_version})"


class Score(models.Model):
    """One metric value of one evaluation on one split. Immutable."""

    class Split(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private"
        CONCEALED = "concealed", "Concealed"

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores")
    split = models.CharField(max_length=10, choices=Split.choices, default=Split.PUBLIC)
    metric = models.CharField(max_length=100)
    value = models.FloatField()

    class Meta:
        ordering = ["evaluation", "split", "metric"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "split", "metric"], name="score_unique")]

    def __str__(self) -> str:
        return f"{self.metric}={self.value:.6g} ({self.split})"


class VerificationStage(models.Model):
    """One stage of a closed-division verification: unpacking the code, reproducing the artifact from the public
    inputs, running on the concealed task. Rewritten by each attempt; what a participant may read is in
    `message` and `stderr_tail` (empty for the concealed run, whose output could reveal the concealed task);
    `organizer_detail` is for organizers only."""

    class Stage(models.TextChoices):
        UNPACK = "unpack", "Unpack the code"
        REPRODUCE = "reproduce", "Reproduce the submission"
        CONCEALED = "concealed", "Run on the concealed task"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    ORDER = (Stage.UNPACK, Stage.REPRODUCE, Stage.CONCEALED)

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="verification_stages")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    message = models.TextField(blank=True)
    stderr_tail = models.TextField(blank=True)
    organizer_detail = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    wall_seconds = models.FloatField(null=True, blank=True)
    cpu_seconds = models.FloatField(null=True, blank=True)
    max_rss_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    output_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submission", "started_at"]
        constraints = [models.UniqueConstraint(fields=["submission", "stage"], name="verification_stage_unique")]

    def __str__(self) -> str:
        return f"#{self.submission_id} {self.stage}: {self.status}"


class Award(models.Model):
    """A distinction the organizers grant to a submission (best in division, most reproducible, ...).
    Granted and revoked through `apps.submissions.awards`; revoking deletes the row (the audit log keeps it)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="awards")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["submission", "name"], name="award_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} (#{self.submission_id})"

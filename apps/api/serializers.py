"""Input and output serializers of the API, one per operation's body. Outputs are plain shapes (they
mirror what the selectors return), so the OpenAPI schema states exactly what a client receives."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.challenges.models import Challenge, Participation, Task
from apps.submissions.models import Submission, VerificationStage


class ErrorOut(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, for the person (validation messages intact).")
    code = serializers.CharField(help_text="For programs: not_found, forbidden, invalid, quota_exceeded, ...")
    # DRF's metaclass moves declared fields off the class, so these names do not shadow Serializer/Field.
    errors = serializers.DictField(  # type: ignore[assignment]  # a field, not Serializer.errors
        required=False, help_text="Validation errors per field (code `invalid`)."
    )
    resets_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Quota errors: when the next submission is possible."
    )


# --- Accounts and teams ------------------------------------------------------------------------------------
class TeamOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    members = serializers.ListField(child=serializers.CharField())
    is_personal = serializers.BooleanField()


class MeOut(serializers.Serializer[Any]):
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    teams = TeamOut(many=True)


# --- Challenges, divisions, tasks --------------------------------------------------------------------------
class DivisionOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["open", "closed"])
    description = serializers.CharField(help_text="Markdown.")
    requires_code = serializers.BooleanField(help_text="Submissions must include the code that made them.")


class ParticipationOut(serializers.Serializer[Any]):
    registered = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Participation.Status.choices, allow_null=True)
    team = TeamOut(allow_null=True)
    accepted_rules_at = serializers.DateTimeField(allow_null=True)


class RegistrationIn(serializers.Serializer[Any]):
    accept_rules = serializers.BooleanField(help_text="Registering accepts the challenge's rules: send true.")


class ChallengeOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    phase = serializers.ChoiceField(choices=Challenge.Phase.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    visibility = serializers.ChoiceField(choices=Challenge.Visibility.choices)
    registration = serializers.ChoiceField(choices=Challenge.Registration.choices)
    web_url = serializers.URLField()


class TaskSummaryOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    benchmark = serializers.CharField(help_text="The evaluator's slug (`python -m evaluators list`).")
    ml_task = serializers.ChoiceField(choices=Task.MLTask.choices)
    is_published = serializers.BooleanField()


class ChallengeDetailOut(ChallengeOut):
    description = serializers.CharField(help_text="Markdown.")
    rules = serializers.CharField(help_text="Markdown; registering accepts them.")
    is_organizer = serializers.BooleanField()
    participation = ParticipationOut()
    divisions = DivisionOut(many=True)
    tasks = TaskSummaryOut(many=True)


class MetricOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    higher_is_better = serializers.BooleanField()
    scale = serializers.FloatField(help_text="The factor leaderboards multiply values by for display.")
    column = serializers.BooleanField(help_text="Shown as a leaderboard column.")


class BenchmarkOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    version = serializers.CharField()
    submission_format = serializers.CharField()
    submission_is_directory = serializers.BooleanField(help_text="Upload a zip or tar.gz of the directory.")
    format_notes = serializers.CharField(help_text="Markdown: formats, rules and metrics in full.")


class DataFileOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    path = serializers.CharField(help_text="Path inside the task directory.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    download_url = serializers.URLField()


class QuotaRulesOut(serializers.Serializer[Any]):
    per_day = serializers.IntegerField(allow_null=True, help_text="Per team and day (see `window`).")
    total = serializers.IntegerField(allow_null=True, help_text="Per team, whole challenge.")
    window = serializers.ChoiceField(
        choices=["rolling", "calendar-day"],
        help_text="The day of `per_day`: the last 24 hours, or the calendar day in the challenge's time zone.",
    )
    concurrent = serializers.IntegerField(allow_null=True, help_text="Per team, submissions in progress at once.")
    counts_rejected = serializers.BooleanField()
    counts_failed = serializers.BooleanField()


class TaskDetailOut(TaskSummaryOut):
    description = serializers.CharField(help_text="Markdown.")
    ml_task_label = serializers.CharField()
    benchmark_info = BenchmarkOut()
    primary_metric = MetricOut()
    metrics = MetricOut(many=True)
    quota = QuotaRulesOut()
    max_upload_bytes = serializers.IntegerField()
    ranking_rule = serializers.ChoiceField(choices=Task.RankingRule.choices)
    divisions = DivisionOut(many=True)
    can_download = serializers.BooleanField(help_text="Whether you may download the public files.")
    files = DataFileOut(many=True, help_text="The public files (empty unless `can_download`).")


class TaskFilesOut(serializers.Serializer[Any]):
    benchmark = serializers.CharField()
    config = serializers.DictField(help_text="Write {benchmark, config} to task.yaml for offline scoring.")
    files = DataFileOut(many=True)


class QuotaLimitOut(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["day", "total", "concurrent"])
    name = serializers.CharField(help_text="What the quota is, in words.")
    limit = serializers.IntegerField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    resets_at = serializers.DateTimeField(allow_null=True)


class QuotaOut(serializers.Serializer[Any]):
    per_day = serializers.IntegerField(allow_null=True)
    used_today = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)
    used_total = serializers.IntegerField()
    remaining_today = serializers.IntegerField(allow_null=True)
    remaining_total = serializers.IntegerField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True, help_text="Submissions possible now; null: no limit.")
    resets_at = serializers.DateTimeField(allow_null=True, help_text="Set when the daily quota is used up.")
    window = serializers.CharField()
    time_zone = serializers.CharField()
    day_resets_at = serializers.DateTimeField(allow_null=True, help_text="When the current quota day ends.")
    concurrent = serializers.IntegerField(allow_null=True)
    in_flight = serializers.IntegerField(help_text="The team's submissions in progress now.")
    remaining_concurrent = serializers.IntegerField(allow_null=True)
    limits = QuotaLimitOut(many=True, help_text="Every quota that applies, with what remains and when it resets.")


# --- Submissions -------------------------------------------------------------------------------------------
class SubmissionIn(serializers.Serializer[Any]):
    artifact = serializers.FileField(help_text="The submission file (a zip or tar.gz for directory artifacts).")
    division = serializers.SlugField(required=False, help_text="Default: the task's first division.")
    method_description = serializers.CharField(max_length=5000, help_text="How you made this submission.")
    code_archive = serializers.FileField(required=False, help_text="Closed division: the code (zip or tar.gz).")
    code_url = serializers.URLField(required=False, allow_blank=True, default="")


class SubmissionListQuery(serializers.Serializer[Any]):
    challenge = serializers.SlugField(required=False, help_text="Only this challenge's submissions.")
    task = serializers.SlugField(required=False, help_text="Only this task's (needs `challenge`).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("task") and not attrs.get("challenge"):
            raise serializers.ValidationError({"challenge": "Name the challenge of the task."})
        return attrs


class SelectFinalIn(serializers.Serializer[Any]):
    selected = serializers.BooleanField(default=True, help_text="false clears the selection.")


class PrimaryValueOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    value = serializers.FloatField(allow_null=True)
    scale = serializers.FloatField()


class MetricValueOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    value = serializers.FloatField()


class ConcealedMetricsOut(serializers.Serializer[Any]):
    primary = PrimaryValueOut()
    metrics = MetricValueOut(many=True)


class SubmissionMetricsOut(serializers.Serializer[Any]):
    primary = PrimaryValueOut()
    metrics = MetricValueOut(many=True)
    concealed = ConcealedMetricsOut(
        allow_null=True,
        help_text="The concealed task's metrics (closed division), when the caller may see them: organizers, "
        "or everyone as the task's concealed visibility says. Else null.",
    )
    evaluator_version = serializers.CharField()
    details = serializers.DictField(help_text="Chart data: curves, per-class values.")


class VerificationStageOut(serializers.Serializer[Any]):
    stage = serializers.ChoiceField(choices=VerificationStage.Stage.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    status = serializers.ChoiceField(choices=VerificationStage.Status.choices)
    status_label = serializers.CharField()
    message = serializers.CharField(help_text="What happened, for the participant.")
    stderr_tail = serializers.CharField(help_text="The end of the code's error output (always empty when concealed).")
    wall_seconds = serializers.FloatField(allow_null=True)
    cpu_seconds = serializers.FloatField(allow_null=True)
    max_rss_bytes = serializers.IntegerField(allow_null=True, help_text="Peak memory.")
    output_bytes = serializers.IntegerField(allow_null=True, help_text="Bytes written to the output.")
    organizer_detail = serializers.CharField(required=False, help_text="Organizers (and staff) only.")


class SubmissionOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    challenge = serializers.CharField()
    task = serializers.CharField()
    division = serializers.CharField()
    team = serializers.CharField()
    submitted_by = serializers.CharField()
    artifact_name = serializers.CharField()
    artifact_size = serializers.IntegerField()
    artifact_sha256 = serializers.CharField()
    method_description = serializers.CharField()
    code_url = serializers.CharField()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    status_label = serializers.CharField()
    terminal = serializers.BooleanField(help_text="The status will not change any more.")
    progress = serializers.FloatField(help_text="0 to 1, while evaluating.")
    progress_message = serializers.CharField()
    message = serializers.CharField(help_text="Why it was rejected or failed (the evaluator's message).")
    attempts = serializers.IntegerField()
    metrics = SubmissionMetricsOut(allow_null=True, help_text="Once scored: the public split's metrics.")
    stages = VerificationStageOut(
        many=True, help_text="Closed division: the verification stages recorded so far (unpack, reproduce, concealed)."
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    is_baseline = serializers.BooleanField()
    is_withdrawn = serializers.BooleanField()
    is_disqualified = serializers.BooleanField()
    is_selected_final = serializers.BooleanField()
    web_url = serializers.URLField()


class SubmissionPageOut(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SubmissionOut(many=True)


# --- Leaderboards and the benchmark matrix ----------------------------------------------------------------
class LeaderboardQuery(serializers.Serializer[Any]):
    division = serializers.SlugField(required=False, help_text="Default: the task's first division.")
    split = serializers.ChoiceField(choices=["public"], default="public", help_text="Only the public split.")


class LeaderboardRowOut(serializers.Serializer[Any]):
    rank = serializers.IntegerField()
    team_id = serializers.IntegerField()
    team = serializers.CharField()
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        help_text="The team, or a baseline's method."
    )
    submission_id = serializers.IntegerField()
    primary = serializers.FloatField()
    metrics = serializers.DictField(child=serializers.FloatField())
    is_baseline = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()
    submissions = serializers.IntegerField(help_text="The team's ranked submissions.")


class LeaderboardOut(serializers.Serializer[Any]):
    challenge = serializers.CharField()
    task = serializers.CharField()
    division = serializers.CharField()
    split = serializers.CharField()
    version = serializers.IntegerField(help_text="Bumped by every rebuild (the ETag).")
    rebuilt_at = serializers.DateTimeField(allow_null=True)
    primary = MetricOut()
    columns = MetricOut(many=True)
    tie_break = serializers.CharField(help_text="How rows with equal primary scores are ordered.")
    rows = LeaderboardRowOut(many=True)


class HistoryPointOut(serializers.Serializer[Any]):
    t = serializers.DateTimeField()
    value = serializers.FloatField()
    team = serializers.CharField()
    baseline = serializers.BooleanField()
    best = serializers.FloatField(allow_null=True, help_text="The best non-baseline value so far.")


class ChallengeLeaderboardOut(serializers.Serializer[Any]):
    challenge = serializers.CharField()
    boards = LeaderboardOut(many=True, help_text="Each visible task's public leaderboard in each division.")


class MatrixLeaderOut(serializers.Serializer[Any]):
    team = serializers.CharField()
    primary = serializers.FloatField()


class MatrixTaskOut(serializers.Serializer[Any]):
    challenge = serializers.CharField()
    task = serializers.CharField()
    title = serializers.CharField()
    leader = MatrixLeaderOut(allow_null=True)
    submissions = serializers.IntegerField()


class MatrixCellOut(serializers.Serializer[Any]):
    ml_task = serializers.CharField()
    tasks = MatrixTaskOut(many=True)


class MatrixRowOut(serializers.Serializer[Any]):
    benchmark = serializers.CharField()
    title = serializers.CharField()
    cells = MatrixCellOut(many=True)


class MatrixColumnOut(serializers.Serializer[Any]):
    ml_task = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class MatrixOut(serializers.Serializer[Any]):
    columns = MatrixColumnOut(many=True)
    rows = MatrixRowOut(many=True)

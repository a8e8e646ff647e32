"""Input and output serializers of the API, one per operation's body. Each output serializer is the one
definition of its shape: it reads the model (or selector result) it is given, and the OpenAPI schema is made
from it, so the schema states exactly what a client receives.

Output serializers that build URLs or apply the caller's access rules need `context={"request": request}`.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from apps.accounts.models import Team
from apps.challenges import selectors as challenge_selectors
from apps.challenges.evaluators import task_evaluator, task_format_notes, task_metric_specs, task_primary_metric
from apps.challenges.models import Challenge, Participation, Task, TaskDataFile
from apps.divisions.selectors import divisions_of_task
from apps.leaderboards.selectors import BenchmarkMatrix, metric_spec_data
from apps.ratchets.models import Answer, Item, Ratchet, Round, Standing, SuiteModel
from apps.ratchets.selectors import LIVE_ROUNDS, round_figures
from apps.submissions.models import Score, Submission, VerificationStage
from apps.submissions.selectors import submission_metrics, submission_stages


def _request(serializer: serializers.BaseSerializer[Any]) -> Request:
    request: Request = serializer.context["request"]
    return request


def _absolute_url(serializer: serializers.BaseSerializer[Any], view_name: str, *args: object) -> str:
    return _request(serializer).build_absolute_uri(reverse(view_name, args=args))


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
    members = serializers.SerializerMethodField()
    is_personal = serializers.SerializerMethodField()

    def get_members(self, team: Team) -> list[str]:
        return sorted(team.memberships.values_list("user__username", flat=True))

    def get_is_personal(self, team: Team) -> bool:
        return team.personal_owner_id is not None


class MeOut(serializers.Serializer[Any]):  # reads {username, is_staff, teams}
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    teams = TeamOut(many=True)


# --- Challenges, divisions, tasks --------------------------------------------------------------------------
class DivisionOut(serializers.Serializer[Any]):  # reads a Division
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["open", "closed"])
    description = serializers.CharField(help_text="Markdown.")
    requires_code = serializers.BooleanField(help_text="Submissions must include the code that made them.")


# Reads a Participation, or None (not registered: every other field null). Serialize it with
# `ParticipationOut().to_representation(participation)`: DRF never calls `to_representation` with None.
class ParticipationOut(serializers.Serializer[Any]):
    registered = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Participation.Status.choices, allow_null=True)
    team = TeamOut(allow_null=True)
    accepted_rules_at = serializers.DateTimeField(allow_null=True)

    def get_registered(self, participation: Participation) -> bool:
        return True

    def to_representation(self, instance: Participation | None) -> dict[str, Any]:
        if instance is None:
            return {**dict.fromkeys(self.fields), "registered": False}
        return dict(super().to_representation(instance))


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
    web_url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_web_url(self, challenge: Challenge) -> str:
        return _absolute_url(self, "challenges:detail", challenge.slug)


class TaskSummaryOut(serializers.Serializer[Any]):
    slug = serializers.CharField()
    title = serializers.CharField()
    benchmark = serializers.CharField(
        source="evaluator_slug", help_text="The evaluator's slug (`python -m evaluators list`)."
    )
    ml_task = serializers.ChoiceField(choices=Task.MLTask.choices)
    is_published = serializers.BooleanField()


class ChallengeDetailOut(ChallengeOut):  # the request's user's view of it (the selectors' access rules)
    description = serializers.CharField(help_text="Markdown.")
    rules = serializers.CharField(help_text="Markdown; registering accepts them.")
    is_organizer = serializers.SerializerMethodField()
    participation = serializers.SerializerMethodField()
    divisions = DivisionOut(many=True, source="divisions.all")
    tasks = serializers.SerializerMethodField()

    def get_is_organizer(self, challenge: Challenge) -> bool:
        return challenge_selectors.user_is_organizer(challenge=challenge, user=_request(self).user)

    @extend_schema_field(ParticipationOut)
    def get_participation(self, challenge: Challenge) -> dict[str, Any]:
        participation = challenge_selectors.participation_of(challenge=challenge, user=_request(self).user)
        return ParticipationOut().to_representation(participation)

    @extend_schema_field(TaskSummaryOut(many=True))
    def get_tasks(self, challenge: Challenge) -> Any:
        tasks = challenge_selectors.tasks_visible(challenge=challenge, user=_request(self).user)
        return TaskSummaryOut(tasks, many=True).data


class MetricOut(serializers.Serializer[Any]):  # reads `metric_spec_data`, as the board documents show it
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    higher_is_better = serializers.BooleanField()
    scale = serializers.FloatField(help_text="The factor leaderboards multiply values by for display.")
    column = serializers.BooleanField(help_text="Shown as a leaderboard column.")


class BenchmarkOut(serializers.Serializer[Any]):  # reads a Task: its evaluator's description
    slug = serializers.CharField(source="evaluator_slug")
    title = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    submission_format = serializers.SerializerMethodField()
    submission_is_directory = serializers.SerializerMethodField(help_text="Upload a zip or tar.gz of the directory.")
    format_notes = serializers.SerializerMethodField(help_text="Markdown: formats, rules and metrics in full.")

    def get_title(self, task: Task) -> str:
        return task_evaluator(task).title

    def get_version(self, task: Task) -> str:
        return task_evaluator(task).version

    def get_submission_format(self, task: Task) -> str:
        return task_evaluator(task).submission_format

    def get_submission_is_directory(self, task: Task) -> bool:
        return task_evaluator(task).submission_is_directory

    def get_format_notes(self, task: Task) -> str:
        return task_format_notes(task)


class DataFileOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    path = serializers.CharField(source="relative_path", help_text="Path inside the task directory.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    download_url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, data_file: TaskDataFile) -> str:
        task = data_file.task
        return _absolute_url(self, "api:task-file", task.challenge.slug, task.slug, data_file.pk)


class QuotaRulesOut(serializers.Serializer[Any]):
    per_day = serializers.IntegerField(
        source="quota_per_day", allow_null=True, help_text="Per team and day (see `window`)."
    )
    total = serializers.IntegerField(source="quota_total", allow_null=True, help_text="Per team, whole challenge.")
    window = serializers.ChoiceField(
        source="quota_window",
        choices=["rolling", "calendar-day"],
        help_text="The day of `per_day`: the last 24 hours, or the calendar day in the challenge's time zone.",
    )
    concurrent = serializers.IntegerField(
        source="quota_concurrent", allow_null=True, help_text="Per team, submissions in progress at once."
    )
    counts_rejected = serializers.BooleanField(source="quota_counts_rejected")
    counts_failed = serializers.BooleanField(source="quota_counts_failed")


# Its context holds `files` too: the public files the user may download, or None if they may not.
class TaskDetailOut(TaskSummaryOut):
    description = serializers.CharField(help_text="Markdown.")
    ml_task_label = serializers.CharField(source="get_ml_task_display")
    benchmark_info = BenchmarkOut(source="*")
    primary_metric = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()
    quota = QuotaRulesOut(source="*")
    max_upload_bytes = serializers.IntegerField()
    ranking_rule = serializers.ChoiceField(choices=Task.RankingRule.choices)
    final_selections = serializers.IntegerField(help_text="How many submissions a team may select as final.")
    has_private_split = serializers.BooleanField(
        help_text="Whether part of the evaluation data scores only the private leaderboard, hidden until the end."
    )
    divisions = serializers.SerializerMethodField()
    can_download = serializers.SerializerMethodField(help_text="Whether you may download the public files.")
    files = serializers.SerializerMethodField(help_text="The public files (empty unless `can_download`).")

    @extend_schema_field(MetricOut)
    def get_primary_metric(self, task: Task) -> Any:
        return MetricOut(metric_spec_data(task_primary_metric(task))).data

    @extend_schema_field(MetricOut(many=True))
    def get_metrics(self, task: Task) -> Any:
        return MetricOut([metric_spec_data(spec) for spec in task_metric_specs(task)], many=True).data

    @extend_schema_field(DivisionOut(many=True))
    def get_divisions(self, task: Task) -> Any:
        return DivisionOut(divisions_of_task(task=task), many=True).data

    def get_can_download(self, task: Task) -> bool:
        return self.context["files"] is not None

    @extend_schema_field(DataFileOut(many=True))
    def get_files(self, task: Task) -> Any:
        return DataFileOut(self.context["files"] or [], many=True, context=self.context).data


class TaskFilesOut(serializers.Serializer[Any]):  # its context holds `files` too: the public files
    benchmark = serializers.CharField(source="evaluator_slug")
    config = serializers.DictField(
        source="participant_config", help_text="Write {benchmark, config} to task.yaml for offline scoring."
    )
    files = serializers.SerializerMethodField()

    @extend_schema_field(DataFileOut(many=True))
    def get_files(self, task: Task) -> Any:
        return DataFileOut(self.context["files"], many=True, context=self.context).data


class QuotaLimitOut(serializers.Serializer[Any]):  # reads a QuotaLimit
    kind = serializers.ChoiceField(choices=["day", "total", "concurrent"])
    name = serializers.CharField(source="label", help_text="What the quota is, in words.")
    limit = serializers.IntegerField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    resets_at = serializers.DateTimeField(allow_null=True)


class QuotaOut(serializers.Serializer[Any]):  # reads a QuotaStatus
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


class SplitMetricsOut(serializers.Serializer[Any]):
    primary = PrimaryValueOut()
    metrics = MetricValueOut(many=True)


class SubmissionMetricsOut(serializers.Serializer[Any]):
    primary = PrimaryValueOut(help_text="With a private split: on the public part alone.")
    metrics = MetricValueOut(many=True)
    private = SplitMetricsOut(
        allow_null=True,
        help_text="Tasks with a private split: the private part's metrics, when the caller may see them "
        "(organizers; the team once the challenge has ended). Else null.",
    )
    whole_set = SplitMetricsOut(
        allow_null=True,
        help_text="Tasks with a private split: the whole evaluation set's metrics (the reference's definition), "
        "for organizers, and for the team once the challenge has ended. Else null.",
    )
    concealed = SplitMetricsOut(
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


# The live status as the submission page polls it (`submission_status`), with the metrics and verification
# stages the request's user may see (the same selectors).
class SubmissionOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    challenge = serializers.CharField(source="task.challenge.slug")
    task = serializers.CharField(source="task.slug")
    division = serializers.CharField(source="division.slug")
    team = serializers.CharField(source="team.name")
    submitted_by = serializers.CharField(source="submitted_by.get_username")
    artifact_name = serializers.CharField()
    artifact_size = serializers.IntegerField()
    artifact_sha256 = serializers.CharField()
    method_description = serializers.CharField()
    code_url = serializers.CharField()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    terminal = serializers.BooleanField(source="is_terminal", help_text="The status will not change any more.")
    progress = serializers.FloatField(help_text="0 to 1, while evaluating.")
    progress_message = serializers.CharField()
    message = serializers.CharField(help_text="Why it was rejected or failed (the evaluator's message).")
    attempts = serializers.IntegerField()
    metrics = serializers.SerializerMethodField(
        help_text="Once scored: the public split's metrics (and the private ones where the caller may see them)."
    )
    stages = serializers.SerializerMethodField(
        help_text="Closed division: the verification stages recorded so far (unpack, reproduce, concealed)."
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    is_baseline = serializers.BooleanField()
    is_withdrawn = serializers.BooleanField()
    is_disqualified = serializers.BooleanField()
    is_selected_final = serializers.BooleanField()
    has_private_split = serializers.BooleanField(
        source="task.has_private_split",
        help_text="Whether the task holds part of its evaluation data out for the private leaderboard: the public "
        "metrics are then computed on the rest.",
    )
    web_url = serializers.SerializerMethodField()

    @extend_schema_field(SubmissionMetricsOut(allow_null=True))
    def get_metrics(self, submission: Submission) -> Any:
        metrics = submission_metrics(submission=submission, viewer=_request(self).user)
        return SubmissionMetricsOut(metrics).data if metrics else None  # empty until evaluated

    @extend_schema_field(VerificationStageOut(many=True))
    def get_stages(self, submission: Submission) -> Any:
        stages = submission_stages(submission=submission, viewer=_request(self).user)
        return VerificationStageOut(stages, many=True).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_web_url(self, submission: Submission) -> str:
        return _absolute_url(self, "submissions:detail", submission.pk)


class SubmissionPageOut(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SubmissionOut(many=True)


# --- Leaderboards and the benchmark matrix ----------------------------------------------------------------
class LeaderboardQuery(serializers.Serializer[Any]):
    division = serializers.SlugField(required=False, help_text="Default: the task's first division.")
    split = serializers.ChoiceField(
        choices=Score.Split.values,
        default=Score.Split.PUBLIC.value,
        help_text="public (everyone); private (held-out data: organizers, everyone once the challenge has ended or "
        "the organizers revealed it); concealed (the closed division's concealed task, as the task's policy says). "
        "A split the caller may not see is not found, as one that does not exist.",
    )


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
    public_rank = serializers.IntegerField(
        allow_null=True, help_text="Private boards: the row's rank on the public board (the shake-up); else null."
    )


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


class MatrixTaskOut(serializers.Serializer[Any]):  # reads an entry of a MatrixCell
    challenge = serializers.CharField(source="task.challenge.slug")
    task = serializers.CharField(source="task.slug")
    title = serializers.CharField(source="task.title")
    leader = MatrixLeaderOut(
        allow_null=True, help_text="The best-ranked team on the public boards, whatever baselines rank above it."
    )
    submissions = serializers.IntegerField(
        help_text="The submissions the public boards rank (each team row's count; baselines left out)."
    )
    teams = serializers.IntegerField(help_text="The teams with a row on the public boards.")


# Reads a tuple whose items are the fields, in order (the matrix's columns and rows are tuples).
class _Items(serializers.Serializer[Any]):
    def to_representation(self, instance: tuple[Any, ...]) -> dict[str, Any]:
        return dict(super().to_representation(dict(zip(self.fields, instance, strict=True))))


class MatrixCellOut(_Items):  # reads (ml_task, MatrixCell)
    ml_task = serializers.CharField()
    tasks = MatrixTaskOut(many=True, source="tasks.tasks")


class MatrixRowOut(_Items):  # reads (benchmark, title, cells): each cell paired with its column
    benchmark = serializers.CharField()
    title = serializers.CharField()
    cells = MatrixCellOut(many=True)


class MatrixColumnOut(_Items):  # reads (ml_task, label)
    ml_task = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class MatrixOut(serializers.Serializer[Any]):
    columns = MatrixColumnOut(many=True)
    rows = serializers.SerializerMethodField()

    @extend_schema_field(MatrixRowOut(many=True))
    def get_rows(self, matrix: BenchmarkMatrix) -> Any:
        ml_tasks = [ml_task for ml_task, _ in matrix.columns]
        rows = [(slug, title, list(zip(ml_tasks, cells, strict=True))) for slug, title, cells in matrix.rows]
        return MatrixRowOut(rows, many=True).data


# --- Ratchets: rounds, their figures and frozen standings, validation ------------------------------------------
# Nothing here says whether an item is a gold item (its kind, gold label, suite predictions), nor who else
# answered it, nor a label the caller may not see: the item shapes name only what a validator needs.
class RatchetSettingsOut(serializers.Serializer[Any]):  # reads a Ratchet
    top_k = serializers.IntegerField(help_text="How many of a round's best training sets train the next suite.")
    answers_to_decide = serializers.IntegerField(help_text="k: matching answers that accept or reject an item.")
    answers_max = serializers.IntegerField(help_text="k_max: answers after which an undecided item is disputed.")
    answers_per_minute = serializers.IntegerField(help_text="Per validator; faster answers get 429 `too_fast`.")


class RoundRefOut(serializers.Serializer[Any]):  # reads a Round
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Round.Status.choices)


def _current_round(rounds: list[Round]) -> Round | None:
    """The round a ratchet is at, for a listing: the open or validating one, else its latest."""
    live = [round_ for round_ in rounds if round_.status in LIVE_ROUNDS]
    chosen = live or rounds
    return chosen[-1] if chosen else None


class RatchetOut(serializers.Serializer[Any]):  # reads a Ratchet with its rounds prefetched
    slug = serializers.CharField()
    title = serializers.CharField()
    training_task = serializers.CharField(source="training_task.slug", help_text="The training-set task.")
    test_task = serializers.CharField(source="test_task.slug", help_text="The test-set task (fool the suite).")
    settings = RatchetSettingsOut(source="*")
    current_round = serializers.SerializerMethodField(
        help_text="The open or validating round, else the latest one; null before the first round exists."
    )

    @extend_schema_field(RoundRefOut(allow_null=True))
    def get_current_round(self, ratchet: Ratchet) -> Any:
        current = _current_round(sorted(ratchet.rounds.all(), key=lambda round_: round_.number))
        return None if current is None else RoundRefOut(current).data


class _StatusCount(serializers.IntegerField):
    """How many of a round's new items are in one status (`RoundFigures.statuses` leaves zeros out)."""

    def __init__(self, status: str, **kwargs: Any) -> None:
        super().__init__(source="statuses", **kwargs)
        self.status = status

    def to_representation(self, value: Any) -> int:
        return int(value.get(self.status, 0))


class RoundFiguresOut(serializers.Serializer[Any]):  # reads a RoundFigures
    collected = serializers.IntegerField(help_text="New items collected in the round (gold items left out).")
    fooled = serializers.IntegerField(help_text="Of those, the items most of the round's suite got wrong.")
    accepted = _StatusCount(Item.Status.ACCEPTED)
    rejected = _StatusCount(Item.Status.REJECTED)
    disputed = _StatusCount(Item.Status.DISPUTED, help_text="Waiting for the organizers.")
    pending = _StatusCount(Item.Status.PENDING)
    dropped = _StatusCount(Item.Status.DROPPED, help_text="Undecided when the round closed.")
    model_error_rate = serializers.FloatField(
        allow_null=True, help_text="MER: fooled / collected (null without items)."
    )
    validated_model_error_rate = serializers.FloatField(
        allow_null=True, help_text="vMER: the share of accepted items that fooled the suite (null: none accepted)."
    )
    suite_accuracy = serializers.FloatField(
        allow_null=True, help_text="The suite's accuracy on the round's accepted items (every model, every item)."
    )
    promoted = serializers.IntegerField(help_text="Items of this round promoted into the training-set task's data.")


class SuiteModelOut(serializers.Serializer[Any]):  # reads a SuiteModel, or a reference model's name
    name = serializers.CharField()
    reference = serializers.BooleanField(help_text="A fixed reference model of the test-set task's config.")
    team = serializers.CharField(allow_null=True, help_text="The team whose training set trained it.")
    source_submission = serializers.IntegerField(allow_null=True, help_text="That training set's submission.")
    source_score = serializers.FloatField(allow_null=True, help_text="Its primary score when it was chosen.")
    source_rank = serializers.IntegerField(allow_null=True, help_text="Its rank when it was chosen.")

    def to_representation(self, instance: SuiteModel | str) -> dict[str, Any]:
        if isinstance(instance, str):
            return {**dict.fromkeys(self.fields), "name": instance, "reference": True}
        return {
            "name": instance.name,
            "reference": False,
            "team": instance.team.name,
            "source_submission": instance.source_id,
            "source_score": instance.source_score,
            "source_rank": instance.source_rank,
        }


class RoundTestDataOut(serializers.Serializer[Any]):  # reads `_round_test_data`
    seed = serializers.IntegerField(
        allow_null=True, help_text="The training-set task's own test items (null: it has no test items file)."
    )
    added = serializers.IntegerField(help_text="Promoted items that entered the test data with this round.")
    promoted = serializers.IntegerField(help_text="Promoted items in this round's test data, this round's included.")
    items = serializers.IntegerField(allow_null=True, help_text="seed + promoted (null when the seed is unknown).")


def _round_test_data(makeup: dict[int, int], number: int, seed: int | None) -> dict[str, Any]:
    """The make-up of a round's hidden test data of the training-set task: the seed, plus every item promoted
    into it by this round or an earlier one (`test_data_makeup`: a promotion holds from its round on)."""
    promoted = sum(count for into, count in makeup.items() if into <= number)
    total = None if seed is None else seed + promoted
    return {"seed": seed, "added": makeup.get(number, 0), "promoted": promoted, "items": total}


# Its context holds `reference_models` (the test-set task's fixed models), `makeup` (`test_data_makeup`) and
# `seed` (how many test items the training-set task started with, or None).
class RoundOut(serializers.Serializer[Any]):  # reads a Round with its suite models (and their teams) prefetched
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Round.Status.choices)
    starts_at = serializers.DateTimeField(allow_null=True, help_text="Planned opening.")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="Planned end of collection.")
    opened_at = serializers.DateTimeField(allow_null=True)
    validating_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    dropped_pending = serializers.BooleanField(help_text="Closed with validation unfinished: pending items dropped.")
    figures = serializers.SerializerMethodField()
    suite = serializers.SerializerMethodField(help_text="The models new items of this round must fool.")
    test_data = serializers.SerializerMethodField(help_text="The training-set task's hidden test data this round.")

    @extend_schema_field(RoundFiguresOut)
    def get_figures(self, round_: Round) -> Any:
        return RoundFiguresOut(round_figures(round_=round_)).data

    @extend_schema_field(SuiteModelOut(many=True))
    def get_suite(self, round_: Round) -> Any:
        models: list[SuiteModel | str] = [*self.context["reference_models"], *round_.suite_models.all()]
        return SuiteModelOut(models, many=True).data

    @extend_schema_field(RoundTestDataOut)
    def get_test_data(self, round_: Round) -> Any:
        data = _round_test_data(self.context["makeup"], round_.number, self.context["seed"])
        return RoundTestDataOut(data).data


class RatchetDetailOut(RatchetOut):  # its context: RoundOut's, and `rounds` (`rounds_of`, in order)
    description = serializers.CharField(help_text="Markdown.")
    rounds = serializers.SerializerMethodField()

    @extend_schema_field(RoundOut(many=True))
    def get_rounds(self, ratchet: Ratchet) -> Any:
        return RoundOut(self.context["rounds"], many=True, context=self.context).data


class StandingOut(serializers.Serializer[Any]):  # reads a Standing with its task and division
    task = serializers.CharField(source="task.slug")
    division = serializers.CharField(source="division.slug")
    split = serializers.CharField()
    frozen_at = serializers.DateTimeField()
    data_version = serializers.IntegerField(help_text="The task's data version the board was ranked on.")
    document = serializers.SerializerMethodField(help_text="The board as `.../leaderboard/` served it then.")

    @extend_schema_field(LeaderboardOut)
    def get_document(self, standing: Standing) -> Any:
        return standing.document  # frozen as served: passed on untouched


class ValidationProgressOut(serializers.Serializer[Any]):  # reads `validation_progress`
    answered = serializers.IntegerField(help_text="Your answers on this ratchet's items.")
    left = serializers.IntegerField(help_text="Items you may still answer now.")


class ValidationItemOut(serializers.Serializer[Any]):  # reads an Item; its context holds `request` and `ratchet`
    id = serializers.IntegerField()
    round = serializers.IntegerField(source="round.number")
    claimed_label = serializers.CharField(help_text="The label claimed for it: is it right?")
    payload_type = serializers.ChoiceField(choices=["image/png", "text/csv"])
    payload_url = serializers.SerializerMethodField(help_text="The item's image, or its features as CSV.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_payload_url(self, item: Item) -> str:
        ratchet: Ratchet = self.context["ratchet"]
        return _absolute_url(self, "api:ratchet-item-payload", ratchet.challenge.slug, ratchet.slug, item.pk)


class NextItemOut(serializers.Serializer[Any]):  # reads {item, labels, progress}; ValidationItemOut's context
    item = serializers.SerializerMethodField(help_text="null: nothing is left for you to answer now.")
    labels = serializers.ListField(child=serializers.CharField(), help_text="The labels to choose from.")
    progress = ValidationProgressOut()

    @extend_schema_field(ValidationItemOut(allow_null=True))
    def get_item(self, data: dict[str, Any]) -> Any:
        item = data["item"]
        return None if item is None else ValidationItemOut(item, context=self.context).data


class AnswerIn(serializers.Serializer[Any]):
    verdict = serializers.ChoiceField(choices=Answer.Verdict.choices)
    # Their rules (one of the task's labels; a reason of at most 500 characters) are the answer service's.
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        required=False, allow_blank=True, default="", help_text="incorrect: the right label (required)."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="flag: why (required).")


# What was recorded, never what it did to the item: a gold item's status never moves, so showing the status
# would tell gold items from new ones (the validation page shows the same).
class AnswerOut(serializers.Serializer[Any]):  # reads {id, verdict, progress}
    id = serializers.IntegerField(help_text="The item answered.")
    verdict = serializers.ChoiceField(choices=Answer.Verdict.choices, help_text="Your answer, recorded.")
    progress = ValidationProgressOut()

"""Reads of submissions, with the access rule built in: a submission is visible to its team's members, the
challenge's organizers and staff; to anyone else it does not exist."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from apps.accounts.models import Team
from apps.accounts.selectors import team_role
from apps.challenges.evaluators import task_metric_specs, task_primary_metric
from apps.challenges.models import Challenge, ConcealedVisibility, Task
from apps.challenges.selectors import user_is_organizer
from apps.core.errors import NotFound
from apps.core.users import AnyUser
from apps.divisions.models import Division
from apps.submissions.models import Score, Submission, VerificationStage
from apps.submissions.services.evaluation import WHOLE_SET_KEY
from apps.submissions.services.verification import verification_needed

Stage = VerificationStage.Stage


def _is_organizer(task: Task, viewer: AnyUser | None) -> bool:
    return viewer is not None and user_is_organizer(challenge=task.challenge, user=viewer)


def _visible(user: AnyUser) -> QuerySet[Submission]:
    submissions = Submission.objects.select_related("task__challenge", "division", "team", "current_evaluation")
    if not user.is_authenticated:
        return submissions.none()
    if getattr(user, "is_staff", False):
        return submissions
    return submissions.filter(Q(team__memberships__user=user) | Q(task__challenge__organizers=user)).distinct()


def submissions_of_user(*, user: AnyUser, task: Task | None = None) -> QuerySet[Submission]:
    """The submissions of every team the user belongs to (not those they see as an organizer)."""
    if not user.is_authenticated:
        return Submission.objects.none()
    submissions = Submission.objects.filter(team__memberships__user=user).select_related(
        "task__challenge", "division", "team", "current_evaluation"
    )
    return submissions.filter(task=task) if task is not None else submissions


def submission_get(*, submission_id: int, user: AnyUser) -> Submission:
    submission = _visible(user).filter(pk=submission_id).first()
    if submission is None:
        raise NotFound("No such submission.")
    return submission


@dataclass(frozen=True)
class FinalSelections:
    """A team's final selections for one task in one division: which submissions, of how many allowed."""

    task: Task
    team: Team
    division: Division
    selected_ids: tuple[int, ...]

    @property
    def selected(self) -> int:
        return len(self.selected_ids)

    @property
    def allowed(self) -> int:
        return self.task.final_selections


def final_selections_of(*, submissions: Iterable[Submission]) -> list[FinalSelections]:
    """One entry per (task, team, division) of the given submissions (baselines aside), in their order, with
    every submission the team has selected there, not only those given. One query."""
    groups: dict[tuple[int, int, int], Submission] = {}
    for submission in submissions:
        if not submission.is_baseline:
            groups.setdefault((submission.task_id, submission.team_id, submission.division_id), submission)
    if not groups:
        return []
    chosen: dict[tuple[int, int, int], list[int]] = {}
    for task_id, team_id, division_id, pk in (
        Submission.objects.filter(
            is_selected_final=True, task_id__in={key[0] for key in groups}, team_id__in={key[1] for key in groups}
        )
        .order_by("pk")
        .values_list("task_id", "team_id", "division_id", "pk")
    ):
        chosen.setdefault((task_id, team_id, division_id), []).append(pk)
    return [FinalSelections(s.task, s.team, s.division, tuple(chosen.get(key, []))) for key, s in groups.items()]


@dataclass(frozen=True)
class SubmissionChoices:
    """What the viewer may do with a submission on its page: `can_choose` (select it as final or clear it,
    withdraw it) and the team's selections for its task and division."""

    can_choose: bool
    selections: FinalSelections | None


_CHOOSABLE = {
    Submission.Status.RECEIVED,
    Submission.Status.VALIDATING,
    Submission.Status.VERIFYING,
    Submission.Status.QUEUED,
    Submission.Status.RUNNING,
    Submission.Status.SCORED,
}
"""States in which a team's choices apply: scored, or on its way to a score."""


def submission_choices(*, submission: Submission, viewer: AnyUser) -> SubmissionChoices:
    """Whether the page offers the viewer the team's choices on the submission: to members of its team, while
    the challenge runs, for a submission that is scored or being scored, neither a baseline, withdrawn nor
    disqualified. The services (`submissions.services.choices`) enforce their own rules whatever the page
    offers."""
    can_choose = (
        submission.status in _CHOOSABLE
        and not (submission.is_baseline or submission.is_withdrawn or submission.is_disqualified)
        and submission.task.challenge.phase != Challenge.Phase.CLOSED
        and team_role(team=submission.team, user=viewer) is not None
    )
    if not can_choose:
        return SubmissionChoices(can_choose=False, selections=None)
    return SubmissionChoices(can_choose=True, selections=final_selections_of(submissions=[submission])[0])


def details_reveal(*, submission: Submission, viewer: AnyUser | None) -> bool:
    """Whether the viewer may see the evaluation's sealed details (charts that would reveal hidden labels):
    organizers always, the team once the challenge has ended."""
    challenge = submission.task.challenge
    if viewer is not None and user_is_organizer(challenge=challenge, user=viewer):
        return True
    return challenge.phase == challenge.Phase.CLOSED


def visible_details(details: dict[str, Any], *, reveal: bool) -> dict[str, Any]:
    """The evaluation details a viewer may see: sealed charts and data only when `reveal`."""
    shown = {key: value for key, value in details.items() if key not in {"sealed", "sealed_charts"}}
    if reveal:
        shown["charts"] = [*details.get("charts", []), *details.get("sealed_charts", [])]
        shown["sealed"] = details.get("sealed", {})
    shown["sealed_pending"] = bool(details.get("sealed_charts")) and not reveal
    return shown


def concealed_scores_visible(*, task: Task, viewer: AnyUser | None) -> bool:
    """Whether the viewer may see the task's concealed-task scores (board and a submission's own): organizers
    and staff always; anyone else as `task.concealed_visibility` says (at once, once the challenge has ended,
    or never)."""
    if _is_organizer(task, viewer):
        return True
    if task.concealed_visibility == ConcealedVisibility.ALWAYS:
        return True
    if task.concealed_visibility == ConcealedVisibility.AFTER_END:
        return task.challenge.phase == task.challenge.Phase.CLOSED
    return False


def private_scores_visible(*, task: Task, viewer: AnyUser | None) -> bool:
    """Whether the viewer may see a submission's private scores on its own page and in its API answers:
    organizers and staff always, its team once the challenge has ended. (The private board itself also opens
    with an organizer's early reveal, `leaderboards.selectors.split_visible`.)"""
    return _is_organizer(task, viewer) or task.challenge.phase == task.challenge.Phase.CLOSED


def submission_status(*, submission: Submission, viewer: AnyUser | None = None) -> dict[str, Any]:
    """What the submission page shows and polls: state, progress, message, the verification stages of a
    closed-division submission (`stages`, with `stage_plan` the stages it goes through) and (once scored) the
    metrics. Sealed details, concealed scores and the organizers' notes on a stage are left out unless the
    viewer may see them."""
    data: dict[str, Any] = {
        "id": submission.pk,
        "status": submission.status,
        "status_label": submission.get_status_display(),
        "terminal": submission.is_terminal,
        "progress": submission.progress,
        "progress_message": submission.progress_message,
        "message": submission.message,
        "attempts": submission.attempts,
        "stage_plan": stage_plan(submission),
        "stages": submission_stages(submission=submission, viewer=viewer),
        "metrics": None,
    }
    if submission.current_evaluation_id is not None:
        data["metrics"] = submission_metrics(submission=submission, viewer=viewer)
    return data


def stage_plan(submission: Submission) -> list[dict[str, str]]:
    """The verification stages the submission goes through, in order (none outside the closed division)."""
    if not verification_needed(submission):
        return []
    stages = [s for s in VerificationStage.ORDER if s != Stage.CONCEALED or submission.task.has_concealed_task]
    return [{"stage": stage, "label": Stage(stage).label} for stage in stages]


def submission_stages(*, submission: Submission, viewer: AnyUser | None = None) -> list[dict[str, Any]]:
    """The recorded verification stages in `VerificationStage.ORDER`. `organizer_detail` is there only for an
    organizer of the challenge (or staff)."""
    organizer = _is_organizer(submission.task, viewer)
    found = {stage.stage: stage for stage in submission.verification_stages.all()}
    return [_stage_data(found[name], organizer=organizer) for name in VerificationStage.ORDER if name in found]


def _stage_data(stage: VerificationStage, *, organizer: bool) -> dict[str, Any]:
    # The service never stores the concealed run's stderr for participants; this holds even if one did,
    # since it could print the concealed task's data.
    shown_stderr = organizer or stage.stage != Stage.CONCEALED
    data: dict[str, Any] = {
        "stage": stage.stage,
        "label": stage.get_stage_display(),
        "status": stage.status,
        "status_label": stage.get_status_display(),
        "message": stage.message,
        "stderr_tail": stage.stderr_tail if shown_stderr else "",
        "wall_seconds": stage.wall_seconds,
        "cpu_seconds": stage.cpu_seconds,
        "max_rss_bytes": stage.max_rss_bytes,
        "output_bytes": stage.output_bytes,
    }
    if organizer:
        data["organizer_detail"] = stage.organizer_detail
    return data


_SCORE_STEP = {
    Submission.Status.RUNNING: ("running", "Running"),
    Submission.Status.SCORED: ("passed", "Scored"),
    Submission.Status.REJECTED: ("failed", "Rejected"),
    Submission.Status.FAILED: ("failed", "Failed"),
    Submission.Status.CANCELLED: ("failed", "Cancelled"),
}


def verification_steps(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's verification list, from `submission_status`: every planned stage (recorded, else waiting or,
    once the submission has ended, not run), then the score step (the submission's own state). Empty outside
    the closed division. static/js/submission.js builds the same list from the polled status."""
    if not status["stage_plan"]:
        return []
    recorded = {stage["stage"]: stage for stage in status["stages"]}
    pending = ("skipped", "Not run") if status["terminal"] else ("pending", "Waiting")
    steps = [
        recorded.get(planned["stage"], {**planned, "status": pending[0], "status_label": pending[1]})
        for planned in status["stage_plan"]
    ]
    state, label = _SCORE_STEP.get(status["status"], ("pending", "Waiting"))
    steps.append({"stage": "score", "label": "Score", "status": state, "status_label": label})
    return steps


def submission_metrics(*, submission: Submission, viewer: AnyUser | None = None) -> dict[str, Any]:
    """The current evaluation's public metrics (primary first, then the evaluator's order) and the details the
    viewer may see. With a private split, the public metrics are computed on the public part alone; `private`
    holds the private part's when the viewer may see them (`private_scores_visible`) and `whole_set` the whole
    evaluation set's (sealed: `details_reveal`), else None. `concealed` holds the concealed task's metrics when
    there are some and the viewer may see them (`concealed_scores_visible`), else None."""
    if submission.current_evaluation_id is None:
        return {}
    task = submission.task
    evaluation = submission.current_evaluation
    values = _evaluation_values(submission.current_evaluation_id)
    reveal = details_reveal(submission=submission, viewer=viewer)
    details = evaluation.details if evaluation else {}
    whole_set = details.get("sealed", {}).get(WHOLE_SET_KEY) if reveal else None
    shown = {
        "private": private_scores_visible(task=task, viewer=viewer),
        "concealed": concealed_scores_visible(task=task, viewer=viewer),
    }
    return {
        **_metric_values(task, values.get(Score.Split.PUBLIC, {})),
        **{
            split: _metric_values(task, values[split]) if visible and values.get(split) else None
            for split, visible in shown.items()
        },
        "whole_set": _metric_values(task, whole_set["metrics"]) if whole_set else None,
        "evaluator_version": evaluation.evaluator_version if evaluation else "",
        "details": visible_details(details, reveal=reveal),
    }


def _evaluation_values(evaluation_id: int) -> dict[str, dict[str, float]]:
    """split -> metric -> value of one evaluation's scores."""
    values: dict[str, dict[str, float]] = {}
    for split, metric, value in Score.objects.filter(evaluation_id=evaluation_id).values_list(
        "split", "metric", "value"
    ):
        values.setdefault(split, {})[metric] = value
    return values


def _metric_values(task: Task, values: dict[str, float]) -> dict[str, Any]:
    """{primary, metrics} of one split's values: the primary metric, then the others in the evaluator's
    display order (a metric it no longer declares, from an older version, comes last)."""
    primary = task_primary_metric(task)
    specs = task_metric_specs(task)
    labels = {spec.name: spec.label for spec in specs}
    order = {spec.name: index for index, spec in enumerate(specs)}
    others = sorted(values.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return {
        "primary": {
            "name": primary.name,
            "label": primary.label,
            "value": values.get(primary.name),
            "scale": primary.display_scale,
        },
        "metrics": [{"name": n, "label": labels.get(n, n), "value": v} for n, v in others if n != primary.name],
    }

"""Reads of submissions, with the access rule built in: a submission is visible to its team's members, the
challenge's organizers and staff; to anyone else it does not exist."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from apps.challenges.evaluation import task_metric_specs, task_primary_metric
from apps.challenges.models import Task
from apps.challenges.selectors import user_is_organizer
from apps.core.errors import NotFound
from apps.core.users import AnyUser
from apps.submissions.models import Score, Submission


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


def submission_status(*, submission: Submission, viewer: AnyUser | None = None) -> dict[str, Any]:
    """What the submission page shows and polls: state, progress, message and (once scored) the metrics.
    Sealed details are left out unless the viewer may see them (`details_reveal`)."""
    data: dict[str, Any] = {
        "id": submission.pk,
        "status": submission.status,
        "status_label": submission.get_status_display(),
        "terminal": submission.is_terminal,
        "progress": submission.progress,
        "progress_message": submission.progress_message,
        "message": submission.message,
        "attempts": submission.attempts,
        "metrics": None,
    }
    if submission.current_evaluation_id is not None:
        data["metrics"] = submission_metrics(submission=submission, viewer=viewer)
    return data


def submission_metrics(*, submission: Submission, viewer: AnyUser | None = None) -> dict[str, Any]:
    primary = task_primary_metric(submission.task)
    specs = task_metric_specs(submission.task)
    labels = {spec.name: spec.label for spec in specs}
    order = {spec.name: index for index, spec in enumerate(specs)}
    if submission.current_evaluation_id is None:
        return {}
    values = dict(
        Score.objects.filter(evaluation_id=submission.current_evaluation_id, split=Score.Split.PUBLIC).values_list(
            "metric", "value"
        )
    )
    evaluation = submission.current_evaluation
    return {
        "primary": {
            "name": primary.name,
            "label": primary.label,
            "value": values.get(primary.name),
            "scale": primary.display_scale,
        },
        # In the evaluator's display order; a metric it no longer declares (older version) comes last.
        "metrics": [
            {"name": n, "label": labels.get(n, n), "value": v}
            for n, v in sorted(values.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
            if n != primary.name
        ],
        "evaluator_version": evaluation.evaluator_version if evaluation else "",
        "details": visible_details(
            evaluation.details if evaluation else {}, reveal=details_reveal(submission=submission, viewer=viewer)
        ),
    }

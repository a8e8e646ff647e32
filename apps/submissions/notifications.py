"""E-mail about a submission's outcome: to its team's members when it is scored, rejected or failed, and to the
challenge's organizers when it failed (a fault of the evaluator or the platform, never the participant's: that
is `rejected`).

The services that write those states call `dispatch.enqueue_notification` inside their transaction; the message is
sent by name (`dataperf.notify_submission`, validate queue) once it commits, and the task calls
`submission_notify`, which reads the submission's state as it is then. A participant's e-mail says only what
the submission page shows its team (state, the participant-facing message, the public primary score): no
hidden data, no concealed score, nothing about other teams. Each recipient gets their own message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse

from apps.accounts.models import TeamMembership
from apps.challenges.evaluators import task_primary_metric
from apps.submissions.models import Score, Submission

log = logging.getLogger(__name__)
Status = Submission.Status
NOTIFIED = (Status.SCORED, Status.REJECTED, Status.FAILED)


def submission_notify(*, submission_id: int) -> int:
    """E-mail the submission's outcome to whom it concerns, per its current state: its team's members (scored,
    rejected or failed) and the challenge's organizers (failed). Returns how many messages were sent; 0 when the
    submission is gone or in another state (e.g. queued again for a retry since). Sending twice sends twice: the
    task runs at most once (it is acknowledged on receipt)."""
    submission = (
        Submission.objects.select_related("task__challenge", "division", "team").filter(pk=submission_id).first()
    )
    if submission is None or submission.status not in NOTIFIED:
        return 0
    team = team_addresses(submission)
    messages = [_message(submission, address, _team_body(submission)) for address in team]
    if submission.status == Status.FAILED:
        body = _organizer_body(submission)
        # An organizer in the team (a baseline's) already has the team's message.
        messages += [_message(submission, a, body) for a in organizer_addresses(submission) if a not in team]
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


def team_addresses(submission: Submission) -> list[str]:
    """The e-mail addresses of the submitting team's active members (the team only: never another's)."""
    members = TeamMembership.objects.filter(team_id=submission.team_id, user__is_active=True)
    return _unique(members.values_list("user__email", flat=True))


def organizer_addresses(submission: Submission) -> list[str]:
    """The e-mail addresses of the challenge's active organizers."""
    organizers = submission.task.challenge.organizers.filter(is_active=True)
    return _unique(organizers.values_list("email", flat=True))


def _unique(addresses: Iterable[str]) -> list[str]:
    return sorted({address.strip() for address in addresses if address and address.strip()})


def _subject(submission: Submission) -> str:
    return f"[DataPerf] Submission #{submission.pk} to {submission.task.title}: {submission.get_status_display()}"


def _message(submission: Submission, address: str, body: str) -> EmailMessage:
    return EmailMessage(subject=_subject(submission), body=body, to=[address])


def _link(submission: Submission) -> str:
    return f"{settings.SITE_URL}{reverse('submissions:detail', args=[submission.pk])}"


def _headline(submission: Submission) -> str:
    task = submission.task
    return (
        f"Submission #{submission.pk} of team {submission.team.name} to the task {task.title} "
        f"({task.challenge.title}, {submission.division.name} division)"
    )


def _team_body(submission: Submission) -> str:
    lines = [f"{_headline(submission)} {_outcome(submission)}", ""]
    if submission.message:
        lines += [submission.message, ""]
    if submission.status == Status.SCORED:
        lines += _public_primary(submission)
    lines += [f"Details: {_link(submission)}", "", "-- ", "DataPerf"]
    return "\n".join(lines) + "\n"


def _public_primary(submission: Submission) -> list[str]:
    # The public split's primary score only: what the submission page shows every member of the team.
    primary = task_primary_metric(submission.task)
    if submission.current_evaluation_id is None:
        return []
    value = (
        Score.objects.filter(
            evaluation_id=submission.current_evaluation_id, split=Score.Split.PUBLIC, metric=primary.name
        )
        .values_list("value", flat=True)
        .first()
    )
    return [] if value is None else [f"{primary.label}: {value:.6g}", ""]


def _outcome(submission: Submission) -> str:
    if submission.status == Status.SCORED:
        return "has been scored."
    if submission.status == Status.REJECTED:
        return "was rejected:"
    return "could not be evaluated; the organizers have been told:"


def _organizer_body(submission: Submission) -> str:
    admin_link = f"{settings.SITE_URL}{reverse('admin:submissions_submission_change', args=[submission.pk])}"
    lines = [
        f"{_headline(submission)} failed after {submission.attempts} attempt(s), for a reason on the platform's "
        "or the evaluator's side (not the participant's):",
        "",
        submission.message or "(no message)",
        "",
        f"Rescore it from the admin once the cause is fixed: {admin_link}",
        f"The submission's page: {_link(submission)}",
        "",
        "-- ",
        "DataPerf",
    ]
    return "\n".join(lines) + "\n"

"""A team's choices about its own submissions: which are final, and withdrawing one.

Both change what the leaderboards show; rebuilding them is the caller's job (`apps.jobs.pipeline`
orchestrates both steps in one transaction), since this layer cannot reach the leaderboards.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.accounts.models import TeamMembership
from apps.challenges.models import Challenge, Participation
from apps.core.errors import Forbidden, InvalidInput
from apps.submissions.models import Submission

Status = Submission.Status
_NOT_SELECTABLE: dict[str, str] = {Status.REJECTED: "rejected", Status.FAILED: "failed", Status.CANCELLED: "cancelled"}


def _lock_for_team_member(submission: Submission, user: User, action: str) -> Submission:
    """The submission, re-read under a lock on its team's participation (serialising the team's choices,
    as intake does), after checking that the user may act for its team while the challenge is running."""
    if not TeamMembership.objects.filter(team_id=submission.team_id, user=user).exists():
        raise Forbidden(f"Only members of team {submission.team.name} can {action} its submissions.")
    if submission.is_baseline:
        raise Forbidden("Baselines are managed by the organizers in the admin.")
    Participation.objects.select_for_update().filter(
        challenge_id=submission.task.challenge_id, team_id=submission.team_id
    ).first()
    locked = Submission.objects.select_related("task__challenge", "division", "team").get(pk=submission.pk)
    if locked.task.challenge.phase == Challenge.Phase.CLOSED:
        raise Forbidden("This challenge has ended: its submissions can no longer change.")
    return locked


def submission_select_final(*, submission: Submission, user: User, selected: bool = True) -> Submission:
    """Mark the submission as one of its team's final choices for its task and division (`selected=False`
    clears the mark). A team selects up to the task's `final_selections` there; the private leaderboard ranks
    it by the best of them (see `challenges.models.PRIVATE_RULE`). Idempotent.

    Raises `Forbidden` (not a member of the submitting team, a baseline, or the challenge has ended) and
    `InvalidInput` (a withdrawn, disqualified, rejected, failed or cancelled submission cannot be selected;
    the team has selected as many as it may already: it clears one first).
    """
    with transaction.atomic():
        locked = _lock_for_team_member(submission, user, "select")
        if selected and not locked.is_selected_final:
            _check_selectable(locked)
        Submission.objects.filter(pk=locked.pk).update(is_selected_final=selected)
        locked.is_selected_final = selected
    return locked


def _check_selectable(locked: Submission) -> None:
    if locked.is_withdrawn or locked.is_disqualified:
        state = "withdrawn" if locked.is_withdrawn else "disqualified"
        raise InvalidInput(f"Submission #{locked.pk} is {state}; it cannot be selected as final.")
    if locked.status in _NOT_SELECTABLE:
        raise InvalidInput(
            f"Submission #{locked.pk} was {_NOT_SELECTABLE[locked.status]}; it cannot be selected as final."
        )
    allowed = locked.task.final_selections
    chosen = list(
        Submission.objects.filter(
            task_id=locked.task_id, team_id=locked.team_id, division_id=locked.division_id, is_selected_final=True
        ).values_list("pk", flat=True)
    )
    if len(chosen) >= allowed:
        listed = ", ".join(f"#{pk}" for pk in sorted(chosen))
        raise InvalidInput(
            f"Your team has selected {len(chosen)} final submissions for this task in this division ({listed}), "
            f"the most it may ({allowed}): clear one of them first."
        )


def submission_withdraw(*, submission: Submission, user: User) -> Submission:
    """Withdraw the submission for good: it leaves every leaderboard and loses its final selection. Its
    evaluation (if any) goes on, and the quota it used is not refunded. Idempotent.

    Raises `Forbidden` (not a member of the submitting team, a baseline, or the challenge has ended).
    """
    with transaction.atomic():
        locked = _lock_for_team_member(submission, user, "withdraw")
        Submission.objects.filter(pk=locked.pk).update(is_withdrawn=True, is_selected_final=False)
        locked.is_withdrawn, locked.is_selected_final = True, False
    return locked

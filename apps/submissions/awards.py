"""Awards: distinctions the organizers grant to submissions. Writes (grant, revoke) and reads (per task, per
team). Auditing them is the back office's job (`apps.backoffice`), which sits above this layer."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from apps.accounts.models import Team
from apps.challenges.models import Challenge, Task
from apps.core.errors import InvalidInput
from apps.submissions.models import Award, Submission


def award_grant(*, submission: Submission, name: str, description: str = "", granted_by: User | None) -> Award:
    """Grant the award `name` to the submission. Raises `InvalidInput` for an empty name, or when the
    submission holds an award of that name already (a database constraint), so a double click grants once."""
    name = name.strip()
    if not name:
        raise InvalidInput("An award needs a name.")
    try:
        with transaction.atomic():
            return Award.objects.create(
                submission=submission, name=name, description=description.strip(), granted_by=granted_by
            )
    except IntegrityError:
        raise InvalidInput(f"Submission #{submission.pk} already holds the award {name!r}.") from None


def award_revoke(*, award: Award) -> None:
    """Revoke (delete) the award. Idempotent: revoking one that is gone does nothing."""
    Award.objects.filter(pk=award.pk).delete()


def _shown() -> QuerySet[Award]:
    # An award of a submission that was disqualified or withdrawn since stays stored (undoing the
    # disqualification shows it again) but is not shown.
    return Award.objects.filter(submission__is_disqualified=False, submission__is_withdrawn=False).select_related(
        "submission__team", "submission__division", "submission__task__challenge"
    )


def awards_of_task(task: Task) -> QuerySet[Award]:
    """The awards shown for the task: those of its submissions that are neither disqualified nor withdrawn,
    oldest first, with their submission, team and division. Awards are public once granted: they name a team
    and a submission, nothing hidden."""
    return _shown().filter(submission__task=task)


def awards_of_team(team: Team) -> QuerySet[Award]:
    """The awards shown for the team's submissions (every task), as `awards_of_task`."""
    return _shown().filter(submission__team=team)


def awards_of_challenge(challenge: Challenge) -> QuerySet[Award]:
    """The awards shown for every task of the challenge, as `awards_of_task`."""
    return _shown().filter(submission__task__challenge=challenge)

"""Reads for challenges and tasks, with the access rules built in (pages and API share them)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When

from apps.accounts.models import Team, TeamMembership
from apps.challenges.models import CONCEALED_DIR, Challenge, Participation, Task, TaskDataFile
from apps.core.errors import Forbidden, NotFound
from apps.core.users import AnyUser


def user_is_organizer(*, challenge: Challenge, user: AnyUser) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False):
        return True
    return challenge.organizers.filter(pk=user.pk).exists()


def challenges_listed(*, user: AnyUser) -> QuerySet[Challenge]:
    """Challenges shown in the list: public ones, plus drafts and unlisted ones the user organizes."""
    if getattr(user, "is_staff", False):
        return Challenge.objects.all()
    visible = Q(visibility=Challenge.Visibility.PUBLIC)
    if user.is_authenticated:
        visible |= Q(organizers=user)
    return Challenge.objects.filter(visible).distinct()


def challenge_get(*, slug: str, user: AnyUser) -> Challenge:
    """A challenge the user may see (public, unlisted, or organized by them). Raises `NotFound` otherwise."""
    challenge = Challenge.objects.filter(slug=slug).first()
    if challenge is None:
        raise NotFound("No such challenge.")
    if challenge.visibility == Challenge.Visibility.DRAFT and not user_is_organizer(challenge=challenge, user=user):
        raise NotFound("No such challenge.")
    return challenge


def tasks_visible(*, challenge: Challenge, user: AnyUser) -> QuerySet[Task]:
    tasks = challenge.tasks.all()
    if not user_is_organizer(challenge=challenge, user=user):
        tasks = tasks.filter(is_published=True)
    return tasks.order_by("order", "slug")


def task_get(*, challenge: Challenge, slug: str, user: AnyUser) -> Task:
    task = tasks_visible(challenge=challenge, user=user).filter(slug=slug).first()
    if task is None:
        raise NotFound("No such task.")
    task.challenge = challenge
    return task


def tasks_public(*, user: AnyUser) -> QuerySet[Task]:
    """Published tasks of the challenges listed for this user (the benchmark matrix shows these)."""
    return Task.objects.filter(challenge__in=challenges_listed(user=user), is_published=True)


def participation_of(*, challenge: Challenge, user: AnyUser) -> Participation | None:
    """The participation through which this user competes in the challenge, if any."""
    if not user.is_authenticated:
        return None
    # One at most while the challenge runs (registration and joins refuse a second); ordered all the same, so
    # that a page always shows the same one.
    participations = Participation.objects.filter(challenge=challenge, team__memberships__user=user)
    return participations.select_related("team").order_by("created_at", "pk").first()


def participations_for_review(*, challenge: Challenge, user: AnyUser) -> QuerySet[Participation]:
    """The challenge's registrations for its organizers to decide on: pending first, then the newest, each
    with its team's members. `Forbidden` for anyone else."""
    if not user_is_organizer(challenge=challenge, user=user):
        raise Forbidden("Only the challenge's organizers can review registrations.")
    pending_first = Case(When(status=Participation.Status.PENDING, then=Value(0)), default=Value(1))
    return (
        Participation.objects.filter(challenge=challenge)
        .select_related("team", "registered_by", "decided_by")
        .prefetch_related(Prefetch("team__memberships", TeamMembership.objects.select_related("user")))
        .order_by(pending_first, "-created_at", "-pk")
    )


def registrations_pending_count(*, challenge: Challenge, user: AnyUser) -> int:
    """How many registrations await a decision, for the challenge's organizers (0 for anyone else)."""
    if not user_is_organizer(challenge=challenge, user=user):
        return 0
    return Participation.objects.filter(challenge=challenge, status=Participation.Status.PENDING).count()


def participation_for_review(*, challenge: Challenge, participation_id: int, user: AnyUser) -> Participation:
    """One registration of the challenge, for its organizers (`Forbidden` otherwise; `NotFound` if it is not
    one of this challenge's)."""
    participation = participations_for_review(challenge=challenge, user=user).filter(pk=participation_id).first()
    if participation is None:
        raise NotFound("No such registration.")
    participation.challenge = challenge
    return participation


def competing_team(*, challenge: Challenge, user: AnyUser) -> Team:
    """The team a user submits for. Raises `Forbidden` when they are not an approved participant."""
    participation = participation_of(challenge=challenge, user=user)
    if participation is None:
        raise Forbidden("Register for this challenge (and accept its rules) first.")
    if participation.status != Participation.Status.APPROVED:
        raise Forbidden("Your registration is awaiting the organizers' approval.")
    return participation.team


def task_public_files(*, task: Task) -> QuerySet[TaskDataFile]:
    """The files a registered participant may download: public, and not part of the concealed task (whose
    public files are inputs of the sandbox only)."""
    files = task.data_files.filter(role=TaskDataFile.Role.PUBLIC)
    return files.exclude(relative_path__startswith=f"{CONCEALED_DIR}/").order_by("relative_path")


def task_public_files_for_download(*, task: Task, user: AnyUser) -> QuerySet[TaskDataFile]:
    """The public files of the task, for an approved participant or an organizer (`Forbidden` otherwise)."""
    if not user_is_organizer(challenge=task.challenge, user=user):
        competing_team(challenge=task.challenge, user=user)
    return task_public_files(task=task)


def task_public_file_for_download(*, task: Task, file_id: int, user: AnyUser) -> TaskDataFile:
    """A public data file of the task, for an approved participant or an organizer.

    Hidden files are indistinguishable from missing ones: the same `NotFound` for both.
    """
    data_file = task_public_files(task=task).filter(pk=file_id).first()
    if data_file is None:
        raise NotFound("No such data file.")
    if not user_is_organizer(challenge=task.challenge, user=user):
        competing_team(challenge=task.challenge, user=user)
    return data_file


def task_sandbox_limits(*, task: Task) -> dict[str, int]:
    """The limits of the closed division's sandbox runs on this task: each of the task's own, else the platform
    default from settings (the one rule, shown on the task page and applied by the sandbox)."""
    return {
        "cpu_seconds": task.sandbox_cpu_seconds or settings.SANDBOX_CPU_SECONDS,
        "wall_seconds": task.sandbox_wall_seconds or settings.SANDBOX_WALL_SECONDS,
        "memory_bytes": (task.sandbox_memory_mb or settings.SANDBOX_MEMORY_MB) * 1024**2,
        "processes": task.sandbox_processes or settings.SANDBOX_PROCESSES,
        "output_bytes": (task.sandbox_output_mb or settings.SANDBOX_OUTPUT_MB) * 1024**2,
        "tmp_bytes": settings.SANDBOX_TMP_MB * 1024**2,
    }

"""Writes for challenges, participations (registration, approval, team membership under a challenge's rules)
and task data."""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from django.contrib.auth.models import User
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Team, TeamMembership
from apps.accounts.selectors import team_invite_by_token, team_role
from apps.accounts.services import team_ensure_personal, team_member_add
from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import (
    CONCEALED_DIR,
    AuditAction,
    Challenge,
    Participation,
    Task,
    TaskDataFile,
    parse_email_domains,
)
from apps.challenges.selectors import participation_of, user_is_organizer
from apps.core.archives import ArchiveLimits, unpack_archive
from apps.core.errors import Forbidden, InvalidInput
from evaluators import EvaluatorError, TaskConfigError, get_evaluator
from evaluators.splits import PRIVATE_FRACTION_KEY, SPLIT_SEED_KEY, SplitConfig
from evaluators.taskdir import load_task_dir


def email_domain_refusal(*, challenge: Challenge, email: str) -> str | None:
    """Why an address may not register for the challenge (its block and allow lists), or None if it may.

    Domains compare case-insensitively and a subdomain matches its parent (cs.example.edu matches example.edu).
    The block list wins over the allow list.
    """
    domain = email.rpartition("@")[2].strip().lower() if "@" in email else ""

    def matches(rule: str) -> bool:
        return bool(domain) and (domain == rule or domain.endswith(f".{rule}"))

    blocked = next((rule for rule in parse_email_domains(challenge.blocked_email_domains) if matches(rule)), None)
    if blocked is not None:
        return f"Addresses at {blocked} cannot register."
    allowed = parse_email_domains(challenge.allowed_email_domains)
    if allowed and not any(matches(rule) for rule in allowed):
        return f"Registration is limited to addresses at: {', '.join(allowed)}."
    return None


def participation_register(
    *, challenge: Challenge, user: User, accept_rules: bool, team: Team | None = None
) -> Participation:
    """Register a team for the challenge: `team` (one the user owns) or, by default, the user's personal team.

    Idempotent: registering the same team twice returns the first participation, and registering without a
    team when the user already competes in the challenge returns that participation. Raises `InvalidInput` if
    the rules are not accepted, if a member's address is refused by the challenge's domain lists, if the team
    is larger than the challenge allows, or if a member already competes in it through another team;
    `Forbidden` if the challenge has closed or the user does not own the team. The team's row and its members'
    rows are locked while the rules are checked, as `team_join` locks them, so that a member joining at the
    same moment cannot slip past them.
    """
    if not accept_rules:
        raise InvalidInput("You must accept the challenge rules to register.")
    if challenge.phase == Challenge.Phase.CLOSED:
        raise Forbidden("This challenge has ended; registration is closed.")
    if team is None:
        current = participation_of(challenge=challenge, user=user)
        if current is not None:
            return current
        team = team_ensure_personal(user=user)
    elif team_role(team=team, user=user) != TeamMembership.Role.OWNER:
        raise Forbidden("Only the team's owner can register it.")
    try:
        with transaction.atomic():
            return _register_locked(challenge=challenge, team=team, user=user)
    except IntegrityError:
        return Participation.objects.get(challenge=challenge, team=team)


def _register_locked(*, challenge: Challenge, team: Team, user: User) -> Participation:
    # Lock order, everywhere: the team, then its users by id (see team_join); no cycle can form.
    team = Team.objects.select_for_update().get(pk=team.pk)
    existing = Participation.objects.filter(challenge=challenge, team=team).first()
    if existing is not None:
        return existing
    members = list(User.objects.select_for_update(of=("self",)).filter(memberships__team=team).order_by("pk"))
    if challenge.max_team_size is not None and len(members) > challenge.max_team_size:
        raise InvalidInput(
            f"Team {team.name} has {len(members)} members; this challenge allows at most {challenge.max_team_size}."
        )
    for member in members:
        refusal = email_domain_refusal(challenge=challenge, email=member.email)
        if refusal is not None:
            raise InvalidInput(refusal if member.pk == user.pk else f"{member.get_username()}: {refusal}")
    clash = (
        Participation.objects.filter(challenge=challenge, team__memberships__user__in=members)
        .exclude(team=team)
        .select_related("team")
        .first()
    )
    if clash is not None:
        who = clash.team.memberships.filter(user__in=members).select_related("user").first()
        name = who.user.get_username() if who is not None else "A member"
        raise InvalidInput(
            f"{name} already competes in this challenge as team {clash.team.name}: "
            "nobody may be in two teams of one challenge."
        )
    status = (
        Participation.Status.PENDING
        if challenge.registration == Challenge.Registration.APPROVAL
        else Participation.Status.APPROVED
    )
    return Participation.objects.create(
        challenge=challenge, team=team, status=status, registered_by=user, accepted_rules_at=timezone.now()
    )


def participation_approve(*, participation: Participation, user: User) -> Participation:
    """An organizer approves a registration (pending or rejected): the team may submit. `Forbidden` for anyone
    but the challenge's organizers. Audited. Idempotent: approving an approved registration changes and
    records nothing."""
    return _decide(participation, user, Participation.Status.APPROVED)


def participation_reject(*, participation: Participation, user: User) -> Participation:
    """An organizer rejects a registration (pending or approved): the team may no longer submit or download
    the task data. `Forbidden` for anyone but the challenge's organizers. Audited. Idempotent: rejecting a
    rejected registration changes and records nothing."""
    return _decide(participation, user, Participation.Status.REJECTED)


_DECISIONS = {
    Participation.Status.APPROVED: (AuditAction.PARTICIPATION_APPROVE, "Approved"),
    Participation.Status.REJECTED: (AuditAction.PARTICIPATION_REJECT, "Rejected"),
}


def _decide(participation: Participation, user: User, status: Participation.Status) -> Participation:
    if not user_is_organizer(challenge=participation.challenge, user=user):
        raise Forbidden("Only the challenge's organizers can decide on registrations.")
    with transaction.atomic():
        # Locked: two organizers deciding at once leave one decision and one entry per change, in order.
        current = Participation.objects.select_for_update().select_related("team").get(pk=participation.pk)
        if current.status != status:
            Participation.objects.filter(pk=current.pk).update(
                status=status, decided_by=user, decided_at=timezone.now()
            )
            action, verb = _DECISIONS[status]
            audit_record(
                challenge=participation.challenge,
                actor=user,
                action=action,
                summary=f"{verb} the registration of team {current.team.name}.",
                details={"team": current.team.name, "from": current.status, "to": status},
            )
    participation.refresh_from_db()
    return participation


@transaction.atomic
def team_join(*, token: str, user: User) -> Team:
    """Join the team an invitation link opens, under the rules of every challenge the team is registered in
    (and that has not ended): its maximum team size, its address lists, and nobody in two teams of one
    challenge.

    Raises `NotFound` (unknown link) or `InvalidInput` (expired or revoked link, already a member, or a rule
    broken; the message says which). The team's row is locked first, then the user's (the order
    `participation_register` follows): parallel joins of one team are serialised, so its size can never pass
    a limit, and one user joining two teams at once is checked against the other's outcome.
    """
    invite = team_invite_by_token(token=token)
    team = Team.objects.select_for_update().get(pk=invite.team_id)
    User.objects.select_for_update().filter(pk=user.pk).first()
    team_invite_by_token(token=token)  # revoked while this request waited for the lock?
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise InvalidInput(f"You are already a member of team {team.name}.")
    size = TeamMembership.objects.filter(team=team).count()
    participations = Participation.objects.filter(team=team, challenge__ends_at__gt=timezone.now())
    for participation in participations.select_related("challenge"):
        _check_join(challenge=participation.challenge, team=team, user=user, size=size)
    team_member_add(team=team, user=user, actor=user)
    return team


def _check_join(*, challenge: Challenge, team: Team, user: User, size: int) -> None:
    if challenge.max_team_size is not None and size + 1 > challenge.max_team_size:
        raise InvalidInput(
            f"Team {team.name} is full: {challenge.title} allows at most {challenge.max_team_size} members per team."
        )
    refusal = email_domain_refusal(challenge=challenge, email=user.email)
    if refusal is not None:
        raise InvalidInput(f"Team {team.name} competes in {challenge.title}. {refusal}")
    clash = (
        Participation.objects.filter(challenge=challenge, team__memberships__user=user)
        .exclude(team=team)
        .select_related("team")
        .first()
    )
    if clash is not None:
        raise InvalidInput(
            f"You already compete in {challenge.title} as team {clash.team.name}, and team {team.name} is "
            "registered there too: nobody may be in two teams of one challenge."
        )


def task_config_validate(*, evaluator_slug: str, config: Any, concealed: bool = False) -> dict[str, Any]:
    """The evaluator's normalised config (of the task, or of its `concealed` task). Raises `InvalidInput` with
    the evaluator's message, and for a split the platform cannot rank (`_split_check`)."""
    if not isinstance(config, dict):
        raise InvalidInput("The configuration must be a JSON object.")
    try:
        normalised = get_evaluator(evaluator_slug).validate_config(config)
    except EvaluatorError as exc:
        raise InvalidInput(str(exc)) from exc
    _split_check(normalised, concealed=concealed)
    return normalised


def _split_check(config: dict[str, Any], *, concealed: bool) -> None:
    split = SplitConfig.from_mapping(config)
    if concealed and split.private_fraction > 0:
        # The concealed task is hidden as a whole until its own reveal: nobody probes it, so a held-out part
        # of it would rank nothing differently.
        raise InvalidInput(
            f"config.{PRIVATE_FRACTION_KEY} means nothing on a concealed task (its data is hidden as a whole "
            "until its scores are revealed); leave it out, or 0."
        )
    if split.withheld:
        # `split_seed: null` is what participants see; the platform must know where the private part is.
        raise InvalidInput(
            f"config.{SPLIT_SEED_KEY} is null: the platform needs the seed to score the private part (a large "
            "random integer, kept secret: python -c 'import secrets; print(secrets.randbits(63))')"
        )


def clean_relative_path(relative_path: str) -> str:
    """The normalised POSIX form of a path inside a task directory; `InvalidInput` for one that leaves it."""
    path = PurePosixPath(relative_path.strip().replace("\\", "/"))
    if not path.parts or path.is_absolute() or ".." in path.parts or path.as_posix() == ".":
        raise InvalidInput(f"{relative_path!r} is not a relative path inside the task directory")
    return path.as_posix()


def data_file_required_role(*, evaluator_slug: str, relative_path: str) -> str | None:
    """The role the evaluator declares for this path, or None if it declares none. A path that matches any
    hidden rule is hidden, whatever the order of the rules: a broad public pattern never publishes a hidden file."""
    # The concealed task has the benchmark's layout under concealed/: the same rules apply there.
    path = relative_path.removeprefix(f"{CONCEALED_DIR}/")
    matching = [rule for rule in get_evaluator(evaluator_slug).data_files if fnmatch.fnmatch(path, rule.pattern)]
    if not matching:
        return None
    return TaskDataFile.Role.HIDDEN if any(rule.hidden for rule in matching) else TaskDataFile.Role.PUBLIC


def _file_digest(content: File[Any]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    content.seek(0)
    for chunk in content.chunks():
        digest.update(chunk)
        size += len(chunk)
    content.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def task_data_file_put(*, task: Task, relative_path: str, content: File[Any], role: str = "") -> TaskDataFile:
    """Store (or replace) one task data file and bump the task's data version.

    The role defaults to what the evaluator declares for the path; a file the evaluator declares hidden can
    never be made public (`InvalidInput`), so a mistake in the admin cannot leak ground truth.
    """
    path = clean_relative_path(relative_path)
    declared = data_file_required_role(evaluator_slug=task.evaluator_slug, relative_path=path)
    role = role or declared or TaskDataFile.Role.HIDDEN
    if declared == TaskDataFile.Role.HIDDEN and role != TaskDataFile.Role.HIDDEN:
        raise InvalidInput(
            f"{path} is hidden data for this benchmark (ground truth or evaluation set); it cannot be public"
        )
    sha256, size = _file_digest(content)
    existing = TaskDataFile.objects.filter(task=task, relative_path=path).first()
    if existing is not None:
        existing.file.delete(save=False)
        existing.delete()
    data_file = TaskDataFile(task=task, relative_path=path, role=role, size=size, sha256=sha256)
    data_file.file.save(path, content, save=False)
    data_file.save()
    Task.objects.filter(pk=task.pk).update(data_version=F("data_version") + 1)
    return data_file


@transaction.atomic
def task_data_file_delete(*, data_file: TaskDataFile) -> None:
    """Remove a data file (row and bytes) and bump the task's data version."""
    data_file.file.delete(save=False)
    data_file.delete()
    Task.objects.filter(pk=data_file.task_id).update(data_version=F("data_version") + 1)


def task_data_file_set_role(*, data_file: TaskDataFile, role: str) -> TaskDataFile:
    """Change who may see a stored file. A file the evaluator declares hidden stays hidden (`InvalidInput`)."""
    declared = data_file_required_role(
        evaluator_slug=data_file.task.evaluator_slug, relative_path=data_file.relative_path
    )
    if declared == TaskDataFile.Role.HIDDEN and role != TaskDataFile.Role.HIDDEN:
        raise InvalidInput(f"{data_file.relative_path} is hidden data for this benchmark; it cannot be public")
    TaskDataFile.objects.filter(pk=data_file.pk).update(role=role)
    data_file.role = role
    return data_file


def task_data_import_archive(*, task: Task, archive_path: Path) -> list[TaskDataFile]:
    """Unpack an archive of a task directory (safely) and store every file with its declared role.

    A single folder wrapping everything is the root (`unpack_archive`), so both `task/` and its contents can be
    archived.
    """
    with tempfile.TemporaryDirectory(prefix="taskdata-") as tmp:
        limits = ArchiveLimits(max_files=5000, max_bytes=20 * 1024**3)
        unpacked = unpack_archive(archive_path, Path(tmp) / "x", limits)
        if not unpacked.names:
            raise InvalidInput("the archive holds no files")
        stored = []
        for relative in sorted(unpacked.names):
            if relative == "task.yaml":
                continue
            if relative == f"{CONCEALED_DIR}/task.yaml":
                task_set_concealed_config(task=task, task_yaml=unpacked.root / relative)
                continue
            with (unpacked.root / relative).open("rb") as handle:
                stored.append(task_data_file_put(task=task, relative_path=relative, content=File(handle)))
        return stored


def task_check_data(*, task: Task) -> list[str]:
    """Problems an organizer must fix before participants submit: required files missing, a configuration the
    evaluator refuses, data it cannot load, or a task it cannot score (e.g. a metric that would divide by
    zero). Loads the task with every file, public and hidden, exactly as a worker would; the concealed task
    too, when there is one (its problems start with "concealed task:")."""
    paths = list(task.data_files.values_list("relative_path", flat=True))
    main = [path for path in paths if not path.startswith(f"{CONCEALED_DIR}/")]
    problems = task_dir_check(task.evaluator_slug, task.data_dir, task.config, main)
    if task.concealed_config is not None:
        concealed = [path.removeprefix(f"{CONCEALED_DIR}/") for path in paths if path not in main]
        found = task_dir_check(task.evaluator_slug, task.concealed_dir, task.concealed_config, concealed)
        problems += [f"concealed task: {problem}" for problem in found]
    return problems


def task_dir_check(slug: str, directory: Path, raw_config: dict[str, Any], present: list[str]) -> list[str]:
    """Problems of a task directory (`present`: its relative file paths): required files missing, a config the
    evaluator refuses, data it cannot load or score. Used on stored task data and on an unpacked bundle."""
    evaluator = get_evaluator(slug)
    problems = [
        f"missing {rule.pattern}: {rule.description}"
        for rule in evaluator.data_files
        if rule.required and not any(fnmatch.fnmatch(path, rule.pattern) for path in present)
    ]
    try:
        config = evaluator.validate_config(raw_config)
    except TaskConfigError as exc:
        return [*problems, f"configuration: {exc}"]
    if problems:
        return problems
    try:
        return evaluator.check_task(evaluator.load_task(directory, config))
    except EvaluatorError as exc:
        return [f"data: {exc}"]


def task_set_concealed_config(*, task: Task, task_yaml: Path) -> None:
    """Take the concealed task's configuration from its task.yaml (`InvalidInput` when it is not one for this
    task's benchmark) and bump the data version."""
    try:
        document = load_task_dir(task_yaml.parent)
        config = get_evaluator(task.evaluator_slug).validate_config(document.config)
    except TaskConfigError as exc:
        raise InvalidInput(f"concealed/task.yaml: {exc}") from exc
    try:
        _split_check(config, concealed=True)
    except InvalidInput as exc:
        raise InvalidInput(f"concealed/task.yaml: {exc.message}") from exc
    if document.slug != task.evaluator_slug:
        raise InvalidInput(
            f"concealed/task.yaml is for the benchmark {document.slug!r}; this task is {task.evaluator_slug!r}"
        )
    Task.objects.filter(pk=task.pk).update(concealed_config=config, data_version=F("data_version") + 1)
    task.concealed_config = config


def task_delete(*, task: Task, actor: User) -> None:
    """Delete a task (and its data rows) with an audit entry; its leaderboards go with it. `Forbidden` for
    anyone but the challenge's organizers. A task with submissions cannot be deleted: the database refuses
    (`ProtectedError`), and nothing is recorded then."""
    require_organizer(challenge=task.challenge, actor=actor)
    with transaction.atomic():
        challenge, slug = task.challenge, task.slug
        task.delete()
        audit_record(
            challenge=challenge,
            actor=actor,
            action=AuditAction.TASK_CHANGE,
            summary=f"Deleted task {slug}.",
            details={"task": slug, "deleted": True},
        )


def task_data_delete_all(*, task: Task) -> None:
    for data_file in task.data_files.all():
        data_file.file.delete(save=False)
    task.data_files.all().delete()
    shutil.rmtree(task.data_dir, ignore_errors=True)
    Task.objects.filter(pk=task.pk).update(data_version=F("data_version") + 1)

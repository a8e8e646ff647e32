"""Importing a bundle: checked in full first, then created in one transaction, with the data files stored
through `task_data_file_put` (which keeps hidden files hidden) and removed again if anything fails."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from django.contrib.auth.models import User
from django.core.files import File
from django.db import IntegrityError, transaction

from apps.backoffice.bundles.schema import TASKS_DIR
from apps.backoffice.bundles.validation import BundlePlan, InvalidBundle, unpacked_bundle, validate_unpacked
from apps.challenges.audit import audit_record
from apps.challenges.models import AuditAction, Challenge, Task
from apps.challenges.services import task_data_file_put
from apps.core.errors import InvalidInput
from apps.divisions.models import Division
from apps.leaderboards.models import TaskWeight


def challenge_bundle_import(
    *, archive: Path, organizers: Sequence[User], slug: str | None = None, actor: User | None, archive_name: str = ""
) -> Challenge:
    """Create the challenge a bundle describes, with `organizers` as its organizers, and return it.

    `slug` imports it under a new slug (else the bundle's, which must be free). Everything is checked first
    (`challenge_bundle_validate`: raises `InvalidBundle` listing every problem, nothing created); then the
    challenge, its tasks, weights, data files and divisions are created in one transaction and one audit entry
    names `actor` (None: the system, e.g. the demo). If anything fails, nothing is left: the transaction rolls
    back and the data files written so far are removed. Raises `InvalidInput` without organizers.
    `archive_name` is the name the audit entry gives the bundle (an upload's own name; else the file's).

    The files are removed only when this function fails: a caller whose own transaction around it rolls back
    later must remove the tasks' `data_dir` folders itself (rows roll back, files do not).
    """
    if not organizers:
        raise InvalidInput("Name at least one organizer of the imported challenge.")
    with unpacked_bundle(archive) as (root, names):
        plan = validate_unpacked(root=root, names=names, slug=slug)
        written: list[Path] = []
        try:
            with transaction.atomic():
                challenge = _create(plan, root, organizers, written)
                _audit(challenge, plan, archive_name or archive.name, actor, organizers)
        except IntegrityError as exc:
            _remove(written)
            if Challenge.objects.filter(slug=plan.slug).exists():  # taken since the check: a parallel import
                raise InvalidBundle(
                    [f"challenge.slug: a challenge with the slug {plan.slug!r} exists already"]
                ) from exc
            raise
        except BaseException:
            _remove(written)
            raise
    return challenge


def _remove(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _create(plan: BundlePlan, root: Path, organizers: Sequence[User], written: list[Path]) -> Challenge:
    challenge = Challenge.objects.create(**plan.challenge)
    challenge.organizers.set(organizers)
    tasks: dict[str, Task] = {}
    for task_plan in plan.tasks:
        task = Task.objects.create(challenge=challenge, **task_plan.fields)
        written.append(task.data_dir)
        if task_plan.weight != TaskWeight.DEFAULT:
            TaskWeight.objects.create(task=task, weight=task_plan.weight)
        folder = root / TASKS_DIR / task_plan.slug
        for file_plan in task_plan.files:
            with folder.joinpath(*PurePosixPath(file_plan.path).parts).open("rb") as handle:
                task_data_file_put(task=task, relative_path=file_plan.path, content=File(handle), role=file_plan.role)
        tasks[task_plan.slug] = task
    for division_plan in plan.divisions:
        division = Division.objects.create(challenge=challenge, **division_plan.fields)
        division.tasks.set([tasks[slug] for slug in division_plan.task_slugs])
    return challenge


def _audit(challenge: Challenge, plan: BundlePlan, name: str, actor: User | None, organizers: Sequence[User]) -> None:
    audit_record(
        challenge=challenge,
        actor=actor,
        action=AuditAction.CHALLENGE_CHANGE,
        summary=f"Imported the challenge from the bundle {name}: {plan.summary()}.",
        details={
            "imported": name,
            "tasks": [task.slug for task in plan.tasks],
            "divisions": [division.slug for division in plan.divisions],
            "organizers": sorted(user.get_username() for user in organizers),
            "files": plan.file_count,
        },
    )

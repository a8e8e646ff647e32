"""Audited edits of a challenge's settings: its own fields and organizers, its tasks and its divisions, as saved
in the admin. The admin saves the rows as usual and hands the values from before the save to these services,
which write one audit entry with the diff and rebuild the leaderboards when a change affects ranking."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from apps.backoffice.services.ranking import task_leaderboards_rebuild
from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditAction, AuditEntry, Challenge, Task
from apps.divisions.models import Division

Snapshot = dict[str, Any]
# Bookkeeping the platform writes itself: never an organizer's change.
_BOOKKEEPING = {
    "id",
    "created_at",
    "updated_at",
    "data_version",
    "collective_requested",
    "collective_done",
    "collective_rescored_at",
}
TASK_RANKING_FIELDS = {"ranking_rule", "final_selections", "concealed_config"}
"""Task fields whose change changes the leaderboards (which submission represents a team, on the public and the
private board; whether the closed division has a concealed leaderboard)."""
DIVISION_RANKING_FIELDS = {"kind", "tasks", "challenge_id"}


def snapshot(instance: models.Model) -> Snapshot:
    """The audited values of a row's own columns (foreign keys as ids), to compare before and after a save."""
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname not in _BOOKKEEPING
    }


def division_snapshot(division: Division) -> Snapshot:
    """`snapshot` plus the division's tasks (ids; empty means every task)."""
    return {**snapshot(division), "tasks": sorted(division.tasks.values_list("pk", flat=True))}


def challenge_snapshot(challenge: Challenge) -> Snapshot:
    """`snapshot` plus the challenge's organizers (user names)."""
    organizers = sorted(challenge.organizers.values_list("username", flat=True))
    return {**snapshot(challenge), "organizers": organizers}


def diff(before: Snapshot, after: Snapshot) -> dict[str, dict[str, Any]]:
    """{field: {"from": old, "to": new}} for every field whose value differs."""
    return {name: {"from": before.get(name), "to": value} for name, value in after.items() if before.get(name) != value}


def task_changes_record(*, task: Task, actor: User, before: Snapshot | None) -> AuditEntry | None:
    """Record the admin's save of a task: its creation (`before` is None) or the diff of its fields against
    `before` (`snapshot` of the row as it was). A change of a ranking field rebuilds every leaderboard of the
    task in the same transaction. Returns the entry, or None when nothing changed."""
    require_organizer(challenge=task.challenge, actor=actor)
    with transaction.atomic():
        if before is None:
            return audit_record(
                challenge=task.challenge,
                actor=actor,
                action=AuditAction.TASK_CREATE,
                summary=f"Created task {task.slug} ({task.evaluator_slug}).",
                details={"task": task.slug},
            )
        changes = diff(before, snapshot(task))
        if not changes:
            return None
        entry = audit_record(
            challenge=task.challenge,
            actor=actor,
            action=AuditAction.TASK_CHANGE,
            summary=f"Changed task {task.slug}: {', '.join(sorted(changes))}.",
            details={"task": task.slug, "changes": changes},
        )
        if TASK_RANKING_FIELDS & changes.keys():
            task_leaderboards_rebuild(task=task)
    return entry


def task_data_changes_record(*, task: Task, actor: User, changes: dict[str, list[str]]) -> AuditEntry | None:
    """Record changes of a task's data files: `changes` maps what happened ("stored", "deleted", "role
    changed", "imported") to the relative paths concerned. Returns the entry, or None when it is empty."""
    require_organizer(challenge=task.challenge, actor=actor)
    changes = {kind: sorted(paths) for kind, paths in changes.items() if paths}
    if not changes:
        return None
    counts = ", ".join(f"{len(paths)} {kind}" for kind, paths in sorted(changes.items()))
    return audit_record(
        challenge=task.challenge,
        actor=actor,
        action=AuditAction.TASK_DATA,
        summary=f"Changed the data of task {task.slug}: {counts}.",
        details={"task": task.slug, "files": changes},
    )


def challenge_changes_record(*, challenge: Challenge, actor: User, before: Snapshot | None) -> AuditEntry | None:
    """Record the admin's save of a challenge (dates, visibility, rules, organizers ...): the diff against
    `before` (`challenge_snapshot`), or its creation when `before` is None. None when nothing changed."""
    require_organizer(challenge=challenge, actor=actor)
    if before is None:
        return audit_record(
            challenge=challenge,
            actor=actor,
            action=AuditAction.CHALLENGE_CHANGE,
            summary=f"Created the challenge {challenge.slug}.",
            details={"created": True},
        )
    changes = diff(before, challenge_snapshot(challenge))
    if not changes:
        return None
    return audit_record(
        challenge=challenge,
        actor=actor,
        action=AuditAction.CHALLENGE_CHANGE,
        summary=f"Changed the challenge: {', '.join(sorted(changes))}.",
        details={"changes": changes},
    )


def divisions_changes_record(
    *, challenge: Challenge, actor: User, before: dict[int, Snapshot], after: dict[int, Snapshot]
) -> AuditEntry | None:
    """Record changes of the challenge's divisions, given `division_snapshot`s by id before and after the save
    (added, deleted, changed fields). A change of kind or tasks rebuilds every leaderboard of the challenge's
    tasks in the same transaction. None when nothing changed."""
    require_organizer(challenge=challenge, actor=actor)
    added = [after[pk]["slug"] for pk in after.keys() - before.keys()]
    deleted = [before[pk]["slug"] for pk in before.keys() - after.keys()]
    changed = {after[pk]["slug"]: d for pk in after.keys() & before.keys() if (d := diff(before[pk], after[pk]))}
    if not (added or deleted or changed):
        return None
    parts = [
        *(f"added {slug}" for slug in sorted(added)),
        *(f"deleted {slug}" for slug in sorted(deleted)),
        *(f"changed {slug} ({', '.join(sorted(d))})" for slug, d in sorted(changed.items())),
    ]
    with transaction.atomic():
        entry = audit_record(
            challenge=challenge,
            actor=actor,
            action=AuditAction.DIVISION_CHANGE,
            summary=f"Divisions: {'; '.join(parts)}.",
            details={"added": sorted(added), "deleted": sorted(deleted), "changes": changed},
        )
        if added or deleted or any(DIVISION_RANKING_FIELDS & d.keys() for d in changed.values()):
            for task in challenge.tasks.all():
                task_leaderboards_rebuild(task=task)
    return entry


def division_delete(*, division: Division, actor: User) -> None:
    """Delete a division with an audit entry (its leaderboards go with it). A division with submissions cannot be
    deleted: the database refuses (`ProtectedError`), and nothing is recorded then."""
    challenge = division.challenge
    with transaction.atomic():
        before = {division.pk: division_snapshot(division)}
        division.delete()
        divisions_changes_record(challenge=challenge, actor=actor, before=before, after={})

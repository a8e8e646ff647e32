"""Writes of leaderboards: rebuilding the materialised boards from immutable scores (and an organizer's rebuild
on request, audited), an organizer's early reveal of a split (audited), the task weights of the challenge board
(audited).

A leaderboard is a pure function of the scores of current evaluations, the submissions' flags and the task's
ranking rule (`ranking.board_compute`); a rebuild recomputes it from scratch and bumps its version.
"""

from __future__ import annotations

import math

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditAction, Task
from apps.challenges.selectors import user_is_organizer
from apps.core.errors import Forbidden, InvalidInput
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard, LeaderboardEntry, SplitReveal, TaskWeight
from apps.leaderboards.ranking import board_compute
from apps.submissions.models import Score, Submission


def _locked_leaderboard(task: Task, division: Division, split: str) -> Leaderboard:
    try:
        with transaction.atomic():
            Leaderboard.objects.get_or_create(task=task, division=division, split=split)
    except IntegrityError:
        pass  # created by a concurrent rebuild between our read and insert; the lock below serialises us
    return Leaderboard.objects.select_for_update().get(task=task, division=division, split=split)


def leaderboard_rebuild(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> Leaderboard:
    """Recompute the leaderboard's entries from scratch (`board_compute`) and bump its version. Serialised per
    leaderboard by a row lock; call it inside the transaction that changed what it depends on, so that no
    reader sees the change committed without its board. Idempotent apart from the version."""
    with transaction.atomic():
        leaderboard = _locked_leaderboard(task, division, split)
        # Computed under the lock: two concurrent rebuilds each see the other's committed changes.
        rows = board_compute(task=task, division=division, split=split)
        leaderboard.entries.all().delete()
        LeaderboardEntry.objects.bulk_create(
            LeaderboardEntry(
                leaderboard=leaderboard,
                team_id=c.team_id,
                submission_id=c.submission_id,
                rank=rank,
                primary=c.primary,
                metrics=c.metrics,
                is_baseline=c.is_baseline,
                submitted_at=c.submitted_at,
                submission_count=count,
                public_rank=c.public_rank,
            )
            for rank, c, count in rows
        )
        Leaderboard.objects.filter(pk=leaderboard.pk).update(version=F("version") + 1, rebuilt_at=timezone.now())
        leaderboard.refresh_from_db()
    return leaderboard


def board_splits(*, task: Task, division: Division, submission: Submission | None = None) -> list[str]:
    """The splits of a task's boards in a division: public always; concealed in a division that reruns code
    when the task has a concealed task; and any split that has a board already or scores in the division.

    With `submission` (a change of that one submission), only its own scores are looked at besides the boards
    that exist: a split scored by any other submission got its board when that score landed. The question
    then costs an indexed look-up rather than a scan of the division's scores, inside the rebuild's lock."""
    splits = [Score.Split.PUBLIC.value]
    if task.has_concealed_task and division.requires_code:
        splits.append(Score.Split.CONCEALED.value)
    existing = set(Leaderboard.objects.filter(task=task, division=division).values_list("split", flat=True))
    if submission is not None and submission.current_evaluation_id is not None:
        scores = Score.objects.filter(evaluation_id=submission.current_evaluation_id)
        existing |= set(scores.values_list("split", flat=True))
    for split in (Score.Split.PRIVATE, Score.Split.CONCEALED):
        if split in splits:
            continue
        if split in existing or (submission is None and _scored_in(task, division, split)):
            splits.append(split.value)
    return splits


def _scored_in(task: Task, division: Division, split: str) -> bool:
    return Score.objects.filter(
        split=split, evaluation__submission__task=task, evaluation__submission__division=division
    ).exists()


def leaderboards_rebuild_for_submission(*, submission: Submission) -> list[Leaderboard]:
    """Rebuild every board of the submission's task and division (each split). Call it in the transaction
    that changed what the boards depend on: a landed score, a withdrawal, a disqualification, a submission
    marked (or unmarked) as a baseline, a final selection under the selected-final rule."""
    task, division = submission.task, submission.division
    splits = board_splits(task=task, division=division, submission=submission)
    return [leaderboard_rebuild(task=task, division=division, split=split) for split in splits]


def leaderboards_rebuild_for_task(*, task: Task) -> int:
    """Rebuild every board of the task, in every division and split (after a change of its ranking rule, its
    data or evaluator version, or a flag change of many submissions). Returns how many boards."""
    rebuilt = 0
    for division in Division.objects.filter(challenge_id=task.challenge_id):
        for split in board_splits(task=task, division=division):
            leaderboard_rebuild(task=task, division=division, split=split)
            rebuilt += 1
    return rebuilt


def leaderboard_reveal_split(*, task: Task, split: str, user: User) -> bool:
    """Reveal the task's boards of a private or concealed split to everyone now (before the challenge ends, or
    against the concealed visibility policy), with an audit entry. Permanent. Organizers of the task's challenge
    (and staff) only: raises `Forbidden` for anyone else, `InvalidInput` for the public split, an unknown one, or
    the concealed split of a task without a concealed task. Idempotent: returns False, recording nothing, when
    the split was revealed already. The boards need no rebuild (their entries do not depend on who may read
    them)."""
    require_organizer(challenge=task.challenge, actor=user)
    if split not in (Score.Split.PRIVATE, Score.Split.CONCEALED):
        raise InvalidInput(f"Only the private and concealed splits can be revealed, not {split!r}.")
    if split == Score.Split.CONCEALED and not task.has_concealed_task:
        raise InvalidInput("This task has no concealed task.")
    with transaction.atomic():
        # Serialises two organizers revealing at once: one entry, not two.
        Task.objects.select_for_update().filter(pk=task.pk).first()
        if SplitReveal.objects.filter(task=task, split=split).exists():
            return False
        SplitReveal.objects.create(task=task, split=split, revealed_at=timezone.now(), revealed_by=user)
        audit_record(
            challenge=task.challenge,
            actor=user,
            action=AuditAction.LEADERBOARD_REVEAL,
            summary=f"Revealed the {split} leaderboards of task {task.slug} to everyone, ahead of schedule.",
            details={"task": task.slug, "split": split},
        )
    return True


def leaderboard_rebuild_by_organizer(*, leaderboard: Leaderboard, actor: User) -> Leaderboard:
    """An organizer's rebuild of one leaderboard from its scores (`leaderboard_rebuild`), with an audit entry:
    a stale board changes before the participants' eyes. `Forbidden` for anyone but the challenge's
    organizers. Returns the rebuilt board (its version bumped)."""
    task = leaderboard.task
    require_organizer(challenge=task.challenge, actor=actor)
    with transaction.atomic():
        rebuilt = leaderboard_rebuild(task=task, division=leaderboard.division, split=leaderboard.split)
        audit_record(
            challenge=task.challenge,
            actor=actor,
            action=AuditAction.LEADERBOARD_REBUILD,
            summary=f"Rebuilt the {rebuilt.split} leaderboard of task {task.slug} in the {rebuilt.division.name} "
            f"division (version {rebuilt.version}).",
            details={"task": task.slug, "division": rebuilt.division.slug, "split": rebuilt.split},
        )
    return rebuilt


def task_weight_set(*, task: Task, weight: float, user: User) -> TaskWeight:
    """Set the task's weight on its challenge's leaderboard. Organizers (and staff) only (`Forbidden`);
    `InvalidInput` for a negative or non-finite weight. The challenge board is computed on read from the
    materialised task boards and the weights, so it changes at once; nothing needs a rebuild. A change of the
    weight is audited; setting the weight it has already records nothing."""
    if not user_is_organizer(challenge=task.challenge, user=user):
        raise Forbidden("Only the challenge's organizers can weigh its tasks.")
    if not math.isfinite(weight) or weight < 0:
        raise InvalidInput(f"A weight is a number of at least 0, not {weight!r}.")
    with transaction.atomic():
        # Locked: two organizers weighing at once record each change against the weight it replaced.
        stored = TaskWeight.objects.select_for_update().filter(task=task).values_list("weight", flat=True).first()
        task_weight, _ = TaskWeight.objects.update_or_create(task=task, defaults={"weight": float(weight)})
        previous = TaskWeight.DEFAULT if stored is None else stored
        if previous != task_weight.weight:
            audit_record(
                challenge=task.challenge,
                actor=user,
                action=AuditAction.TASK_WEIGHT,
                summary=f"Set the weight of task {task.slug} on the challenge leaderboard to {task_weight.weight:g} "
                f"(was {previous:g}).",
                details={"task": task.slug, "from": previous, "to": task_weight.weight},
            )
    return task_weight

"""The ratchet's work that spans layers: recording a scored test-set submission's new items, writing the labels
that validation decided into the test-set task, and closing a round (freezing its standings, choosing the next
suite and the items to promote) and then writing the next round's data and rescoring both tasks.

Closing is one transaction (`round_close`) that records every decision as rows; the files are written after it,
by a background job (`round_data_write`) on the evaluation queue, which anyone may run again: it rewrites the
same files from the same rows and bumps the data versions and queues the rescoring only once (the round's
`data_ready_at`, set in the same transaction as the rescoring). The reaper sends it again for a closed round's
successor whose data is not ready (`rounds_reap`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.evaluators import task_loaded
from apps.challenges.models import AuditAction, Task, TaskDataFile
from apps.challenges.services import task_config_validate, task_data_file_delete, task_data_file_put
from apps.core.errors import InvalidInput
from apps.divisions.selectors import divisions_of_task
from apps.jobs.collective import collective_request
from apps.leaderboards.models import Leaderboard, LeaderboardEntry
from apps.leaderboards.selectors import leaderboard_document
from apps.ratchets.models import Item, Promotion, Ratchet, Round, Standing, SuiteModel
from apps.ratchets.services import NewItem, gold_items_for_round, item_refresh, items_record
from apps.submissions.models import Submission
from apps.submissions.services.admin_actions import submission_queue_rescore
from apps.submissions.services.artifacts import artifact_path
from apps.submissions.services.dispatch import enqueue_ratchet_items, enqueue_round_data
from evaluators.adversarial_test_set import item_verdicts, new_item_payload
from evaluators.training_set_creation.materialise import materialise_training_set

log = logging.getLogger(__name__)
RoundStatus = Round.Status
Status = Item.Status
VALIDATED_FILE = "validated.csv"
SUITE_DIR = "suite"
TEST_ITEMS_FILE = "test/items.csv"
TEST_IMAGES_DIR = "test/images"
PENDING_CHOICES = ("refuse", "drop")


# -- Items of a scored test-set submission ------------------------------------------------------------------


def submission_items_record(*, submission_id: int) -> int:
    """Record the new items of a scored submission to a ratchet's test-set task (`items_record`), with the suite
    predictions of the round that collects them. Idempotent; 0 when there is nothing to record."""
    submission = Submission.objects.select_related("task").filter(pk=submission_id).first()
    if submission is None or submission.status != Submission.Status.SCORED:
        return 0
    if not Ratchet.objects.filter(test_task_id=submission.task_id).exists():
        return 0
    evaluator, loaded = task_loaded(submission.task)
    with artifact_path(submission, is_directory=evaluator.submission_is_directory) as path:
        parsed = evaluator.validate(loaded, path)
        items = [
            NewItem(
                key=verdict.key,
                claimed=verdict.claimed,
                source=verdict.source,
                line=verdict.line,
                predictions=dict(verdict.predictions),
                fooled=verdict.fooled,
                payload=new_item_payload(loaded, parsed, verdict.key),
                payload_type="image/png" if loaded.config.input == "image" else "text/csv",
            )
            for verdict in item_verdicts(loaded, parsed)
            if verdict.kind == "new"
        ]
    return items_record(submission=submission, items=items)


# -- Labels decided by validation ------------------------------------------------------------------------------


def _validated_csv(ratchet: Ratchet) -> bytes:
    """`validated.csv` of the test-set task: the label every decided new item settled on, by key. An accepted
    claim wins over rejected ones of the same key; a rejection's label (empty: none of the task's) otherwise. A
    dropped item is final too: empty, so it never earns credit and no score waits for it."""
    labels: dict[str, str] = {}
    final = [Status.ACCEPTED, Status.REJECTED, Status.DROPPED]
    for item in ratchet.items.filter(kind=Item.Kind.NEW, status__in=final).order_by("pk"):
        if item.status == Status.ACCEPTED:
            labels[item.key] = item.claimed_label
        else:
            labels.setdefault(item.key, item.decided_label)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "label"])
    writer.writerows(sorted(labels.items()))
    return out.getvalue().encode()


def _stored_bytes(task: Task, relative_path: str) -> bytes | None:
    stored = TaskDataFile.objects.filter(task=task, relative_path=relative_path).first()
    if stored is None:
        return None
    with stored.file.open("rb") as handle:
        return bytes(handle.read())


def _put(task: Task, relative_path: str, content: bytes) -> bool:
    """Store a task file unless its recorded digest is already that of these bytes; True when it changed. The
    digest, not the bytes on disk: a job rolled back after writing a file leaves the new bytes on disk under the
    old row, and its rerun must write the row again."""
    recorded = TaskDataFile.objects.filter(task=task, relative_path=relative_path).values_list("sha256", flat=True)
    if recorded.first() == hashlib.sha256(content).hexdigest():
        return False
    task_data_file_put(task=task, relative_path=relative_path, content=ContentFile(content, name=relative_path))
    return True


def ratchet_labels_write(*, ratchet_id: int) -> bool:
    """Write the decided labels into the test-set task (`validated.csv`) when they changed, and rescore the task
    (collective): items just validated stop being pending. True when something changed. Idempotent."""
    ratchet = Ratchet.objects.select_related("test_task__challenge").filter(pk=ratchet_id).first()
    if ratchet is None:
        return False
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=ratchet.test_task_id)
        if not _put(task, VALIDATED_FILE, _validated_csv(ratchet)):
            return False
        collective_request(task=task)
    return True


# -- Closing a round ---------------------------------------------------------------------------------------------


def _freeze_standings(round_: Round, task: Task) -> int:
    now = timezone.now()
    frozen = 0
    for board in Leaderboard.objects.filter(task=task).select_related("division"):
        document = leaderboard_document(task=task, division=board.division, split=board.split)
        Standing.objects.get_or_create(
            round=round_,
            task=task,
            division=board.division,
            split=board.split,
            defaults={"document": document, "data_version": task.data_version, "frozen_at": now},
        )
        frozen += 1
    return frozen


def _suite_sources(ratchet: Ratchet) -> list[LeaderboardEntry]:
    """The best training sets of the round: the top `top_k` teams' rows (baselines left out) of the public board
    of the training-set task's first division."""
    division = divisions_of_task(task=ratchet.training_task)[0]
    entries = LeaderboardEntry.objects.filter(
        leaderboard__task=ratchet.training_task,
        leaderboard__division=division,
        leaderboard__split="public",
        is_baseline=False,
    )
    return list(entries.select_related("submission", "team").order_by("rank", "submitted_at", "pk")[: ratchet.top_k])


def _promotions(ratchet: Ratchet, closing: Round, target: Round) -> int:
    """Promote the accepted items that fooled their round's suite and are not promoted yet."""
    promoted = 0
    candidates = ratchet.items.filter(kind=Item.Kind.NEW, status=Status.ACCEPTED, fooled=True, round=closing)
    for item in candidates.filter(promotion__isnull=True).order_by("pk"):
        test_id = f"ratchet_r{closing.number}_{item.key.removeprefix('new:')[:16]}"
        Promotion.objects.create(round=target, item=item, test_id=test_id, label=item.claimed_label)
        promoted += 1
    return promoted


def _pending_of(round_: Round) -> list[Item]:
    items = list(round_.items.filter(kind=Item.Kind.NEW).select_related("ratchet", "round"))
    for item in items:
        item_refresh(item=item)
    return [item for item in items if item.status in (Status.PENDING, Status.DISPUTED)]


def _check_closable(round_: Round, pending: str) -> None:
    if round_.status not in (RoundStatus.OPEN, RoundStatus.VALIDATING):
        raise InvalidInput(f"Round {round_.number} is {round_.get_status_display().lower()}: it cannot be closed.")
    if pending not in PENDING_CHOICES:
        raise InvalidInput("Choose what happens to items still being validated: refuse (extend) or drop.")
    task = round_.ratchet.test_task
    busy = Submission.objects.filter(task=task).exclude(
        status__in=[
            Submission.Status.SCORED,
            Submission.Status.REJECTED,
            Submission.Status.FAILED,
            Submission.Status.CANCELLED,
        ]
    )
    if busy.exists():
        raise InvalidInput(
            f"{busy.count()} test-set submission(s) are still being scored: close the round when they are done."
        )


def round_close(*, round_: Round, actor: User, pending: str = "refuse") -> Round:
    """Close an open or validating round and open the next one (module docstring). With items still being
    validated, `pending` says what happens: "refuse" raises `InvalidInput` (extend the round: leave it validating
    until they are decided), "drop" closes it and drops them (they never score and are never promoted).
    Idempotent: closing a closed round returns it unchanged."""
    require_organizer(challenge=round_.ratchet.challenge, actor=actor)
    with transaction.atomic():
        ratchet = (
            Ratchet.objects.select_for_update()
            .select_related("challenge", "training_task", "test_task")
            .get(pk=round_.ratchet_id)
        )
        locked = Round.objects.select_related("ratchet").get(pk=round_.pk)
        if locked.status == RoundStatus.CLOSED:
            return locked
        _check_closable(locked, pending)
        undecided = _pending_of(locked)
        if undecided and pending == "refuse":
            raise InvalidInput(
                f"{len(undecided)} item(s) of round {locked.number} are still being validated: extend the round "
                "(leave it validating until they are decided), or close it and drop them."
            )
        locked.dropped_pending = bool(undecided)
        locked.status, locked.closed_at = RoundStatus.CLOSED, timezone.now()
        locked.save(update_fields=["status", "closed_at", "dropped_pending"])
        for item in undecided:
            item.round = locked
            item_refresh(item=item)
        _keep_seed(ratchet)
        next_round = _open_next(locked, ratchet)
        figures = _record_next_round(locked, next_round, ratchet)
        audit_record(
            challenge=ratchet.challenge,
            actor=actor,
            action=AuditAction.ROUND_CLOSE,
            summary=f"Closed round {locked.number} of {ratchet.title}; round {next_round.number} is open.",
            details={"ratchet": ratchet.slug, "round": locked.number, "dropped": len(undecided), **figures},
        )
        enqueue_round_data(next_round.pk)
    return locked


def _open_next(closing: Round, ratchet: Ratchet) -> Round:
    next_round = ratchet.rounds.filter(number=closing.number + 1).first()
    if next_round is None:
        next_round = Round(ratchet=ratchet, number=closing.number + 1)
    next_round.status, next_round.opened_at = RoundStatus.OPEN, timezone.now()
    next_round.save()
    return next_round


def _record_next_round(closing: Round, next_round: Round, ratchet: Ratchet) -> dict[str, Any]:
    standings = _freeze_standings(closing, ratchet.training_task) + _freeze_standings(closing, ratchet.test_task)
    recipe = ratchet.test_task.config.get("suite_recipe", "logreg")
    for rank, entry in enumerate(_suite_sources(ratchet), start=1):
        set_name = f"r{next_round.number}-{rank}"
        SuiteModel.objects.get_or_create(
            round=next_round,
            set_name=set_name,
            defaults={
                "name": f"{recipe}@{set_name}",
                "source": entry.submission,
                "team": entry.team,
                "source_score": entry.primary,
                "source_rank": entry.rank,
            },
        )
    promoted = _promotions(ratchet, closing, next_round)
    return {"standings": standings, "suite_models": next_round.suite_models.count(), "promoted": promoted}


# -- Writing a round's data ------------------------------------------------------------------------------------


@contextmanager
def _materialised(model: SuiteModel, training_task: Task) -> Iterator[Path]:
    evaluator, loaded = task_loaded(training_task)
    with (
        tempfile.TemporaryDirectory(prefix="suite-") as tmp,
        artifact_path(model.source, is_directory=evaluator.submission_is_directory) as path,
    ):
        parsed = evaluator.validate(loaded, path)
        out = Path(tmp) / model.set_name
        materialise_training_set(loaded, parsed, out, submission_path=path)
        yield out


def _write_suite(round_: Round, ratchet: Ratchet) -> list[str]:
    """Write each suite model's training set under suite/<set>/ of the test-set task; remove other sets."""
    task = ratchet.test_task
    names = []
    for model in round_.suite_models.select_related("source"):
        with _materialised(model, ratchet.training_task) as directory:
            for path in sorted(p for p in directory.rglob("*") if p.is_file()):
                _put(task, f"{SUITE_DIR}/{model.set_name}/{path.relative_to(directory).as_posix()}", path.read_bytes())
        names.append(model.set_name)
    stale = TaskDataFile.objects.filter(task=task, relative_path__startswith=f"{SUITE_DIR}/")
    for data_file in stale:
        if data_file.relative_path.split("/")[1] not in names:
            task_data_file_delete(data_file=data_file)
    return names


def _keep_seed(ratchet: Ratchet) -> None:
    """Keep the training-set task's own test/items.csv with the ratchet when the first round closes, before any
    round's data is written, so that every later round's test data is rebuilt from it and the promotions."""
    if ratchet.seed_test_items:
        return
    seed = _stored_bytes(ratchet.training_task, TEST_ITEMS_FILE)
    if seed is None:
        raise InvalidInput(f"The training-set task {ratchet.training_task.slug} has no {TEST_ITEMS_FILE}.")
    ratchet.seed_test_items.save(f"{ratchet.pk}-items.csv", ContentFile(seed), save=True)


def _seed_rows(ratchet: Ratchet) -> bytes:
    with ratchet.seed_test_items.open("rb") as handle:
        return bytes(handle.read())


def _write_test_data(round_: Round, ratchet: Ratchet) -> int:
    """test/items.csv of the training-set task: the seed rows, then every promotion up to this round; each
    promoted image under test/images/<test id>.png (features: the row holds the values)."""
    seed = _seed_rows(ratchet).decode("utf-8-sig")
    promotions = list(
        Promotion.objects.filter(round__ratchet=ratchet, round__number__lte=round_.number)
        .select_related("item")
        .order_by("round__number", "test_id")
    )
    lines = [seed.rstrip("\n")]
    for promotion in promotions:
        item = promotion.item
        with item.payload.open("rb") as handle:
            payload = bytes(handle.read())
        if item.payload_type == "image/png":
            _put(ratchet.training_task, f"{TEST_IMAGES_DIR}/{promotion.test_id}.png", payload)
            lines.append(_csv_line([promotion.test_id, promotion.label]))
        else:
            lines.append(_csv_line([promotion.test_id, promotion.label, *payload.decode().split(",")]))
    _put(ratchet.training_task, TEST_ITEMS_FILE, ("\n".join(lines) + "\n").encode())
    return len(promotions)


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _set_suite_config(task: Task, names: list[str]) -> None:
    config = task_config_validate(evaluator_slug=task.evaluator_slug, config={**task.config, "suite_sets": names})
    if config != task.config:
        Task.objects.filter(pk=task.pk).update(config=config)


def round_data_write(*, round_id: int) -> bool:
    """Write a round's data into both tasks (its suite's training sets and config, the decided labels, the
    training-set task's test data with the promotions) and queue the rescoring of both tasks; True when this call
    did it, False when it was done already. Safe to run again after a crash at any point."""
    round_ = Round.objects.select_related("ratchet__training_task", "ratchet__test_task").filter(pk=round_id).first()
    if round_ is None or round_.data_ready_at is not None:
        return False
    ratchet = round_.ratchet
    with transaction.atomic():
        Round.objects.select_for_update().get(pk=round_id)
        names = _write_suite(round_, ratchet)
        _set_suite_config(ratchet.test_task, names)
        _put(ratchet.test_task, VALIDATED_FILE, _validated_csv(ratchet))
        promoted = _write_test_data(round_, ratchet)
        training = Task.objects.get(pk=ratchet.training_task_id)
        test = Task.objects.get(pk=ratchet.test_task_id)
        gold_items_for_round(round_=round_)
        queued = sum(submission_queue_rescore(submission=s) for s in Submission.objects.rescorable(task=training))
        collective_request(task=test)
        Round.objects.filter(pk=round_id).update(
            data_ready_at=timezone.now(),
            training_data_version=training.data_version,
            test_data_version=test.data_version,
        )
        # Submissions made since the round opened had their items held back until its suite existed.
        early = Submission.objects.filter(task=test, status=Submission.Status.SCORED, created_at__gte=round_.opened_at)
        for submission_id in early.values_list("pk", flat=True):
            enqueue_ratchet_items(submission_id)
    log.info("round %s data written: suite %s, %s promoted, %s rescoring", round_id, names, promoted, queued)
    return True


def rounds_reap() -> list[int]:
    """Send the data job again for every round whose predecessor is closed and whose data is not written."""
    waiting = Round.objects.filter(data_ready_at__isnull=True, status=RoundStatus.OPEN, number__gt=1)
    ids = list(waiting.values_list("pk", flat=True))
    for round_id in ids:
        enqueue_round_data(round_id)
    return ids

"""Writes of the ratchet that stay in its layer: the rounds' moves that need no data written (open, start
validation), the answers of validators and the statuses they derive, items recorded from a scored test-set
submission, and the gold items of a round. Closing a round spans the leaderboards, the task data and the
pipeline, so it is orchestrated above (`apps.jobs.rounds`)."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Team
from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditAction, Task, TaskDataFile
from apps.challenges.selectors import participation_of, user_is_organizer
from apps.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from apps.ratchets.decisions import DECIDED, item_decision
from apps.ratchets.models import TEST_EVALUATOR, TRAINING_EVALUATOR, Answer, Claim, Item, Ratchet, Round
from apps.ratchets.selectors import excluded_validators, ratchet_labels
from apps.submissions.models import Submission
from apps.submissions.services.dispatch import enqueue_ratchet_items, enqueue_ratchet_labels

Verdict = Answer.Verdict
RoundStatus = Round.Status
MAX_REASON = 500
GOLD_SOURCE = "train/items.csv"
GOLD_IMAGES = "train/images"


class AnswersTooFast(DomainError):
    """A validator answered faster than the ratchet's `answers_per_minute`."""


def ratchet_pairing_problems(*, training_task: Task, test_task: Task) -> list[str]:
    """Why two tasks cannot form a ratchet (empty when they can): one column of the matrix is one challenge,
    one ML task, a training-set-creation task and an adversarial-test-set task over the same labels and inputs
    (the next round's suite is the training task's recipe trained on its best training sets, and the test task's
    validated items join the training task's test data, so both must read the same items)."""
    problems = []
    if training_task.challenge_id != test_task.challenge_id:
        problems.append("A ratchet pairs two tasks of one challenge.")
    if training_task.evaluator_slug != TRAINING_EVALUATOR:
        problems.append(
            f"The training-set side must be a {TRAINING_EVALUATOR} task, not {training_task.evaluator_slug}."
        )
    if test_task.evaluator_slug != TEST_EVALUATOR:
        problems.append(f"The test-set side must be an {TEST_EVALUATOR} task, not {test_task.evaluator_slug}.")
    if training_task.ml_task != test_task.ml_task:
        problems.append(
            f"A ratchet pairs two tasks on the same ML task: {training_task.slug} is "
            f"{training_task.get_ml_task_display()}, {test_task.slug} is {test_task.get_ml_task_display()}."
        )
    for key, default in (("labels", None), ("input", "image"), ("image_size", 32)):
        mine, theirs = training_task.config.get(key, default), test_task.config.get(key, default)
        if mine != theirs:
            problems.append(f"The two tasks' {key} differ ({mine!r} and {theirs!r}): they must read the same items.")
    return problems


def ratchet_create(
    *, actor: User, training_task: Task, test_task: Task, slug: str, title: str, **settings: object
) -> Ratchet:
    """Create a ratchet over two tasks (`ratchet_pairing_problems` must find nothing) with its first round, a
    draft. `InvalidInput` with every problem otherwise."""
    require_organizer(challenge=training_task.challenge, actor=actor)
    problems = ratchet_pairing_problems(training_task=training_task, test_task=test_task)
    if Ratchet.objects.filter(
        Q(training_task__in=[training_task, test_task]) | Q(test_task__in=[training_task, test_task])
    ).exists():
        problems.append("A task belongs to at most one ratchet, and one of these already does.")
    if problems:
        raise InvalidInput(" ".join(problems))
    with transaction.atomic():
        ratchet = Ratchet.objects.create(
            challenge=training_task.challenge,
            slug=slug,
            title=title,
            training_task=training_task,
            test_task=test_task,
            **settings,
        )
        Round.objects.create(ratchet=ratchet, number=1)
    return ratchet


def round_open(*, round_: Round, actor: User) -> Round:
    """Open a draft round: the test-set task collects this round's items. Refused while another round of the
    ratchet is open or validating, and before the previous round is closed."""
    ratchet = round_.ratchet
    require_organizer(challenge=ratchet.challenge, actor=actor)
    with transaction.atomic():
        Ratchet.objects.select_for_update().get(pk=ratchet.pk)
        locked = Round.objects.get(pk=round_.pk)
        if locked.status != RoundStatus.DRAFT:
            raise InvalidInput(f"Round {locked.number} is {locked.get_status_display().lower()}: only a draft opens.")
        busy = ratchet.rounds.exclude(pk=locked.pk).filter(status__in=[RoundStatus.OPEN, RoundStatus.VALIDATING])
        other = busy.first()
        if other is not None:
            raise InvalidInput(
                f"Round {other.number} is still {other.get_status_display().lower()}: close it before opening "
                f"round {locked.number} (one round runs at a time)."
            )
        if ratchet.rounds.filter(number__lt=locked.number).exclude(status=RoundStatus.CLOSED).exists():
            raise InvalidInput(f"The rounds before round {locked.number} must be closed first.")
        locked.status, locked.opened_at = RoundStatus.OPEN, timezone.now()
        if locked.number == 1:  # the first round's data is the tasks' own
            locked.data_ready_at = locked.opened_at
            locked.training_data_version = ratchet.training_task.data_version
            locked.test_data_version = ratchet.test_task.data_version
        locked.save()
        gold_items_for_round(round_=locked)
        if locked.number == 1:  # what the test-set task collected before its ratchet existed joins round 1
            scored = Submission.objects.filter(task=ratchet.test_task, status=Submission.Status.SCORED)
            for submission_id in scored.values_list("pk", flat=True):
                enqueue_ratchet_items(submission_id)
        _audit(locked, actor, AuditAction.ROUND_OPEN, f"Opened round {locked.number} of {ratchet.title}.")
    return locked


def round_start_validation(*, round_: Round, actor: User) -> Round:
    """End a round's collection: its test-set task takes no more items for it; validation goes on."""
    ratchet = round_.ratchet
    require_organizer(challenge=ratchet.challenge, actor=actor)
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=round_.pk)
        if locked.status != RoundStatus.OPEN:
            raise InvalidInput(f"Round {locked.number} is {locked.get_status_display().lower()}, not open.")
        locked.status, locked.validating_at = RoundStatus.VALIDATING, timezone.now()
        locked.save(update_fields=["status", "validating_at"])
        _audit(locked, actor, AuditAction.ROUND_VALIDATE, f"Round {locked.number} of {ratchet.title} validates.")
    return locked


def _audit(round_: Round, actor: User, action: str, summary: str, **details: object) -> None:
    ratchet = round_.ratchet
    audit_record(
        challenge=ratchet.challenge,
        actor=actor,
        action=action,
        summary=summary,
        details={"ratchet": ratchet.slug, "round": round_.number, **details},
    )


def current_round(ratchet: Ratchet) -> Round | None:
    """The round that collects items now: the open one, else the one validating; None between rounds."""
    rounds = ratchet.rounds.filter(status__in=[RoundStatus.OPEN, RoundStatus.VALIDATING]).order_by("-number")
    return rounds.first()


@dataclass(frozen=True)
class NewItem:
    """A new item of a scored test-set submission, as the evaluator described it (`ItemVerdict`)."""

    key: str
    claimed: str
    source: str
    line: int
    predictions: dict[str, str]
    fooled: bool
    payload: bytes
    payload_type: str


def items_record(*, submission: Submission, items: list[NewItem]) -> int:
    """Record the new items of a scored submission to a ratchet's test-set task in the round that collects them
    (`current_round`), with the submission as their provenance. An item already known (same key and claimed
    label, from anyone) gains a claim and keeps its round, suite predictions and answers. Idempotent; returns
    how many claims this call added. Nothing is recorded between rounds, nor before the round's data (its suite)
    is written: the round's data job records the round's submissions again then (`jobs.rounds`)."""
    ratchet = Ratchet.objects.filter(test_task_id=submission.task_id).first()
    if ratchet is None:
        return 0
    with transaction.atomic():
        round_ = current_round(ratchet)
        if round_ is None or round_.data_ready_at is None or round_.opened_at is None:
            return 0
        if submission.created_at < round_.opened_at and round_.number > 1:
            return 0  # made for an earlier round: its items were that round's (the first takes all before it)
        return sum(_claim(ratchet, round_, submission, item) for item in items)


def _claim(ratchet: Ratchet, round_: Round, submission: Submission, new: NewItem) -> bool:
    item = Item.objects.filter(ratchet=ratchet, key=new.key, claimed_label=new.claimed).first()
    if item is None:
        item = Item(
            ratchet=ratchet,
            round=round_,
            kind=Item.Kind.NEW,
            key=new.key,
            claimed_label=new.claimed,
            predictions=new.predictions,
            fooled=new.fooled,
            payload_type=new.payload_type,
        )
        suffix = "png" if new.payload_type == "image/png" else "csv"
        item.payload.save(f"{ratchet.pk}/{new.key.removeprefix('new:')}.{suffix}", ContentFile(new.payload), save=False)
        item.save()
    _, created = Claim.objects.get_or_create(
        item=item,
        submission=submission,
        defaults={"team_id": submission.team_id, "source": new.source[:1100], "line": new.line},
    )
    return created


@dataclass(frozen=True)
class GoldCandidate:
    key: str
    label: str
    payload: bytes
    payload_type: str


def gold_items_add(*, round_: Round, candidates: list[GoldCandidate], labels: list[str], seed: int) -> int:
    """Add the round's gold items: `ratchet.gold_items` of the candidates (items whose label is known), each
    shown with its known label or, for every other one, another label, so that "correct" is not always right.
    Deterministic in `seed`; idempotent (a round that has gold items keeps them)."""
    ratchet = round_.ratchet
    if round_.items.filter(kind=Item.Kind.GOLD).exists() or not candidates:
        return 0
    rng = random.Random(seed)  # noqa: S311 - a reproducible choice, not a secret
    chosen = rng.sample(candidates, min(ratchet.gold_items, len(candidates)))
    added = 0
    with transaction.atomic():
        for index, candidate in enumerate(chosen):
            others = [label for label in labels if label != candidate.label]
            claimed = candidate.label if index % 2 == 0 or not others else rng.choice(others)
            key = f"gold:{round_.number}:{candidate.key}"
            item = Item(
                ratchet=ratchet,
                round=round_,
                kind=Item.Kind.GOLD,
                key=key,
                claimed_label=claimed,
                gold_label=candidate.label,
                payload_type=candidate.payload_type,
            )
            suffix = "png" if candidate.payload_type == "image/png" else "csv"
            item.payload.save(
                f"{ratchet.pk}/gold-{round_.number}-{index}.{suffix}", ContentFile(candidate.payload), save=False
            )
            item.save()
            added += 1
    return added


def _gold_candidates(task: Task) -> list[GoldCandidate]:
    """The test-set task's public training items (`train/items.csv` and its images): labels known and public,
    so mixing them into validation reveals nothing hidden."""
    files = {data_file.relative_path: data_file for data_file in TaskDataFile.objects.filter(task=task)}
    listing = files.get(GOLD_SOURCE)
    if listing is None:
        return []
    with listing.file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    candidates = []
    for row in rows[1:]:
        image = files.get(f"{GOLD_IMAGES}/{row[0]}.png") if len(row) >= 2 else None
        if len(row) > 2:
            payload, payload_type = ",".join(row[2:]).encode(), "text/csv"
        elif image is not None:
            with image.file.open("rb") as handle:
                payload, payload_type = bytes(handle.read()), "image/png"
        else:
            continue
        candidates.append(GoldCandidate(key=row[0], label=row[1], payload=payload, payload_type=payload_type))
    return candidates


def _earlier_gold(round_: Round) -> list[GoldCandidate]:
    """Items of earlier rounds that validation accepted and that were not promoted (so not hidden test data of
    the training-set task): their labels are known, and nothing public shows them."""
    earlier = round_.ratchet.items.filter(
        kind=Item.Kind.NEW, status=Item.Status.ACCEPTED, round__number__lt=round_.number, promotion__isnull=True
    )
    candidates = []
    for item in earlier.order_by("pk"):
        with item.payload.open("rb") as handle:
            payload = bytes(handle.read())
        candidates.append(GoldCandidate(item.key, item.claimed_label, payload, item.payload_type))
    return candidates


def gold_items_for_round(*, round_: Round) -> int:
    """Give a round its gold items (`gold_items_add`): earlier rounds' accepted items when there are enough
    (`_earlier_gold`), else the test-set task's public training items (`_gold_candidates`; a validator who
    recognises a public image could answer from its file: see docs/ratchet.md)."""
    ratchet = round_.ratchet
    candidates = _earlier_gold(round_)
    if len(candidates) < ratchet.gold_items:
        candidates += _gold_candidates(ratchet.test_task)
    labels = ratchet_labels(ratchet=ratchet)
    return gold_items_add(round_=round_, candidates=candidates, labels=labels, seed=ratchet.pk * 1000 + round_.number)


def _validator_team(ratchet: Ratchet, user: User) -> Team | None:
    """The team through which the user may validate (an approved participant), None for an organizer who does
    not compete; `Forbidden` for anyone else."""
    participation = participation_of(challenge=ratchet.challenge, user=user)
    if participation is not None and participation.status == participation.Status.APPROVED:
        return participation.team
    if user_is_organizer(challenge=ratchet.challenge, user=user):
        return None
    raise Forbidden("Only registered participants and the organizers validate this challenge's items.")


def _check_answer(item: Item, user: User, team: Team | None, organizer: bool) -> None:
    if item.round.status == RoundStatus.CLOSED:
        raise InvalidInput(f"Round {item.round.number} is closed: its items take no more answers.")
    if team is not None and item.claims.filter(team=team).exists():
        raise Forbidden("This item comes from your own team: other teams validate it.")
    if item.answers.filter(user=user).exists():
        raise InvalidInput("You have already answered this item.")
    if item.kind != Item.Kind.GOLD and item.status in DECIDED and not organizer:
        raise InvalidInput(f"This item is already decided ({item.get_status_display().lower()}); nothing changed.")


def _check_rate(ratchet: Ratchet, user: User) -> None:
    since = timezone.now() - timedelta(minutes=1)
    recent = Answer.objects.filter(user=user, item__ratchet=ratchet, created_at__gte=since).count()
    if recent >= ratchet.answers_per_minute:
        raise AnswersTooFast(
            f"At most {ratchet.answers_per_minute} answers a minute: wait a moment before the next one."
        )


def _clean_answer(item: Item, verdict: str, label: str, reason: str, labels: list[str]) -> tuple[str, str]:
    label, reason = label.strip(), " ".join(reason.split())
    if verdict not in Verdict.values:
        raise InvalidInput(f"Unknown answer {verdict!r}: answer correct, incorrect or flag.")
    if verdict == Verdict.INCORRECT:
        if label not in labels:
            raise InvalidInput(f"An 'incorrect' answer gives the right label, one of: {', '.join(labels)}.")
        if label == item.claimed_label:
            raise InvalidInput("The right label you give is the claimed one: answer 'correct' instead.")
        return label, ""
    if verdict == Verdict.FLAG:
        if not reason:
            raise InvalidInput("A flag needs a reason (e.g. not a numeral, offensive, a copy of a pool image).")
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"A flag's reason is at most {MAX_REASON} characters.")
        return "", reason
    return "", ""


def answer_record(
    *, item_id: int, ratchet: Ratchet, user: User, verdict: str, label: str = "", reason: str = ""
) -> Item:
    """Record one validator's answer on an item of this ratchet and return the item with its derived status.

    Refused (nothing changes): an item of another ratchet or unknown (`NotFound`), a user who may not validate
    or who validates their own team's item (`Forbidden`), a second answer, an item already decided (unless an
    organizer answers: theirs is final), a closed round, a malformed answer (`InvalidInput`), answers faster
    than the ratchet allows (`AnswersTooFast`)."""
    team = _validator_team(ratchet, user)
    organizer = user_is_organizer(challenge=ratchet.challenge, user=user)
    with transaction.atomic():
        item = Item.objects.select_for_update().select_related("round").filter(pk=item_id, ratchet=ratchet).first()
        if item is None:
            raise NotFound("No such item to validate.")
        _check_answer(item, user, team, organizer)
        _check_rate(ratchet, user)
        label, reason = _clean_answer(item, verdict, label, reason, ratchet_labels(ratchet=ratchet))
        try:
            with transaction.atomic():
                Answer.objects.create(
                    item=item, user=user, verdict=verdict, label=label, reason=reason, is_organizer=organizer
                )
        except IntegrityError as exc:  # a concurrent request of the same user won
            raise InvalidInput("You have already answered this item.") from exc
        if item.kind != Item.Kind.GOLD:
            before = item.status
            item_refresh(item=item)
            if item.status != before and (item.status in DECIDED or before in DECIDED):
                enqueue_ratchet_labels(ratchet.pk)  # the item now scores (or no longer does)
    return item


def item_refresh(*, item: Item) -> Item:
    """Derive the item's status and decided label from its answers now (`decisions.item_decision`), and store
    them. Call it with the item locked, or from the round close."""
    ratchet = item.ratchet
    answers = list(item.answers.order_by("created_at", "pk"))
    excluded = excluded_validators(ratchet=ratchet, users={answer.user_id for answer in answers})
    decision = item_decision(
        ratchet, claimed=item.claimed_label, answers=answers, excluded=excluded, dropped=item.round.dropped_pending
    )
    if (decision.status, decision.label) != (item.status, item.decided_label):
        item.status, item.decided_label = decision.status, decision.label
        item.decided_at = timezone.now() if decision.status in DECIDED else None
        item.save(update_fields=["status", "decided_label", "decided_at"])
    return item

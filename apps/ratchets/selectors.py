"""Reads of the ratchet, with their access rules: a challenge's ratchets and rounds, the next item a validator
sees, the organizers' queue, validators' standing, and each round's figures (derived from rows every time)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.files import FieldFile
from PIL import Image

from apps.challenges.models import Challenge, TaskDataFile
from apps.challenges.selectors import participation_of, tasks_visible, user_is_organizer
from apps.core.errors import NotFound
from apps.core.users import AnyUser
from apps.leaderboards.selectors import split_visible
from apps.ratchets.decisions import DECIDED, GoldRecord, gold_records, validator_excluded
from apps.ratchets.models import Answer, Item, Promotion, Ratchet, Round, Standing
from apps.submissions.models import Score
from evaluators.adversarial_test_set.config import AdversarialConfig

RoundStatus = Round.Status
LIVE_ROUNDS = (RoundStatus.OPEN, RoundStatus.VALIDATING)
GOLD_EVERY = 3
"""About one item in three a validator is served is a gold item (`_gold_turn`), while the round has gold items they
have not answered; every item is, once nothing else is left."""
QUEUE_WINDOW = 50


def ratchets_of_challenge(*, challenge: Challenge, user: AnyUser) -> QuerySet[Ratchet]:
    """The challenge's ratchets whose two tasks the user may see (an unpublished task hides its ratchet), with
    their tasks (the caller checked that the user may see the challenge)."""
    visible = tasks_visible(challenge=challenge, user=user)
    ratchets = challenge.ratchets.filter(training_task__in=visible, test_task__in=visible)
    return ratchets.select_related("training_task", "test_task").order_by("slug")


def ratchet_get(*, challenge: Challenge, slug: str, user: AnyUser) -> Ratchet:
    """One ratchet of a challenge the caller may see, whose two tasks the user may see too; `NotFound`
    otherwise."""
    ratchet = ratchets_of_challenge(challenge=challenge, user=user).filter(slug=slug).first()
    if ratchet is None:
        raise NotFound("No such ratchet in this challenge.")
    ratchet.challenge = challenge
    return ratchet


def ratchet_of_task_id(task_id: int) -> Ratchet | None:
    """The ratchet a task belongs to (as its training-set or its test-set task), if any."""
    return Ratchet.objects.filter(Q(training_task_id=task_id) | Q(test_task_id=task_id)).first()


def is_ratchet_test_task(*, task_id: int) -> bool:
    return Ratchet.objects.filter(test_task_id=task_id).exists()


def _gold_rows(ratchet: Ratchet, users: set[int] | None) -> list[tuple[int, str, str, str, str]]:
    answers = Answer.objects.filter(item__ratchet=ratchet, item__kind=Item.Kind.GOLD, is_organizer=False)
    if users is not None:
        answers = answers.filter(user_id__in=users)
    fields = ("user_id", "item__claimed_label", "item__gold_label", "verdict", "label")
    return list(answers.values_list(*fields))


def gold_record_of(*, ratchet: Ratchet, user_id: int) -> GoldRecord | None:
    return gold_records(_gold_rows(ratchet, {user_id})).get(user_id)


def excluded_validators(*, ratchet: Ratchet, users: set[int]) -> set[int]:
    """Of these users, those whose answers are left out for their accuracy on gold items."""
    records = gold_records(_gold_rows(ratchet, users))
    return {user_id for user_id, record in records.items() if validator_excluded(ratchet, record)}


def _validator_team_id(ratchet: Ratchet, user: AnyUser) -> int | None:
    participation = participation_of(challenge=ratchet.challenge, user=user)
    if participation is not None and participation.status == participation.Status.APPROVED:
        return participation.team_id
    return None


def may_validate(*, ratchet: Ratchet, user: AnyUser) -> bool:
    """Approved participants of the challenge and its organizers validate."""
    if not user.is_authenticated:
        return False
    return _validator_team_id(ratchet, user) is not None or user_is_organizer(challenge=ratchet.challenge, user=user)


def _open_items(ratchet: Ratchet, user: User) -> QuerySet[Item]:
    """Items of live rounds this user may still answer: not their team's, not answered by them."""
    items = Item.objects.filter(ratchet=ratchet, round__status__in=LIVE_ROUNDS).exclude(answers__user_id=user.pk)
    team_id = _validator_team_id(ratchet, user)
    if team_id is not None:
        items = items.exclude(claims__team_id=team_id)
    return items


def _spread(user_id: int, item_id: int) -> str:
    """A per-validator random order of items (stable, so that a reload shows the same item)."""
    return hashlib.sha256(f"{user_id}:{item_id}".encode()).hexdigest()


def _gold_turn(user_id: int, answered: int) -> bool:
    """Whether the validator's next item is a gold item: one time in `GOLD_EVERY` on average, decided by a keyed
    hash of who they are and how many answers they gave, stable on reload and unpredictable without the site's
    secret (a fixed cadence would tell them, from the count the page shows, which item is gold)."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"ratchet-gold:{user_id}:{answered}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % GOLD_EVERY == 0


def next_item(*, ratchet: Ratchet, user: User) -> Item | None:
    """The next item this validator should answer, or None when nothing is left. Items that fool the suite come
    first, then those with the fewest answers, then a per-validator random order; about one item in `GOLD_EVERY`
    (`_gold_turn`), and every item once no other is left, is a gold item while the validator has gold items left.
    An item already decided or disputed is not served (disputed items wait for the organizers). Gold items count
    in `validation_progress` like the others, so nothing a validator sees tells them apart."""
    items = _open_items(ratchet, user)
    answered = Answer.objects.filter(user_id=user.pk, item__ratchet=ratchet).count()
    regular = _regular_window(items)
    if _gold_turn(user.pk, answered) or not regular:
        gold = list(items.filter(kind=Item.Kind.GOLD).select_related("round")[:QUEUE_WINDOW])
        if gold:
            return min(gold, key=lambda item: _spread(user.pk, item.pk))
    if not regular:
        return None
    first = regular[0][1]
    ties = [item for item, place in regular if place == first]
    return min(ties, key=lambda item: _spread(user.pk, item.pk))


def _regular_window(items: QuerySet[Item]) -> list[tuple[Item, tuple[bool, int]]]:
    """The first pending new items in queue order, each with its place (fooled, answers so far)."""
    pending = items.filter(kind=Item.Kind.NEW, status=Item.Status.PENDING).annotate(answer_count=Count("answers"))
    window = pending.order_by("-fooled", "answer_count", "pk").select_related("round")[:QUEUE_WINDOW]
    return [(item, (item.fooled, item.answer_count)) for item in window]


def validation_progress(*, ratchet: Ratchet, user: User) -> dict[str, int]:
    """What a validator has done and what is left for them: answers given, items they may still answer (gold
    items included: `next_item` serves every one of them)."""
    answered = Answer.objects.filter(user_id=user.pk, item__ratchet=ratchet).count()
    open_items = _open_items(ratchet, user)
    left = open_items.filter(Q(kind=Item.Kind.GOLD) | Q(kind=Item.Kind.NEW, status=Item.Status.PENDING)).count()
    return {"answered": answered, "left": left}


def organizer_queue(*, ratchet: Ratchet) -> QuerySet[Item]:
    """Items waiting for an organizer: disputed, or flagged by someone, and not yet answered by an organizer.
    The caller checked that the user organizes the challenge."""
    flagged = Q(answers__verdict=Answer.Verdict.FLAG)
    waiting = Item.objects.filter(ratchet=ratchet, round__status__in=LIVE_ROUNDS).exclude(kind=Item.Kind.GOLD)
    waiting = waiting.filter(Q(status=Item.Status.DISPUTED) | flagged).exclude(answers__is_organizer=True)
    return waiting.distinct().select_related("round").order_by("round__number", "pk")


@dataclass(frozen=True)
class ValidatorRow:
    user: str
    answers: int
    decided: int
    agreed: int
    gold_answered: int
    gold_right: int
    excluded: bool

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.decided if self.decided else None

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_right / self.gold_answered if self.gold_answered else None


def _agrees(verdict: str, label: str, item_status: str, decided_label: str, claimed: str) -> bool:
    if item_status == Item.Status.ACCEPTED:
        return verdict == Answer.Verdict.CORRECT
    return verdict != Answer.Verdict.CORRECT and (
        verdict == Answer.Verdict.FLAG or label == decided_label or not decided_label
    )


def validators_board(*, ratchet: Ratchet) -> list[ValidatorRow]:
    """Every validator of the ratchet (organizers left out): answers given, how many of their answers on decided
    items agree with the decision, their gold record, whether their answers are left out. Most answers first."""
    answers = Answer.objects.filter(item__ratchet=ratchet, is_organizer=False).values_list(
        "user_id",
        "user__username",
        "verdict",
        "label",
        "item__kind",
        "item__status",
        "item__decided_label",
        "item__claimed_label",
    )
    names: dict[int, str] = {}
    counts: Counter[int] = Counter()
    decided: Counter[int] = Counter()
    agreed: Counter[int] = Counter()
    for user_id, name, verdict, label, kind, status, decided_label, claimed in answers:
        names[user_id] = name
        counts[user_id] += 1
        if kind != Item.Kind.GOLD and status in DECIDED:
            decided[user_id] += 1
            agreed[user_id] += _agrees(verdict, label, status, decided_label, claimed)
    records = gold_records(_gold_rows(ratchet, None))
    rows = [
        ValidatorRow(
            user=names[user_id],
            answers=counts[user_id],
            decided=decided[user_id],
            agreed=agreed[user_id],
            gold_answered=records[user_id].answered if user_id in records else 0,
            gold_right=records[user_id].right if user_id in records else 0,
            excluded=validator_excluded(ratchet, records.get(user_id)),
        )
        for user_id in counts
    ]
    return sorted(rows, key=lambda row: (-row.answers, row.user))


@dataclass
class RoundFigures:
    """One round's figures, all counted from rows."""

    number: int
    status: str
    collected: int = 0
    fooled: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    validated_fooled: int = 0
    suite_accuracy: float | None = None
    promoted: int = 0
    gold: int = 0

    @property
    def model_error_rate(self) -> float | None:
        """Dynabench's MER: the share of the round's collected items that fooled the suite."""
        return self.fooled / self.collected if self.collected else None

    @property
    def validated_model_error_rate(self) -> float | None:
        """Dynabench's vMER: the share of the round's validated (accepted) items that fooled the suite."""
        accepted = self.statuses.get(Item.Status.ACCEPTED, 0)
        return self.validated_fooled / accepted if accepted else None


def _suite_accuracy(items: list[Item]) -> float | None:
    """The share of right predictions of the round's suite on its accepted items (every model, every item)."""
    right = total = 0
    for item in items:
        for predicted in item.predictions.values():
            total += 1
            right += predicted == item.claimed_label
    return right / total if total else None


def round_figures(*, round_: Round) -> RoundFigures:
    items = list(round_.items.all())
    regular = [item for item in items if item.kind == Item.Kind.NEW]
    accepted = [item for item in regular if item.status == Item.Status.ACCEPTED]
    return RoundFigures(
        number=round_.number,
        status=round_.status,
        collected=len(regular),
        fooled=sum(item.fooled for item in regular),
        statuses=dict(Counter(item.status for item in regular)),
        validated_fooled=sum(item.fooled for item in accepted),
        suite_accuracy=_suite_accuracy(accepted),
        promoted=Promotion.objects.filter(item__round=round_).count(),
        gold=len(items) - len(regular),
    )


def test_data_makeup(*, ratchet: Ratchet) -> dict[int, int]:
    """How many promoted items each round's test data of the training-set task holds, by the round that
    promoted them (round number -> count, cumulative data = seed + every earlier round's)."""
    rows = Promotion.objects.filter(round__ratchet=ratchet).values_list("round__number").annotate(n=Count("pk"))
    return dict(rows)


def rounds_of(*, ratchet: Ratchet) -> QuerySet[Round]:
    return ratchet.rounds.prefetch_related("suite_models__team").order_by("number")


def item_payload_visible(*, item: Item, user: AnyUser) -> bool:
    """Whether the user may see an item's image or features: a validator while its round is live, or an
    organizer. Participants never see other teams' items otherwise."""
    if user_is_organizer(challenge=item.ratchet.challenge, user=user):
        return True
    if item.round.status not in LIVE_ROUNDS or not may_validate(ratchet=item.ratchet, user=user):
        return False
    team_id = _validator_team_id(item.ratchet, user)
    return team_id is None or not item.claims.filter(team_id=team_id).exists()


SEED_FILE = "test/items.csv"


def seed_item_count(*, ratchet: Ratchet) -> int | None:
    """How many test items the training-set task started with: its seed list once kept (first close), its own
    test list before (None when it has none)."""
    stored: FieldFile | None = ratchet.seed_test_items or None
    if stored is None:
        data_file = TaskDataFile.objects.filter(task_id=ratchet.training_task_id, relative_path=SEED_FILE).first()
        stored = data_file.file if data_file is not None else None
    if stored is None:
        return None
    with stored.open("rb") as handle:
        rows = [row for row in csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))) if row]
    return max(0, len(rows) - 1)  # less the header


def item_get(*, ratchet: Ratchet, item_id: int) -> Item:
    """One item of the ratchet, with its round; `NotFound` otherwise (the caller checks what the user may see)."""
    item = Item.objects.select_related("round").filter(pk=item_id, ratchet=ratchet).first()
    if item is None:
        raise NotFound("No such item.")
    item.ratchet = ratchet
    return item


def ratchet_labels(*, ratchet: Ratchet) -> list[str]:
    """The labels a validator chooses from: the test-set task's, as the answer service checks them."""
    return [str(label) for label in ratchet.test_task.config.get("labels", [])]


def reference_models(*, ratchet: Ratchet) -> list[str]:
    """The test-set task's fixed reference models (its config's `models`, defaults filled in)."""
    return list(AdversarialConfig.from_mapping(ratchet.test_task.config).models)


def round_get(*, ratchet: Ratchet, number: int) -> Round:
    """One round of the ratchet, with its suite; `NotFound` otherwise."""
    round_ = rounds_of(ratchet=ratchet).filter(number=number).first()
    if round_ is None:
        raise NotFound(f"No round {number} in this ratchet.")
    return round_


SPLIT_ORDER: dict[str, int] = {Score.Split.PUBLIC: 0, Score.Split.PRIVATE: 1, Score.Split.CONCEALED: 2}


def round_standings_visible(*, round_: Round, user: AnyUser) -> list[Standing]:
    """The round's frozen boards of the splits the user may see now (a private board stays hidden as the live one
    is: until the challenge ends or the organizers reveal it), tasks, divisions and splits in the boards' order."""
    frozen = round_.standings.select_related("task__challenge", "division")
    visible = [s for s in frozen if split_visible(task=s.task, split=s.split, user=user)]
    visible.sort(key=lambda s: (s.task.order, s.task.slug, s.division.order, s.division.slug, SPLIT_ORDER[s.split]))
    return visible


PAYLOAD_TYPES: dict[str, tuple[str, str]] = {
    "image/png": ("image/png", "png"),
    "text/csv": ("text/csv; charset=utf-8", "csv"),
}
"""The payloads an item may hold: the Content-Type each is served with and its file suffix (nothing else)."""


@dataclass(frozen=True)
class Payload:
    content: bytes
    content_type: str
    filename: str


def _served_bytes(item: Item) -> bytes:
    """The payload as served: images decoded and encoded again by one encoder, without metadata, so that no
    byte of the file (its encoder, chunks, compression) tells a gold item from a participant's drawing."""
    with item.payload.open("rb") as handle:
        data = bytes(handle.read())
    if item.payload_type != "image/png":
        return data
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        image.load()
        out = io.BytesIO()
        image.save(out, format="PNG")
    return out.getvalue()


def item_payload_for(*, ratchet: Ratchet, item_id: int, user: AnyUser) -> Payload:
    """An item's image or features for this user (`item_payload_visible`), named by the item's id (its stored
    name would tell a gold item from a new one); `NotFound` for anyone else or an item with nothing to show."""
    item = item_get(ratchet=ratchet, item_id=item_id)
    if not item_payload_visible(item=item, user=user):
        raise NotFound("No such item.")
    if not item.payload or item.payload_type not in PAYLOAD_TYPES:
        raise NotFound("This item has nothing to show.")
    content_type, suffix = PAYLOAD_TYPES[item.payload_type]
    return Payload(_served_bytes(item), content_type, f"item-{item.pk}.{suffix}")

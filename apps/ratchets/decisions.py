"""How validation decides: a validator's standing from their gold answers, and an item's status from the answers
that count. Pure functions over rows already read, so that the answer service (one item, under its lock), the
round close (every item of a round) and the pages (counts) apply one rule.

The rule (a ratchet's settings k = `answers_to_decide`, k_max = `answers_max`):

* An organizer's answer is final: "correct" accepts the claimed label, "incorrect" rejects it for the label the
  organizer gives, a flag rejects it with no label of the task.
* Otherwise only counted answers decide: those of validators in good standing (`validator_excluded`).
  k "correct" answers accept; k answers that are "incorrect" or flags reject (the decided label is the one most
  "incorrect" answers give, when one label leads, else none); an item with k_max counted answers and neither is
  disputed, and waits for an organizer, as does any item someone flagged.
* A round closed with its validation unfinished (`Round.dropped_pending`) drops its undecided items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from apps.ratchets.models import Answer, Item, Ratchet

Verdict = Answer.Verdict
Status = Item.Status
DECIDED = (Status.ACCEPTED, Status.REJECTED)


@dataclass(frozen=True)
class GoldRecord:
    """A validator's answers on gold items."""

    answered: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.answered if self.answered else None


def gold_answer_right(*, claimed: str, gold_label: str, verdict: str, label: str) -> bool:
    """Whether an answer on a gold item is right: "correct" when the claim is the known label; "incorrect" with the
    known label when it is not. A flag is never right: gold items are plain, valid items."""
    if claimed == gold_label:
        return verdict == Verdict.CORRECT
    return verdict == Verdict.INCORRECT and label == gold_label


def gold_records(rows: Iterable[tuple[int, str, str, str, str]]) -> dict[int, GoldRecord]:
    """Each validator's gold record from (user id, claimed, gold label, verdict, label) of their gold answers."""
    answered: Counter[int] = Counter()
    right: Counter[int] = Counter()
    for user_id, claimed, gold_label, verdict, label in rows:
        answered[user_id] += 1
        right[user_id] += gold_answer_right(claimed=claimed, gold_label=gold_label, verdict=verdict, label=label)
    return {user_id: GoldRecord(answered[user_id], right[user_id]) for user_id in answered}


def validator_excluded(ratchet: Ratchet, record: GoldRecord | None) -> bool:
    """Whether a validator's answers are left out: judged (at least `gold_min_answers` gold answers) and below
    `gold_min_accuracy`. Until judged, answers count."""
    if record is None or record.answered < ratchet.gold_min_answers:
        return False
    accuracy = record.accuracy
    return accuracy is not None and accuracy < ratchet.gold_min_accuracy


@dataclass(frozen=True)
class Decision:
    status: str
    label: str
    needs_organizer: bool


def _organizer_decision(answer: Answer, claimed: str) -> Decision:
    if answer.verdict == Verdict.CORRECT:
        return Decision(Status.ACCEPTED, claimed, False)
    label = answer.label if answer.verdict == Verdict.INCORRECT else ""
    return Decision(Status.REJECTED, label, False)


def _leading_label(answers: Sequence[Answer]) -> str:
    counts = Counter(answer.label for answer in answers if answer.verdict == Verdict.INCORRECT).most_common(2)
    if not counts or (len(counts) == 2 and counts[0][1] == counts[1][1]):
        return ""
    return counts[0][0]


def item_decision(
    ratchet: Ratchet, *, claimed: str, answers: Sequence[Answer], excluded: set[int], dropped: bool = False
) -> Decision:
    """The status and decided label of a (non-gold) item from its answers, oldest first (module docstring)."""
    organizer = [answer for answer in answers if answer.is_organizer]
    if organizer:
        return _organizer_decision(organizer[-1], claimed)
    counted = [answer for answer in answers if answer.user_id not in excluded]
    flagged = any(answer.verdict == Verdict.FLAG for answer in answers)
    correct = sum(answer.verdict == Verdict.CORRECT for answer in counted)
    if correct >= ratchet.answers_to_decide:
        return Decision(Status.ACCEPTED, claimed, flagged)
    if len(counted) - correct >= ratchet.answers_to_decide:
        return Decision(Status.REJECTED, _leading_label(counted), flagged)
    if dropped:
        return Decision(Status.DROPPED, "", False)
    if len(counted) >= ratchet.answers_max:
        return Decision(Status.DISPUTED, "", True)
    return Decision(Status.PENDING, "", flagged)

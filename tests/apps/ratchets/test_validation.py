"""Human validation: who may answer, what an answer may say, how answers decide an item (k, k_max, organizers,
gold checks), and the refusals that change nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.auth.models import User

from apps.challenges.models import Challenge
from apps.challenges.services import participation_register
from apps.core.errors import Forbidden, InvalidInput, NotFound
from apps.divisions.models import Division
from apps.ratchets import selectors
from apps.ratchets.decisions import gold_answer_right
from apps.ratchets.models import Answer, Item, Ratchet, Round
from apps.ratchets.selectors import excluded_validators, next_item, organizer_queue, validators_board
from apps.ratchets.services import AnswersTooFast, answer_record
from tests.apps.conftest import RecordingBroker, make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round
from tests.conftest import make_user

Verdict = Answer.Verdict
Status = Item.Status


@pytest.fixture
def ratchet(challenge: Challenge) -> Ratchet:
    return make_ratchet(challenge)


@pytest.fixture
def round_(ratchet: Ratchet) -> Round:
    return make_round(ratchet)


def validator(challenge: Challenge, name: str) -> User:
    user = make_user(name)
    participation_register(challenge=challenge, user=user, accept_rules=True)
    return user


@pytest.fixture
def maker_item(ratchet: Ratchet, round_: Round, registered: User, open_division: Division) -> Item:
    """A pending item made by `registered` (alice)'s team."""
    submission = make_scored_submission(task=ratchet.test_task, division=open_division, user=registered, primary=1.0)
    return make_item(round_, submission, claimed="iv")


def give(item: Item, user: User, verdict: str = Verdict.CORRECT, label: str = "", reason: str = "") -> Item:
    return answer_record(item_id=item.pk, ratchet=item.ratchet, user=user, verdict=verdict, label=label, reason=reason)


def test_k_matching_answers_accept_and_ask_for_the_labels_file(
    challenge: Challenge, maker_item: Item, broker: RecordingBroker, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = validator(challenge, "v1"), validator(challenge, "v2")
    with django_capture_on_commit_callbacks(execute=True):
        assert give(maker_item, first).status == Status.PENDING
    assert broker.ids("dataperf.ratchet_write_labels") == []
    with django_capture_on_commit_callbacks(execute=True):
        assert give(maker_item, second).status == Status.ACCEPTED
    maker_item.refresh_from_db()
    assert (maker_item.status, maker_item.decided_label) == (Status.ACCEPTED, "iv")
    assert broker.ids("dataperf.ratchet_write_labels") == [maker_item.ratchet_id]


def test_k_incorrect_or_flag_answers_reject_with_the_leading_label(challenge: Challenge, maker_item: Item) -> None:
    give(maker_item, validator(challenge, "v1"), Verdict.INCORRECT, label="vi")
    item = give(maker_item, validator(challenge, "v2"), Verdict.FLAG, reason="looks like a six")
    assert (item.status, item.decided_label) == (Status.REJECTED, "vi")


def test_disagreement_stays_open_until_k_max_then_waits_for_an_organizer(
    challenge: Challenge, ratchet: Ratchet, maker_item: Item, organizer: User
) -> None:
    Ratchet.objects.filter(pk=ratchet.pk).update(answers_to_decide=3, answers_max=4)
    maker_item.ratchet.refresh_from_db()
    verdicts = [Verdict.CORRECT, Verdict.INCORRECT, Verdict.CORRECT, Verdict.INCORRECT]
    validators = [validator(challenge, f"v{index}") for index in range(len(verdicts))]
    for user, verdict in zip(validators, verdicts, strict=True):
        item = give(maker_item, user, verdict, label="vi" if verdict != "correct" else "")
    assert item.status == Status.DISPUTED
    assert list(organizer_queue(ratchet=ratchet)) == [maker_item]
    with pytest.raises(InvalidInput, match="already answered"):
        give(maker_item, validators[0])
    final = give(maker_item, organizer, Verdict.INCORRECT, label="vii")
    assert (final.status, final.decided_label) == (Status.REJECTED, "vii")
    assert list(organizer_queue(ratchet=ratchet)) == []


def test_an_organizer_answer_is_final_even_on_a_decided_item(
    challenge: Challenge, maker_item: Item, organizer: User
) -> None:
    give(maker_item, validator(challenge, "v1"))
    give(maker_item, validator(challenge, "v2"))
    item = give(maker_item, organizer, Verdict.FLAG, reason="a copy of a pool image")
    assert (item.status, item.decided_label) == (Status.REJECTED, "")


def test_refusals_change_nothing(challenge: Challenge, maker_item: Item, registered: User) -> None:
    outsider = make_user("mallory")
    cases = [
        (registered, Verdict.CORRECT, "", "", Forbidden, "your own team"),
        (outsider, Verdict.CORRECT, "", "", Forbidden, "registered participants"),
        (validator(challenge, "v1"), "maybe", "", "", InvalidInput, "Unknown answer"),
        (validator(challenge, "v2"), Verdict.INCORRECT, "xi", "", InvalidInput, "right label"),
        (validator(challenge, "v3"), Verdict.INCORRECT, "iv", "", InvalidInput, "claimed one"),
        (validator(challenge, "v4"), Verdict.FLAG, "", "   ", InvalidInput, "needs a reason"),
    ]
    for user, verdict, label, reason, error, message in cases:
        with pytest.raises(error, match=message):
            give(maker_item, user, verdict, label, reason)
    assert maker_item.answers.count() == 0
    with pytest.raises(NotFound):
        answer_record(item_id=10**9, ratchet=maker_item.ratchet, user=validator(challenge, "v5"), verdict="correct")


def test_a_decided_item_refuses_more_answers_with_a_clear_message(challenge: Challenge, maker_item: Item) -> None:
    give(maker_item, validator(challenge, "v1"))
    give(maker_item, validator(challenge, "v2"))
    with pytest.raises(InvalidInput, match="already decided"):
        give(maker_item, validator(challenge, "v3"), Verdict.INCORRECT, label="v")
    assert maker_item.answers.count() == 2


def test_a_closed_round_takes_no_answers(challenge: Challenge, maker_item: Item) -> None:
    Round.objects.filter(pk=maker_item.round_id).update(status=Round.Status.CLOSED)
    with pytest.raises(InvalidInput, match="closed"):
        give(maker_item, validator(challenge, "v1"))


def test_answers_are_rate_limited(challenge: Challenge, ratchet: Ratchet, round_: Round, maker_item: Item) -> None:
    Ratchet.objects.filter(pk=ratchet.pk).update(answers_per_minute=2)
    ratchet.refresh_from_db()
    busy = validator(challenge, "busy")
    items = [maker_item, make_item(round_, maker_item.claims.get().submission), make_item(round_, None)]
    give(items[0], busy)
    give(items[1], busy)
    with pytest.raises(AnswersTooFast, match="At most 2 answers a minute"):
        give(items[2], busy)


def test_a_validator_failing_the_gold_check_is_left_out(
    challenge: Challenge, ratchet: Ratchet, round_: Round, maker_item: Item
) -> None:
    careless, careful, third = (
        validator(challenge, "careless"),
        validator(challenge, "careful"),
        validator(challenge, "third"),
    )
    golds = [make_item(round_, claimed="v", gold_label="v") for _ in range(3)]
    for gold in golds:  # says "incorrect" to items whose claim is right: 0 of 3
        give(gold, careless, Verdict.INCORRECT, label="x")
    assert excluded_validators(ratchet=ratchet, users={careless.pk, careful.pk}) == {careless.pk}
    give(maker_item, careless)
    assert give(maker_item, careful).status == Status.PENDING  # the careless answer does not count
    assert give(maker_item, third).status == Status.ACCEPTED
    rows = {row.user: row for row in validators_board(ratchet=ratchet)}
    assert rows["careless"].excluded and rows["careless"].gold_accuracy == 0.0
    assert not rows["careful"].excluded and rows["careful"].agreement == 1.0


def test_gold_turns_come_about_one_in_three_and_do_not_follow_the_count() -> None:
    turns = [selectors._gold_turn(7, answered) for answered in range(300)]
    assert 70 <= sum(turns) <= 130
    assert turns[2::3] != [True] * 100  # not a fixed cadence the page's count would give away


@pytest.mark.parametrize(
    ("claimed", "verdict", "label", "right"),
    [
        ("v", "correct", "", True),
        ("v", "incorrect", "x", False),
        ("x", "incorrect", "v", True),
        ("x", "incorrect", "ix", False),
        ("x", "correct", "", False),
        ("v", "flag", "", False),
    ],
)
def test_gold_answers_are_right_when_they_match_the_known_label(
    claimed: str, verdict: str, label: str, right: bool
) -> None:
    assert gold_answer_right(claimed=claimed, gold_label="v", verdict=verdict, label=label) is right


def test_queue_serves_fooling_items_first_then_fewest_answers_and_gold_when_its_turn_comes(
    challenge: Challenge, round_: Round, maker_item: Item, monkeypatch: pytest.MonkeyPatch
) -> None:
    submission = maker_item.claims.get().submission
    plain = make_item(round_, submission, fooled=False)
    gold = make_item(round_, claimed="v", gold_label="v")
    me = validator(challenge, "me")
    give(maker_item, validator(challenge, "other"))
    turns = itertools.chain([False, True], itertools.repeat(False))  # the keyed hash's decisions, one per item
    monkeypatch.setattr(selectors, "_gold_turn", lambda user_id, answered: next(turns))
    served = []
    for _ in range(3):
        item = next_item(ratchet=round_.ratchet, user=me)
        assert item is not None
        served.append(item.pk)
        give(item, me)
    assert served == [maker_item.pk, gold.pk, plain.pk]
    assert next_item(ratchet=round_.ratchet, user=me) is None

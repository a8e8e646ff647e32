"""The ratchet in the API: a challenge's ratchets and their rounds (figures, suite with provenance, test data
make-up), a closed round's frozen standings (only the splits the caller may see), and validation (the next item,
its payload, an answer) with every refusal in the API's one error shape. Nothing says which items are gold."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.challenges.models import Challenge
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.ratchets import selectors as ratchet_selectors
from apps.ratchets.models import Answer, Item, Promotion, Ratchet, Round, Standing, SuiteModel
from tests.apps.conftest import make_scored_submission, team_of
from tests.apps.ratchets.factories import LABELS, answer, make_item, make_ratchet, make_round, png
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PRIVATE_MARKER = 0.123456789
"""The private standing's only score: it must never reach a participant during the challenge."""
ITEM_KEYS = {"id", "round", "claimed_label", "payload_type", "payload_url"}


@pytest.fixture(autouse=True)
def _gold_only_when_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyed hash that decides gold turns depends on user ids, which differ from run to run: here a gold item
    is served when no other is left, so that what each test is served is fixed."""
    monkeypatch.setattr(ratchet_selectors, "_gold_turn", lambda user_id, answered: False)


@dataclass
class Column:
    """A ratchet with a closed round 1 (one item accepted and promoted, one rejected, frozen standings) and an
    open round 2 (an item of Alice's team, two of Bob's, a gold item); a suite model trained on Alice's set."""

    challenge: Challenge
    ratchet: Ratchet
    closed: Round
    open: Round
    alice_item: Item
    bob_items: list[Item]
    gold: Item
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.tokens[role]}")
        return client

    def url(self, tail: str = "") -> str:
        return f"/api/v1/challenges/{self.challenge.slug}/ratchets/{self.ratchet.slug}/{tail}"


def _board(split: str, primary: float) -> dict[str, Any]:
    row = {"rank": 1, "team": "alice", "label": "alice", "primary": primary, "is_baseline": False, "metrics": {}}
    return {"challenge": "speech-challenge", "task": "roman-training", "split": split, "version": 3, "rows": [row]}


def _freeze(round_: Round, ratchet: Ratchet, division: Division) -> None:
    for split, primary in (("public", 0.75), ("private", PRIVATE_MARKER)):
        Standing.objects.create(
            round=round_,
            task=ratchet.training_task,
            division=division,
            split=split,
            document=_board(split, primary),
            data_version=2,
            frozen_at=timezone.now(),
        )


@pytest.fixture
def column(
    challenge: Challenge, open_division: Division, organizer: User, registered: User, other_participant: User
) -> Column:
    participation_register(challenge=challenge, user=other_participant, accept_rules=True)
    ratchet = make_ratchet(challenge, answers_to_decide=2, answers_max=3)
    closed = make_round(ratchet, 1, Round.Status.CLOSED)
    open_ = make_round(ratchet, 2, Round.Status.OPEN)

    def submission(user: User, task_id: int) -> Any:
        task = ratchet.test_task if task_id == ratchet.test_task_id else ratchet.training_task
        return make_scored_submission(task=task, division=open_division, user=user, primary=0.5)

    alice_test = submission(registered, ratchet.test_task_id)
    bob_test = submission(other_participant, ratchet.test_task_id)
    promoted = make_item(closed, bob_test, claimed="vii", status=Item.Status.ACCEPTED)
    make_item(closed, bob_test, claimed="ii", fooled=False, status=Item.Status.REJECTED)
    Promotion.objects.create(round=open_, item=promoted, test_id="r1-1", label="vii")
    SuiteModel.objects.create(
        round=open_,
        name="logreg@alice-1",
        set_name="alice-1",
        source=submission(registered, ratchet.training_task_id),
        team=team_of(registered),
        source_score=0.8,
        source_rank=1,
    )
    _freeze(closed, ratchet, open_division)
    users = {"alice": registered, "bob": other_participant, "carol": make_user("carol"), "organizer": organizer}
    return Column(
        challenge=challenge,
        ratchet=ratchet,
        closed=closed,
        open=open_,
        alice_item=make_item(open_, alice_test, claimed="iv"),
        bob_items=[make_item(open_, bob_test, claimed="ix"), make_item(open_, bob_test, claimed="vi", fooled=False)],
        gold=make_item(open_, claimed="iii", gold_label="iii"),
        users=users,
        tokens={role: api_token_create(user=user, name="tests")[1] for role, user in users.items()},
    )


def _post(column: Column, role: str, item: Item | int, body: dict[str, str]) -> Any:
    item_id = item if isinstance(item, int) else item.pk
    return column.client(role).post(column.url(f"items/{item_id}/answer/"), body, format="json")


# -- Ratchets and rounds ---------------------------------------------------------------------------------------


def test_anyone_lists_the_challenges_ratchets_with_settings_and_the_round_they_are_at(column: Column) -> None:
    response = column.client("anonymous").get(f"/api/v1/challenges/{column.challenge.slug}/ratchets/")

    assert response.status_code == 200
    assert response.json() == [
        {
            "slug": "roman",
            "title": "Roman numerals",
            "training_task": "roman-training",
            "test_task": "roman-test",
            "settings": {"top_k": 3, "answers_to_decide": 2, "answers_max": 3, "answers_per_minute": 30},
            "current_round": {"number": 2, "status": "open"},
        }
    ]


def test_a_ratchet_shows_each_rounds_figures_suite_and_test_data(column: Column) -> None:
    response = column.client("anonymous").get(column.url())

    assert response.status_code == 200
    body = response.json()
    first, second = body["rounds"]
    assert (first["number"], first["status"], second["status"]) == (1, "closed", "open")
    assert first["closed_at"] is not None and second["closed_at"] is None
    assert first["figures"] == {
        "collected": 2,
        "fooled": 1,
        "accepted": 1,
        "rejected": 1,
        "disputed": 0,
        "pending": 0,
        "dropped": 0,
        "model_error_rate": 0.5,
        "validated_model_error_rate": 1.0,
        "suite_accuracy": 0.0,  # both models of the suite got the accepted item wrong
        "promoted": 1,
    }
    # Gold items are not collected items: round 2 counts Alice's and Bob's three.
    assert (second["figures"]["collected"], second["figures"]["pending"]) == (3, 3)
    trained = [model for model in second["suite"] if not model["reference"]]
    assert trained == [
        {
            "name": "logreg@alice-1",
            "reference": False,
            "team": "alice",
            "source_submission": SuiteModel.objects.get().source_id,
            "source_score": 0.8,
            "source_rank": 1,
        }
    ]
    reference = [model["name"] for model in second["suite"] if model["reference"]]
    assert reference and all(model["team"] is None for model in second["suite"] if model["reference"])
    # The factory's seed test list holds one item; round 1's accepted, fooling item joins it from round 2 on.
    assert first["test_data"] == {"seed": 1, "added": 0, "promoted": 0, "items": 1}
    assert second["test_data"] == {"seed": 1, "added": 1, "promoted": 1, "items": 2}


def test_no_read_of_the_ratchet_says_which_items_are_gold(column: Column) -> None:
    anonymous = column.client("anonymous")
    text = (
        anonymous.get(column.url()).content.decode() + anonymous.get(column.url("rounds/1/standings/")).content.decode()
    )
    assert "gold" not in text and "kind" not in text and column.gold.key not in text


def test_an_unknown_ratchet_or_round_is_not_found(column: Column) -> None:
    anonymous = column.client("anonymous")
    missing = anonymous.get(f"/api/v1/challenges/{column.challenge.slug}/ratchets/nope/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No such ratchet in this challenge.", "code": "not_found"}
    assert anonymous.get(column.url("rounds/9/standings/")).json()["detail"] == "No round 9 in this ratchet."


def test_a_draft_challenges_ratchets_are_not_found_by_outsiders(column: Column) -> None:
    Challenge.objects.filter(pk=column.challenge.pk).update(visibility=Challenge.Visibility.DRAFT)
    assert column.client("carol").get(column.url()).status_code == 404
    assert column.client("organizer").get(column.url()).status_code == 200


# -- Frozen standings ------------------------------------------------------------------------------------------


def _splits(response: Any) -> list[str]:
    return [standing["split"] for standing in response.json()]


def test_a_closed_rounds_standings_are_its_frozen_boards_of_the_visible_splits(column: Column) -> None:
    response = column.client("alice").get(column.url("rounds/1/standings/"))

    assert response.status_code == 200
    [public] = response.json()
    assert {key: public[key] for key in ("task", "division", "split", "data_version")} == {
        "task": "roman-training",
        "division": "open",
        "split": "public",
        "data_version": 2,
    }
    assert public["document"] == _board("public", 0.75)
    assert str(PRIVATE_MARKER) not in response.content.decode()


def test_the_private_standing_is_the_organizers_during_the_challenge_and_everyones_after_it(column: Column) -> None:
    assert _splits(column.client("organizer").get(column.url("rounds/1/standings/"))) == ["public", "private"]

    Challenge.objects.filter(pk=column.challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    after = column.client("anonymous").get(column.url("rounds/1/standings/"))
    assert _splits(after) == ["public", "private"]
    assert after.json()[1]["document"]["rows"][0]["primary"] == PRIVATE_MARKER


def test_an_open_round_has_no_standings_yet(column: Column) -> None:
    response = column.client("alice").get(column.url("rounds/2/standings/"))

    assert response.status_code == 404
    assert response.json() == {
        "detail": "Round 2 is open: its standings are frozen when it closes; read the live boards.",
        "code": "not_found",
    }


# -- The next item and its payload -----------------------------------------------------------------------------


def test_a_validator_gets_another_teams_item_with_the_labels_and_their_progress(column: Column) -> None:
    response = column.client("alice").get(column.url("next-item/"))

    assert response.status_code == 200
    body = response.json()
    item = body["item"]
    assert set(item) == ITEM_KEYS
    assert item["id"] == column.bob_items[0].pk  # it fools the suite: first
    assert (item["round"], item["claimed_label"], item["payload_type"]) == (2, "ix", "image/png")
    assert body["labels"] == LABELS
    assert body["progress"] == {"answered": 0, "left": 3}  # the gold item counts like the others
    assert response["Cache-Control"] == "private, no-store"

    payload = column.client("alice").get(item["payload_url"])
    assert payload.status_code == 200
    assert payload["Content-Type"] == "image/png"
    body = b"".join(payload.streaming_content)  # type: ignore[attr-defined]  # a streaming response here
    assert body == png("ix")
    assert f'filename="item-{item["id"]}.png"' in payload["Content-Disposition"]


def test_a_gold_item_is_served_like_any_other(column: Column) -> None:
    for item in column.bob_items:
        answer(item, column.users["alice"])
    response = column.client("alice").get(column.url("next-item/"))  # every third item is a gold item

    item = response.json()["item"]
    assert item["id"] == column.gold.pk
    assert set(item) == ITEM_KEYS
    payload = column.client("alice").get(item["payload_url"])
    assert payload.status_code == 200
    assert f'filename="item-{column.gold.pk}.png"' in payload["Content-Disposition"]
    assert "gold" not in response.content.decode() + payload["Content-Disposition"]


def test_when_nothing_is_left_the_item_is_null(column: Column) -> None:
    for item in [*column.bob_items, column.gold]:
        answer(item, column.users["alice"])

    body = column.client("alice").get(column.url("next-item/")).json()

    assert body["item"] is None
    assert body["progress"] == {"answered": 3, "left": 0}


@pytest.mark.parametrize(
    ("role", "status", "code"), [("anonymous", 401, "not_authenticated"), ("carol", 403, "forbidden")]
)
def test_only_participants_and_organizers_get_items(column: Column, role: str, status: int, code: str) -> None:
    response = column.client(role).get(column.url("next-item/"))

    assert response.status_code == status
    assert response.json()["code"] == code


def test_an_items_payload_is_not_found_by_its_own_team_outsiders_or_after_its_round(column: Column) -> None:
    own = column.url(f"items/{column.alice_item.pk}/payload/")
    assert column.client("alice").get(own).status_code == 404
    assert column.client("carol").get(own).status_code == 404
    assert column.client("anonymous").get(own).status_code == 401
    assert column.client("bob").get(own).status_code == 200
    assert column.client("organizer").get(own).status_code == 200

    closed_item = column.closed.items.first()
    assert closed_item is not None
    assert column.client("alice").get(column.url(f"items/{closed_item.pk}/payload/")).status_code == 404


# -- Answers ---------------------------------------------------------------------------------------------------


def test_an_answer_is_recorded_and_answers_what_was_recorded(column: Column) -> None:
    item = column.bob_items[0]
    response = _post(column, "alice", item, {"verdict": "incorrect", "label": "x"})

    assert response.status_code == 200
    assert response.json() == {"id": item.pk, "verdict": "incorrect", "progress": {"answered": 1, "left": 2}}
    recorded = Answer.objects.get(item=item)
    assert (recorded.user, recorded.verdict, recorded.label) == (column.users["alice"], "incorrect", "x")


def _validator(column: Column, name: str) -> str:
    """Another registered participant, with a token; returns their role."""
    user = make_user(name)
    participation_register(challenge=column.challenge, user=user, accept_rules=True)
    column.users[name] = user
    column.tokens[name] = api_token_create(user=user, name="tests")[1]
    return name


def test_matching_answers_decide_an_item_and_a_later_answer_is_refused(column: Column) -> None:
    item = column.bob_items[0]
    assert _post(column, "alice", item, {"verdict": "correct"}).status_code == 200
    assert _post(column, _validator(column, "dave"), item, {"verdict": "correct"}).status_code == 200
    item.refresh_from_db()
    assert item.status == Item.Status.ACCEPTED

    refused = _post(column, _validator(column, "erin"), item, {"verdict": "incorrect", "label": "x"})

    assert refused.status_code == 400
    assert refused.json() == {"detail": "This item is already decided (accepted); nothing changed.", "code": "invalid"}
    assert item.answers.count() == 2


def test_a_validator_never_answers_their_own_teams_item(column: Column) -> None:
    response = _post(column, "alice", column.alice_item, {"verdict": "correct"})

    assert response.status_code == 403
    assert response.json() == {
        "detail": "This item comes from your own team: other teams validate it.",
        "code": "forbidden",
    }
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("role", "status", "code"), [("anonymous", 401, "not_authenticated"), ("carol", 403, "forbidden")]
)
def test_only_validators_answer(column: Column, role: str, status: int, code: str) -> None:
    response = _post(column, role, column.bob_items[0], {"verdict": "correct"})

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"verdict": "maybe"}, 'verdict: "maybe" is not a valid choice.'),
        ({"verdict": "incorrect"}, "An 'incorrect' answer gives the right label, one of: "),
        ({"verdict": "incorrect", "label": "ix"}, "The right label you give is the claimed one"),
        ({"verdict": "flag"}, "A flag needs a reason"),
    ],
)
def test_a_malformed_answer_is_invalid_and_records_nothing(column: Column, body: dict[str, str], detail: str) -> None:
    response = _post(column, "alice", column.bob_items[0], body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith(detail)
    assert not Answer.objects.exists()


def test_an_unknown_item_or_one_of_another_ratchet_is_not_found(column: Column) -> None:
    other = Challenge.objects.create(
        slug="other", title="Other", starts_at=column.challenge.starts_at, ends_at=column.challenge.ends_at
    )
    elsewhere = make_item(make_round(make_ratchet(other)), claimed="v")

    for item_id in (10**9, elsewhere.pk):
        response = _post(column, "alice", item_id, {"verdict": "correct"})
        assert response.status_code == 404
        assert response.json() == {"detail": "No such item to validate.", "code": "not_found"}
    assert not Answer.objects.exists()


def test_answers_faster_than_the_ratchet_allows_get_429_too_fast(column: Column) -> None:
    Ratchet.objects.filter(pk=column.ratchet.pk).update(answers_per_minute=2)
    first, second = column.bob_items
    assert _post(column, "alice", first, {"verdict": "correct"}).status_code == 200
    assert _post(column, "alice", second, {"verdict": "correct"}).status_code == 200

    response = _post(column, "alice", column.gold, {"verdict": "correct"})

    assert response.status_code == 429
    assert response.json() == {
        "detail": "At most 2 answers a minute: wait a moment before the next one.",
        "code": "too_fast",
    }
    assert not Answer.objects.filter(item=column.gold).exists()


# -- The schema ------------------------------------------------------------------------------------------------


def test_the_schema_documents_every_ratchet_operation(column: Column) -> None:
    schema = json.loads(column.client("anonymous").get("/api/schema/?format=json").content)
    base = "/api/v1/challenges/{slug}/ratchets/"
    operations = {
        (path.removeprefix(base), method): operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith(base)
        for method, operation in item.items()
    }
    assert operations == {
        ("", "get"): "ratchets_list",
        ("{ratchet_slug}/", "get"): "ratchets_get",
        ("{ratchet_slug}/rounds/{number}/standings/", "get"): "ratchet_round_standings",
        ("{ratchet_slug}/next-item/", "get"): "ratchet_next_item",
        ("{ratchet_slug}/items/{item_id}/payload/", "get"): "ratchet_item_payload",
        ("{ratchet_slug}/items/{item_id}/answer/", "post"): "ratchet_answer",
    }
    item = schema["components"]["schemas"]["ValidationItemOut"]["properties"]
    assert set(item) == ITEM_KEYS

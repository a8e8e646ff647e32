"""Participant A, a validator of the security world's "roman" ratchet (tests/security/conftest.py), against the
ratchet's secrets: which items are gold, another team's items' suite predictions and `fooled`, the test-set
task's hidden human labels, the closed round's items, and round 1's frozen private board before its reveal; and
A's forged or stale item ids.

The crawler (test_crawler.py) scans every page and file A reaches for the world's markers. What no marker can
show, that a gold item is told apart from a new one, is checked here by comparing what A gets for each: the
validation page, the next-item API, the payload (page and API) and the answer (page and API).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.challenges.models import Challenge, Task
from apps.leaderboards.services import leaderboard_reveal_split
from apps.ratchets import selectors as ratchet_selectors
from apps.ratchets.models import TEST_EVALUATOR, TRAINING_EVALUATOR, Answer, Item, Ratchet
from tests.apps.ratchets.factories import TEST_CONFIG, TRAINING_CONFIG, answer, make_item, make_ratchet, make_round
from tests.security.conftest import Marker, Secret, SecurityWorld
from tests.security.crawler import SHAKE_UP, Scanner, body_of

if TYPE_CHECKING:  # the test client's response type is named by the stubs only
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

ITEM_SECRETS = {"gold_label", "kind", "key", "predictions", "fooled", "status", "decided_label", "claims", "team"}
"""Names of what an item holds that a validator must not read: whether it is gold (and its known label), what
the suite predicted and whether it was fooled, what validation has decided so far, and whose item it is."""
CLOSED = "Round 1 is closed: its items take no more answers."
OWN_TEAM = "This item comes from your own team: other teams validate it."
NO_ITEM = "No such item to validate."


@pytest.fixture(autouse=True)
def _gold_only_when_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyed hash that decides gold turns depends on user ids, which differ from run to run: here a gold item
    is served when no other is left, so that what each test is served is fixed."""
    monkeypatch.setattr(ratchet_selectors, "_gold_turn", lambda user_id, answered: False)


def page(w: SecurityWorld, name: str, *args: object, ratchet: Ratchet | None = None) -> str:
    ratchet = ratchet or w.roman.ratchet
    return reverse(f"ratchets:{name}", args=[ratchet.challenge.slug, ratchet.slug, *args])


def api(w: SecurityWorld, tail: str, ratchet: Ratchet | None = None) -> str:
    ratchet = ratchet or w.roman.ratchet
    return f"/api/v1/challenges/{ratchet.challenge.slug}/ratchets/{ratchet.slug}/{tail}"


def post_answer(client: Client, url: str, verdict: str = Answer.Verdict.CORRECT) -> TestResponse:
    return client.post(url, json.dumps({"verdict": verdict}), content_type="application/json")


def keys_of(value: Any) -> Iterator[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from keys_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_of(item)


def shape(value: Any) -> Any:
    """A JSON document's structure: its keys and the types of its values, at any depth."""
    if isinstance(value, dict):
        return {name: shape(item) for name, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def served(item: dict[str, Any], item_id: int) -> dict[str, Any]:
    """A served item with its id taken out (the one thing that may tell two items apart)."""
    return {name: str(value).replace(f"/{item_id}/", "/ID/") for name, value in item.items() if name != "id"}


def section(response: TestResponse, item: Item) -> str:
    """The validation page's item section, its ids and CSRF tokens (random per page) taken out."""
    text = response.content.decode()
    found = text[text.index('<section class="card validate"') : text.index("</section>")]
    found = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", found)
    return found.replace(f'value="{item.pk}"', 'value="ID"').replace(f"/items/{item.pk}/", "/items/ID/")


def progress_left(response: TestResponse) -> int:
    """The number of items left that the validation page states."""
    found = re.search(r'id="validation-progress">.*?<strong>\d+</strong>.*?<strong>(\d+)</strong>', response.text)
    assert found is not None, "the validation page states its progress"
    return int(found[1])


def payload_headers(response: TestResponse, item: Item) -> dict[str, str]:
    assert response.status_code == 200, response.status_code
    body_of(response)  # read to the end: the file is closed as a finished request closes it
    return {name: value.replace(f"item-{item.pk}.", "item-ID.") for name, value in response.headers.items()}


def messages_after(response: TestResponse) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def alice(security_world: SecurityWorld) -> Client:
    return security_world.client("participant_a")


@pytest.fixture
def validated_before(security_world: SecurityWorld) -> Answer:
    """A answered B's item in round 1: A's next item is B's new one, the one after it a gold item."""
    return answer(security_world.roman.closed_b, security_world.base.user("participant_a"))


# -- A gold item reads as a new one --------------------------------------------------------------------------------


def test_the_next_item_api_serves_a_gold_item_as_it_serves_a_new_one(
    security_world: SecurityWorld, alice: Client, validated_before: Answer
) -> None:
    w = security_world
    first = alice.get(api(w, "next-item/"))
    assert first.json()["item"]["id"] == w.roman.item_b.pk
    assert post_answer(alice, api(w, f"items/{w.roman.item_b.pk}/answer/")).status_code == 200
    second = alice.get(api(w, "next-item/"))
    assert second.json()["item"]["id"] == w.roman.gold.pk

    assert shape(first.json()) == shape(second.json())
    assert served(first.json()["item"], w.roman.item_b.pk) == served(second.json()["item"], w.roman.gold.pk)
    for response in (first, second):
        assert "gold" not in response.content.decode().lower()
        assert not ITEM_SECRETS & set(keys_of(response.json()))
        assert response["Cache-Control"] == "private, no-store"


def test_the_validation_page_shows_a_gold_item_as_it_shows_a_new_one(
    security_world: SecurityWorld, alice: Client, validated_before: Answer
) -> None:
    w, url = security_world, page(security_world, "validate")
    first = alice.get(url)
    assert first.context["item"] == w.roman.item_b
    answered = alice.post(url, {"item": w.roman.item_b.pk, "verdict": "correct"}, follow=True)
    second = alice.get(url)
    assert second.context["item"] == w.roman.gold
    answered_gold = alice.post(url, {"item": w.roman.gold.pk, "verdict": "correct"}, follow=True)

    assert section(first, w.roman.item_b) == section(second, w.roman.gold)
    assert "gold" not in second.content.decode().lower()
    assert messages_after(answered) == messages_after(answered_gold) == ["Recorded: correct."]


def payload_urls(w: SecurityWorld, item: Item) -> list[str]:
    """An item's payload on the validation page and through the API."""
    return [page(w, "payload", item.pk), api(w, f"items/{item.pk}/payload/")]


def test_the_payload_of_a_gold_item_is_served_as_a_new_ones(security_world: SecurityWorld, alice: Client) -> None:
    """Same headers, named by the item's id: the gold item's stored name (`gold-2-0.png`) never shows."""
    w = security_world
    for new_url, gold_url in zip(payload_urls(w, w.roman.item_b), payload_urls(w, w.roman.gold), strict=True):
        new = payload_headers(alice.get(new_url), w.roman.item_b)
        gold = payload_headers(alice.get(gold_url), w.roman.gold)
        assert new == gold
        assert new["Content-Disposition"] == 'inline; filename="item-ID.png"'
        assert new["Content-Type"] == "image/png"
        assert "gold" not in " ".join(gold.values()).lower()
    assert "gold-2-0" in str(w.roman.gold.payload.name)  # what is kept from the validator is there


def test_an_answer_on_a_gold_item_is_acknowledged_as_one_on_a_new_item(
    security_world: SecurityWorld, alice: Client
) -> None:
    w = security_world
    on_new = post_answer(alice, api(w, f"items/{w.roman.item_b.pk}/answer/"))
    on_gold = post_answer(alice, api(w, f"items/{w.roman.gold.pk}/answer/"))

    assert on_new.status_code == on_gold.status_code == 200
    assert shape(on_new.json()) == shape(on_gold.json())
    assert (on_new.json()["verdict"], on_gold.json()["verdict"]) == ("correct", "correct")
    for response in (on_new, on_gold):
        assert "gold" not in response.content.decode().lower()
        assert not ITEM_SECRETS & set(keys_of(response.json()))


def test_the_progress_counts_a_gold_item_as_it_counts_a_new_one(
    security_world: SecurityWorld, alice: Client, validated_before: Answer
) -> None:
    """The items left, as the next-item API, its answer and the validation page state them, move alike whether
    the item served was gold or new: an item served is one left, and answering it leaves one fewer. Otherwise
    "an item, and nothing left" or "answered, and as many left" says the item was gold."""
    w = security_world
    for item in (w.roman.item_b, w.roman.gold):
        before = alice.get(api(w, "next-item/")).json()
        on_page = alice.get(page(w, "validate"))
        assert before["item"]["id"] == on_page.context["item"].pk == item.pk
        after = post_answer(alice, api(w, f"items/{item.pk}/answer/")).json()
        assert before["progress"]["left"] >= 1, f"item {item.pk} served with nothing left: it is gold"
        assert progress_left(on_page) == before["progress"]["left"]
        assert after["progress"]["left"] == before["progress"]["left"] - 1


# -- No item's secrets, no hidden labels ---------------------------------------------------------------------------


def test_no_ratchet_page_or_api_answer_holds_an_items_secrets(
    security_world: SecurityWorld, alice: Client, validated_before: Answer
) -> None:
    """What A reads while validating (pages, JSON, payloads, answers): no marker (B's items' predictions, the
    human labels, the private board), no item secret named in the JSON that describes an item, no "fooled" or
    prediction on the validation page."""
    w, scanner = security_world, Scanner(security_world)
    gets = [
        page(w, "detail"),
        page(w, "round", 1),
        page(w, "round", 2),
        page(w, "validate"),
        api(w, ""),
        api(w, "rounds/1/standings/"),
        api(w, "next-item/"),
        page(w, "payload", w.roman.item_b.pk),
        api(w, f"items/{w.roman.item_b.pk}/payload/"),
        f"/api/v1/challenges/{w.challenge.slug}/ratchets/",
    ]
    bodies = {url: body_of(alice.get(url)) for url in gets}
    answered = post_answer(alice, api(w, f"items/{w.roman.item_b.pk}/answer/"))
    bodies["answer"] = answered.content

    assert [str(leak) for url, body in bodies.items() for leak in scanner.scan(url, body)] == []
    for name in (api(w, "next-item/"), "answer"):  # the answers that describe an item
        assert not ITEM_SECRETS & set(keys_of(json.loads(bodies[name]))), name
    validating = bodies[page(w, "validate")].decode().lower()
    assert "fooled" not in validating and "predict" not in validating


def test_the_secrets_of_the_ratchet_are_there_for_the_organizers(security_world: SecurityWorld) -> None:
    """The markers are real: an organizer's queue shows a flagged item's predictions, their round page and API
    the frozen private board with its shake-up; the hidden human labels name theirs."""
    w, organizer = security_world, security_world.client("organizer")
    answer(w.roman.item_b, w.base.user("participant_a"), Answer.Verdict.FLAG, reason="not a numeral")
    queue = organizer.get(page(w, "queue"))
    round_page = organizer.get(page(w, "round", 1))
    standings = organizer.get(api(w, "rounds/1/standings/"))
    human = w.roman.ratchet.test_task.data_files.get(relative_path="human_labels.csv")

    assert Marker.ITEM_PREDICTIONS in queue.text
    assert Marker.PRIVATE_STANDING in round_page.text
    assert {"public", "private"} == {standing["split"] for standing in standings.json()}
    names = {leak.what for leak in Scanner(w).scan("standings", standings.content)}
    assert {"PRIVATE_STANDING", "ROUND_PRIVATE", SHAKE_UP} <= names
    with human.file.open("rb") as handle:
        assert Marker.HUMAN_LABELS.encode() in handle.read()


def test_the_hidden_files_of_the_ratchets_tasks_are_not_listed_nor_served(
    security_world: SecurityWorld, alice: Client
) -> None:
    w, slug = security_world, security_world.challenge.slug
    for task in (w.roman.ratchet.training_task, w.roman.ratchet.test_task):
        listing = alice.get(f"/api/v1/challenges/{slug}/tasks/{task.slug}/files/").json()
        hidden = task.data_files.exclude(role="public")
        assert hidden.exists()
        assert not {f["id"] for f in listing["files"]} & set(hidden.values_list("pk", flat=True))
        for data_file in hidden:
            assert alice.get(reverse("challenges:task_data", args=[slug, task.slug, data_file.pk])).status_code == 404
            assert alice.get(f"/api/v1/challenges/{slug}/tasks/{task.slug}/files/{data_file.pk}/").status_code == 404


# -- Payloads of a closed round ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["participant_a", "participant_b"])
def test_no_participant_fetches_an_item_of_a_closed_round_nor_of_their_own_team(
    security_world: SecurityWorld, role: str
) -> None:
    """Both teams' items of round 1 (one is the caller's own), and the caller's own item of round 2."""
    w, client = security_world, security_world.client(role)
    own_live = w.roman.item_a if role == "participant_a" else w.roman.item_b
    for item in (w.roman.closed_a, w.roman.closed_b, own_live):
        assert client.get(page(w, "payload", item.pk)).status_code == 404, item
        assert client.get(api(w, f"items/{item.pk}/payload/")).status_code == 404, item
    organizer = w.client("organizer")
    assert organizer.get(api(w, f"items/{w.roman.closed_a.pk}/payload/")).status_code == 200


# -- Frozen private standings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "participant_a", "participant_b"])
def test_a_frozen_private_board_stays_hidden_until_it_is_revealed(security_world: SecurityWorld, role: str) -> None:
    w, client = security_world, security_world.client(role)
    before_page, before_api = client.get(page(w, "round", 1)), client.get(api(w, "rounds/1/standings/"))

    assert before_page.status_code == before_api.status_code == 200
    assert "Public standing" in before_page.text
    assert [standing["split"] for standing in before_api.json()] == ["public"]
    assert Scanner(w).scan("round 1", before_page.content + before_api.content) == []

    leaderboard_reveal_split(task=w.roman.ratchet.training_task, split="private", user=w.base.user("organizer"))
    after_page, after_api = client.get(page(w, "round", 1)), client.get(api(w, "rounds/1/standings/"))
    assert Marker.PRIVATE_STANDING in after_page.text
    assert [standing["split"] for standing in after_api.json()] == ["public", "private"]
    assert after_api.json()[1]["document"]["rows"][0]["primary"] == Secret.ROUND_PRIVATE


# -- Forged and stale ids ------------------------------------------------------------------------------------------


def _another_ratchet(challenge: Challenge, slug: str) -> Ratchet:
    """A second ratchet of a challenge (the factory's task slugs are taken), over two tasks of its own."""
    sides = (("training", TRAINING_EVALUATOR, TRAINING_CONFIG), ("test", TEST_EVALUATOR, TEST_CONFIG))
    training, test = (
        Task.objects.create(
            challenge=challenge,
            slug=f"{slug}-{side}",
            title=f"{slug} {side}",
            evaluator_slug=evaluator,
            ml_task=Task.MLTask.OCR,
            config=config,
        )
        for side, evaluator, config in sides
    )
    return Ratchet.objects.create(challenge=challenge, slug=slug, title=slug, training_task=training, test_task=test)


@pytest.fixture
def foreign_items(security_world: SecurityWorld) -> dict[str, Item]:
    """A live item of another ratchet of the same challenge (A validates there too) and one of a ratchet of the
    other challenge."""
    same = _another_ratchet(security_world.challenge, "digits")
    other = make_ratchet(security_world.other_challenge)
    return {
        "same challenge": make_item(make_round(same, 1), claimed="iv"),
        "other challenge": make_item(make_round(other, 1), claimed="iv"),
    }


def test_an_item_id_of_another_ratchet_is_not_found_under_this_one(
    security_world: SecurityWorld, alice: Client, foreign_items: dict[str, Item]
) -> None:
    w = security_world
    for where, item in foreign_items.items():
        assert alice.get(page(w, "payload", item.pk)).status_code == 404, where
        assert alice.get(api(w, f"items/{item.pk}/payload/")).status_code == 404, where
        refused = post_answer(alice, api(w, f"items/{item.pk}/answer/"))
        assert (refused.status_code, refused.json()["detail"]) == (404, NO_ITEM), where
        on_page = alice.post(page(w, "validate"), {"item": item.pk, "verdict": "correct"}, follow=True)
        assert messages_after(on_page) == [NO_ITEM], where
    assert not Answer.objects.filter(item__in=foreign_items.values()).exists()
    # Under its own ratchet, the item of the same challenge is A's to validate: the ids above were real.
    home = foreign_items["same challenge"]
    assert alice.get(page(w, "payload", home.pk, ratchet=home.ratchet)).status_code == 200


def test_an_unknown_item_id_is_not_found(security_world: SecurityWorld, alice: Client) -> None:
    w, unknown = security_world, Item.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    assert alice.get(page(w, "payload", unknown)).status_code == 404
    assert alice.get(api(w, f"items/{unknown}/payload/")).status_code == 404
    assert post_answer(alice, api(w, f"items/{unknown}/answer/")).status_code == 404


def test_an_answer_on_an_item_of_a_closed_round_is_refused_with_the_reason(
    security_world: SecurityWorld, alice: Client
) -> None:
    w = security_world
    refused = post_answer(alice, api(w, f"items/{w.roman.closed_b.pk}/answer/"))
    on_page = alice.post(page(w, "validate"), {"item": w.roman.closed_b.pk, "verdict": "correct"}, follow=True)

    assert (refused.status_code, refused.json()["detail"]) == (400, CLOSED)
    assert messages_after(on_page) == [CLOSED]
    assert not w.roman.closed_b.answers.exists()


def test_an_answer_on_an_item_of_ones_own_team_is_forbidden(security_world: SecurityWorld, alice: Client) -> None:
    w = security_world
    refused = post_answer(alice, api(w, f"items/{w.roman.item_a.pk}/answer/"))
    on_page = alice.post(page(w, "validate"), {"item": w.roman.item_a.pk, "verdict": "correct"}, follow=True)

    assert (refused.status_code, refused.json()["detail"]) == (403, OWN_TEAM)
    assert messages_after(on_page) == [OWN_TEAM]
    assert not w.roman.item_a.answers.exists()


def test_a_validator_of_one_challenge_validates_nothing_in_another(
    security_world: SecurityWorld, alice: Client, foreign_items: dict[str, Item]
) -> None:
    """Under the other challenge's own ratchet: A takes no part there, so neither the item nor a turn."""
    w, item = security_world, foreign_items["other challenge"]
    assert alice.get(page(w, "payload", item.pk, ratchet=item.ratchet)).status_code == 404
    assert alice.get(api(w, f"items/{item.pk}/payload/", ratchet=item.ratchet)).status_code == 404
    assert alice.get(api(w, "next-item/", ratchet=item.ratchet)).status_code == 403
    assert post_answer(alice, api(w, f"items/{item.pk}/answer/", ratchet=item.ratchet)).status_code == 403

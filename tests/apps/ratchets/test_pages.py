"""The ratchet's pages (apps/ratchets/views.py): the ratchet page, a round's page with its frozen standings, the
validation page and its refusals, an item's payload, the organizers' queue, and the links from the task and
challenge pages. Rows come from the factories; no evaluator runs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import Challenge
from apps.challenges.services import participation_register, task_data_file_put
from apps.divisions.models import Division
from apps.ratchets import selectors as ratchet_selectors
from apps.ratchets.models import Answer, Item, Promotion, Ratchet, Round, Standing, SuiteModel
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission, team_of
from tests.apps.ratchets.factories import answer, make_item, make_ratchet, make_round, png
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
Verdict = Answer.Verdict
Status = Item.Status


@pytest.fixture(autouse=True)
def _gold_only_when_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyed hash that decides gold turns depends on user ids, which differ from run to run: here a gold item
    is served when no other is left, so that what each test is served is fixed."""
    monkeypatch.setattr(ratchet_selectors, "_gold_turn", lambda user_id, answered: False)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def url(name: str, ratchet: Ratchet, *args: object) -> str:
    return reverse(f"ratchets:{name}", args=[ratchet.challenge.slug, ratchet.slug, *args])


def body(response: Any) -> bytes:
    """A streamed response's bytes. Reading it to the end closes it as a finished request (calling `close()`
    here would close the test's database connection too)."""
    return b"".join(response.streaming_content)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def ratchet(challenge: Challenge) -> Ratchet:
    return make_ratchet(challenge)


@pytest.fixture
def round_(ratchet: Ratchet) -> Round:
    return make_round(ratchet, 1)


@pytest.fixture
def validator(registered: User) -> User:
    """alice, an approved participant."""
    return registered


@pytest.fixture
def maker(challenge: Challenge, other_participant: User) -> User:
    """bob, an approved participant of another team, whose test sets make the items."""
    participation_register(challenge=challenge, user=other_participant, accept_rules=True)
    return other_participant


@pytest.fixture
def bobs_submission(ratchet: Ratchet, maker: User, open_division: Division) -> Submission:
    return make_scored_submission(task=ratchet.test_task, division=open_division, user=maker, primary=1.0)


@pytest.fixture
def item(round_: Round, bobs_submission: Submission) -> Item:
    return make_item(round_, bobs_submission, claimed="iv")


def document(rows: list[tuple[str, float, bool]], split: str = "public") -> dict[str, Any]:
    """A board document in `leaderboard_document`'s shape: (label, primary, is_baseline) in rank order."""
    primary = {"name": "accuracy", "label": "Accuracy", "higher_is_better": True, "scale": 100, "column": False}
    column = {"name": "accuracy_logreg", "label": "Accuracy, logreg", "higher_is_better": True, "scale": 100}
    return {
        "split": split,
        "primary": primary,
        "columns": [primary, {**column, "column": True}],
        "rows": [
            {
                "rank": rank,
                "label": label,
                "team": label,
                "primary": value,
                "metrics": {"accuracy": value, "accuracy_logreg": value - 0.1},
                "is_baseline": baseline,
            }
            for rank, (label, value, baseline) in enumerate(rows, start=1)
        ],
    }


def freeze(round_: Round, division: Division, rows: list[tuple[str, float, bool]], split: str = "public") -> Standing:
    return Standing.objects.create(
        round=round_,
        task=round_.ratchet.training_task,
        division=division,
        split=split,
        document=document(rows, split),
        data_version=3,
        frozen_at=timezone.make_aware(dt.datetime(2024, 5, 1, 12, 30)),
    )


# -- The ratchet page --------------------------------------------------------------------------------------------


@pytest.fixture
def two_rounds(ratchet: Ratchet, open_division: Division, participant: User, bobs_submission: Submission) -> Ratchet:
    """Round 1 closed (two accepted items, one fooled and promoted; a frozen board), round 2 open with a suite
    model trained on alice's training set and one pending item."""
    first = make_round(ratchet, 1, Round.Status.CLOSED)
    second = make_round(ratchet, 2, Round.Status.OPEN)
    promoted = make_item(first, bobs_submission, status=Status.ACCEPTED, fooled=True)
    make_item(first, bobs_submission, status=Status.ACCEPTED, fooled=False)
    make_item(first, bobs_submission, status=Status.REJECTED, fooled=True)
    Promotion.objects.create(round=second, item=promoted, test_id="ratchet_r1_x", label="iv")
    freeze(first, open_division, [("baseline", 0.9, True), ("alice", 0.7, False)])
    training_set = make_scored_submission(
        task=ratchet.training_task, division=open_division, user=participant, primary=0.7
    )
    SuiteModel.objects.create(
        round=second,
        name="logreg@r2-1",
        set_name="r2-1",
        source=training_set,
        team=team_of(participant),
        source_score=0.7,
        source_rank=1,
    )
    make_item(second, bobs_submission)
    return ratchet


def test_the_ratchet_page_shows_its_rounds_suites_chart_and_validators(
    two_rounds: Ratchet, validator: User, maker: User
) -> None:
    answer(Item.objects.get(round__number=2), validator)

    response = client_for(validator).get(url("detail", two_rounds))

    assert response.status_code == 200
    text = response.content.decode()
    assert url("round", two_rounds, 1) in text and url("round", two_rounds, 2) in text
    rows = {row["round"].number: row for row in response.context["round_rows"]}
    assert (rows[1]["promoted"], rows[2]["promoted"]) == (0, 1)
    assert rows[1]["figures"].collected == 3 and rows[1]["figures"].model_error_rate == pytest.approx(2 / 3)
    assert rows[1]["figures"].validated_model_error_rate == pytest.approx(1 / 2)
    assert "66.7%" in text and "50.0%" in text  # MER and vMER of round 1
    assert "logreg@r2-1" in text and "#" + str(SuiteModel.objects.get().source_id) in text
    points = response.context["chart"]["points"]
    assert [(p["round"], p["training"]) for p in points] == [(1, 0.7), (2, None)]
    assert 'id="ratchet-chart-data"' in text and 'id="ratchet-chart-table"' in text
    assert [row.user for row in response.context["validators"]] == ["alice"]
    assert url("validate", two_rounds) in text
    assert url("queue", two_rounds) not in text


def test_the_test_data_of_each_round_is_the_seed_and_the_items_promoted_so_far(two_rounds: Ratchet) -> None:
    seed = ContentFile(b"id,label\nt1,iv\nt2,ix\nt3,ii\n", name="items.csv")
    task_data_file_put(task=two_rounds.training_task, relative_path="test/items.csv", content=seed)

    response = client_for(None).get(url("detail", two_rounds))

    assert [(row["seed"], row["test_items"]) for row in response.context["round_rows"]] == [(3, 3), (3, 4)]
    assert "3 seed + 1 promoted" in response.content.decode()


def test_anyone_who_may_see_the_challenge_sees_the_page_without_the_validate_button(two_rounds: Ratchet) -> None:
    response = client_for(None).get(url("detail", two_rounds))

    assert response.status_code == 200
    assert url("validate", two_rounds) not in response.content.decode()


def test_a_draft_challenges_ratchet_is_not_found_for_others(two_rounds: Ratchet, validator: User) -> None:
    Challenge.objects.filter(pk=two_rounds.challenge_id).update(visibility=Challenge.Visibility.DRAFT)

    assert client_for(validator).get(url("detail", two_rounds)).status_code == 404


def test_an_organizer_sees_the_queue_link_with_its_count(two_rounds: Ratchet, organizer: User, validator: User) -> None:
    answer(Item.objects.get(round__number=2), validator, Verdict.FLAG, reason="not a numeral")

    response = client_for(organizer).get(url("detail", two_rounds))

    assert f'href="{url("queue", two_rounds)}"' in response.content.decode()
    assert response.context["queue_count"] == 1


# -- A round's page ----------------------------------------------------------------------------------------------


def test_a_closed_round_shows_its_frozen_standings(two_rounds: Ratchet, open_division: Division) -> None:
    response = client_for(None).get(url("round", two_rounds, 1))

    text = response.content.decode()
    assert "Frozen on 2024-05-01 12:30 UTC, data version 3." in text
    [table] = response.context["standings"]
    assert [(row["rank"], row["label"], row["primary"]) for row in table["rows"]] == [
        (1, "baseline", "90.00"),
        (2, "alice", "70.00"),
    ]
    assert [column["label"] for column in table["columns"]] == ["Accuracy, logreg"]
    assert table["rows"][1]["metrics"] == ["60.00"]


def test_private_standings_are_hidden_until_the_viewer_may_see_the_split(
    two_rounds: Ratchet, open_division: Division, validator: User, organizer: User
) -> None:
    freeze(two_rounds.rounds.get(number=1), open_division, [("alice", 0.65, False)], split="private")

    participant_view = client_for(validator).get(url("round", two_rounds, 1))
    organizer_view = client_for(organizer).get(url("round", two_rounds, 1))

    assert [t["standing"].split for t in participant_view.context["standings"]] == ["public"]
    assert "65.00" not in participant_view.content.decode()
    assert [t["standing"].split for t in organizer_view.context["standings"]] == ["public", "private"]


def test_a_live_round_links_to_the_tasks_live_boards(two_rounds: Ratchet) -> None:
    response = client_for(None).get(url("round", two_rounds, 2))

    text = response.content.decode()
    for task in (two_rounds.training_task, two_rounds.test_task):
        assert reverse("leaderboards:task", args=[two_rounds.challenge.slug, task.slug]) in text
    assert response.context["standings"] == []


def test_an_unknown_round_is_not_found(two_rounds: Ratchet) -> None:
    assert client_for(None).get(url("round", two_rounds, 9)).status_code == 404


# -- The validation page -----------------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_log_in(ratchet: Ratchet) -> None:
    response = client_for(None).get(url("validate", ratchet))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_user_who_does_not_take_part_gets_a_clear_refusal(ratchet: Ratchet, item: Item) -> None:
    outsider = make_user("carol")

    shown = client_for(outsider).get(url("validate", ratchet))
    posted = client_for(outsider).post(url("validate", ratchet), {"item": item.pk, "verdict": "correct"})

    assert shown.status_code == posted.status_code == 403
    assert "Validation is for participants" in shown.content.decode()
    assert not Answer.objects.exists()


def test_a_validator_sees_one_item_with_its_claim_and_the_tasks_labels(
    ratchet: Ratchet, item: Item, validator: User
) -> None:
    response = client_for(validator).get(url("validate", ratchet))

    text = response.content.decode()
    assert response.context["item"] == item
    assert url("payload", ratchet, item.pk) in text
    assert '<strong id="claimed-label">iv</strong>' in text
    assert [label["key"] for label in response.context["labels"]] == list("1234567890")
    assert re.search(r'value="iv" required disabled', text)  # the claimed label cannot be the right one
    assert "You have answered <strong>0</strong> items; <strong>1</strong> is left for you." in text
    assert response["Cache-Control"] == "private, no-store"


def test_a_features_item_is_shown_as_a_table_of_its_values(ratchet: Ratchet, item: Item, validator: User) -> None:
    item.payload.save("features.csv", ContentFile(b"0.50,1.250000,-3\n"), save=False)
    item.payload_type = "text/csv"
    item.save()

    response = client_for(validator).get(url("validate", ratchet))

    assert response.context["features"] == [("Feature 1", "0.5"), ("Feature 2", "1.25"), ("Feature 3", "-3")]
    text = response.content.decode()
    assert 'id="item-features"' in text and 'id="item-image"' not in text


def test_an_answer_is_recorded_and_the_page_comes_back_with_a_message(
    ratchet: Ratchet, item: Item, validator: User
) -> None:
    response = client_for(validator).post(
        url("validate", ratchet), {"item": item.pk, "verdict": "incorrect", "label": "vi"}, follow=True
    )

    assert response.redirect_chain == [(url("validate", ratchet), 302)]
    assert messages_of(response) == ["Recorded: incorrect, the right label is vi."]
    assert list(Answer.objects.values_list("user__username", "verdict", "label")) == [("alice", "incorrect", "vi")]
    assert response.context["item"] is None
    assert "Nothing to validate now" in response.content.decode()


def _refusal(client: Client, ratchet: Ratchet, data: dict[str, object]) -> list[str]:
    response = client.post(url("validate", ratchet), data, follow=True)
    assert response.redirect_chain == [(url("validate", ratchet), 302)]
    return messages_of(response)


def test_an_item_of_the_validators_own_team_is_refused(
    ratchet: Ratchet, round_: Round, validator: User, open_division: Division
) -> None:
    own = make_scored_submission(task=ratchet.test_task, division=open_division, user=validator, primary=1.0)
    mine = make_item(round_, own)

    said = _refusal(client_for(validator), ratchet, {"item": mine.pk, "verdict": "correct"})

    assert said == ["This item comes from your own team: other teams validate it."]
    assert not Answer.objects.exists()


def test_a_decided_item_and_a_second_answer_are_refused(
    ratchet: Ratchet, round_: Round, item: Item, bobs_submission: Submission, validator: User
) -> None:
    decided = make_item(round_, bobs_submission, status=Status.ACCEPTED)
    client = client_for(validator)

    assert _refusal(client, ratchet, {"item": decided.pk, "verdict": "correct"}) == [
        "This item is already decided (accepted); nothing changed."
    ]
    _refusal(client, ratchet, {"item": item.pk, "verdict": "correct"})
    assert _refusal(client, ratchet, {"item": item.pk, "verdict": "flag", "reason": "odd"}) == [
        "You have already answered this item."
    ]
    assert list(Answer.objects.values_list("item_id", "verdict")) == [(item.pk, "correct")]


def test_answers_faster_than_the_ratchet_allows_are_refused(
    ratchet: Ratchet, round_: Round, item: Item, bobs_submission: Submission, validator: User
) -> None:
    Ratchet.objects.filter(pk=ratchet.pk).update(answers_per_minute=1)
    second = make_item(round_, bobs_submission)
    client = client_for(validator)

    _refusal(client, ratchet, {"item": item.pk, "verdict": "correct"})
    said = _refusal(client, ratchet, {"item": second.pk, "verdict": "correct"})

    assert said == ["At most 1 answers a minute: wait a moment before the next one."]
    assert Answer.objects.count() == 1


def test_a_malformed_answer_says_nothing_was_recorded(ratchet: Ratchet, item: Item, validator: User) -> None:
    said = _refusal(client_for(validator), ratchet, {"item": item.pk, "verdict": "maybe"})
    assert said == ["The answer could not be read (verdict): nothing was recorded. Answer with the page's buttons."]

    said = _refusal(client_for(validator), ratchet, {"item": item.pk, "verdict": "flag", "reason": "  "})
    assert said == ["A flag needs a reason (e.g. not a numeral, offensive, a copy of a pool image)."]
    assert not Answer.objects.exists()


def _item_section(text: str, item: Item) -> str:
    """The page's item, with what differs between any two items (its id) and renders (the masked CSRF token)
    taken out."""
    section = text[text.index('<section class="card validate"') : text.index("</section>")]
    section = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", section)
    return section.replace(f'value="{item.pk}"', 'value="ID"').replace(f"/items/{item.pk}/", "/items/ID/")


def test_a_gold_item_looks_exactly_like_a_new_one(
    ratchet: Ratchet, round_: Round, item: Item, bobs_submission: Submission, validator: User
) -> None:
    gold = make_item(round_, claimed="iv", gold_label="vi")
    answer(make_item(round_, bobs_submission, status=Status.ACCEPTED), validator)
    client = client_for(validator)

    first = client.get(url("validate", ratchet))
    assert first.context["item"] == item
    answer(item, validator)
    second = client.get(url("validate", ratchet))  # every third item served is a gold one

    assert second.context["item"] == gold
    assert _item_section(second.content.decode(), gold) == _item_section(first.content.decode(), item)
    assert "gold" not in second.content.decode().lower()


# -- Payloads ----------------------------------------------------------------------------------------------------


def test_a_validator_gets_the_items_image_privately(ratchet: Ratchet, item: Item, validator: User) -> None:
    response = client_for(validator).get(url("payload", ratchet, item.pk))

    assert response.status_code == 200
    assert body(response) == png("iv")
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="item-{item.pk}.png"'


def test_features_are_served_as_csv(ratchet: Ratchet, item: Item, organizer: User) -> None:
    Item.objects.filter(pk=item.pk).update(payload_type="text/csv")

    response = client_for(organizer).get(url("payload", ratchet, item.pk))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body(response) == png("iv")  # served as stored


def test_payloads_are_not_found_for_those_who_may_not_see_them(
    ratchet: Ratchet, item: Item, validator: User, maker: User, organizer: User
) -> None:
    outsider = make_user("carol")
    for user in (None, outsider, maker):  # maker: an item of their own team
        assert client_for(user).get(url("payload", ratchet, item.pk)).status_code == 404
    Round.objects.filter(pk=item.round_id).update(status=Round.Status.CLOSED)
    assert client_for(validator).get(url("payload", ratchet, item.pk)).status_code == 404
    response = client_for(organizer).get(url("payload", ratchet, item.pk))
    assert response.status_code == 200 and body(response)
    assert client_for(organizer).get(url("payload", ratchet, item.pk + 999)).status_code == 404


def test_an_item_of_an_unknown_payload_type_is_never_served(ratchet: Ratchet, item: Item, organizer: User) -> None:
    Item.objects.filter(pk=item.pk).update(payload_type="text/html")

    assert client_for(organizer).get(url("payload", ratchet, item.pk)).status_code == 404


# -- The organizers' queue ---------------------------------------------------------------------------------------


def test_the_queue_is_not_found_for_participants(ratchet: Ratchet, validator: User) -> None:
    assert client_for(validator).get(url("queue", ratchet)).status_code == 404
    assert client_for(validator).post(url("queue", ratchet), {"item": 1, "verdict": "correct"}).status_code == 404


def test_an_organizer_sees_a_flagged_items_answers_and_decides_it(
    ratchet: Ratchet, item: Item, validator: User, organizer: User
) -> None:
    answer(item, validator, Verdict.FLAG, reason="a copy of a pool image")
    client = client_for(organizer)

    page = client.get(url("queue", ratchet)).content.decode()
    assert f'id="queue-item-{item.pk}"' in page
    assert "alice" in page and "a copy of a pool image" in page and "Flag" in page

    response = client.post(url("queue", ratchet), {"item": item.pk, "verdict": "incorrect", "label": "vi"}, follow=True)

    assert response.redirect_chain == [(url("queue", ratchet), 302)]
    assert messages_of(response) == [
        "Recorded: incorrect, the right label is vi.",
        f"Item #{item.pk} is now rejected.",
    ]
    item.refresh_from_db()
    assert (item.status, item.decided_label) == (Status.REJECTED, "vi")
    assert f'id="queue-item-{item.pk}"' not in response.content.decode()


# -- Links from the task and challenge pages ---------------------------------------------------------------------


def test_the_tasks_and_the_challenge_link_to_their_ratchet(
    ratchet: Ratchet, round_: Round, validator: User, open_division: Division
) -> None:
    client = client_for(validator)
    slug = ratchet.challenge.slug
    pages = [
        reverse("challenges:task", args=[slug, ratchet.training_task.slug]),
        reverse("challenges:task", args=[slug, ratchet.test_task.slug]),
        reverse("leaderboards:task", args=[slug, ratchet.test_task.slug]),
    ]
    for page in pages:
        text = client.get(page).content.decode()
        assert 'id="ratchet-note"' in text and url("detail", ratchet) in text, page
        assert url("validate", ratchet) in text and url("round", ratchet, 1) in text, page
    for page in (reverse("challenges:detail", args=[slug]), reverse("leaderboards:challenge", args=[slug])):
        text = client.get(page).content.decode()
        assert 'id="challenge-ratchets"' in text and url("detail", ratchet) in text, page


def test_a_task_outside_any_ratchet_has_no_ratchet_note(speech_task: object, challenge: Challenge) -> None:
    text = client_for(None).get(reverse("challenges:task", args=[challenge.slug, "speech-en-25"])).content.decode()

    assert 'id="ratchet-note"' not in text
    assert (
        'id="challenge-ratchets"'
        not in client_for(None).get(reverse("challenges:detail", args=[challenge.slug])).content.decode()
    )

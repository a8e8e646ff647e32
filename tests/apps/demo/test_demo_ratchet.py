"""The demo's Roman-numeral column is a data ratchet: round 1 closed (validated, promoted, suite trained on the
best training sets, standings frozen with final scores), round 2 open with items waiting for the demo
participant."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from apps.demo.bundle import demo_bundle_write
from apps.demo.ratchet import RATCHET_SLUG
from apps.demo.services import PARTICIPANT, demo_create
from apps.ratchets.models import Item, Round, Standing
from apps.ratchets.selectors import next_item, round_figures, validators_board

BENCHMARKS = ("training-set-creation", "adversarial-test-set")


@pytest.fixture(scope="module")
def column_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_bundle_write(target=tmp_path_factory.mktemp("ratchet") / "demo.zip", benchmarks=BENCHMARKS, small=True)


@pytest.mark.django_db
def test_the_demo_column_has_a_closed_round_and_an_open_one(column_bundle: Path) -> None:
    challenge = demo_create(bundle=column_bundle).challenge
    ratchet = challenge.ratchets.get(slug=RATCHET_SLUG)
    first, second = ratchet.rounds.get(number=1), ratchet.rounds.get(number=2)
    assert (first.status, second.status) == (Round.Status.CLOSED, Round.Status.OPEN)
    assert second.data_ready_at is not None and second.suite_models.count() == 2

    closed = round_figures(round_=first)
    assert closed.collected > 0 and closed.statuses.get(Item.Status.PENDING, 0) == 0
    assert closed.promoted > 0 and closed.statuses.get(Item.Status.REJECTED, 0) > 0
    frozen = Standing.objects.get(round=first, task=ratchet.test_task, division__slug="open", split="public")
    bots = [row for row in frozen.document["rows"] if row["label"] in ("numeral-nerds", "pixel-pushers")]
    assert len(bots) == 2 and all(row["metrics"]["items_pending"] == 0 for row in bots)

    board = {row.user: row for row in validators_board(ratchet=ratchet)}
    assert board["val-cy"].excluded and not board["val-ada"].excluded  # the careless one fails the gold check

    demo = User.objects.get(username=PARTICIPANT[0])
    waiting = next_item(ratchet=ratchet, user=demo)
    assert waiting is not None and waiting.round_id == second.pk
    assert round_figures(round_=second).statuses.get(Item.Status.PENDING, 0) > 0

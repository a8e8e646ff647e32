"""Rounds: pairing two tasks, one round at a time, the close (standings frozen, pending items: extend or drop,
idempotent), and the round's data job (idempotent, and resumed after a crash without counting anything twice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from apps.challenges.models import AuditEntry, Challenge, Task
from apps.core.errors import Forbidden, InvalidInput
from apps.divisions.models import Division
from apps.jobs import rounds
from apps.jobs.rounds import round_close, round_data_write
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.ratchets.models import Item, Promotion, Ratchet, Round, Standing, SuiteModel
from apps.ratchets.services import ratchet_create, ratchet_pairing_problems, round_open, round_start_validation
from apps.submissions.models import Submission
from evaluators.adversarial_test_set import synthetic as adversarial_demo
from evaluators.training_set_creation import synthetic as training_demo
from tests.apps.conftest import RecordingBroker, make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round
from tests.conftest import put_task_data

Status = Round.Status


@pytest.fixture
def ratchet(challenge: Challenge, open_division: Division) -> Ratchet:
    return make_ratchet(challenge)


def test_pairing_refuses_tasks_of_different_ml_tasks_or_items(challenge: Challenge, ratchet: Ratchet) -> None:
    training, test = ratchet.training_task, Task.objects.get(pk=ratchet.test_task_id)
    test.ml_task = Task.MLTask.IMAGE_CLASSIFICATION
    test.config = {**test.config, "image_size": 28}
    problems = ratchet_pairing_problems(training_task=training, test_task=test)
    assert any("same ML task" in problem and "Image classification" in problem for problem in problems)
    assert any("image_size differ" in problem for problem in problems)
    assert ratchet_pairing_problems(training_task=training, test_task=Task.objects.get(pk=test.pk)) == []


def test_creating_a_ratchet_checks_the_organizer_and_the_pairing(
    challenge: Challenge, organizer: User, participant: User, ratchet: Ratchet
) -> None:
    training, test = ratchet.training_task, ratchet.test_task
    with pytest.raises(Forbidden):
        ratchet_create(actor=participant, training_task=training, test_task=test, slug="x", title="x")
    with pytest.raises(InvalidInput, match="at most one ratchet"):
        ratchet_create(actor=organizer, training_task=training, test_task=test, slug="x", title="x")
    with pytest.raises(InvalidInput, match="must be an adversarial-test-set task"):
        ratchet_create(actor=organizer, training_task=training, test_task=training, slug="y", title="y")


def test_one_round_runs_at_a_time(ratchet: Ratchet, organizer: User) -> None:
    first = make_round(ratchet, 1, Status.DRAFT)
    second = make_round(ratchet, 2, Status.DRAFT)
    with pytest.raises(InvalidInput, match="rounds before round 2 must be closed"):
        round_open(round_=second, actor=organizer)
    round_open(round_=first, actor=organizer)
    Round.objects.filter(pk=second.pk).update(number=2)
    with pytest.raises(InvalidInput, match="Round 1 is still open"):
        round_open(round_=second, actor=organizer)
    with pytest.raises(InvalidInput, match="only a draft opens"):
        round_open(round_=first, actor=organizer)
    round_start_validation(round_=first, actor=organizer)
    with pytest.raises(InvalidInput, match="Round 1 is still validating"):
        round_open(round_=second, actor=organizer)
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["round-open", "round-validate"]


def _pending_round(ratchet: Ratchet, user: User, division: Division) -> Round:
    round_ = make_round(ratchet, 1, Status.VALIDATING)
    submission = make_scored_submission(task=ratchet.test_task, division=division, user=user, primary=2.0)
    make_item(round_, submission, status=Item.Status.PENDING)
    return round_


def test_closing_with_items_being_validated_needs_a_choice(
    ratchet: Ratchet,
    organizer: User,
    participant: User,
    open_division: Division,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: Any,
) -> None:
    round_ = _pending_round(ratchet, participant, open_division)
    with pytest.raises(InvalidInput, match="1 item\\(s\\) of round 1 are still being validated: extend the round"):
        round_close(round_=round_, actor=organizer)
    round_.refresh_from_db()
    assert round_.status == Status.VALIDATING and not ratchet.rounds.filter(number=2).exists()
    with pytest.raises(InvalidInput, match="refuse \\(extend\\) or drop"):
        round_close(round_=round_, actor=organizer, pending="later")
    with django_capture_on_commit_callbacks(execute=True):
        closed = round_close(round_=round_, actor=organizer, pending="drop")
    assert closed.status == Status.CLOSED and closed.dropped_pending
    assert list(round_.items.values_list("status", flat=True)) == [Item.Status.DROPPED]
    second = ratchet.rounds.get(number=2)
    assert second.status == Status.OPEN and second.data_ready_at is None
    assert broker.ids("dataperf.round_write_data") == [second.pk]
    again = round_close(round_=closed, actor=organizer, pending="drop")  # idempotent: nothing more happens
    assert again.status == Status.CLOSED and ratchet.rounds.count() == 2
    assert AuditEntry.objects.filter(action="round-close").count() == 1


def test_close_freezes_the_boards_and_picks_the_best_training_sets(
    ratchet: Ratchet, organizer: User, participant: User, other_participant: User, open_division: Division
) -> None:
    round_ = make_round(ratchet, 1, Status.OPEN)
    training = ratchet.training_task
    for user, score in ((participant, 0.7), (other_participant, 0.9)):
        make_scored_submission(task=training, division=open_division, user=user, primary=score, metric="accuracy")
    make_scored_submission(
        task=training, division=open_division, user=organizer, primary=0.99, baseline=True, metric="accuracy"
    )
    leaderboards_rebuild_for_task(task=training)
    Ratchet.objects.filter(pk=ratchet.pk).update(top_k=1)
    round_.ratchet.refresh_from_db()
    round_close(round_=round_, actor=organizer)
    frozen = Standing.objects.get(round=round_, task=training, split="public")
    assert [row["primary"] for row in frozen.document["rows"]] == [0.99, 0.9, 0.7]
    model = SuiteModel.objects.get(round__number=2)
    assert (model.name, model.team.name, model.source_score, model.source_rank) == (
        "logreg@r2-1",
        other_participant.username,
        0.9,
        2,
    )  # the baseline is left out of the suite, and ranks are the board's


@pytest.fixture
def column(tmp_path: Path, challenge: Challenge, organizer: User, open_division: Division) -> Ratchet:
    """A ratchet over small real tasks, with round 1 closed: one suite model and one promoted item."""
    training_config = training_demo.DEMO_TASKS[0].config
    test_config = adversarial_demo.DEMO_TASKS[0].config
    training_demo.generate_task(tmp_path / "training", config=training_config, small=True)
    adversarial_demo.generate_task(tmp_path / "test", config=test_config, small=True)
    tasks = []
    for slug, evaluator, config in (
        ("t", "training-set-creation", training_config),
        ("a", "adversarial-test-set", test_config),
    ):
        task = Task.objects.create(
            challenge=challenge, slug=slug, title=slug, evaluator_slug=evaluator, ml_task="ocr", config=config
        )
        put_task_data(task, tmp_path / ("training" if slug == "t" else "test"))
        tasks.append(task)
    ratchet = ratchet_create(actor=organizer, training_task=tasks[0], test_task=tasks[1], slug="r", title="R")
    first = ratchet.rounds.get(number=1)
    Round.objects.filter(pk=first.pk).update(status=Status.CLOSED)
    second = make_round(ratchet, 2, Status.OPEN)
    Round.objects.filter(pk=second.pk).update(data_ready_at=None)
    item = make_item(first, None, claimed="iv", status=Item.Status.ACCEPTED)
    Promotion.objects.create(round=second, item=item, test_id="ratchet_r1_abc", label="iv")
    rounds._keep_seed(ratchet)
    return ratchet


def _training_rows(ratchet: Ratchet) -> list[str]:
    stored = rounds._stored_bytes(ratchet.training_task, rounds.TEST_ITEMS_FILE)
    assert stored is not None
    return stored.decode().splitlines()


def test_the_round_data_job_resumes_after_a_crash_and_counts_nothing_twice(
    column: Ratchet, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = column.rounds.get(number=2)
    seed_rows = _training_rows(column)
    real = rounds._write_test_data

    def crash(round_: Round, ratchet: Ratchet) -> int:
        real(round_, ratchet)
        raise RuntimeError("worker lost")

    monkeypatch.setattr(rounds, "_write_test_data", crash)
    with pytest.raises(RuntimeError):
        round_data_write(round_id=second.pk)
    second.refresh_from_db()
    assert second.data_ready_at is None  # rolled back: the reaper sends the job again
    monkeypatch.setattr(rounds, "_write_test_data", real)
    assert round_data_write(round_id=second.pk) is True
    assert round_data_write(round_id=second.pk) is False
    rows = _training_rows(column)
    assert rows[: len(seed_rows)] == seed_rows and rows[len(seed_rows) :] == ["ratchet_r1_abc,iv"]
    second.refresh_from_db()
    assert second.data_ready_at is not None
    training = Task.objects.get(pk=column.training_task_id)
    assert second.training_data_version == training.data_version
    assert Submission.objects.count() == 0
    assert column.items.filter(kind=Item.Kind.GOLD, round=second).count() == column.gold_items

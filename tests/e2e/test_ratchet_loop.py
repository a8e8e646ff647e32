"""The data ratchet's whole loop with a real worker, on a small Roman-numeral column: two rounds, training-set
submissions, test-set submissions with new images, validation by several users (a validator who fails the gold
check, a disputed item settled by the organizer), the close, the rescoring, and the next round's suite scoring the
next round's items. Every score of round 2 is checked against a from-scratch computation: the evaluators run
offline on task directories rebuilt here from the seed data and the validators' truths, not from the platform's
files."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.files import File

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.core.archives import make_zip
from apps.divisions.models import Division
from apps.jobs.rounds import round_close
from apps.leaderboards.models import Leaderboard
from apps.leaderboards.selectors import leaderboard_document
from apps.ratchets.models import Answer, Item, Ratchet, Round, Standing
from apps.ratchets.services import answer_record, ratchet_create, round_open
from apps.submissions.models import Score, Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from evaluators import EvaluationResult, get_evaluator
from evaluators.adversarial_test_set import item_key_of_png, item_verdicts
from evaluators.adversarial_test_set import synthetic as adversarial_demo
from evaluators.base import CollectiveEvaluator
from evaluators.taskdir import TASK_FILE
from evaluators.training_set_creation import synthetic as training_demo
from evaluators.training_set_creation.materialise import materialise_training_set
from evaluators.training_set_creation.render import NUMERALS
from tests.conftest import make_user, put_task_data
from tests.e2e.conftest import Process, wait_until

pytestmark = [pytest.mark.e2e]

LABELS = list(NUMERALS)
TRAINING_CONFIG = training_demo.DEMO_TASKS[0].config
TEST_CONFIG = adversarial_demo.DEMO_TASKS[0].config
DRAWN = 8
WRONG = 2
Verdict = Answer.Verdict


def _task(challenge: Challenge, slug: str, evaluator: str, config: dict[str, Any], directory: Path) -> Task:
    task = Task.objects.create(
        challenge=challenge,
        slug=slug,
        title=slug,
        evaluator_slug=evaluator,
        ml_task=Task.MLTask.OCR,
        config=config,
        quota_per_day=50,
    )
    put_task_data(task, directory)
    return task


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    training, test = tmp_path / "training-seed", tmp_path / "test-seed"
    training_demo.generate_task(training, config=TRAINING_CONFIG, seed=0, small=True)
    adversarial_demo.generate_task(test, config=TEST_CONFIG, seed=0, small=True)
    return {"training": training, "test": test, "work": tmp_path / "work"}


@pytest.fixture
def ratchet(challenge: Challenge, open_division: Division, organizer: User, dirs: dict[str, Path]) -> Ratchet:
    training = _task(challenge, "roman-training", "training-set-creation", TRAINING_CONFIG, dirs["training"])
    test = _task(challenge, "roman-test", "adversarial-test-set", TEST_CONFIG, dirs["test"])
    ratchet = ratchet_create(
        actor=organizer,
        training_task=training,
        test_task=test,
        slug="roman",
        title="Roman numerals",
        top_k=2,
        answers_to_decide=2,
        answers_max=2,
        gold_items=4,
        gold_min_answers=2,
        gold_min_accuracy=0.75,
    )
    round_open(round_=ratchet.rounds.get(number=1), actor=organizer)
    return ratchet


def _participant(challenge: Challenge, name: str) -> User:
    user = make_user(name)
    participation_register(challenge=challenge, user=user, accept_rules=True)
    return user


def _submit(task: Task, division: Division, user: User, directory: Path) -> Submission:
    archive = make_zip(directory, directory.parent / f"{directory.name}.zip")
    with archive.open("rb") as handle:
        data = SubmissionInput(artifact=File(handle, name=archive.name), artifact_name=archive.name)
        return submission_create(task=task, division=division, user=user, data=data)


def _drawn(out: Path, seed: int, truths: dict[str, str]) -> Path:
    """New numerals drawn for a test set; the first `WRONG` claimed with a wrong label."""
    (out / "images").mkdir(parents=True)
    rows = []
    for index, (png, numeral) in enumerate(adversarial_demo.draw_numerals(seed, DRAWN)):
        (out / "images" / f"d{index}.png").write_bytes(png)
        truths[item_key_of_png(png)] = numeral
        claimed = LABELS[(LABELS.index(numeral) + 1) % len(LABELS)] if index < WRONG else numeral
        rows.append([f"images/d{index}.png", claimed])
    _write_csv(out / "labels.csv", ["item", "label"], rows)
    return out


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _scored(submissions: list[Submission], version: Callable[[Submission], int] | None = None) -> bool:
    for submission in submissions:
        submission.refresh_from_db()
        if submission.status != "scored" or submission.current_evaluation is None:
            return False
        if version is not None and submission.current_evaluation.data_version != version(submission):
            return False
    return True


def _metric(submission: Submission, name: str) -> float:
    submission.refresh_from_db()
    evaluation = submission.current_evaluation_id
    assert evaluation is not None
    return Score.objects.get(evaluation_id=evaluation, metric=name, split="public").value


def _answer(item: Item, user: User, truth: str) -> None:
    verdict = Verdict.CORRECT if truth == item.claimed_label else Verdict.INCORRECT
    label = "" if verdict == Verdict.CORRECT else truth
    answer_record(item_id=item.pk, ratchet=item.ratchet, user=user, verdict=verdict, label=label)


def _validate_round(ratchet: Ratchet, round_: Round, validators: list[User], truths: dict[str, str]) -> None:
    for item in round_.items.filter(kind=Item.Kind.NEW).order_by("pk"):
        for user in validators:
            item.refresh_from_db()
            if item.status == Item.Status.PENDING:
                _answer(item, user, truths[item.key])


def _boards(task: Task) -> dict[tuple[int, str], dict[str, Any]]:
    return {
        (board.division_id, board.split): leaderboard_document(task=task, division=board.division, split=board.split)
        for board in Leaderboard.objects.filter(task=task).select_related("division")
    }


def _offline_dir(seed: Path, out: Path, config: dict[str, Any]) -> Path:
    shutil.copytree(seed, out)
    (out / TASK_FILE).write_text(yaml.safe_dump({"benchmark": "x", "config": config}), encoding="utf-8")
    return out


def _round2_training_dir(dirs: dict[str, Path], promoted: dict[str, tuple[bytes, str]]) -> Path:
    """The training task's round-2 test data from scratch: its seed test set plus every promoted drawing."""
    out = _offline_dir(dirs["training"], dirs["work"] / "training-r2", TRAINING_CONFIG)
    with (out / "test" / "items.csv").open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for name, (png, label) in sorted(promoted.items()):
            (out / "test" / "images" / f"{name}.png").write_bytes(png)
            writer.writerow([name, label])
    return out


def _round2_test_dir(
    dirs: dict[str, Path], suite: list[Submission], truths: dict[str, str], training_dir: Path
) -> Path:
    """The test task's round-2 data from scratch: the suite's training sets materialised from the two best
    training submissions, and every validated label."""
    sets = [f"r2-{rank}" for rank in range(1, len(suite) + 1)]
    config = {**TEST_CONFIG, "suite_sets": sets}
    out = _offline_dir(dirs["test"], dirs["work"] / "test-r2", config)
    evaluator = get_evaluator("training-set-creation")
    loaded = evaluator.load_task(training_dir, TRAINING_CONFIG)
    for name, submission in zip(sets, suite, strict=True):
        artifact = dirs["work"] / f"artifact-{submission.pk}"
        shutil.unpack_archive(submission.artifact.path, artifact, format="zip")
        parsed = evaluator.validate(loaded, artifact)
        materialise_training_set(loaded, parsed, out / "suite" / name, submission_path=artifact)
    _write_csv(out / "validated.csv", ["key", "label"], [[key, label] for key, label in sorted(truths.items())])
    return out


@dataclass(frozen=True)
class Offline:
    """Submissions scored offline: the loaded task, each one parsed, and each one's result."""

    loaded: Any
    parsed: dict[int, Any]
    results: dict[int, EvaluationResult]


def _offline_scores(task_dir: Path, slug: str, config: dict[str, Any], submissions: list[Submission]) -> Offline:
    evaluator = get_evaluator(slug)
    loaded = evaluator.load_task(task_dir, evaluator.validate_config(config))
    parsed = {}
    for submission in submissions:
        artifact = task_dir.parent / f"offline-{task_dir.name}-{submission.pk}"
        if not artifact.exists():
            shutil.unpack_archive(submission.artifact.path, artifact, format="zip")
        parsed[submission.pk] = evaluator.validate(loaded, artifact)
    if isinstance(evaluator, CollectiveEvaluator):
        together = evaluator.evaluate_all(loaded, {str(pk): value for pk, value in parsed.items()})
        return Offline(loaded, parsed, {int(pk): result for pk, result in together.items()})
    return Offline(loaded, parsed, {pk: evaluator.evaluate(loaded, value) for pk, value in parsed.items()})


@dataclass
class Loop:
    """What the phases of the loop share: the column, its people, the drawings' truths, the worker."""

    ratchet: Ratchet
    division: Division
    organizer: User
    users: dict[str, User]
    dirs: dict[str, Path]
    worker: Process
    truths: dict[str, str]

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = 240) -> None:
        wait_until(predicate, timeout=timeout, what=what, logs=self.worker.log)

    def drawn(self, seed: int) -> Path:
        return _drawn(self.dirs["work"] / f"drawn-{seed}", seed, self.truths)


def _round_one(loop: Loop) -> tuple[list[Submission], list[Submission]]:
    """Two training sets, two test sets of new drawings, scored; the drawings recorded, their scores provisional."""
    work, training, test = loop.dirs["work"], loop.ratchet.training_task, loop.ratchet.test_task
    alice, bob = loop.users["alice"], loop.users["bob"]
    sets = {
        alice: training_demo.write_baselines(loop.dirs["training"], work / "sets-a", seed=1)[
            "drop-suspected-mislabels"
        ],
        bob: training_demo.write_baselines(loop.dirs["training"], work / "sets-b", seed=2)["class-balanced"],
    }
    training_subs = [_submit(training, loop.division, user, path) for user, path in sets.items()]
    test_subs = [_submit(test, loop.division, user, loop.drawn(seed)) for seed, user in ((1, alice), (2, bob))]
    loop.wait(lambda: _scored(training_subs + test_subs), "round 1 scores")
    first = loop.ratchet.rounds.get(number=1)
    loop.wait(lambda: first.items.filter(kind=Item.Kind.NEW).count() == len(loop.truths), "the new items recorded")
    assert all(_metric(s, "items_pending") == DRAWN for s in test_subs)  # provisional until validated
    return training_subs, test_subs


def _validate_round_one(loop: Loop, test_subs: list[Submission]) -> None:
    """The careless validator fails the gold check (their answers are left out), one item is disputed and settled
    by the organizer, two validators decide the rest; the labels reach the scores."""
    ratchet, first = loop.ratchet, loop.ratchet.rounds.get(number=1)
    careless, v1, v2 = loop.users["careless"], loop.users["v1"], loop.users["v2"]
    for gold in first.items.filter(kind=Item.Kind.GOLD):
        wrong = LABELS[(LABELS.index(gold.gold_label) + 1) % len(LABELS)]
        verdict, label = (Verdict.INCORRECT, wrong) if gold.claimed_label == gold.gold_label else (Verdict.CORRECT, "")
        answer_record(item_id=gold.pk, ratchet=ratchet, user=careless, verdict=verdict, label=label)
    new_items = list(first.items.filter(kind=Item.Kind.NEW).order_by("pk"))
    for item in new_items:  # says "correct" to everything: would accept the wrong claims if it counted
        answer_record(item_id=item.pk, ratchet=ratchet, user=careless, verdict="correct")
    disputed = next(item for item in new_items if loop.truths[item.key] == item.claimed_label)
    _answer(disputed, v1, loop.truths[disputed.key])
    other = "x" if disputed.claimed_label != "x" else "i"
    answer_record(item_id=disputed.pk, ratchet=ratchet, user=v2, verdict="incorrect", label=other)
    disputed.refresh_from_db()
    assert disputed.status == Item.Status.DISPUTED
    _answer(disputed, loop.organizer, loop.truths[disputed.key])
    _validate_round(ratchet, first, [v1, v2], loop.truths)
    statuses = sorted(first.items.filter(kind=Item.Kind.NEW).values_list("status", flat=True))
    assert statuses.count("accepted") == 2 * (DRAWN - WRONG) and statuses.count("rejected") == 2 * WRONG
    loop.wait(lambda: all(_metric(s, "items_pending") == 0 for s in test_subs), "the labels to reach the scores")


def _close_round_one(loop: Loop, training_subs: list[Submission]) -> Round:
    """The close: standings frozen as they were, round 2's data written, the training sets rescored."""
    ratchet, first = loop.ratchet, loop.ratchet.rounds.get(number=1)
    before = {task.pk: _boards(task) for task in (ratchet.training_task, ratchet.test_task)}
    round_close(round_=first, actor=loop.organizer)
    for standing in Standing.objects.filter(round=first):
        assert standing.document == before[standing.task_id][(standing.division_id, standing.split)]
    second = ratchet.rounds.get(number=2)
    assert second.status == "open" and first.suite_models.count() == 0 and second.suite_models.count() == 2
    loop.wait(lambda: _refreshed(second).data_ready_at is not None, "round 2 data")
    version = Task.objects.get(pk=ratchet.training_task_id).data_version
    loop.wait(lambda: _scored(training_subs, lambda s: version), "the training sets rescored on round 2's data")
    return second


def _check_round_two_training(loop: Loop, training_subs: list[Submission], test_subs: list[Submission]) -> None:
    """From scratch: the promoted items (validated, fooling round 1's suite offline) and the training scores on
    the seed test set plus them."""
    first_offline = _offline_scores(loop.dirs["test"], "adversarial-test-set", TEST_CONFIG, test_subs)
    promoted: dict[str, tuple[bytes, str]] = {}
    for submission in test_subs:
        for found in item_verdicts(first_offline.loaded, first_offline.parsed[submission.pk]):
            if found.kind == "new" and found.fooled and loop.truths[found.key] == found.claimed:
                png = _png_of(submission, found.source, loop.dirs["work"])
                promoted[f"ratchet_r1_{found.key.removeprefix('new:')[:16]}"] = (png, found.claimed)
    test_ids = loop.ratchet.items.filter(promotion__isnull=False).values_list("promotion__test_id", flat=True)
    assert set(test_ids) == set(promoted)
    training_r2 = _round2_training_dir(loop.dirs, promoted)
    offline = _offline_scores(training_r2, "training-set-creation", TRAINING_CONFIG, training_subs)
    for submission in training_subs:
        assert _metric(submission, "accuracy") == pytest.approx(offline.results[submission.pk].primary, abs=1e-12)


def _round_two(loop: Loop, second: Round, test_subs: list[Submission]) -> None:
    """A new test set meets the stronger suite (predictions as computed from scratch); validation makes every
    test-set score final, each as the evaluator gives it offline on round 2's data rebuilt from scratch."""
    suite = [model.source for model in second.suite_models.order_by("source_rank")]
    carol_sub = _submit(loop.ratchet.test_task, loop.division, loop.users["carol"], loop.drawn(3))
    test_r2 = _round2_test_dir(loop.dirs, suite, loop.truths, loop.dirs["training"])
    config = {**TEST_CONFIG, "suite_sets": ["r2-1", "r2-2"]}
    loop.wait(lambda: _scored([carol_sub]), "round 2's test set")
    loop.wait(lambda: second.items.filter(kind=Item.Kind.NEW).count() == DRAWN, "round 2 items")
    offline = _offline_scores(test_r2, "adversarial-test-set", config, [carol_sub])
    expected = {found.key: found for found in item_verdicts(offline.loaded, offline.parsed[carol_sub.pk])}
    for item in second.items.filter(kind=Item.Kind.NEW):
        assert item.predictions == expected[item.key].predictions and item.fooled == expected[item.key].fooled
        assert "logreg@r2-1" in item.predictions
    _validate_round(loop.ratchet, second, [loop.users["v1"], loop.users["v2"]], loop.truths)
    loop.wait(lambda: _metric(carol_sub, "items_pending") == 0, "carol's final score")
    every = _offline_scores(test_r2, "adversarial-test-set", config, [*test_subs, carol_sub])
    for submission in [*test_subs, carol_sub]:
        submission.refresh_from_db()
        assert submission.current_evaluation is not None
        stored = {score.metric: score.value for score in submission.current_evaluation.scores.filter(split="public")}
        result = every.results[submission.pk]
        assert stored == pytest.approx({**result.metrics, "credit": result.primary}, abs=1e-12)


def test_two_rounds_of_the_ratchet_with_a_real_worker(
    challenge: Challenge,
    open_division: Division,
    organizer: User,
    registered: User,
    ratchet: Ratchet,
    dirs: dict[str, Path],
    start_worker: Callable[[], Process],
) -> None:
    worker = start_worker()
    users = {"alice": registered}
    users.update({name: _participant(challenge, name) for name in ("bob", "carol", "v1", "v2", "careless")})
    loop = Loop(ratchet, open_division, organizer, users, dirs, worker, truths={})
    training_subs, test_subs = _round_one(loop)
    _validate_round_one(loop, test_subs)
    second = _close_round_one(loop, training_subs)
    _check_round_two_training(loop, training_subs, test_subs)
    _round_two(loop, second, test_subs)


def _refreshed(round_: Round) -> Round:
    round_.refresh_from_db()
    return round_


def _png_of(submission: Submission, source: str, work: Path) -> bytes:
    target = work / f"png-{submission.pk}"
    if not target.exists():
        shutil.unpack_archive(submission.artifact.path, target, format="zip")
    return (target / source).read_bytes()

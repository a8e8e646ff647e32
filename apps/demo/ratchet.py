"""The demo's data ratchet: the Roman-numeral column (the training-set task and the adversarial test-set task)
run through one closed round and into an open one, with every step taken through the platform's own services,
as organizers and participants would take them:

1. round 1 opens; two bot teams hand in training sets and test sets of numerals they drew;
2. three validators answer the items (one of them careless: the gold items leave their answers out), the
   organizer settles what stays disputed, and the round closes;
3. round 2's suite adds the recipe trained on round 1's best training sets, round 1's validated items that
   fooled the suite join the training-set task's test data, and both tasks are rescored;
4. in round 2 a bot team hands in new drawings; half are validated, the others wait for the demo participant.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.models import User

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.jobs.collective import task_rescore_collective
from apps.jobs.pipeline import evaluate_and_rank
from apps.jobs.rounds import ratchet_labels_write, round_close, round_data_write, submission_items_record
from apps.ratchets.models import Answer, Item, Ratchet
from apps.ratchets.selectors import next_item
from apps.ratchets.services import answer_record, ratchet_create, round_open
from apps.submissions.models import Submission
from evaluators.adversarial_test_set import item_key_of_png
from evaluators.adversarial_test_set.synthetic import draw_numerals
from evaluators.training_set_creation import synthetic as training_demo
from evaluators.training_set_creation.render import NUMERALS

TRAINING_SLUG = "roman-numerals-training-set"
TEST_SLUG = "roman-numerals-adversarial-test-set"
RATCHET_SLUG = "roman-numerals"
BOTS = (("numeral-nerds", "drop-suspected-mislabels"), ("pixel-pushers", "cleaned-plus-augmented"))
VALIDATORS = ("val-cy", "val-ada", "val-bo")
CARELESS = "val-cy"
"""Answers every gold item wrong: after `gold_min_answers` of them, their answers no longer count. Answers first,
so that the gold check has something to leave out."""
DRAWN = 12
ANSWERS_PER_MINUTE = 30
WRONG_CLAIMS = 3
"""Of each bot's drawings, this many are claimed with a wrong label (validation rejects them)."""


SubmitFile = Callable[..., int]
"""`apps.demo.services._submit_file`: (task, division, user, (name, path), method=...) -> submission id."""
MakeUser = Callable[[str, str], User]


def _bot(username: str, challenge: Challenge, make_user: MakeUser) -> User:
    user = make_user(username, f"{username}-demo-pw")
    participation_register(challenge=challenge, user=user, accept_rules=True)
    return user


def _drawn_dir(out: Path, seed: int, truths: dict[str, str]) -> Path:
    """A test-set submission of `DRAWN` new numerals, the first `WRONG_CLAIMS` claimed with another label."""
    images = out / "images"
    images.mkdir(parents=True)
    rows = []
    for index, (png, numeral) in enumerate(draw_numerals(seed, DRAWN)):
        name = f"images/drawn_{index:02d}.png"
        (out / name).write_bytes(png)
        truths[item_key_of_png(png)] = numeral
        labels = NUMERALS
        claimed = labels[(labels.index(numeral) + 1) % len(labels)] if index < WRONG_CLAIMS else numeral
        rows.append([name, claimed])
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "label"])
        writer.writerows(rows)
    return out


def _answer_all(ratchet: Ratchet, users: list[User], truths: dict[str, str], *, limit: int | None = None) -> None:
    """Each validator answers what the queue serves, as far as `limit` items each: the truth, except the careless
    one on gold items."""
    labels = list(NUMERALS)
    for user in users:
        for _ in range(limit or 10_000):
            item = next_item(ratchet=ratchet, user=user)
            if item is None:
                break
            truth = item.gold_label or truths.get(item.key, item.claimed_label)
            if item.kind == Item.Kind.GOLD and user.username == CARELESS:
                truth = labels[(labels.index(truth) + 3) % len(labels)]
            verdict = Answer.Verdict.CORRECT if truth == item.claimed_label else Answer.Verdict.INCORRECT
            label = "" if verdict == Answer.Verdict.CORRECT else truth
            answer_record(item_id=item.pk, ratchet=ratchet, user=user, verdict=verdict, label=label)


def _settle_disputes(ratchet: Ratchet, organizer: User, truths: dict[str, str]) -> None:
    for item in ratchet.items.filter(status=Item.Status.DISPUTED):
        truth = truths.get(item.key, item.claimed_label)
        verdict = Answer.Verdict.CORRECT if truth == item.claimed_label else Answer.Verdict.INCORRECT
        label = "" if verdict == Answer.Verdict.CORRECT else truth
        answer_record(item_id=item.pk, ratchet=ratchet, user=organizer, verdict=verdict, label=label)


def _labels_landed(ratchet: Ratchet) -> None:
    """What the workers would do after the answers: write the decided labels and rescore the test-set task, so
    that the standings frozen at the close hold final scores."""
    ratchet_labels_write(ratchet_id=ratchet.pk)
    task_rescore_collective(task_id=ratchet.test_task_id)


def _rescore(ratchet: Ratchet) -> None:
    """What the workers would do after the close: the queued training sets, then the test set's collective
    rescore (a worker's later message finds them done)."""
    for pk in Submission.objects.filter(task=ratchet.training_task, status=Submission.Status.QUEUED).values_list(
        "pk", flat=True
    ):
        evaluate_and_rank(submission_id=pk)
    task_rescore_collective(task_id=ratchet.test_task_id)


def demo_ratchet_create(
    *, challenge: Challenge, organizer: User, submit: SubmitFile, make_user: MakeUser, training_dir: Path
) -> Ratchet | None:
    """Build the demo's ratchet (module docstring); None when the demo challenge lacks one of the two tasks.
    `submit(task, division, user, (name, path), method=...) -> submission id` and `make_user(username, password)`
    are the demo's own helpers; `training_dir` is the training-set task's directory (for its baselines)."""
    training = Task.objects.filter(challenge=challenge, slug=TRAINING_SLUG).first()
    test = Task.objects.filter(challenge=challenge, slug=TEST_SLUG).first()
    if training is None or test is None:
        return None
    division = challenge.divisions.get(slug="open")
    ratchet = ratchet_create(
        actor=organizer,
        training_task=training,
        test_task=test,
        slug=RATCHET_SLUG,
        title="Roman numerals",
        description="The Roman-numeral column of the benchmark matrix as a data ratchet: the best training sets "
        "train the next round's models, and the validated numerals that fooled the models harden the test data.",
        top_k=2,
        gold_items=6,
        # The demo's validators answer in seconds what people answer over hours; the usual limit from the end.
        answers_per_minute=1000,
    )
    round_open(round_=ratchet.rounds.get(number=1), actor=organizer)
    for pk in Submission.objects.filter(task=test, status=Submission.Status.SCORED).values_list("pk", flat=True):
        submission_items_record(submission_id=pk)  # the baselines' drawings join round 1, as round_open asks
    truths: dict[str, str] = {}
    bots = [_bot(name, challenge, make_user) for name, _ in BOTS]
    validators = [_bot(name, challenge, make_user) for name in VALIDATORS]
    with tempfile.TemporaryDirectory(prefix="demo-ratchet-") as tmp:
        work = Path(tmp)
        for seed, ((_, method), user) in enumerate(zip(BOTS, bots, strict=True), start=1):
            sets = training_demo.write_baselines(training_dir, work / f"training-{seed}", seed=seed)
            _score(submit, training, division, user, (method, sets[method]), f"{method}, seed {seed}")
            drawn = _drawn_dir(work / f"drawn-{seed}" / "set", seed, truths)
            _score(submit, test, division, user, ("drawn", drawn), "Numerals drawn to fool the models", items=True)
        _answer_all(ratchet, validators, truths)
        _settle_disputes(ratchet, organizer, truths)
        _labels_landed(ratchet)
        first = ratchet.rounds.get(number=1)
        round_close(round_=first, actor=organizer, pending="drop")
        second = ratchet.rounds.get(number=2)
        round_data_write(round_id=second.pk)
        _rescore(ratchet)
        drawn = _drawn_dir(work / "drawn-round-2" / "set", 7, truths)
        _score(submit, test, division, bots[1], ("drawn", drawn), "More numerals, for the stronger suite", items=True)
    # Round 2: one validator answers every item, another half of them; the demo participant's answer decides the rest.
    _answer_all(ratchet, validators[1:2], truths)
    _answer_all(ratchet, validators[2:], truths, limit=DRAWN // 2)
    _labels_landed(ratchet)
    Ratchet.objects.filter(pk=ratchet.pk).update(answers_per_minute=ANSWERS_PER_MINUTE)
    return ratchet


def _score(
    submit: SubmitFile,
    task: Task,
    division: Division,
    user: User,
    written: tuple[str, Path],
    method: str,
    *,
    items: bool = False,
) -> None:
    pk = submit(task, division, user, written, method=method)
    evaluate_and_rank(submission_id=pk)
    if items:
        submission_items_record(submission_id=pk)

"""The data ratchet (the DataPerf paper's reason to exist): one column of the benchmark matrix, a training-set
task and a test-set task on the same ML task, run in numbered rounds in which each side improves the other.

Rows here are the ratchet's immutable record: the items collected in each round and who made them, every
validator's answer, the models of each round's suite and the training set each came from, the items each round
promoted into the training-set task's test data, and each closed round's frozen standings. An item's status and
every count are derived from these rows (`apps.ratchets.decisions`), never incremented.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.accounts.models import Team
from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.submissions.models import Submission, private_storage

TRAINING_EVALUATOR = "training-set-creation"
TEST_EVALUATOR = "adversarial-test-set"


class Ratchet(models.Model):
    """A column of the matrix: its two tasks, and the settings of its rounds and of human validation."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="ratchets")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown; rendered and sanitised.")
    training_task = models.OneToOneField(
        Task, on_delete=models.PROTECT, related_name="ratchet_as_training", help_text="A training-set-creation task."
    )
    test_task = models.OneToOneField(
        Task, on_delete=models.PROTECT, related_name="ratchet_as_test", help_text="An adversarial-test-set task."
    )
    top_k = models.PositiveSmallIntegerField(
        default=3, help_text="How many of the best training sets of a round train the next round's suite (1-10)."
    )
    answers_to_decide = models.PositiveSmallIntegerField(
        default=2, help_text="k: matching answers that accept an item, or 'incorrect'/flag answers that reject it."
    )
    answers_max = models.PositiveSmallIntegerField(
        default=5, help_text="k_max: answers after which an undecided item goes to the organizers as disputed."
    )
    gold_items = models.PositiveSmallIntegerField(
        default=12, help_text="Gold items (known labels) mixed into each round's validation queue."
    )
    gold_min_answers = models.PositiveSmallIntegerField(
        default=3, help_text="Gold answers a validator gives before their accuracy is judged."
    )
    gold_min_accuracy = models.FloatField(
        default=0.7, help_text="Below this accuracy on gold items, a validator's answers are left out."
    )
    answers_per_minute = models.PositiveSmallIntegerField(default=30, help_text="Per validator.")
    seed_test_items = models.FileField(
        storage=private_storage,
        upload_to="ratchets/seed/",
        blank=True,
        help_text="The training-set task's own test/items.csv, kept when the first round closes.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["challenge", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "slug"], name="ratchet_slug_unique"),
            models.CheckConstraint(condition=Q(top_k__gte=1, top_k__lte=10), name="ratchet_top_k_range"),
            models.CheckConstraint(
                condition=Q(answers_to_decide__gte=1, answers_max__gte=models.F("answers_to_decide")),
                name="ratchet_answers_order",
            ),
            models.CheckConstraint(
                condition=Q(gold_min_accuracy__gte=0, gold_min_accuracy__lte=1), name="ratchet_gold_accuracy_range"
            ),
            models.CheckConstraint(condition=Q(answers_per_minute__gte=1), name="ratchet_answer_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.challenge.slug}/{self.slug}"


class Round(models.Model):
    """A numbered round: draft -> open (test-set submissions collected) -> validating -> closed (standings
    frozen, next round's data written). Closing round N opens round N+1."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        VALIDATING = "validating", "Validating"
        CLOSED = "closed", "Closed"

    ratchet = models.ForeignKey(Ratchet, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Planned opening (shown to participants).")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Planned end of collection.")
    opened_at = models.DateTimeField(null=True, blank=True)
    validating_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    dropped_pending = models.BooleanField(
        default=False, help_text="Closed with validation unfinished: its pending items were dropped."
    )
    data_ready_at = models.DateTimeField(
        null=True, blank=True, help_text="When this round's suite and test data were written to the tasks."
    )
    training_data_version = models.PositiveIntegerField(null=True, blank=True)
    test_data_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["ratchet", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ratchet", "number"], name="round_number_unique"),
            models.UniqueConstraint(fields=["ratchet"], condition=Q(status="open"), name="round_one_open_per_ratchet"),
            models.CheckConstraint(condition=Q(number__gte=1), name="round_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.ratchet} round {self.number}"


class Item(models.Model):
    """A test item to validate: a claim (a new item's key and a claimed label) first collected in `round`, or a
    gold item. Pool items are not validated: their hidden human labels score them. One row per (ratchet, key,
    claimed label): the same image submitted again, by anyone, is the same item and is validated once. Which
    submissions hold it: `Claim`."""

    class Kind(models.TextChoices):
        NEW = "new", "New item"
        GOLD = "gold", "Gold item"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        DISPUTED = "disputed", "Disputed"
        DROPPED = "dropped", "Dropped"

    ratchet = models.ForeignKey(Ratchet, on_delete=models.CASCADE, related_name="items")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=80, help_text="new:<sha256> of the item's bytes (gold items: gold:<train id>).")
    claimed_label = models.CharField(max_length=200)
    payload = models.FileField(storage=private_storage, upload_to="ratchets/items/", blank=True)
    payload_type = models.CharField(max_length=40, blank=True, help_text="image/png, or text/csv for features.")
    predictions = models.JSONField(default=dict, help_text="The round's suite: model name -> predicted label.")
    fooled = models.BooleanField(default=False, help_text="Most of the round's suite predicts another label.")
    gold_label = models.CharField(max_length=200, blank=True, help_text="Gold items: the known label.")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, help_text="Derived from the answers."
    )
    decided_label = models.CharField(
        max_length=200, blank=True, help_text="The label validation settled on; empty: none of the task's labels."
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ratchet", "key", "claimed_label"], name="item_claim_unique"),
            models.CheckConstraint(condition=Q(kind="gold") | Q(gold_label=""), name="item_gold_label_only_on_gold"),
        ]
        indexes = [models.Index(fields=["ratchet", "status"], name="item_ratchet_status")]

    def __str__(self) -> str:
        return f"{self.key} as {self.claimed_label!r}"


class Claim(models.Model):
    """Provenance: a submission (and so a team) that holds an item, and on which line of its labels.csv."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="claims")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="ratchet_claims")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=1100, help_text="The pool id, or the item's path in the submission.")
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["item", "submission"]
        constraints = [models.UniqueConstraint(fields=["item", "submission"], name="claim_unique")]

    def __str__(self) -> str:
        return f"{self.item} in submission {self.submission_id}"


class Answer(models.Model):
    """One validator's answer on one item. Append-only; a validator answers an item once."""

    class Verdict(models.TextChoices):
        CORRECT = "correct", "Correct"
        INCORRECT = "incorrect", "Incorrect"
        FLAG = "flag", "Flag"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="answers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratchet_answers")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    label = models.CharField(max_length=200, blank=True, help_text="Incorrect: the right label, per the validator.")
    reason = models.CharField(max_length=500, blank=True, help_text="Flag: why.")
    is_organizer = models.BooleanField(default=False, help_text="An organizer's answer decides the item.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="answer_once_per_item"),
            models.CheckConstraint(condition=~Q(verdict="incorrect") | ~Q(label=""), name="answer_incorrect_has_label"),
            models.CheckConstraint(condition=~Q(verdict="flag") | ~Q(reason=""), name="answer_flag_has_reason"),
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="answer_user_time")]

    def __str__(self) -> str:
        return f"{self.verdict} on item {self.item_id}"


class SuiteModel(models.Model):
    """A model of a round's suite trained on a submitted training set (the reference models come from the test
    task's config). Provenance: the training set and its team, and its score when chosen."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="suite_models")
    name = models.CharField(max_length=120, help_text="The model's name in the suite: <recipe>@<set>.")
    set_name = models.CharField(max_length=64)
    source = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    source_score = models.FloatField()
    source_rank = models.PositiveIntegerField()

    class Meta:
        ordering = ["round", "source_rank"]
        constraints = [models.UniqueConstraint(fields=["round", "set_name"], name="suite_model_unique")]

    def __str__(self) -> str:
        return self.name


class Promotion(models.Model):
    """An item of round N that validation accepted and that fooled round N's suite, added to the training-set
    task's hidden test data from round N+1 (`round`) on, under `test_id`."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="promotions")
    item = models.OneToOneField(Item, on_delete=models.PROTECT, related_name="promotion")
    test_id = models.CharField(max_length=128)
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["round", "test_id"]
        constraints = [models.UniqueConstraint(fields=["round", "test_id"], name="promotion_test_id_unique")]

    def __str__(self) -> str:
        return self.test_id


class Standing(models.Model):
    """A closed round's board of one task, division and split, frozen when the round closed (Dynabench's
    leaderboard snapshots): it never changes afterwards."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="standings")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.CASCADE, related_name="+")
    split = models.CharField(max_length=10)
    document = models.JSONField(default=dict, help_text="The board's JSON document as served when the round closed.")
    data_version = models.PositiveIntegerField()
    frozen_at = models.DateTimeField()

    class Meta:
        ordering = ["round", "task", "division", "split"]
        constraints = [models.UniqueConstraint(fields=["round", "task", "division", "split"], name="standing_unique")]

    def __str__(self) -> str:
        return f"{self.round} / task {self.task_id} / {self.split}"

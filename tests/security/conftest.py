"""The world the security tests attack: the API tests' world (tests/api/conftest.py) grown with everything a
participant must never see, each piece carrying a unique marker so that a leak names itself.

- Participant A (alice) and B (bob) compete in the speech challenge, each with scored open-division submissions
  holding private and concealed scores (values that appear nowhere else); A also has a closed-division
  submission with verification stages (the concealed run's stderr and the organizers' notes are secret).
- B's artifact, code archive, method description, disqualification reason, API token name and private named
  team carry markers; so do the hidden task files, the concealed task's files, A's concealed output, the
  sealed evaluation details, the audit log, an export, a pending registration's e-mail address, the draft
  challenge and the unpublished task.
- A second public challenge has its own organizer (olga, the "other organizer" role), task, audit entry and
  export: the first challenge's organizer may not act on it, nor olga on the first.
- The speech task has a private split (issue 13): its config holds `private_fraction` and a `split_seed` whose
  digits are a marker (an organizer secret for good: participants never get it, even after the end). A's and
  B's evaluations hold what a split evaluation stores: public and private scores, the whole set's values under
  `details["sealed"]["whole_set"]`, a visible chart of public units and a sealed chart naming private units
  (membership) by marker ids. The boards are rebuilt, so the private board and its shake-up exist.
- The challenge runs a data ratchet, "roman" (issue 14): its training-set task (with a private split and the
  same marked seed) and its test-set task, whose hidden `human_labels.csv` names a marker. Round 1 is closed with
  frozen boards: a public one, and a private one that is not revealed (a marked row, a secret score, its
  shake-up). Round 2 is open: a new item of B's team whose suite predictions name a marker, a new item of A's
  team, and a gold item claiming the same label as B's item (its gold label another, its stored file named as
  the gold service names it). Round 1 holds an item of each team.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from apps.accounts.models import ApiToken, Team, TeamInvite
from apps.accounts.services import api_token_create, team_create, team_invite_create, team_member_add
from apps.challenges.audit import audit_record
from apps.challenges.models import CONCEALED_DIR, AuditAction, AuditEntry, Challenge, Participation, Task, TaskDataFile
from apps.challenges.services import participation_register, task_config_validate, task_data_file_put
from apps.core.heartbeats import Heartbeat, RunningTask, worker_heartbeat_record
from apps.divisions.models import Division
from apps.leaderboards.models import Export, TaskWeight
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.ratchets.models import Item, Ratchet, Round, Standing
from apps.submissions.awards import award_grant
from apps.submissions.models import Award, Evaluation, Score, Submission, VerificationStage
from apps.submissions.services.evaluation import WHOLE_SET_KEY
from evaluators.base import chart
from evaluators.splits import PRIVATE_FRACTION_KEY, SPLIT_SEED_KEY
from tests.api.conftest import World, _fresh_state, _no_broker, world
from tests.apps.conftest import PRIMARY, SEED_METRICS, make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round, png
from tests.conftest import make_user

# Re-exported: pytest finds fixtures by the conftest's attributes (the API world and its autouse fixtures).
__all__ = ["_fresh_state", "_no_broker", "world"]

ROLES = ("anonymous", "participant_a", "participant_b", "other_organizer", "organizer", "staff")


class Marker:
    """Strings that must never reach participant A. Each names what leaked."""

    HIDDEN_FILE = "HIDDEN-FILE-MARKER-5b1e0c"
    CONCEALED_HIDDEN = "CONCEALED-HIDDEN-MARKER-77aa21"
    CONCEALED_PUBLIC = "CONCEALED-PUBLIC-MARKER-0f9d3e"
    CONCEALED_OUTPUT = "CONCEALED-OUTPUT-MARKER-c4e8b0"
    CONCEALED_CONFIG = "CONCEALED-CONFIG-MARKER-3a90d7"
    CONCEALED_STDERR = "CONCEALED-STDERR-MARKER-61f2aa"
    ORGANIZER_DETAIL = "ORGANIZER-DETAIL-MARKER-9c3d55"
    SEALED_DETAIL = "SEALED-DETAIL-MARKER-2e7f19"
    B_ARTIFACT = "B-ARTIFACT-CONTENT-MARKER-a8d4c2"
    B_ARTIFACT_NAME = "b-artifact-name-marker-3f6e.json"
    B_CODE = "B-CODE-ARCHIVE-MARKER-d0b7e4"
    B_METHOD = "B-METHOD-DESCRIPTION-MARKER-47c1fe"
    B_REASON = "B-DISQUALIFICATION-MARKER-e5a903"
    B_TOKEN = "B-TOKEN-NAME-MARKER-1d8c6b"
    B_TEAM = "B-PRIVATE-TEAM-MARKER-b2f07a"
    B_EMAIL = "bob@example.org"
    PENDING_EMAIL = "pending-marker-8e21c4@example.org"
    AUDIT = "AUDIT-ENTRY-MARKER-f3b6d1"
    OTHER_AUDIT = "OTHER-AUDIT-MARKER-0ac5e7"
    EXPORT = "EXPORT-FILE-MARKER-7d2b98"
    DRAFT = "DRAFT-CHALLENGE-MARKER-c19e4f"
    UNPUBLISHED = "UNPUBLISHED-TASK-MARKER-58af0d"
    SPLIT_SEED = "8361045927719304526"
    """The task's split seed (a large integer, below 2**63): with the units' ids it gives the partition away."""
    PRIVATE_UNIT = "PRIVATE-UNIT-MARKER-6e0b3f"
    """The ids of private evaluation units, as a sealed chart names them: which units are private (membership)."""
    HUMAN_LABELS = "HUMAN-LABELS-MARKER-4d71b9"
    """A pool id of the ratchet's test-set task, in its hidden human labels."""
    ITEM_PREDICTIONS = "ITEM-PREDICTIONS-MARKER-9a0e37"
    """A model of B's items' suite predictions (what fooled whom: organizers' business until the round closes)."""
    PRIVATE_STANDING = "PRIVATE-STANDING-MARKER-e81c52"
    """The row of round 1's frozen private board, not revealed."""

    @classmethod
    def all(cls) -> dict[str, str]:
        return {name: value for name, value in vars(cls).items() if name.isupper()}

    @classmethod
    def forms(cls, name: str) -> list[str]:
        """How the marker could be printed: itself, and for the seed also as a float and in hexadecimal (an
        integer that went through a float or a hex digest)."""
        value = getattr(cls, name)
        if name == "SPLIT_SEED":
            return [value, repr(float(value)), format(int(value), "x")]
        return [value]


class Secret:
    """Score values that only organizers may see while the challenge runs: the private and concealed splits'
    and the whole evaluation set's (sealed, since beside the public value it gives the private one away)."""

    A_PRIVATE = 0.5772156649
    A_CONCEALED = 0.4142135623
    A_WHOLE_SET = 0.5358979323
    B_PRIVATE = 0.6180339887
    B_CONCEALED = 0.7320508075
    B_WHOLE_SET = 0.4472135955
    ROUND_PRIVATE = 0.3819660112
    """The score of the frozen private board of the ratchet's round 1."""

    @classmethod
    def all(cls) -> dict[str, float]:
        return {name: value for name, value in vars(cls).items() if name.isupper()}

    @staticmethod
    def printed(value: float) -> list[str]:
        """How a value could be printed: repr, 6 significant digits (the e-mails), 5, 4 and 3 decimals, and
        x100 with 2 and 1 decimals (the macro F1's display scale)."""
        plain = [repr(value), f"{value:.6g}", f"{value:.5f}", f"{value:.4f}", f"{value:.3f}"]
        return [*plain, f"{value * 100:.2f}", f"{value * 100:.1f}"]


@dataclass
class RatchetWorld:
    """The "roman" ratchet of the speech challenge: round 1 closed (an item of each team, frozen boards), round 2
    open (B's new item, A's new item, a gold item)."""

    ratchet: Ratchet
    closed: Round
    live: Round
    item_b: Item
    item_a: Item
    gold: Item
    closed_a: Item
    closed_b: Item
    public_standing: Standing
    private_standing: Standing


@dataclass
class SecurityWorld:
    """Everything the security tests act on. `base` is the API tests' world (the speech challenge, its open
    division, A's scored submission, the draft challenge, the unpublished task, one API token per role)."""

    base: World
    closed: Division
    other_challenge: Challenge
    other_task: Task
    submission_a_closed: Submission
    submission_b: Submission
    submission_b_disqualified: Submission
    team_a_named: Team
    team_b_named: Team
    member_of_a: User
    invite_a: TeamInvite
    invite_b_token: str
    token_a: ApiToken
    pending: Participation
    export: Export
    other_export: Export
    audit: AuditEntry
    award: Award
    concealed_file: TaskDataFile
    roman: RatchetWorld
    users: dict[str, User | None] = field(default_factory=dict)
    hidden_files: list[TaskDataFile] = field(default_factory=list)

    @property
    def challenge(self) -> Challenge:
        return self.base.challenge

    @property
    def task(self) -> Task:
        return self.base.task

    @property
    def submission_a(self) -> Submission:
        return self.base.submission

    def client(self, role: str) -> Client:
        """A browser session of the role (anonymous: none)."""
        client = Client()
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client

    def hidden_digests(self) -> dict[str, str]:
        """sha256 -> path of every file no participant may download: the hidden files (the ratchet's tasks'
        included) and the concealed task's."""
        return {data_file.sha256: data_file.relative_path for data_file in self.hidden_files}


def _put(task: Task, path: str, text: str, role: str = "") -> TaskDataFile:
    return task_data_file_put(task=task, relative_path=path, content=ContentFile(text.encode(), name="x"), role=role)


def _plant_task_secrets(task: Task) -> list[TaskDataFile]:
    """Marked hidden and concealed files next to the synthetic task's own, and a concealed task."""
    _put(task, "notes/hidden-answers.txt", f"{Marker.HIDDEN_FILE}\nthe answers\n", role=TaskDataFile.Role.HIDDEN)
    _put(task, "concealed/eval.yaml", f"# {Marker.CONCEALED_HIDDEN}\n")
    _put(task, "concealed/allowed_training_set.yaml", f"# {Marker.CONCEALED_PUBLIC}\n")
    Task.objects.filter(pk=task.pk).update(concealed_config={**task.config, "note": Marker.CONCEALED_CONFIG})
    task.refresh_from_db()
    secret = Q(role=TaskDataFile.Role.HIDDEN) | Q(relative_path__startswith=f"{CONCEALED_DIR}/")
    return list(task.data_files.filter(secret))


def _add_scores(submission: Submission, *, private: float, concealed: float) -> None:
    evaluation = submission.current_evaluation
    assert evaluation is not None
    Score.objects.bulk_create(
        [
            Score(evaluation=evaluation, split=Score.Split.PRIVATE, metric=PRIMARY, value=private),
            Score(evaluation=evaluation, split=Score.Split.CONCEALED, metric=PRIMARY, value=concealed),
        ]
    )


def _closed_submission_of_a(w: World, closed: Division) -> Submission:
    submission = make_scored_submission(task=w.task, division=closed, user=w.user("participant_a"), primary=0.45)
    submission.concealed_output.save("out.json", ContentFile(Marker.CONCEALED_OUTPUT.encode()), save=True)
    now = timezone.now()
    for stage, message in (("unpack", "Unpacked."), ("reproduce", "Reproduced."), ("concealed", "Ran.")):
        VerificationStage.objects.create(
            submission=submission,
            stage=stage,
            status=VerificationStage.Status.PASSED,
            message=message,
            stderr_tail=Marker.CONCEALED_STDERR if stage == "concealed" else "",
            organizer_detail=Marker.ORGANIZER_DETAIL,
            started_at=now,
            finished_at=now,
            wall_seconds=1.0,
        )
    return submission


def _submissions_of_b(w: World) -> tuple[Submission, Submission]:
    bob = w.user("participant_b")
    submission = make_scored_submission(task=w.task, division=w.division, user=bob, primary=0.3)
    submission.artifact.save(Marker.B_ARTIFACT_NAME, ContentFile(Marker.B_ARTIFACT.encode()), save=False)
    submission.code_archive.save("code.archive", ContentFile(Marker.B_CODE.encode()), save=False)
    submission.artifact_name = Marker.B_ARTIFACT_NAME
    submission.method_description = Marker.B_METHOD
    submission.save()
    disqualified = make_scored_submission(task=w.task, division=w.division, user=bob, primary=0.9)
    Submission.objects.filter(pk=disqualified.pk).update(is_disqualified=True, disqualified_reason=Marker.B_REASON)
    disqualified.refresh_from_db()
    return submission, disqualified


def _other_challenge(w: World) -> tuple[Challenge, Task, User]:
    olga = make_user("olga")
    other = Challenge.objects.create(
        slug="other-challenge",
        title="Other challenge",
        visibility=Challenge.Visibility.PUBLIC,
        starts_at=w.challenge.starts_at,
        ends_at=w.challenge.ends_at,
    )
    other.organizers.add(olga)
    Division.objects.create(challenge=other, slug="open", kind="open", name="Open")
    task = Task.objects.create(
        challenge=other,
        slug="other-task",
        title="Other task",
        evaluator_slug=w.task.evaluator_slug,
        ml_task=w.task.ml_task,
        config=w.task.config,
    )
    audit_record(challenge=other, actor=olga, action=AuditAction.CHALLENGE_CHANGE, summary=Marker.OTHER_AUDIT)
    return other, task, olga


def _export(challenge: Challenge, user: User, text: str) -> Export:
    export = Export.objects.create(challenge=challenge, requested_by=user, status=Export.Status.DONE, rows=2)
    export.file.save("submissions.csv", ContentFile(text.encode()), save=True)
    return export


def _teams(w: World) -> tuple[Team, User, TeamInvite, Team, str]:
    alice, bob = w.user("participant_a"), w.user("participant_b")
    team_a = team_create(user=alice, name="Alpha squad")
    carol = make_user("carol")
    team_member_add(team=team_a, user=carol, actor=alice)
    invite_a, _ = team_invite_create(team=team_a, user=alice)
    team_b = team_create(user=bob, name=Marker.B_TEAM)
    _, token_b = team_invite_create(team=team_b, user=bob)
    return team_a, carol, invite_a, team_b, token_b


def _pending_registration(challenge: Challenge) -> Participation:
    pending_user = make_user("penny")
    User.objects.filter(pk=pending_user.pk).update(email=Marker.PENDING_EMAIL)
    Challenge.objects.filter(pk=challenge.pk).update(registration=Challenge.Registration.APPROVAL)
    challenge.refresh_from_db()
    participation = participation_register(challenge=challenge, user=pending_user, accept_rules=True)
    Challenge.objects.filter(pk=challenge.pk).update(registration=Challenge.Registration.OPEN)
    challenge.refresh_from_db()
    assert participation.status == Participation.Status.PENDING
    return participation


def _mark_drafts(w: World) -> None:
    Challenge.objects.filter(pk=w.draft.pk).update(description=Marker.DRAFT, summary=Marker.DRAFT)
    Task.objects.create(
        challenge=w.draft,
        slug="draft-task",
        title=Marker.DRAFT,
        evaluator_slug=w.task.evaluator_slug,
        ml_task=w.task.ml_task,
        config=w.task.config,
    )
    Task.objects.filter(pk=w.unpublished.pk).update(title=Marker.UNPUBLISHED, description=Marker.UNPUBLISHED)


def _split_task(task: Task) -> None:
    """Give the task a private split, as an organizer would (the config passes the evaluator's validation)."""
    config = {**task.config, PRIVATE_FRACTION_KEY: 0.5, SPLIT_SEED_KEY: int(Marker.SPLIT_SEED)}
    Task.objects.filter(pk=task.pk).update(
        config=task_config_validate(evaluator_slug=task.evaluator_slug, config=config)
    )
    task.refresh_from_db()
    assert task.has_private_split


def _seal_details(submission: Submission, *, whole_set: float) -> None:
    """What a split evaluation stores beside its scores: a visible chart of the public part, the whole set's
    values sealed, and sealed charts (one naming the private units: which units are private)."""
    units = range(3)
    details = {
        "charts": [chart("bar", "Accuracy per clip (public part)", [f"public-clip-{i}" for i in units], [1, 0, 1])],
        "sealed": {
            "labels": Marker.SEALED_DETAIL,
            WHOLE_SET_KEY: {"primary": whole_set, "metrics": {PRIMARY: whole_set, SEED_METRICS[0]: whole_set}},
        },
        "sealed_charts": [
            chart("bar", Marker.SEALED_DETAIL, ["whole set"], [1]),
            chart("bar", "Accuracy per clip (private part)", [f"{Marker.PRIVATE_UNIT}-{i}" for i in units], [0, 1, 1]),
        ],
    }
    Evaluation.objects.filter(submission=submission).update(details=details)


def _worker_heartbeat(submission: Submission) -> None:
    """A worker's heartbeat (the read-only workers' admin), evaluating A's submission."""
    running = RunningTask(name="evaluate", id="task-1", args=f"({submission.pk},)", started_at=timezone.now())
    beat = Heartbeat(
        name="worker@security",
        pid=4242,
        queues=("evaluate", "maintenance"),
        pool_size=2,
        started_at=timezone.now(),
        consuming=True,
        tasks=(running,),
    )
    worker_heartbeat_record(beat=beat)


def _frozen_board(split: str, label: str, value: float, public_rank: int | None) -> dict[str, Any]:
    """A one-row board document in `leaderboard_document`'s shape, as a round's close freezes it."""
    primary = {"name": PRIMARY, "label": "Accuracy", "higher_is_better": True, "scale": 1, "column": True}
    row = {
        "rank": 1,
        "label": label,
        "team": label,
        "primary": value,
        "metrics": {PRIMARY: value},
        "is_baseline": False,
        "public_rank": public_rank,
    }
    return {"split": split, "primary": primary, "columns": [primary], "rows": [row]}


def _freeze(round_: Round, division: Division, split: str, document: dict[str, Any]) -> Standing:
    return Standing.objects.create(
        round=round_,
        task=round_.ratchet.training_task,
        division=division,
        split=split,
        document=document,
        data_version=1,
        frozen_at=timezone.now(),
    )


def _marked_predictions(item: Item) -> Item:
    """The item, its suite's predictions naming a marked model (what fooled whom)."""
    Item.objects.filter(pk=item.pk).update(predictions={Marker.ITEM_PREDICTIONS: "v", "logreg": "v"})
    item.refresh_from_db()
    return item


def _gold_item(round_: Round) -> Item:
    """A gold item claiming "iv" (its known label "vii"), its file named as `gold_items_add` names it: the name
    must never reach a validator."""
    gold = make_item(round_, claimed="iv", gold_label="vii", fooled=False)
    gold.payload.save(f"{round_.ratchet_id}/gold-{round_.number}-0.png", ContentFile(png("vii")), save=True)
    return gold


def _ratchet_world(w: World) -> tuple[RatchetWorld, list[TaskDataFile]]:
    """The "roman" ratchet (see the module's docstring), and its tasks' hidden files."""
    ratchet = make_ratchet(w.challenge)
    _split_task(ratchet.training_task)
    human = _put(ratchet.test_task, "human_labels.csv", f"id,label\n{Marker.HUMAN_LABELS},iv\n")
    alice, bob = w.user("participant_a"), w.user("participant_b")
    set_a = make_scored_submission(task=ratchet.test_task, division=w.division, user=alice, primary=0.2)
    set_b = make_scored_submission(task=ratchet.test_task, division=w.division, user=bob, primary=0.1)
    closed, live = make_round(ratchet, 1, Round.Status.CLOSED), make_round(ratchet, 2, Round.Status.OPEN)
    public = _frozen_board("public", "Public standing", 0.25, None)
    private = _frozen_board("private", Marker.PRIVATE_STANDING, Secret.ROUND_PRIVATE, 1)
    roman = RatchetWorld(
        ratchet=ratchet,
        closed=closed,
        live=live,
        item_b=_marked_predictions(make_item(live, set_b, claimed="iv")),
        item_a=make_item(live, set_a, claimed="ii"),
        gold=_gold_item(live),
        closed_a=make_item(closed, set_a, claimed="iii", status=Item.Status.ACCEPTED),
        closed_b=_marked_predictions(make_item(closed, set_b, claimed="v", status=Item.Status.REJECTED)),
        public_standing=_freeze(closed, w.division, "public", public),
        private_standing=_freeze(closed, w.division, "private", private),
    )
    seed = ratchet.training_task.data_files.get(relative_path="test/items.csv")
    return roman, [seed, human]


@pytest.fixture
def security_world(world: World, closed_division: Division) -> SecurityWorld:
    hidden_files = _plant_task_secrets(world.task)
    closed_a = _closed_submission_of_a(world, closed_division)
    submission_b, disqualified_b = _submissions_of_b(world)
    _add_scores(world.submission, private=Secret.A_PRIVATE, concealed=Secret.A_CONCEALED)
    _add_scores(submission_b, private=Secret.B_PRIVATE, concealed=Secret.B_CONCEALED)
    _seal_details(world.submission, whole_set=Secret.A_WHOLE_SET)
    _seal_details(submission_b, whole_set=Secret.B_WHOLE_SET)
    other, other_task, olga = _other_challenge(world)
    team_a, carol, invite_a, team_b, token_b = _teams(world)
    token_a, _ = api_token_create(user=world.user("participant_a"), name="a laptop")
    api_token_create(user=world.user("participant_b"), name=Marker.B_TOKEN)
    organizer = world.user("organizer")
    audit = audit_record(
        challenge=world.challenge, actor=organizer, action=AuditAction.CHALLENGE_CHANGE, summary=Marker.AUDIT
    )
    _mark_drafts(world)
    award = award_grant(submission=world.submission, actor=organizer, name="Best in show")
    _split_task(world.task)
    leaderboards_rebuild_for_task(task=world.task)
    roman, ratchet_files = _ratchet_world(world)
    # One row of every model the admin shows, for its change pages.
    TaskWeight.objects.create(task=world.task, weight=1.0)
    Group.objects.create(name="reviewers")
    _worker_heartbeat(world.submission)
    users = {**world.users, "other_organizer": olga}
    return SecurityWorld(
        base=world,
        closed=closed_division,
        other_challenge=other,
        other_task=other_task,
        submission_a_closed=closed_a,
        submission_b=submission_b,
        submission_b_disqualified=disqualified_b,
        team_a_named=team_a,
        team_b_named=team_b,
        member_of_a=carol,
        invite_a=invite_a,
        invite_b_token=token_b,
        token_a=token_a,
        pending=_pending_registration(world.challenge),
        export=_export(world.challenge, organizer, Marker.EXPORT),
        other_export=_export(other, olga, Marker.OTHER_AUDIT),
        audit=audit,
        award=award,
        concealed_file=world.task.data_files.get(relative_path="concealed/allowed_training_set.yaml"),
        roman=roman,
        users=users,
        hidden_files=[*hidden_files, *ratchet_files],
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

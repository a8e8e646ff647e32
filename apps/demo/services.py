"""The demo challenge: imported from its bundle (see `apps.demo.bundle`: every registered benchmark's demo tasks on
deterministic synthetic data, each with a private split), then scored baselines and a demo participant whose team
has submitted to the tasks quick to score and selected final submissions on some; the private boards are revealed.
Spans every layer, so it lives above all of them."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction

from apps.accounts.models import Team
from apps.accounts.services import user_sign_up
from apps.backoffice.bundles import InvalidBundle, challenge_bundle_import
from apps.challenges.models import CONCEALED_DIR, Challenge, Task
from apps.challenges.services import participation_register
from apps.core.archives import make_zip
from apps.demo.bundle import DEMO_SLUG, demo_bundle_ensure, demo_bundle_path, demo_bundle_write
from apps.demo.closed import demo_submit_algorithm
from apps.demo.ratchet import TRAINING_SLUG, demo_ratchet_create
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank, submission_select_final_and_rank, verify_and_rank
from apps.leaderboards.models import LeaderboardEntry
from apps.leaderboards.services import leaderboard_reveal_split
from apps.submissions.models import Score
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.leases import Outcome
from evaluators import get_evaluator
from evaluators.demo import DemoModule, demo_module
from evaluators.taskdir import TASK_FILE

__all__ = ["DEMO_SLUG", "ORGANIZER", "PARTICIPANT", "DemoInfo", "demo_create"]

PARTICIPANT = ("demo", "demo-participant-pw")
ORGANIZER = ("organizer", "demo-organizer-pw")
TEAM_ATTEMPTS = 3
"""How many submissions the demo participant's team makes to each task quick to score: the benchmark's first
baselines, written with another seed (for the randomised ones, other picks; the others are the same files)."""


@dataclass(frozen=True)
class DemoInfo:
    challenge: Challenge
    created: bool


@dataclass
class _Submitted:
    """The ids of the submissions the demo made, by kind."""

    baselines: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    team: list[int] = field(default_factory=list)


def _user(username: str, password: str, *, staff: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_sign_up(username=username, email=f"{username}@example.org", password=password)
    if staff and not user.is_staff:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


def _submit_file(
    task: Task, division: Division, user: User, written: tuple[str, Path], *, method: str, as_baseline: bool = False
) -> int:
    """Submit a (name, file) a demo module wrote (a directory is zipped first); returns the submission's id."""
    name, path = written
    artifact = make_zip(path, path.parent / f"{name}.zip") if path.is_dir() else path
    with artifact.open("rb") as handle:
        data = SubmissionInput(
            artifact=File(handle, name=artifact.name), artifact_name=artifact.name, method_description=method
        )
        submission = submission_create(task=task, division=division, user=user, data=data, as_baseline=as_baseline)
    return submission.pk


def _submit_baselines(task: Task, division: Division, organizer: User, baselines: dict[str, Path]) -> list[int]:
    return [
        _submit_file(task, division, organizer, baseline, method=f"Baseline: {baseline[0]}", as_baseline=True)
        for baseline in baselines.items()
    ]


def _submit_team_attempts(
    task: Task, division: Division, participant: User, module: DemoModule, task_dir: Path
) -> list[int]:
    """The demo team's submissions to the task (`TEAM_ATTEMPTS`), or none when the task is slow to score."""
    spec = next((spec for spec in module.DEMO_TASKS if spec.slug == task.slug), None)
    if spec is None or spec.slow_to_score:
        return []
    attempts = module.write_baselines(task_dir, task_dir.parent / "team", seed=1)
    return [
        _submit_file(task, division, participant, attempt, method=f"Demo team: the {attempt[0]} baseline, seed 1")
        for attempt in list(attempts.items())[:TEAM_ATTEMPTS]
    ]


def _task_dir(task: Task, work: Path) -> Path:
    """The task's directory as the offline CLI scores it, rebuilt from the imported data: task.yaml (with the
    whole config: the split seed too, which only the organizer knows) and every file of the task, without the
    concealed task."""
    target = work / task.slug / "task"
    shutil.copytree(
        task.data_dir, target, ignore=lambda folder, _: [CONCEALED_DIR] if folder == str(task.data_dir) else []
    )
    document = {"benchmark": task.evaluator_slug, "config": task.config}
    (target / TASK_FILE).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return target


def _submit_all(challenge: Challenge, organizer: User, participant: User, work: Path) -> _Submitted:
    """Submit every task's baselines to the open division and its example algorithm to the closed one, and the
    demo team's attempts to the open division."""
    open_division, closed = challenge.divisions.get(slug="open"), challenge.divisions.get(slug="closed")
    submitted = _Submitted()
    for task in challenge.tasks.order_by("order", "slug"):
        module = demo_module(get_evaluator(task.evaluator_slug))
        if module is None:
            continue
        task_dir = _task_dir(task, work)
        baselines = module.write_baselines(task_dir, work / task.slug / "baselines", seed=0)
        submitted.baselines += _submit_baselines(task, open_division, organizer, baselines)
        pk = demo_submit_algorithm(task, closed, organizer, task_dir, work)
        submitted.closed += [pk] if pk is not None else []
        submitted.team += _submit_team_attempts(task, open_division, participant, module, task_dir)
    return submitted


def _import(archive: Path, organizer: User, participant: User, work: Path) -> tuple[Challenge, Team, _Submitted]:
    """Import the bundle, register the participant and submit the baselines and the team's attempts, all or
    nothing: if anything fails the rows roll back, and the data files the import stored are removed (a rollback
    cannot remove files)."""
    folders: list[Path] = []
    try:
        with transaction.atomic():
            challenge = challenge_bundle_import(archive=archive, organizers=[organizer], actor=None)
            folders = [task.data_dir for task in challenge.tasks.all()]
            participation = participation_register(challenge=challenge, user=participant, accept_rules=True)
            submitted = _submit_all(challenge, organizer, participant, work)
    except BaseException:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return challenge, participation.team, submitted


def _score_all(submitted: _Submitted) -> None:
    for pk in submitted.baselines + submitted.team:
        evaluate_and_rank(submission_id=pk)
    for pk in submitted.closed:
        # Where this machine has no sandbox, the submission waits in `verifying` for a sandbox worker.
        if verify_and_rank(submission_id=pk) == Outcome.VERIFIED:
            evaluate_and_rank(submission_id=pk)


def _select_finals(challenge: Challenge, team: Team, participant: User) -> None:
    """On every other task it competes in, the demo team selects its best public submission (its row on the
    public board) as final; on the others it selects none, so its best public ones count. The private boards
    thus show both branches of Kaggle's rule (`challenges.models.PRIVATE_RULE`)."""
    rows = LeaderboardEntry.objects.filter(
        leaderboard__task__challenge=challenge, leaderboard__split=Score.Split.PUBLIC, team=team
    ).select_related("submission__task")
    for row in list(rows.order_by("leaderboard__task__order", "leaderboard__task__slug"))[::2]:
        submission_select_final_and_rank(submission=row.submission, user=participant)


def _reveal_private_boards(challenge: Challenge, organizer: User) -> None:
    """Reveal every task's private boards now, as an organizer may before the end: the demo shows the shake-up
    to every visitor (a real challenge reveals them when it ends)."""
    for task in challenge.tasks.order_by("order", "slug"):
        if task.has_private_split:
            leaderboard_reveal_split(task=task, split=Score.Split.PRIVATE, user=organizer)


def demo_create(*, bundle: Path | None = None) -> DemoInfo:
    """Create the demo challenge from its bundle (idempotent: an existing one is left as it is), score its
    baselines and the demo team's submissions, select the team's finals and reveal the private boards.

    `bundle` is the bundle to import; by default the one kept at `demo_bundle_path()`, written first when it is
    missing or out of date, and written again once if the import refuses it (it came from an older version).
    """
    existing = Challenge.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoInfo(existing, created=False)
    organizer = _user(*ORGANIZER, staff=True)
    participant = _user(*PARTICIPANT)
    archive = bundle or demo_bundle_ensure()
    with tempfile.TemporaryDirectory(prefix="demo-") as tmp:
        try:
            challenge, team, submitted = _import(archive, organizer, participant, Path(tmp) / "first")
        except InvalidBundle:
            if bundle is not None:
                raise
            demo_bundle_write(target=demo_bundle_path())
            challenge, team, submitted = _import(archive, organizer, participant, Path(tmp) / "again")
        _score_all(submitted)
        _select_finals(challenge, team, participant)
        _reveal_private_boards(challenge, organizer)
        _ratchet(challenge, organizer, Path(tmp) / "ratchet")
    return DemoInfo(challenge, created=True)


def _ratchet(challenge: Challenge, organizer: User, work: Path) -> None:
    """The Roman-numeral column as a data ratchet (`apps.demo.ratchet`), when the bundle holds both its tasks."""
    training = challenge.tasks.filter(slug=TRAINING_SLUG).first()
    if training is not None:
        demo_ratchet_create(
            challenge=challenge,
            organizer=organizer,
            submit=_submit_file,
            make_user=_user,
            training_dir=_task_dir(training, work),
        )

"""The demo: a challenge that looks like a running competition, and its previous season, ended.

The demo challenge is imported from its bundle (see `apps.demo.bundle`: every registered benchmark's demo tasks on
deterministic synthetic data, each with a private split), with scored baselines. Ten teams (`apps.demo.teams`;
the demo participant owns the first) have competed since it opened: their submissions, mixtures of the baselines
scored by the real evaluators, are spread over its weeks (`apps.demo.plan`, `apps.demo.history`), with a few
rejected and failed ones, entries in the closed division, finals selected, a disqualification and awards. The
private boards are revealed, the Roman-numeral column runs as a data ratchet, and the previous season
(`apps.demo.season`) shows a finished challenge. Spans every layer, so it lives above all of them."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.accounts.services import user_sign_up
from apps.backoffice.bundles import InvalidBundle, challenge_bundle_import
from apps.backoffice.services.submissions import submission_disqualify
from apps.challenges.models import Challenge, Participation, Task
from apps.demo.bundle import DEMO_SLUG, demo_bundle_ensure, demo_bundle_path, demo_bundle_write
from apps.demo.closed import AlgorithmRun, demo_algorithm_run, demo_submit_algorithm
from apps.demo.history import (
    CHEAT_REASON,
    Stage,
    baseline_submit,
    baselines_score,
    history_finals,
    history_play,
    history_settle,
    moment,
    stage_for,
    task_dir_copy,
)
from apps.demo.mixing import zip_fixed
from apps.demo.plan import Kind, Planned, PlanShape, history_plan
from apps.demo.ratchet import TEST_SLUG, TRAINING_SLUG, demo_ratchet_create
from apps.demo.scoring import DemoScorer, submission_backdate, submit_artifact
from apps.demo.season import STARTED_BEFORE, demo_season_create
from apps.demo.teams import (
    Competitor,
    demo_participation_backdate,
    demo_team_backdate,
    demo_teams_ensure,
    demo_teams_register,
)
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank, verify_and_rank
from apps.leaderboards.models import LeaderboardEntry
from apps.leaderboards.services import leaderboard_reveal_split
from apps.submissions.awards import award_grant
from apps.submissions.models import Score, Submission
from apps.submissions.services.leases import Outcome
from evaluators import get_evaluator
from evaluators.demo import DemoTask, demo_module

__all__ = ["DEMO_SLUG", "ORGANIZER", "PARTICIPANT", "DemoInfo", "demo_create"]

log = logging.getLogger(__name__)

PARTICIPANT = ("demo", "demo-participant-pw")
ORGANIZER = ("organizer", "demo-organizer-pw")
SHAPE = PlanShape(seed=DEMO_SLUG, most=3, malformed=3, lost=2, copies=2, cheat="Outlier Hunters")
RATCHET_TASKS = (TRAINING_SLUG, TEST_SLUG)
"""The Roman-numeral column: its own teams compete there (`apps.demo.ratchet`)."""
CLOSED_ENTRIES = 2
"""How many teams (the first ones) also enter the closed division, each on one quick task."""
OPENING = dt.timedelta(hours=1)
"""The baselines are submitted this long after the challenge opens; the teams' history starts an hour later."""
PROGRESS_AWARD = "Mid-season prize"
REPRODUCIBLE_AWARD = "Most reproducible"


@dataclass(frozen=True)
class DemoInfo:
    challenge: Challenge
    created: bool


@dataclass
class _Submitted:
    """What the import submitted: each task's baselines (name, written artifact, submission id), the closed
    division's baselines (ids) and the example algorithm's run of each task that has one."""

    baselines: dict[int, list[tuple[str, Path, int]]] = field(default_factory=dict)
    closed: list[int] = field(default_factory=list)
    runs: dict[int, AlgorithmRun] = field(default_factory=dict)


def _user(username: str, password: str, *, staff: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_sign_up(username=username, email=f"{username}@example.org", password=password)
    if staff and not user.is_staff:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


def _submit_file(task: Task, division: Division, user: User, written: tuple[str, Path], *, method: str) -> int:
    """Submit a (name, file) a demo module wrote (a directory is zipped first); returns the submission's id."""
    name, path = written
    artifact = zip_fixed(path, path.parent / f"{name}.zip") if path.is_dir() else path
    return submit_artifact(task, division, user, artifact, method=method).pk


def _submit_all(challenge: Challenge, organizer: User, work: Path) -> _Submitted:
    """Submit every task's baselines to the open division and its example algorithm to the closed one."""
    open_division, closed = challenge.divisions.get(slug="open"), challenge.divisions.get(slug="closed")
    submitted = _Submitted()
    for task in challenge.tasks.order_by("order", "slug"):
        module = demo_module(get_evaluator(task.evaluator_slug))
        if module is None:
            continue
        task_dir = task_dir_copy(task, work)
        folder = work / task.slug / "baselines"
        submitted.baselines[task.pk] = [
            (name, path, baseline_submit(task, open_division, organizer, (name, path), folder))
            for name, path in module.write_baselines(task_dir, folder, seed=0).items()
        ]
        run = demo_algorithm_run(task, task_dir, work)
        if run is not None:
            submitted.runs[task.pk] = run
            submitted.closed.append(demo_submit_algorithm(task, closed, organizer, run))
    return submitted


def _import(
    archive: Path, organizer: User, competitors: list[Competitor], work: Path
) -> tuple[Challenge, list[Participation], _Submitted]:
    """Import the bundle, register the teams and submit the baselines, all or nothing: if anything fails the
    rows roll back, and the data files the import stored are removed (a rollback cannot remove files)."""
    folders: list[Path] = []
    try:
        with transaction.atomic():
            challenge = challenge_bundle_import(archive=archive, organizers=[organizer], actor=None)
            folders = [task.data_dir for task in challenge.tasks.all()]
            participations = demo_teams_register(challenge=challenge, competitors=competitors)
            submitted = _submit_all(challenge, organizer, work)
    except BaseException:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return challenge, participations, submitted


def _verify_closed(submission_ids: list[int], *, at: dt.datetime) -> None:
    for pk in submission_ids:
        # Where this machine has no sandbox, the submission waits in `verifying` for a sandbox worker.
        if verify_and_rank(submission_id=pk) == Outcome.VERIFIED:
            evaluate_and_rank(submission_id=pk)
        submission_backdate(pk, at)


def _spec(task: Task) -> DemoTask | None:
    module = demo_module(get_evaluator(task.evaluator_slug))
    return next((spec for spec in module.DEMO_TASKS if spec.slug == task.slug), None) if module else None


def _stages(
    challenge: Challenge, submitted: _Submitted, scorer: DemoScorer, work: Path
) -> tuple[dict[str, Stage], list[str], list[str]]:
    """Score the baselines (dated `OPENING` after the opening); the stages of the tasks the teams compete on (not
    the ratchet's: its own teams do), with the quick ones and the slow ones named apart."""
    division = challenge.divisions.get(slug="open")
    stages: dict[str, Stage] = {}
    quick: list[str] = []
    slow: list[str] = []
    for task in challenge.tasks.order_by("order", "slug"):
        baselines = baselines_score(
            submitted.baselines.get(task.pk, []), scorer=scorer, at=challenge.starts_at + OPENING
        )
        spec = _spec(task)
        stage = stage_for(task, division, baselines, work / task.slug)
        if stage is None or spec is None or task.slug in RATCHET_TASKS:
            continue
        stages[task.slug] = stage
        (slow if spec.slow_to_score else quick).append(task.slug)
    return stages, quick, slow


def _closed_entries(
    challenge: Challenge,
    competitors: list[Competitor],
    submitted: _Submitted,
    quick: list[str],
    window: tuple[dt.datetime, dt.datetime],
) -> list[int]:
    """The first teams' entries in the closed division: the example algorithm's output with its code, on one
    quick task each (the first ones with an example), verified in the sandbox and scored by the pipeline."""
    closed = challenge.divisions.get(slug="closed")
    tasks = [task for task in challenge.tasks.order_by("order", "slug") if task.slug in quick]
    tasks = [task for task in tasks if task.pk in submitted.runs]
    entries = []
    for number, (competitor, task) in enumerate(zip(competitors[:CLOSED_ENTRIES], tasks, strict=False)):
        pk = demo_submit_algorithm(task, closed, competitor.members[0], submitted.runs[task.pk], as_baseline=False)
        _verify_closed([pk], at=moment(window, 0.5 + 0.2 * number))
        entries.append(pk)
    return entries


def _judge(challenge: Challenge, organizer: User, played: dict[Planned, int], closed_entries: list[int]) -> None:
    """The organizers' decisions: the cheat disqualified with its reason, a prize for the leader of the first
    task's public board, and the reproducibility award to the closed-division entries that were verified."""
    for planned, pk in played.items():
        if planned.kind == Kind.CHEAT:
            submission_disqualify(submission=Submission.objects.get(pk=pk), actor=organizer, reason=CHEAT_REASON)
    leader = (
        LeaderboardEntry.objects.filter(
            leaderboard__task__challenge=challenge,
            leaderboard__division__slug="open",
            leaderboard__split=Score.Split.PUBLIC,
            is_baseline=False,
        )
        .order_by("leaderboard__task__order", "leaderboard__task__slug", "rank", "submitted_at")
        .select_related("submission")
        .first()
    )
    if leader is not None:
        description = "First on the public board of the first task at the mid-season review."
        award_grant(submission=leader.submission, actor=organizer, name=PROGRESS_AWARD, description=description)
    for submission in Submission.objects.filter(pk__in=closed_entries, status=Submission.Status.SCORED):
        description = "Its code reran in the sandbox and produced the very file it submitted."
        award_grant(submission=submission, actor=organizer, name=REPRODUCIBLE_AWARD, description=description)


def _history(
    challenge: Challenge,
    organizer: User,
    competitors: list[Competitor],
    participations: list[Participation],
    submitted: _Submitted,
    staged: tuple[dict[str, Stage], list[str], list[str]],
    scorer: DemoScorer,
) -> None:
    """The teams' weeks of competition on the demo challenge (module docstring), then the organizers' decisions."""
    window = (challenge.starts_at + 2 * OPENING, timezone.now() - OPENING)
    for participation, competitor in zip(participations, competitors, strict=True):
        demo_participation_backdate(participation=participation, registered_at=moment(window, competitor.spec.start))
    stages, quick, slow = staged
    plan = history_plan(teams=[c.spec for c in competitors], quick=quick, slow=slow, shape=SHAPE)
    played = history_play(plan=plan, stages=stages, competitors=competitors, scorer=scorer, window=window)
    entries = _closed_entries(challenge, competitors, submitted, quick, window)
    tasks = list(challenge.tasks.order_by("order", "slug"))
    history_settle(tasks=[task for task in tasks if task.slug not in RATCHET_TASKS])
    # The ratchet's tasks are ranked here and rescored by the ratchet's own steps.
    history_settle(tasks=[task for task in tasks if task.slug in RATCHET_TASKS], rescore=False)
    history_finals(challenge=challenge, competitors=competitors, every_other=(0, 4), never=(6, 9))
    _judge(challenge, organizer, played, entries)


@contextmanager
def _timed(what: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    log.info("demo: %s in %.1f s", what, time.monotonic() - started)


def _reveal_private_boards(challenge: Challenge, organizer: User) -> None:
    """Reveal every task's private boards now, as an organizer may before the end: the demo shows the shake-up
    to every visitor (a real challenge reveals them when it ends, as the previous season shows)."""
    for task in challenge.tasks.order_by("order", "slug"):
        if task.has_private_split:
            leaderboard_reveal_split(task=task, split=Score.Split.PRIVATE, user=organizer)


def demo_create(*, bundle: Path | None = None) -> DemoInfo:
    """Create the demo (module docstring), logging how long each part took. Idempotent: an existing demo
    challenge is left as it is.

    `bundle` is the bundle to import; by default the one kept at `demo_bundle_path()`, written first when it is
    missing or out of date, and written again once if the import refuses it (it came from an older version).
    """
    existing = Challenge.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoInfo(existing, created=False)
    organizer = _user(*ORGANIZER, staff=True)
    participant = _user(*PARTICIPANT)
    with _timed("the bundle"):
        archive = bundle or demo_bundle_ensure()
    competitors = demo_teams_ensure(participant=participant)
    for competitor in competitors:
        demo_team_backdate(competitor=competitor, formed_at=timezone.now() - STARTED_BEFORE - dt.timedelta(weeks=2))
    scorer = DemoScorer()
    with tempfile.TemporaryDirectory(prefix="demo-") as tmp:
        with _timed("the import"):
            challenge, participations, submitted = _import_current(archive, bundle, organizer, competitors, Path(tmp))
        with _timed("the previous season"):
            demo_season_create(organizer=organizer, competitors=competitors, scorer=scorer, work=Path(tmp) / "season")
        with _timed("the baselines"):
            staged = _stages(challenge, submitted, scorer, Path(tmp) / "history")
            _verify_closed(submitted.closed, at=challenge.starts_at + OPENING)
        with _timed("the teams' history"):
            _history(challenge, organizer, competitors, participations, submitted, staged, scorer)
        _reveal_private_boards(challenge, organizer)
        with _timed("the ratchet"):
            _ratchet(challenge, organizer, Path(tmp) / "ratchet")
    log.info("demo: %d evaluator runs for %d scored submissions", scorer.evaluated, scorer.scored)
    return DemoInfo(challenge, created=True)


def _import_current(
    archive: Path, bundle: Path | None, organizer: User, competitors: list[Competitor], work: Path
) -> tuple[Challenge, list[Participation], _Submitted]:
    """`_import`, once more with a bundle written anew when the stored one is refused (an older version's)."""
    try:
        return _import(archive, organizer, competitors, work / "first")
    except InvalidBundle:
        if bundle is not None:
            raise
        demo_bundle_write(target=demo_bundle_path())
        return _import(archive, organizer, competitors, work / "again")


def _ratchet(challenge: Challenge, organizer: User, work: Path) -> None:
    """The Roman-numeral column as a data ratchet (`apps.demo.ratchet`), when the bundle holds both its tasks."""
    training = challenge.tasks.filter(slug=TRAINING_SLUG).first()
    if training is not None:
        demo_ratchet_create(
            challenge=challenge,
            organizer=organizer,
            submit=_submit_file,
            make_user=_user,
            training_dir=task_dir_copy(training, work),
        )

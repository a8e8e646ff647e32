"""New scores, rescores, withdrawals and rebuilds of one leaderboard, all at once: the board ends equal to the one
computed from the scores, and its version went up by exactly one per rebuild.

Each thread has its own PostgreSQL connection (Django's connections are per thread), so the transactions really
interleave: recorders record scores of new submissions (`submission_record`, which rebuilds the board in its
transaction, as a worker does), rescorers queue scored submissions again and record a new evaluation for them
(a new evaluator version), withdrawers withdraw submissions, rebuilders rebuild the task's boards in a loop,
and a reader reads the board throughout. Only the leaderboard's row lock orders the rebuilds. The broker is
replaced by a recorder (the messages the services queue are not the subject here).
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from apps.accounts.services import team_ensure_personal
from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.jobs.pipeline import submission_withdraw_and_rank
from apps.leaderboards import services as leaderboard_services
from apps.leaderboards.models import Leaderboard, LeaderboardEntry
from apps.leaderboards.selectors import leaderboard_view, leaderboard_view_from_scratch
from apps.leaderboards.services import leaderboards_rebuild_for_submission, leaderboards_rebuild_for_task
from apps.submissions.models import Submission
from apps.submissions.services import dispatch
from apps.submissions.services.admin_actions import submission_queue_rescore
from apps.submissions.services.evaluation import submission_claim, submission_record
from apps.submissions.services.leases import lease_deadline
from evaluators import EvaluationResult, Evaluator, get_evaluator
from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]

RECORDERS, RECORDS = 4, 10
RESCORERS, RESCORES = 2, 8
REBUILDERS, REBUILDS = 2, 12
WITHDRAWALS = 4
Status = Submission.Status


class Versions:
    """Every version a rebuild left, per thread, in the order each thread made them: `leaderboard_rebuild`,
    through which every rebuild goes (a landed score, a withdrawal, a task's rebuild), is wrapped to note the
    version it committed."""

    def __init__(self, rebuild: Callable[..., Leaderboard]) -> None:
        self.by_thread: dict[str, list[int]] = {}
        self._rebuild = rebuild
        self._lock = threading.Lock()

    def rebuild(self, **kwargs: Any) -> Leaderboard:
        board = self._rebuild(**kwargs)
        with self._lock:
            self.by_thread.setdefault(threading.current_thread().name, []).append(board.version)
        return board

    def all(self) -> list[int]:
        return sorted(version for versions in self.by_thread.values() for version in versions)


@pytest.fixture
def versions(monkeypatch: pytest.MonkeyPatch) -> Versions:
    noted = Versions(leaderboard_services.leaderboard_rebuild)
    monkeypatch.setattr(leaderboard_services, "leaderboard_rebuild", noted.rebuild)
    return noted


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "_send", lambda *args: None)


def _running_submission(task: Task, division: Division, user: User, worker: str) -> Submission:
    """A submission as a worker holds it after its claim (what `submission_record` expects)."""
    return Submission.objects.create(
        task=task,
        team=team_ensure_personal(user=user),
        division=division,
        submitted_by=user,
        artifact="submissions/concurrency/selection.json",
        artifact_name="selection.json",
        artifact_size=2,
        artifact_sha256="0" * 64,
        status=Status.RUNNING,
        lease_owner=worker,
        lease_expires_at=lease_deadline(),
        attempts=1,
    )


def _result(rng: random.Random) -> EvaluationResult:
    # Two decimals: ties between teams happen, so the tie-break is exercised as well.
    primary = round(rng.uniform(0.3, 0.9), 2)
    return EvaluationResult(primary=primary, metrics={"macro_f1_seed_0": primary})


def _evaluator_version(version: str) -> SelectionSpeechEvaluator:
    """The speech evaluator under another version: a rescore records a new evaluation, not the old one again."""
    cls = type("RescoredSpeechEvaluator", (SelectionSpeechEvaluator,), {"version": version})
    evaluator: SelectionSpeechEvaluator = cls()
    return evaluator


def _run_threads(workers: dict[str, Callable[[random.Random], None]]) -> list[str]:
    """Start every worker at once (each with its own random generator and connection); the failures."""
    start = threading.Barrier(len(workers))
    failures: list[str] = []

    def run(name: str, work: Callable[[random.Random], None]) -> None:
        try:
            start.wait()
            work(random.Random(name))  # noqa: S311 (test data, not a secret)
        except Exception as exc:
            failures.append(f"{name}: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in workers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return failures


@dataclasses.dataclass(frozen=True)
class Board:
    """The one leaderboard every thread works on: its task and division, the teams that submit, the evaluator."""

    task: Task
    division: Division
    teams: list[User]
    evaluator: Evaluator[Any, Any]


def _on_recorded(submission: Submission) -> None:
    leaderboards_rebuild_for_submission(submission=submission)


def _record(board: Board, rng: random.Random) -> None:
    """A recorder: RECORDS new submissions of random teams, each recorded (and ranked) as a worker does."""
    for index in range(RECORDS):
        worker = f"{threading.current_thread().name}:{index}"
        submission = _running_submission(board.task, board.division, rng.choice(board.teams), worker)
        assert submission_record(
            submission=submission,
            worker=worker,
            evaluator=board.evaluator,
            result=_result(rng),
            duration=0.0,
            on_recorded=_on_recorded,
        )


def _rescore(board: Board, rng: random.Random) -> None:
    """A rescorer: up to RESCORES scored submissions queued again, claimed and recorded under a new evaluator
    version (skipping the ones another rescorer took first)."""
    for index in range(RESCORES):
        scored = list(Submission.objects.filter(task=board.task, status=Status.SCORED).values_list("pk", flat=True))
        if not scored:
            continue
        submission = Submission.objects.get(pk=rng.choice(scored))
        if not submission_queue_rescore(submission=submission):
            continue  # another rescorer took it first
        worker = f"{threading.current_thread().name}:{index}"
        claimed = submission_claim(submission_id=submission.pk, worker=worker)
        if claimed is None:
            continue
        version = f"rescore-{threading.current_thread().name}-{index}"
        assert submission_record(
            submission=claimed,
            worker=worker,
            evaluator=_evaluator_version(version),
            result=_result(rng),
            duration=0.0,
            on_recorded=_on_recorded,
        )


def _withdraw(board: Board, rng: random.Random) -> None:
    """The withdrawer: WITHDRAWALS times, a ranked submission withdrawn by its submitter."""
    for _ in range(WITHDRAWALS):
        ranked = list(LeaderboardEntry.objects.filter(leaderboard__task=board.task).select_related("submission"))
        if ranked:
            submission = rng.choice(ranked).submission
            withdrawn = submission_withdraw_and_rank(submission=submission, user=submission.submitted_by)
            assert withdrawn.is_withdrawn


def _rebuild(board: Board, rng: random.Random) -> None:
    """A rebuilder: the task's boards rebuilt REBUILDS times."""
    for _ in range(REBUILDS):
        assert leaderboards_rebuild_for_task(task=board.task) >= 1


def _read_until(done: threading.Event, board: Board, reads: list[tuple[int, list[int]]]) -> None:
    """The reader: the board's version and team order, read again and again until `done` is set."""
    try:
        while not done.is_set():
            view = leaderboard_view(task=board.task, division=board.division)
            reads.append((view.version, [row["team_id"] for row in view.rows]))
    finally:
        connection.close()


def test_concurrent_scores_rescores_and_rebuilds_leave_the_board_equal_to_the_one_from_scratch(
    open_task: Task, open_division: Division, teams: list[User], versions: Versions
) -> None:
    board = Board(open_task, open_division, teams, get_evaluator("selection-speech"))
    workers: dict[str, Callable[[random.Random], None]] = {
        **{f"recorder-{n}": partial(_record, board) for n in range(RECORDERS)},
        **{f"rescorer-{n}": partial(_rescore, board) for n in range(RESCORERS)},
        **{f"rebuilder-{n}": partial(_rebuild, board) for n in range(REBUILDERS)},
        "withdrawer": partial(_withdraw, board),
    }
    reads: list[tuple[int, list[int]]] = []
    done = threading.Event()
    reader = threading.Thread(target=_read_until, args=(done, board, reads), name="reader")
    reader.start()
    try:
        failures = _run_threads(workers)
    finally:
        done.set()
        reader.join(timeout=30)

    assert failures == []
    served = _rows(leaderboard_view(task=open_task, division=open_division))
    assert served == _rows(leaderboard_view_from_scratch(task=open_task, division=open_division))
    assert served, "the board ranks somebody"
    assert len({row["team_id"] for row in served}) == len(served)
    assert Submission.objects.filter(task=open_task, status=Status.SCORED).count() == RECORDERS * RECORDS
    _assert_versions(versions, reads)


def _rows(view: Any) -> list[dict[str, Any]]:
    return list(json.loads(json.dumps(dataclasses.asdict(view)["rows"])))


def _assert_versions(versions: Versions, reads: list[tuple[int, list[int]]]) -> None:
    """Every rebuild bumped the version by one (no two share a version, none is lost), each thread saw its
    own rebuilds' versions increase, and a reader never saw the version go back nor a board with a team
    twice."""
    final = Leaderboard.objects.get().version
    assert versions.all() == list(range(1, final + 1))
    for name, sequence in versions.by_thread.items():
        assert sequence == sorted(set(sequence)), name
    read_versions = [version for version, _ in reads]
    assert read_versions == sorted(read_versions)
    assert all(len(set(teams)) == len(teams) for _, teams in reads)

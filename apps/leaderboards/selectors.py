"""Reads of leaderboards and their chart data, as plain lists and dicts (pages, JSON, CSV and API share them).
Access rules are built in: a split is readable only where `split_visible` says so."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum

from apps.challenges.evaluators import task_metric_specs, task_primary_metric
from apps.challenges.models import Challenge, Task
from apps.challenges.selectors import challenge_get, task_get, tasks_visible, user_is_organizer
from apps.core.errors import Forbidden, NotFound
from apps.core.users import AnyUser
from apps.divisions.models import Division
from apps.divisions.selectors import division_of_task, divisions_of_task
from apps.leaderboards.models import Export, Leaderboard, LeaderboardEntry, SplitReveal
from apps.leaderboards.ranking import TIE_BREAK, RankedRow, board_compute
from apps.submissions.models import Award, Score, Submission
from apps.submissions.selectors import concealed_scores_visible
from evaluators import MetricSpec, get_evaluator


@dataclass(frozen=True)
class LeaderboardView:
    version: int
    rebuilt_at: str | None
    primary: dict[str, Any]
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    tie_break: str = TIE_BREAK


def split_revealed(*, task: Task, split: str) -> bool:
    """Whether an organizer revealed the task's boards of this split early (`leaderboard_reveal_split`)."""
    return SplitReveal.objects.filter(task=task, split=split).exists()


def split_visible(*, task: Task, split: str, user: AnyUser) -> bool:
    """Whether the user may see the task's leaderboards of this split. Public: always. Private (held out, as
    on Kaggle): organizers (and staff) always, everyone once the challenge has ended or an organizer revealed
    it. Concealed (the closed division's generalisation run): only when the task has a concealed task; as
    `task.concealed_visibility` says (organizers always), or once an organizer revealed it."""
    if split == Score.Split.PUBLIC:
        return True
    if split == Score.Split.CONCEALED:
        if not task.has_concealed_task:
            return False
        return concealed_scores_visible(task=task, viewer=user) or split_revealed(task=task, split=split)
    if split == Score.Split.PRIVATE:
        if task.challenge.phase == task.challenge.Phase.CLOSED or user_is_organizer(
            challenge=task.challenge, user=user
        ):
            return True
        return split_revealed(task=task, split=split)
    return False


def leaderboard_split(*, task: Task, split: str | None, user: AnyUser) -> str:
    """The split a request names (the public one when it names none). Raises `NotFound` for an unknown split
    and for one the user may not see (the two are indistinguishable)."""
    chosen = split or Score.Split.PUBLIC
    if chosen not in Score.Split.values or not split_visible(task=task, split=chosen, user=user):
        raise NotFound("No such leaderboard.")
    return chosen


def split_tabs(*, task: Task, division: Division, user: AnyUser) -> list[dict[str, str]]:
    """The splits a leaderboard page links to (value, label): public; private where the division has a
    private board the user may see; concealed in a division that reruns code when the task has a concealed
    task the user may see. Empty when public is the only one."""
    splits = [Score.Split.PUBLIC]
    has_private = Leaderboard.objects.filter(task=task, division=division, split=Score.Split.PRIVATE).exists()
    if has_private and split_visible(task=task, split=Score.Split.PRIVATE, user=user):
        splits.append(Score.Split.PRIVATE)
    if division.requires_code and split_visible(task=task, split=Score.Split.CONCEALED, user=user):
        splits.append(Score.Split.CONCEALED)
    if len(splits) == 1:
        return []
    return [{"value": str(split.value), "label": str(split.label)} for split in splits]


def leaderboard_state(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> Leaderboard | None:
    """The board's row (its version and rebuild time: what ETags and cache keys are made of), if built."""
    return Leaderboard.objects.filter(task=task, division=division, split=split).first()


def leaderboard_version(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> int:
    found = Leaderboard.objects.filter(task=task, division=division, split=split).values_list("version", flat=True)
    return found.first() or 0


def metric_spec_data(spec: MetricSpec) -> dict[str, Any]:
    """A metric's name, label, direction, display scale and column flag, as pages and the API show them."""
    return {
        "name": spec.name,
        "label": spec.label,
        "higher_is_better": spec.higher_is_better,
        "scale": spec.display_scale,
        "column": spec.leaderboard_column,
    }


def _row(
    *,
    rank: int,
    team_id: int,
    team: str,
    method: str,
    submission_id: int,
    primary: float,
    metrics: dict[str, float],
    is_baseline: bool,
    submitted_at: str,
    count: int,
    public_rank: int | None,
) -> dict[str, Any]:
    return {
        "rank": rank,
        "team_id": team_id,
        "team": team,
        # A baseline is named by its method (several baselines come from one organizer team).
        "label": method[:80] if is_baseline else team,
        "submission_id": submission_id,
        "primary": primary,
        "metrics": metrics,
        "is_baseline": is_baseline,
        "submitted_at": submitted_at,
        "submissions": count,
        # Private boards: the row's public rank (the shake-up); None elsewhere.
        "public_rank": public_rank,
    }


def leaderboard_view(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> LeaderboardView:
    """The materialised ranked rows of a leaderboard: rank, team, primary and every metric of this split only,
    baselines marked. Three queries, whatever the number of submissions. The caller checks `split_visible`."""
    primary = task_primary_metric(task)
    columns = [metric_spec_data(spec) for spec in task_metric_specs(task)]
    leaderboard = leaderboard_state(task=task, division=division, split=split)
    if leaderboard is None:
        return LeaderboardView(0, None, metric_spec_data(primary), columns, [])
    entries = leaderboard.entries.select_related("team", "submission").order_by("rank", "submitted_at", "pk")
    rows = [
        _row(
            rank=entry.rank,
            team_id=entry.team_id,
            team=entry.team.name,
            method=entry.submission.method_description,
            submission_id=entry.submission_id,
            primary=entry.primary,
            metrics=entry.metrics,
            is_baseline=entry.is_baseline,
            submitted_at=entry.submitted_at.isoformat(),
            count=entry.submission_count,
            public_rank=entry.public_rank,
        )
        for entry in entries
    ]
    rebuilt = leaderboard.rebuilt_at.isoformat() if leaderboard.rebuilt_at else None
    return LeaderboardView(leaderboard.version, rebuilt, metric_spec_data(primary), columns, rows)


def ranked_rows_data(rows: list[RankedRow]) -> list[dict[str, Any]]:
    """Rows of `ranking.board_compute`, in the shape `leaderboard_view` serves."""
    return [
        _row(
            rank=rank,
            team_id=c.team_id,
            team=c.team_name,
            method=c.method_description,
            submission_id=c.submission_id,
            primary=c.primary,
            metrics=c.metrics,
            is_baseline=c.is_baseline,
            submitted_at=c.submitted_at.isoformat(),
            count=count,
            public_rank=c.public_rank,
        )
        for rank, c, count in rows
    ]


def leaderboard_view_from_scratch(
    *, task: Task, division: Division, split: str = Score.Split.PUBLIC
) -> LeaderboardView:
    """The same board computed from the scores themselves, ignoring the materialised entries (version 0):
    what the served board must always equal. For checks and tests; reads every submission."""
    primary = task_primary_metric(task)
    columns = [metric_spec_data(spec) for spec in task_metric_specs(task)]
    rows = ranked_rows_data(board_compute(task=task, division=division, split=split))
    return LeaderboardView(0, None, metric_spec_data(primary), columns, rows)


def score_history(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> list[dict[str, Any]]:
    """Every ranked submission's primary score on this split over time, oldest first, with the best value so
    far among the teams (the "ratchet"; baselines do not move it). The same submissions as the board ranks
    (`Submission.objects.ranking`), each by its current evaluation."""
    primary = task_primary_metric(task)
    ranking = Submission.objects.ranking(task=task, division=division)
    scores = (
        Score.objects.filter(split=split, metric=primary.name, evaluation__in=ranking.values("current_evaluation"))
        .values_list(
            "value",
            "evaluation__submission__created_at",
            "evaluation__submission__team__name",
            "evaluation__submission__is_baseline",
        )
        .order_by("evaluation__submission__created_at", "evaluation__submission_id")
    )
    best: float | None = None
    history = []
    for value, created_at, team, is_baseline in scores:
        if not is_baseline:
            improved = best is None or (value > best if primary.higher_is_better else value < best)
            best = value if improved else best
        history.append(
            {"t": created_at.isoformat(), "value": value, "team": team, "baseline": is_baseline, "best": best}
        )
    return history


def leaderboard_document(*, task: Task, division: Division, split: str) -> dict[str, Any]:
    """The board as its JSON document (what `leaderboard.json` and the API serve, and the page embeds): where
    it is (challenge, task, division, split), its version and rebuild time, the primary metric and every
    metric of the split, the tie-break rule, and the ranked rows. The caller checks `split_visible`."""
    board = leaderboard_view(task=task, division=division, split=split)
    where = {"challenge": task.challenge.slug, "task": task.slug, "division": division.slug, "split": split}
    return {**where, **asdict(board)}


BOARD_NAMES = {
    Score.Split.PUBLIC: "public board",
    Score.Split.PRIVATE: "private board",
    Score.Split.CONCEALED: "concealed-task board",
}
"""The boards a submission's page names, in the order it lists them."""


@dataclass(frozen=True)
class Standing:
    """Where a submission stands on one board of its task and division: its rank among the board's rows
    (baselines included, as the board ranks them), or, when its team's row there is another submission of the
    team, that submission and why it counts instead."""

    split: str
    board: str
    rank: int | None
    rows: int
    tied: bool = False
    counted_id: int | None = None
    why: str = ""
    """Why another submission counts ("its best submission"), or why there is no row at all."""


def _not_ranking(submission: Submission) -> str:
    """Why a submission outside `Submission.objects.ranking` has no row on any board, in words."""
    if submission.is_withdrawn:
        return "withdrawn by its team"
    if submission.is_disqualified:
        return "disqualified by the organizers"
    if submission.status in (Submission.Status.REJECTED, Submission.Status.CANCELLED, Submission.Status.FAILED):
        return str(submission.get_status_display()).lower()
    return "not scored yet"


def _counted_because(submission: Submission, counted: LeaderboardEntry, split: str) -> str:
    """Why the team's row on a board is another of its submissions, as the board's rule decides."""
    if split == Score.Split.PRIVATE:
        return "the private board ranks a team by its final selections (else its best public submissions)"
    if submission.task.ranking_rule == Task.RankingRule.SELECTED_FINAL and counted.submission.is_selected_final:
        return "the submission the team selected as final"
    return "the team's best submission"


def _standing(submission: Submission, board: Leaderboard) -> Standing:
    name = BOARD_NAMES[Score.Split(board.split)]
    rows = board.entries.count()
    # The submission's own row (a baseline always has one), else its team's row (another submission of the team).
    own = board.entries.filter(submission=submission).first()
    if own is not None:
        tied = board.entries.filter(rank=own.rank).exclude(pk=own.pk).exists()
        return Standing(board.split, name, own.rank, rows, tied=tied)
    counted = board.entries.filter(team=submission.team, is_baseline=False).select_related("submission").first()
    if counted is None:
        return Standing(board.split, name, None, rows, why="it has no score on this board yet")
    why = _counted_because(submission, counted, board.split)
    return Standing(board.split, name, None, rows, counted_id=counted.submission_id, why=why)


def submission_standings(*, submission: Submission, user: AnyUser) -> tuple[list[Standing], str]:
    """Where a submission stands on the boards of its task and division that the user may see (`split_visible`:
    a private board only once revealed to them), in `BOARD_NAMES` order: its rank and the board's rows, or why its
    team's row is another submission. With no standing, why the submission ranks nowhere ("withdrawn by its
    team", "not scored yet"; "" when it ranks but no board was built yet). Nothing for a task the user may not
    see. The caller has checked that the user may see the submission (`submissions.selectors.submission_get`)."""
    task = submission.task
    if not tasks_visible(challenge=task.challenge, user=user).filter(pk=task.pk).exists():
        return [], ""
    if not Submission.objects.ranking(task=task, division=submission.division).filter(pk=submission.pk).exists():
        return [], _not_ranking(submission)
    boards = {
        board.split: board
        for board in Leaderboard.objects.filter(task=task, division=submission.division, rebuilt_at__isnull=False)
    }
    shown = [
        boards[split] for split in BOARD_NAMES if split in boards and split_visible(task=task, split=split, user=user)
    ]
    return [_standing(submission, board) for board in shown], ""


@dataclass(frozen=True)
class BoardRef:
    """A built board as a read resolved it: what its ETag and the cache keys of its documents are made of."""

    leaderboard_id: int
    version: int
    rebuilt_at: dt.datetime
    task_id: int
    data_version: int
    evaluator_slug: str
    division_id: int
    split: str

    def cache_parts(self) -> tuple[object, ...]:
        """Everything a document of this board depends on (the rebuild time too: ids and versions repeat after
        a database is recreated, while a shared cache lives on)."""
        evaluator = get_evaluator(self.evaluator_slug)
        return (
            self.leaderboard_id,
            self.version,
            self.rebuilt_at.timestamp(),
            self.task_id,
            self.data_version,
            evaluator.slug,
            evaluator.version,
            self.division_id,
            self.split,
        )


def _ref_of(state: Leaderboard | None, task: Task) -> BoardRef | None:
    if state is None or state.rebuilt_at is None:
        return None
    return BoardRef(
        state.pk,
        state.version,
        state.rebuilt_at,
        task.pk,
        task.data_version,
        task.evaluator_slug,
        state.division_id,
        state.split,
    )


def board_ref(*, task: Task, division: Division, split: str) -> BoardRef | None:
    """The board's reference, None while it was never built. The caller has checked access."""
    return _ref_of(leaderboard_state(task=task, division=division, split=split), task)


@functools.cache
def _public_board_sql(vendor: str) -> str:
    """The query of `public_board_ref`, written out once per database vendor (whose quoting it uses): the hot
    path of every leaderboard read (the live pages poll it) pays for one round trip and no query compilation.
    Table names come from the models, so a renamed table cannot leave it behind."""
    quote = connection.ops.quote_name
    board, task, challenge = Leaderboard._meta.db_table, Task._meta.db_table, Challenge._meta.db_table
    division = Division._meta.db_table
    accepts = Division.tasks.through._meta.db_table
    # Only the models' table names are formatted in; every value is a parameter.
    return f"""
        SELECT b.id, b.version, b.rebuilt_at, t.id, t.data_version, t.evaluator_slug, b.division_id
        FROM {quote(board)} b
        JOIN {quote(task)} t ON t.id = b.task_id
        JOIN {quote(challenge)} c ON c.id = t.challenge_id
        WHERE c.slug = %s AND c.visibility IN (%s, %s) AND t.slug = %s AND t.is_published = %s
          AND b.split = %s AND b.rebuilt_at IS NOT NULL
          AND b.division_id = (
            SELECT d.id FROM {quote(division)} d
            WHERE d.challenge_id = c.id AND (d.slug = %s OR %s IS NULL)
              AND (EXISTS (SELECT 1 FROM {quote(accepts)} a WHERE a.division_id = d.id AND a.task_id = t.id)
                   OR NOT EXISTS (SELECT 1 FROM {quote(accepts)} a WHERE a.division_id = d.id))
            ORDER BY d.{quote("order")}, d.slug LIMIT 1)
    """  # noqa: S608


def _fetch_one(sql: str, params: Sequence[str | bool | None]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found: tuple[Any, ...] | None = cursor.fetchone()
        return found


def _read_one(sql: str, params: Sequence[str | bool | None]) -> tuple[Any, ...] | None:
    """One row of a read-only query that also serves as the connection's health check.

    With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before a request's first query: as long a round trip as
    the read itself. Here the read goes first: if the connection turns out dead (the server restarted, an idle
    connection was cut), it is closed and the read, which changes nothing, runs once more on a new one. Inside a
    transaction (tests, a caller's atomic block) the usual check runs: a transaction cannot move to a new
    connection."""
    if connection.in_atomic_block or connection.connection is None:
        return _fetch_one(sql, params)
    # This request's health check is the read below (Django's own flag, set by its check; not in the stubs).
    connection.health_check_done = True  # type: ignore[attr-defined]
    try:
        return _fetch_one(sql, params)
    except (OperationalError, InterfaceError):
        if connection.is_usable():
            raise  # the query failed, not the connection
        connection.close()
    return _fetch_one(sql, params)


def public_board_ref(*, challenge_slug: str, task_slug: str, division_slug: str | None) -> BoardRef | None:
    """The built public board that a read names, when everyone may see it: a challenge that is not a draft, a
    published task, a division that accepts the task (the named one, or the task's first), in one query.

    None whenever any of that fails (unknown names included) or the board was never built: the caller then
    takes the full path (`challenge_get`, `task_get`, `division_of_task`, `leaderboard_split`), which decides
    for this user (organizers see drafts) and says why. A board found here is one the full path shows to any
    user, anonymous included (tests/apps/leaderboards/test_read_path.py checks the two agree)."""
    sql = _public_board_sql(connection.vendor)
    params: list[str | bool | None] = [
        challenge_slug,
        Challenge.Visibility.PUBLIC,
        Challenge.Visibility.UNLISTED,
        task_slug,
        True,
        Score.Split.PUBLIC,
        division_slug,
        division_slug,
    ]
    row = _read_one(sql, params)
    if row is None:
        return None
    board_id, version, rebuilt_at, task_id, data_version, evaluator_slug, division_id = row
    if isinstance(rebuilt_at, str):  # SQLite hands back text
        rebuilt_at = dt.datetime.fromisoformat(rebuilt_at)
    if rebuilt_at.tzinfo is None:
        rebuilt_at = rebuilt_at.replace(tzinfo=dt.UTC)
    return BoardRef(board_id, version, rebuilt_at, task_id, data_version, evaluator_slug, division_id, "public")


@dataclass(frozen=True)
class BoardRead:
    """The board a read names, as `board_read` resolved it for the reader."""

    ref: BoardRef | None
    """None while the board was never built (its documents are then an empty board and no history)."""
    task_id: int
    division_id: int
    split: str
    load: Callable[[], tuple[Task, Division]]
    """The task (with its challenge) and the division, for building a document the caches do not hold."""

    def etag(self, kind: str) -> str:
        """The ETag of a document of this board (`kind`: board, history): each rebuild changes it."""
        version = self.ref.version if self.ref else 0
        return f'"{kind}-{self.task_id}-{self.division_id}-{self.split}-{version}"'


def _board_objects(ref: BoardRef) -> tuple[Task, Division]:
    task = Task.objects.select_related("challenge").get(pk=ref.task_id)
    return task, Division.objects.get(pk=ref.division_id)


def board_read(
    *, challenge_slug: str, task_slug: str, division_slug: str | None, split: str | None, user: AnyUser
) -> BoardRead:
    """The board that a read of a task's leaderboard names (the division: the named one, else the task's first;
    the split: public unless named), for this user. Raises `NotFound` as `challenge_get`, `task_get`,
    `division_of_task` and `leaderboard_split` do.

    A built public board that everyone may see costs one query (`public_board_ref`); anything else takes the
    full path, which decides for this user."""
    if not split or split == Score.Split.PUBLIC:
        ref = public_board_ref(challenge_slug=challenge_slug, task_slug=task_slug, division_slug=division_slug or None)
        if ref is not None:
            return BoardRead(ref, ref.task_id, ref.division_id, ref.split, functools.partial(_board_objects, ref))
    challenge = challenge_get(slug=challenge_slug, user=user)
    task = task_get(challenge=challenge, slug=task_slug, user=user)
    division = division_of_task(task=task, slug=division_slug)
    chosen = leaderboard_split(task=task, split=split, user=user)
    ref = board_ref(task=task, division=division, split=chosen)
    return BoardRead(ref, task.pk, division.pk, chosen, lambda: (task, division))


def public_board_reads(*, challenge: Challenge, user: AnyUser) -> list[BoardRead]:
    """The public board of every task of the challenge the user may see, in each division that accepts it (tasks
    in their order, divisions in theirs), with one query for all their states. The caller has checked that the
    user may see the challenge (`challenge_get`)."""
    pairs = [
        (task, division)
        for task in tasks_visible(challenge=challenge, user=user)
        for division in divisions_of_task(task=task)
    ]
    states = {
        (state.task_id, state.division_id): state
        for state in Leaderboard.objects.filter(task__challenge=challenge, split=Score.Split.PUBLIC)
    }
    reads = []
    for task, division in pairs:
        task.challenge = challenge
        ref = _ref_of(states.get((task.pk, division.pk)), task)
        reads.append(BoardRead(ref, task.pk, division.pk, Score.Split.PUBLIC, functools.partial(_pair, task, division)))
    return reads


def _pair(task: Task, division: Division) -> tuple[Task, Division]:
    return task, division


@dataclass(frozen=True)
class MatrixCell:
    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class BenchmarkMatrix:
    """The paper's Table 2: benchmark types (rows) x ML tasks (columns); each cell lists the public tasks."""

    columns: list[tuple[str, str]]
    rows: list[tuple[str, str, list[MatrixCell]]]


def score_shown(value: float, scale: float) -> str:
    """A metric's value as the leaderboard table shows it (`formatScore` in static/js/leaderboard.js): times its
    display scale, four decimals unscaled, two when scaled."""
    return f"{value * scale:.{4 if scale == 1 else 2}f}"


def metric_title(spec: MetricSpec) -> str:
    """A metric's name with its display scale, as the table's headings and the charts' axes read it
    (`metricTitle` in static/js/leaderboard.js): the label alone when unscaled, else followed by the
    multiplication sign and the scale in brackets, "Accuracy (x100)" with the sign for the x."""
    return spec.label if spec.display_scale == 1 else f"{spec.label} (\N{MULTIPLICATION SIGN}{spec.display_scale:g})"


def _public_board_figures(task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per task, from its materialised public boards (every division): the ranked submissions and the teams
    with a row (baselines are neither), and the leader: the best-ranked team row of the first division (in the
    divisions' order) that has one, whatever baselines rank above it. Three queries."""
    best = LeaderboardEntry.objects.filter(leaderboard=OuterRef("pk"), is_baseline=False).order_by(
        "rank", "submitted_at", "pk"
    )
    boards = (
        Leaderboard.objects.filter(task_id__in=task_ids, split=Score.Split.PUBLIC)
        .annotate(leader_id=Subquery(best.values("pk")[:1]))
        .order_by("division__order", "division__slug")
        .values_list("task_id", "leader_id")
    )
    leader_ids: dict[int, int] = {}
    for task_id, leader_id in boards:
        if leader_id is not None:
            leader_ids.setdefault(task_id, leader_id)
    figures: dict[int, dict[str, Any]] = {
        row["leaderboard__task_id"]: {"submissions": row["submissions"], "teams": row["teams"], "leader": None}
        for row in LeaderboardEntry.objects.filter(
            leaderboard__task_id__in=task_ids, leaderboard__split=Score.Split.PUBLIC, is_baseline=False
        )
        .values("leaderboard__task_id")
        .annotate(submissions=Sum("submission_count"), teams=Count("team_id", distinct=True))
    }
    leaders = LeaderboardEntry.objects.filter(pk__in=leader_ids.values()).select_related(
        "team", "leaderboard__division"
    )
    for entry in leaders:
        figures[entry.leaderboard.task_id]["leader"] = entry
    return figures


def _matrix_item(task: Task, found: dict[str, Any] | None) -> dict[str, Any]:
    """One task of a matrix cell: its ranked submissions and teams, and its leader with the value as the
    table shows it (`primary` stays unscaled, as the board's documents carry it)."""
    found = found or {"submissions": 0, "teams": 0, "leader": None}
    entry: LeaderboardEntry | None = found["leader"]
    leader = None
    if entry is not None:
        spec = task_primary_metric(task)
        leader = {
            "team": entry.team.name,
            "primary": entry.primary,
            "shown": score_shown(entry.primary, spec.display_scale),
            "metric": metric_title(spec),
        }
    return {"task": task, "leader": leader, "submissions": found["submissions"], "teams": found["teams"]}


def benchmark_matrix(*, tasks: QuerySet[Task], benchmarks: list[tuple[str, str]]) -> BenchmarkMatrix:
    """Fill the matrix from `tasks` (the caller decides which are visible) for the given (slug, title) rows.
    Each task comes with its leader and counts as its public boards rank them (`_public_board_figures`):
    `submissions` is the sum of the boards' Submissions column over the teams' rows."""
    task_list = list(tasks.select_related("challenge"))
    figures = _public_board_figures([task.pk for task in task_list])
    columns = list(Task.MLTask.choices)
    rows = []
    for slug, title in benchmarks:
        cells = [
            MatrixCell(
                [
                    _matrix_item(t, figures.get(t.pk))
                    for t in task_list
                    if t.evaluator_slug == slug and t.ml_task == ml_task
                ]
            )
            for ml_task, _ in columns
        ]
        rows.append((slug, title, cells))
    return BenchmarkMatrix(columns=[(str(v), str(label)) for v, label in columns], rows=rows)


def exports_of_challenge(*, challenge: Challenge, user: AnyUser) -> QuerySet[Export]:
    """The challenge's exports, newest first, for its organizers (and staff); `Forbidden` for anyone else."""
    if not user_is_organizer(challenge=challenge, user=user):
        raise Forbidden("Only the challenge's organizers can export its submissions.")
    return Export.objects.filter(challenge=challenge).select_related("requested_by")


def export_get(*, challenge: Challenge, export_id: int, user: AnyUser) -> Export:
    """A finished export of the challenge, for its organizers (and staff). `NotFound` for anyone else, and for
    an export that is missing, of another challenge, or not finished (the same answer for all)."""
    if not user_is_organizer(challenge=challenge, user=user):
        raise NotFound("No such export.")
    export = Export.objects.filter(challenge=challenge, pk=export_id, status=Export.Status.DONE).first()
    if export is None or not export.file:
        raise NotFound("No such export.")
    return export


def awards_data(awards: QuerySet[Award]) -> list[dict[str, Any]]:
    """Awards as the leaderboard pages show them (public once granted: a name, a team, a submission)."""
    return [
        {
            "name": award.name,
            "description": award.description,
            "team": award.submission.team.name,
            "team_id": award.submission.team_id,
            "submission_id": award.submission_id,
            "task": award.submission.task.title,
            "division": award.submission.division.name,
            "division_slug": award.submission.division.slug,
        }
        for award in awards.select_related("submission__task").order_by("created_at", "pk")
    ]

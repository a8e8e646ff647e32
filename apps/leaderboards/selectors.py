"""Reads of leaderboards and their chart data, as plain lists and dicts (pages, JSON, CSV and API share them).
Access rules are built in: a split is readable only where `split_visible` says so."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, F, QuerySet

from apps.challenges.evaluation import task_evaluator, task_metric_specs, task_primary_metric
from apps.challenges.models import Challenge, Task
from apps.challenges.selectors import user_is_organizer
from apps.core.errors import Forbidden, NotFound
from apps.core.users import AnyUser
from apps.divisions.models import Division
from apps.leaderboards.caching import cache_key, cached
from apps.leaderboards.models import Export, Leaderboard, LeaderboardEntry, SplitReveal
from apps.leaderboards.ranking import TIE_BREAK, RankedRow, board_compute
from apps.submissions.models import Award, Score, Submission
from apps.submissions.selectors import concealed_scores_visible
from evaluators import MetricSpec


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


def _row(*, rank: int, team_id: int, team: str, method: str, submission_id: int, primary: float,
         metrics: dict[str, float], is_baseline: bool, submitted_at: str, count: int) -> dict[str, Any]:  # fmt: skip
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
    far among the teams (the "ratchet"; baselines do not move it). The same submissions as the board ranks."""
    primary = task_primary_metric(task)
    scores = (
        Score.objects.filter(
            split=split,
            metric=primary.name,
            evaluation__submission__task=task,
            evaluation__submission__division=division,
            evaluation__submission__is_withdrawn=False,
            evaluation__submission__is_disqualified=False,
        )
        .exclude(evaluation__submission__status__in=[Submission.Status.REJECTED, Submission.Status.CANCELLED])
        .filter(evaluation__submission__current_evaluation=F("evaluation"))
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


def score_distribution(board: LeaderboardView) -> dict[str, Any]:
    """The histogram's data: every ranked team's primary score, and the baselines to mark on it."""
    return {
        "values": [row["primary"] for row in board.rows if not row["is_baseline"]],
        "baselines": [{"label": row["label"], "value": row["primary"]} for row in board.rows if row["is_baseline"]],
    }


def leaderboard_payload(
    *, task: Task, division: Division, split: str, state: Leaderboard | None = None
) -> dict[str, Any]:
    """What a board's page and JSON serve: the board, its score history and its score distribution. Cached
    per board version (`caching`); pass `state` when the caller has read it already (for the ETag)."""
    state = state if state is not None else leaderboard_state(task=task, division=division, split=split)

    def compute() -> dict[str, Any]:
        board = leaderboard_view(task=task, division=division, split=split)
        return {
            "board": asdict(board),
            "history": score_history(task=task, division=division, split=split),
            "distribution": score_distribution(board),
        }

    if state is None or state.rebuilt_at is None:
        return compute()  # never built: nothing worth caching
    return cached(_board_key("board", task, division, split, state), compute)


def leaderboard_json(*, task: Task, division: Division, split: str, state: Leaderboard | None) -> bytes:
    """The board's JSON document as served (`leaderboard_payload` plus `tie_break`), encoded once per board
    version: a cache hit costs no decoding and re-encoding of the whole board (most of a read's time on a large
    board, measured by bench/leaderboard_reads.py)."""

    def encode() -> bytes:
        payload = leaderboard_payload(task=task, division=division, split=split, state=state)
        document = {**payload, "tie_break": payload["board"]["tie_break"]}
        return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()

    if state is None or state.rebuilt_at is None:
        return encode()
    return cached(_board_key("board-json", task, division, split, state), encode)


def _board_key(prefix: str, task: Task, division: Division, split: str, state: Leaderboard) -> str:
    assert state.rebuilt_at is not None  # noqa: S101 (callers check it)
    evaluator = task_evaluator(task)
    return cache_key(
        prefix, state.pk, state.version, state.rebuilt_at.timestamp(), task.pk, task.data_version,
        evaluator.slug, evaluator.version, division.pk, split,
    )  # fmt: skip


@dataclass(frozen=True)
class MatrixCell:
    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class BenchmarkMatrix:
    """The paper's Table 2: benchmark types (rows) x ML tasks (columns); each cell lists the public tasks."""

    columns: list[tuple[str, str]]
    rows: list[tuple[str, str, list[MatrixCell]]]


def _leaders(task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The best non-baseline entry of each task's public leaderboards (the first division that has one)."""
    entries = (
        LeaderboardEntry.objects.filter(
            leaderboard__task_id__in=task_ids, leaderboard__split=Score.Split.PUBLIC, is_baseline=False, rank=1
        )
        .select_related("team", "leaderboard__division")
        .order_by("leaderboard__division__order", "submitted_at")
    )
    leaders: dict[int, dict[str, Any]] = {}
    for entry in entries:
        leaders.setdefault(entry.leaderboard.task_id, {"team": entry.team.name, "primary": entry.primary})
    return leaders


def benchmark_matrix(*, tasks: QuerySet[Task], benchmarks: list[tuple[str, str]]) -> BenchmarkMatrix:
    """Fill the matrix from `tasks` (the caller decides which are visible) for the given (slug, title) rows."""
    task_list = list(tasks.select_related("challenge"))
    ids = [task.pk for task in task_list]
    leaders = _leaders(ids)
    counts = dict(
        Submission.objects.filter(task_id__in=ids, is_baseline=False)
        .values_list("task_id")
        .annotate(n=Count("pk"))
        .values_list("task_id", "n")
    )
    columns = list(Task.MLTask.choices)
    rows = []
    for slug, title in benchmarks:
        cells = []
        for ml_task, _ in columns:
            cells.append(
                MatrixCell(
                    [
                        {"task": t, "leader": leaders.get(t.pk), "submissions": counts.get(t.pk, 0)}
                        for t in task_list
                        if t.evaluator_slug == slug and t.ml_task == ml_task
                    ]
                )
            )
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

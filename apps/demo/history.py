"""Playing the simulated history (`apps.demo.plan`) on a challenge: each planned submission is made by a member of
its team through `submission_create`, scored by the real evaluator (`apps.demo.scoring`), then dated back to its
moment; then the boards are rebuilt, the teams select their finals and the organizers judge (a disqualification,
awards). Every step goes through the platform's services; only the dates are the story's."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.contrib.auth.models import User

from apps.challenges.evaluators import task_primary_metric
from apps.challenges.models import CONCEALED_DIR, Challenge, Task
from apps.demo.mixing import artifact_malformed, artifact_mix, artifact_shuffled, zip_fixed
from apps.demo.plan import Kind, Planned
from apps.demo.scoring import DemoScorer, submission_backdate, submission_lose_worker, submit_artifact
from apps.demo.teams import Competitor
from apps.divisions.models import Division
from apps.jobs.collective import collective_request, is_collective, task_rescore_collective
from apps.jobs.pipeline import submission_select_final_and_rank
from apps.leaderboards.models import LeaderboardEntry
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Score, Submission
from evaluators.taskdir import TASK_FILE

BASELINE_PREFIX = "Baseline: "

Status = Submission.Status
CHEAT_METHOD = "Picked with the labels of a public copy of the source data."
CHEAT_REASON = (
    "The method used the hidden ground truth (the labels of a public copy of the source data), which rule 2 forbids."
)
MISTAKE_METHODS = {
    "unknown-key": "Our best file, with one row added by hand.",
    "semicolons": "Our best file, exported from a spreadsheet.",
}


@dataclass(frozen=True)
class Baseline:
    """One baseline of a task as the demo module wrote it (a file or a directory), and its scored primary value
    (over the whole evaluation set)."""

    name: str
    path: Path
    primary: float


@dataclass
class Stage:
    """What the history needs of one task: where teams submit, the good and the poor baseline its mixtures are
    made of (`stage_for`) and where to write them. Each artifact is written once: the same plan entry always gives
    the same file."""

    task: Task
    division: Division
    good: Baseline
    poor: Baseline
    work: Path
    _written: dict[tuple[str, float, int, str], Path] = field(default_factory=dict)

    def artifact(self, planned: Planned) -> tuple[Path, str]:
        """The file to submit for the planned entry (a directory zipped), and its method description."""
        key = (planned.kind.value, planned.share, planned.variant, planned.mistake)
        if key not in self._written:
            self._written[key] = self._write(planned, self.work / f"{len(self._written):03d}")
        return self._written[key], self._method(planned)

    def _write(self, planned: Planned, folder: Path) -> Path:
        folder.mkdir(parents=True)
        if planned.kind in (Kind.MIX, Kind.LOST):
            seed = int(planned.share * 1000) * 10 + planned.variant
            path = artifact_mix(
                good=self.good.path, poor=self.poor.path, share=planned.share, seed=seed, out=folder / "mix"
            )
        elif planned.kind == Kind.MALFORMED:
            path = artifact_malformed(source=self.good.path, kind=planned.mistake, out=folder / self.good.path.name)
        else:
            path = self.good.path
        return zip_fixed(path, folder / f"{path.name}.zip") if path.is_dir() else path

    def _method(self, planned: Planned) -> str:
        if planned.kind == Kind.COPY:
            return f"The organizers' {self.good.name} baseline, to check our pipeline end to end."
        if planned.kind == Kind.CHEAT:
            return CHEAT_METHOD
        if planned.kind == Kind.MALFORMED:
            return MISTAKE_METHODS[planned.mistake]
        good, poor = self.good.name, self.poor.name
        return f"{planned.share:.0%} of the choices from the {good} method, the others from the {poor} one."


def task_dir_copy(task: Task, work: Path) -> Path:
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


def baseline_submit(task: Task, division: Division, organizer: User, written: tuple[str, Path], work: Path) -> int:
    """Submit a baseline the demo module wrote (a directory zipped first) as the organizer; returns its id."""
    name, path = written
    work.mkdir(parents=True, exist_ok=True)
    artifact = zip_fixed(path, work / f"{name}.zip") if path.is_dir() else path
    return submit_artifact(task, division, organizer, artifact, method=BASELINE_PREFIX + name, as_baseline=True).pk


def baselines_score(
    submitted: Sequence[tuple[str, Path, int]], *, scorer: DemoScorer, at: dt.datetime
) -> list[Baseline]:
    """Score the task's baselines (name, written artifact, submission id) and date them to `at`; the scored ones,
    with their primary values."""
    scored = []
    for name, path, pk in submitted:
        run = scorer.score(pk)
        submission_backdate(pk, at)
        if run is not None:
            scored.append(Baseline(name, path, run.result.primary))
    return scored


def stage_for(task: Task, division: Division, baselines: Sequence[Baseline], work: Path) -> Stage | None:
    """The task's stage: the best baseline as the good one; as the poor one, the random baseline (named "random"
    or "random-..."), else, when the good one is a CSV table, its own values dealt to its keys at random
    (`artifact_shuffled`), else the worst baseline. None with fewer than two baselines."""
    if len(baselines) < 2:
        return None
    sign = 1.0 if task_primary_metric(task).higher_is_better else -1.0
    ranked = sorted(baselines, key=lambda baseline: sign * baseline.primary)
    poor = next((b for b in ranked if b.name == "random" or b.name.startswith("random-")), None)
    good = next(b for b in reversed(ranked) if b is not poor)
    if poor is None:
        shuffled = artifact_shuffled(source=good.path, seed=0, out=work / "shuffled" / good.path.name)
        poor = ranked[0] if shuffled is None else Baseline("random", shuffled, ranked[0].primary)
    return Stage(task, division, good, poor, work)


def moment(window: tuple[dt.datetime, dt.datetime], at: float) -> dt.datetime:
    """The time at fraction `at` of the window (start, end)."""
    start, end = window
    return start + (end - start) * at


def history_play(
    *,
    plan: Sequence[Planned],
    stages: dict[str, Stage],
    competitors: Sequence[Competitor],
    scorer: DemoScorer,
    window: tuple[dt.datetime, dt.datetime],
) -> dict[Planned, int]:
    """Make, score and date every planned submission to a task with a stage, oldest first; returns each
    entry's submission id. Malformed files are rejected by validation, lost ones failed by the reaper."""
    played: dict[Planned, int] = {}
    for planned in plan:
        stage = stages.get(planned.task)
        if stage is None:
            continue
        artifact, method = stage.artifact(planned)
        members = competitors[planned.team].members
        user = members[planned.member % len(members)]
        submission = submit_artifact(stage.task, stage.division, user, artifact, method=method)
        if submission.status == Status.QUEUED:
            if planned.kind == Kind.LOST:
                submission_lose_worker(submission.pk)
            else:
                scorer.score(submission.pk)
        submission_backdate(submission.pk, moment(window, planned.at))
        played[planned] = submission.pk
    return played


def history_settle(*, tasks: Sequence[Task], rescore: bool = True) -> None:
    """Rank the tasks once their submissions are scored and dated (`scoring.DemoScorer` ranks nothing): rebuild
    every board of each (their rows copy the submission times); for a collective one, ask for its rescore, as
    each landed score does, and with `rescore`, run it now, as the workers would."""
    for task in tasks:
        if is_collective(task):
            collective_request(task=task)
            if rescore:
                task_rescore_collective(task_id=task.pk)
        leaderboards_rebuild_for_task(task=task)


def history_finals(
    *, challenge: Challenge, competitors: Sequence[Competitor], every_other: Sequence[int], never: Sequence[int]
) -> int:
    """Teams choose their finals: each team selects its best public submission (its row on the public board)
    as final on every task it competes in, except the teams at the indexes `every_other` (on every other task)
    and `never` (on none); where a team selected none, its best public ones count (`PRIVATE_RULE`), so the
    private boards show both branches of the rule. Returns how many were selected."""
    selected = 0
    for index, competitor in enumerate(competitors):
        if index in never:
            continue
        rows = LeaderboardEntry.objects.filter(
            leaderboard__task__challenge=challenge,
            leaderboard__split=Score.Split.PUBLIC,
            leaderboard__division__slug="open",
            team=competitor.team,
        ).select_related("submission__task")
        ordered = list(rows.order_by("leaderboard__task__order", "leaderboard__task__slug"))
        for row in ordered[::2] if index in every_other else ordered:
            submission_select_final_and_rank(submission=row.submission, user=competitor.members[0])
            selected += 1
    return selected


def private_winner(task: Task, division: Division) -> Submission | None:
    """The submission at the top of the task's private board in the division (no baseline), if any."""
    row = (
        LeaderboardEntry.objects.filter(
            leaderboard__task=task, leaderboard__division=division, leaderboard__split=Score.Split.PRIVATE
        )
        .filter(is_baseline=False)
        .select_related("submission")
        .order_by("rank", "submitted_at", "pk")
        .first()
    )
    return row.submission if row is not None else None

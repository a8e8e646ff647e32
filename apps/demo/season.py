"""The demo's previous season: an ended challenge on a few quick benchmarks (small data), so that a visitor sees
how a challenge finishes: the teams' finals, the private boards revealed by the end, the winners' awards.

It is built as a real one would have been: imported from its bundle, the teams registered and submitting while
it ran (their submissions dated within its weeks), then ended by its organizer (an audited edit of its end
date), and the winners awarded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from django.contrib.auth.models import User
from django.utils import timezone

from apps.backoffice.bundles import challenge_bundle_import
from apps.backoffice.services.changes import challenge_changes_record, challenge_snapshot
from apps.challenges.models import Challenge
from apps.demo.bundle import demo_bundle_write, demo_specs
from apps.demo.history import (
    Stage,
    baseline_submit,
    baselines_score,
    history_finals,
    history_play,
    history_settle,
    private_winner,
    stage_for,
    task_dir_copy,
)
from apps.demo.plan import PlanShape, history_plan
from apps.demo.scoring import DemoScorer
from apps.demo.teams import Competitor, demo_participation_backdate, demo_teams_register
from apps.submissions.awards import award_grant
from evaluators import get_evaluator
from evaluators.demo import demo_module

SEASON_SLUG = "dataperf-demo-season-1"
SEASON_BENCHMARKS = ("budget-cleaning", "valuation", "acquisition")
STARTED_BEFORE = dt.timedelta(weeks=30)
ENDED_BEFORE = dt.timedelta(weeks=12)
SHAPE = PlanShape(seed=SEASON_SLUG, most=2, malformed=1)
WINNER_AWARD = "Season 1 winner"
SEASON = {
    "slug": SEASON_SLUG,
    "title": "DataPerf demo, season 1 (ended)",
    "summary": "The previous season on three benchmarks: ended, with its final private leaderboards.",
    "description": (
        "The demo's first season, on small data: cleaning under a budget, data valuation and data acquisition. "
        "It has ended: its private leaderboards, which ranked each team's final submissions on the held-out "
        "half of the data, are final and open to everyone."
    ),
}


def demo_season_create(
    *, organizer: User, competitors: Sequence[Competitor], scorer: DemoScorer, work: Path
) -> Challenge | None:
    """Build the previous season (module docstring), with the teams of `competitors` that took part in it
    (`DemoTeam.in_season`). Idempotent: None, doing nothing, when it exists already."""
    if Challenge.objects.filter(slug=SEASON_SLUG).exists():
        return None
    now = timezone.now()
    starts, ends = now - STARTED_BEFORE, now - ENDED_BEFORE
    benchmarks = [slug for slug in SEASON_BENCHMARKS if slug in {s for s, _, _ in demo_specs()}]
    archive = demo_bundle_write(
        target=work / "season.zip",
        benchmarks=benchmarks,
        small=True,
        now=now,
        challenge={**SEASON, "starts_at": starts},
    )
    challenge = challenge_bundle_import(archive=archive, organizers=[organizer], actor=None)
    teams = [competitor for competitor in competitors if competitor.spec.in_season]
    for participation, competitor in zip(
        demo_teams_register(challenge=challenge, competitors=teams), teams, strict=True
    ):
        registered = starts + (ends - starts) * competitor.spec.start * 0.5
        demo_participation_backdate(participation=participation, registered_at=registered)
    stages = _stages(challenge, organizer, scorer, work, opened=starts)
    plan = history_plan(teams=[c.spec for c in teams], quick=list(stages), slow=[], shape=SHAPE)
    window = (starts + dt.timedelta(hours=2), ends - dt.timedelta(hours=2))
    history_play(plan=plan, stages=stages, competitors=teams, scorer=scorer, window=window)
    history_settle(tasks=list(challenge.tasks.order_by("order", "slug")))
    history_finals(challenge=challenge, competitors=teams, every_other=(1,), never=(len(teams) - 1,))
    _end(challenge, organizer, ends)
    for stage in stages.values():
        winner = private_winner(stage.task, stage.division)
        if winner is not None:
            award_grant(submission=winner, actor=organizer, name=WINNER_AWARD, description="First on the final board.")
    return challenge


def _stages(
    challenge: Challenge, organizer: User, scorer: DemoScorer, work: Path, *, opened: dt.datetime
) -> dict[str, Stage]:
    """Each task's baselines, submitted and scored (dated an hour after the opening), and its stage."""
    division = challenge.divisions.get(slug="open")
    stages = {}
    for task in challenge.tasks.order_by("order", "slug"):
        module = demo_module(get_evaluator(task.evaluator_slug))
        if module is None:
            continue
        folder = work / task.slug
        task_dir = task_dir_copy(task, work)
        written = module.write_baselines(task_dir, folder / "baselines", seed=0)
        submitted = [
            (name, path, baseline_submit(task, division, organizer, (name, path), folder))
            for name, path in written.items()
        ]
        baselines = baselines_score(submitted, scorer=scorer, at=opened + dt.timedelta(hours=1))
        stage = stage_for(task, division, baselines, folder / "history")
        if stage is not None:
            stages[task.slug] = stage
    return stages


def _end(challenge: Challenge, organizer: User, ends: dt.datetime) -> None:
    """The organizer ends the season: its end date moves to `ends`, an audited edit as the admin makes it."""
    before = challenge_snapshot(challenge)
    challenge.ends_at = ends
    challenge.save(update_fields=["ends_at", "updated_at"])
    challenge_changes_record(challenge=challenge, actor=organizer, before=before)

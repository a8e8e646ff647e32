"""The living demo: ten teams compete on the demo challenge over its weeks, their submissions mixtures of the
baselines scored by the real evaluators; a few are rejected or fail, some enter the closed division, one is
disqualified, some win awards; the previous season has ended with its final boards open to everyone.

Building the demo takes seconds, so one test builds it (on two quick benchmarks) and checks the whole world."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import Team, TeamEvent, TeamMembership
from apps.challenges.evaluators import task_loaded
from apps.challenges.models import AuditEntry, Challenge, Task
from apps.demo.history import CHEAT_REASON
from apps.demo.mixing import artifact_malformed, artifact_mix, artifact_shuffled, zip_fixed
from apps.demo.plan import LEVELS, Kind, PlanShape, history_plan
from apps.demo.season import ENDED_BEFORE, SEASON_SLUG, STARTED_BEFORE, WINNER_AWARD
from apps.demo.services import CLOSED_ENTRIES, OPENING, PARTICIPANT, PROGRESS_AWARD, SHAPE, demo_create
from apps.demo.teams import DEMO_TEAMS
from apps.leaderboards.models import LeaderboardEntry, SplitReveal
from apps.leaderboards.selectors import score_history, split_visible
from apps.submissions.models import Award, Score, Submission
from apps.submissions.selectors import submissions_of_user
from apps.submissions.services.artifacts import artifact_path
from apps.submissions.services.evaluation import WHOLE_SET_KEY

PUBLIC, PRIVATE = Score.Split.PUBLIC, Score.Split.PRIVATE
QUICK_TASKS = ["budget-cleaning-breast-cancer", "valuation-breast-cancer"]


def test_the_plan_is_the_same_each_time_and_each_team_gets_better_as_it_goes() -> None:
    first = history_plan(teams=DEMO_TEAMS, quick=QUICK_TASKS, slow=["slow-task"], shape=SHAPE)

    assert first == history_plan(teams=DEMO_TEAMS, quick=QUICK_TASKS, slow=["slow-task"], shape=SHAPE)
    assert [p.at for p in first] == sorted(p.at for p in first)
    kinds = Counter(p.kind for p in first)
    assert (kinds[Kind.MALFORMED], kinds[Kind.LOST], kinds[Kind.COPY], kinds[Kind.CHEAT]) == (3, 2, 2, 1)
    assert {p.task for p in first if p.team == 0} >= set(QUICK_TASKS)  # the demo participant's team: everywhere
    mixes = [p for p in first if p.kind == Kind.MIX]
    assert {p.share for p in mixes} <= set(LEVELS) and len({p.share for p in mixes}) >= 4
    early, late = mixes[: len(mixes) // 2], mixes[len(mixes) // 2 :]
    assert sum(p.share for p in late) / len(late) > sum(p.share for p in early) / len(early) + 0.1
    other = history_plan(teams=DEMO_TEAMS, quick=QUICK_TASKS, slow=[], shape=PlanShape(seed="other", most=3))
    assert [p.at for p in other] != [p.at for p in first if p.kind == Kind.MIX]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_mixtures_take_the_share_of_good_choices_and_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    table_good = _write_csv(tmp_path / "good.csv", [["pair", "value"], *[[f"k{i}", "1"] for i in range(40)]])
    table_poor = _write_csv(tmp_path / "poor.csv", [["pair", "value"], *[[f"k{i}", "0"] for i in reversed(range(40))]])
    pick_good = _write_csv(tmp_path / "pick-good.csv", [["id"], *[[f"g{i}"] for i in range(20)]])
    pick_poor = _write_csv(tmp_path / "pick-poor.csv", [["id"], *[[f"p{i}"] for i in range(20)]])

    table = artifact_mix(good=table_good, poor=table_poor, share=0.5, seed=3, out=tmp_path / "t1")
    again = artifact_mix(good=table_good, poor=table_poor, share=0.5, seed=3, out=tmp_path / "t2")
    picks = artifact_mix(good=pick_good, poor=pick_poor, share=0.25, seed=3, out=tmp_path / "p1")
    part = artifact_mix(
        good=pick_good, poor=_write_csv(tmp_path / "none.csv", [["id"]]), share=0.5, seed=1, out=tmp_path / "p2"
    )

    assert table.read_bytes() == again.read_bytes()
    body = _rows(table)[1:]
    assert [row[0] for row in body] == [f"k{i}" for i in range(40)]  # one row per key, in the good order
    assert 10 < sum(row[1] == "1" for row in body) < 30
    assert artifact_mix(good=table_good, poor=table_poor, share=1.0, seed=5, out=tmp_path / "t3").read_bytes() == (
        table_good.read_bytes()
    )
    chosen = [row[0] for row in _rows(picks)[1:]]
    assert len(chosen) == 20 and sum(key.startswith("g") for key in chosen) == 5
    assert len(_rows(part)) == 1 + 10  # mixed with nothing, a selection keeps its share
    unknown = artifact_malformed(source=pick_good, kind="unknown-key", out=tmp_path / "bad" / "unknown")
    assert _rows(unknown)[-1] == ["no-such-key"]
    semicolons = artifact_malformed(source=table_good, kind="semicolons", out=tmp_path / "bad" / "semicolons")
    assert semicolons.read_text(encoding="utf-8").startswith("pair;value\nk0;1\n")
    shuffled = artifact_shuffled(source=table_good.with_name("ranked.csv"), seed=2, out=tmp_path / "s" / "t")
    assert shuffled is None  # no such file
    ranked = _write_csv(tmp_path / "ranked.csv", [["pair", "value"], *[[f"k{i}", str(i)] for i in range(40)]])
    shuffled = artifact_shuffled(source=ranked, seed=2, out=tmp_path / "s" / "t")
    assert shuffled is not None
    dealt = _rows(shuffled)[1:]
    assert [row[0] for row in dealt] == [f"k{i}" for i in range(40)]
    assert sorted(row[1] for row in dealt) == sorted(str(i) for i in range(40)) and dealt != _rows(ranked)[1:]
    assert artifact_shuffled(source=pick_good, seed=2, out=tmp_path / "s" / "p") is None  # keys only
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n", encoding="utf-8")
    assert zip_fixed(folder, tmp_path / "1.zip").read_bytes() == zip_fixed(folder, tmp_path / "2.zip").read_bytes()


@pytest.mark.django_db
def test_the_demo_is_a_competition_that_has_run_for_weeks(quick_bundle: Path) -> None:
    started = timezone.now()
    challenge = demo_create(bundle=quick_bundle).challenge

    _check_teams(challenge)
    _check_history(challenge, started)
    _check_outcomes(challenge)
    _check_boards_and_finals(challenge)
    _check_a_score_against_the_evaluator(challenge)
    _check_the_season()
    _check_it_is_built_once(challenge, quick_bundle)


def _check_teams(challenge: Challenge) -> None:
    """Ten named teams, made through the services (owner, invitation links, joins); the demo participant owns
    the first, so its "My submissions" lists its team's."""
    names = set(challenge.participations.values_list("team__name", flat=True))
    assert names == {team.name for team in DEMO_TEAMS}
    demo = User.objects.get(username=PARTICIPANT[0])
    first = Team.objects.get(name=DEMO_TEAMS[0].name)
    assert TeamMembership.objects.get(team=first, user=demo).role == TeamMembership.Role.OWNER
    sizes = Counter(TeamMembership.objects.filter(team__name__in=names).values_list("team__name", flat=True))
    assert sizes[first.name] == 3 and sum(size > 1 for size in sizes.values()) >= 5
    joined = TeamEvent.objects.filter(team__name__in=names, action=TeamEvent.Action.JOINED).count()
    assert joined == sum(sizes.values()) - len(names)
    mine = submissions_of_user(user=demo).filter(task__challenge=challenge)
    assert mine.filter(submitted_by=demo).exists() and mine.exclude(submitted_by=demo).exists()


def _check_history(challenge: Challenge, started: dt.datetime) -> None:
    """Submissions spread over the weeks since the opening, each team's mixtures getting better, the record
    (the best so far) moving up over the weeks; the baselines an hour after the opening."""
    teams = Submission.objects.filter(task__challenge=challenge, is_baseline=False, division__slug="open")
    times = sorted(teams.values_list("created_at", flat=True))
    assert challenge.starts_at < times[0] and times[-1] < started
    assert times[-1] - times[0] > dt.timedelta(weeks=4)
    baselines = Submission.objects.filter(task__challenge=challenge, is_baseline=True, division__slug="open")
    assert set(baselines.values_list("created_at", flat=True)) == {challenge.starts_at + OPENING}
    assert len(set(teams.values_list("team", flat=True))) >= 8
    records = []
    for task in challenge.tasks.all():
        history = score_history(task=task, division=challenge.divisions.get(slug="open"))
        assert len(history) > 10
        moves = [
            (point["t"], point["best"])
            for i, point in enumerate(history)
            if i and point["best"] != history[i - 1]["best"]
        ]
        records.append(moves)
    improved = [moves for moves in records if len(moves) >= 2]
    assert improved, records
    assert any(
        dt.datetime.fromisoformat(m[-1][0]) - dt.datetime.fromisoformat(m[0][0]) > dt.timedelta(days=2)
        for m in improved
    )


def _check_outcomes(challenge: Challenge) -> None:
    """Rejected files (the validator's message), failed ones (the reaper's), closed-division entries, a
    disqualification with its reason (off the boards), awards."""
    mine = Submission.objects.filter(task__challenge=challenge, is_baseline=False)
    rejected = mine.filter(status=Submission.Status.REJECTED)
    assert rejected.count() == SHAPE.malformed
    assert all("no-such-key" in message or ";" in message for message in rejected.values_list("message", flat=True))
    failed = mine.filter(status=Submission.Status.FAILED)
    assert failed.count() == SHAPE.lost
    for submission in failed:
        assert submission.attempts == settings.EVALUATION_MAX_ATTEMPTS
        assert submission.message.startswith("The evaluation was interrupted") and not submission.evaluations.exists()
    closed = mine.filter(division__slug="closed")
    assert closed.count() == CLOSED_ENTRIES and all(submission.code_archive for submission in closed)
    (cheat,) = mine.filter(is_disqualified=True)
    assert cheat.disqualified_reason == CHEAT_REASON
    assert not LeaderboardEntry.objects.filter(submission=cheat).exists()
    awards = set(Award.objects.filter(submission__task__challenge=challenge).values_list("name", flat=True))
    assert PROGRESS_AWARD in awards
    summaries = list(AuditEntry.objects.filter(challenge=challenge).values_list("summary", flat=True))
    assert any(summary.startswith("Disqualified") for summary in summaries)
    assert (
        sum(summary.startswith("Granted the award") for summary in summaries)
        == Award.objects.filter(submission__task__challenge=challenge).count()
    )


def _check_boards_and_finals(challenge: Challenge) -> None:
    """Both parts scored for every evaluation of the open division; the private boards revealed, with each row's
    public rank; the demo participant's team selected a final on the first task only, so both branches of the
    private rule show."""
    first, second = challenge.tasks.order_by("order", "slug")
    for task in (first, second):
        assert SplitReveal.objects.filter(task=task, split=PRIVATE).exists()
        assert split_visible(task=task, split=PRIVATE, user=AnonymousUser())
        rows = LeaderboardEntry.objects.filter(leaderboard__task=task, leaderboard__split=PRIVATE)
        assert rows.filter(is_baseline=False).count() >= 4
        assert None not in set(rows.values_list("public_rank", flat=True))
        scored = Submission.objects.filter(task=task, division__slug="open", status=Submission.Status.SCORED)
        for submission in scored.select_related("current_evaluation"):
            evaluation = submission.current_evaluation
            assert evaluation is not None and evaluation.details["sealed"][WHOLE_SET_KEY]["primary"] is not None
            splits = set(evaluation.scores.filter(metric=evaluation.primary_metric).values_list("split", flat=True))
            assert splits == {PUBLIC, PRIVATE}
    team = Team.objects.get(name=DEMO_TEAMS[0].name)
    (selected,) = Submission.objects.filter(task__challenge=challenge, team=team, is_selected_final=True)
    assert selected.task == first
    row = LeaderboardEntry.objects.get(
        leaderboard__task=first, leaderboard__division__slug="open", leaderboard__split=PRIVATE, team=team
    )
    assert row.submission == selected
    assert Submission.objects.filter(task__challenge=challenge, is_selected_final=True).exclude(team=team).exists()


def _check_a_score_against_the_evaluator(challenge: Challenge) -> None:
    """The latest team submission's stored scores are what the evaluator gives its artifact now."""
    submission = (
        Submission.objects.filter(task__challenge=challenge, is_baseline=False, status=Submission.Status.SCORED)
        .select_related("task", "current_evaluation")
        .latest("created_at")
    )
    evaluator, loaded = task_loaded(submission.task)
    with artifact_path(submission, is_directory=evaluator.submission_is_directory) as path:
        result = evaluator.evaluate(loaded, evaluator.validate(loaded, path))
    evaluation = submission.current_evaluation
    assert evaluation is not None
    stored = {
        split: evaluation.scores.get(split=split, metric=evaluation.primary_metric).value for split in (PUBLIC, PRIVATE)
    }
    assert stored == {PUBLIC: result.splits["public"].primary, PRIVATE: result.splits["private"].primary}


def _check_the_season() -> None:
    """The previous season ended weeks ago: its submissions within its dates, finals selected, its private
    boards open to everyone, a winner's award on each task, and its end an audited edit."""
    season = Challenge.objects.get(slug=SEASON_SLUG)
    now = timezone.now()
    assert season.phase == Challenge.Phase.CLOSED
    assert now - STARTED_BEFORE - dt.timedelta(minutes=5) < season.starts_at < season.ends_at < now - ENDED_BEFORE
    submissions = Submission.objects.filter(task__challenge=season, is_baseline=False)
    assert submissions.count() > 10 and submissions.filter(is_selected_final=True).exists()
    assert all(season.starts_at < at < season.ends_at for at in submissions.values_list("created_at", flat=True))
    for task in Task.objects.filter(challenge=season):
        assert split_visible(task=task, split=PRIVATE, user=AnonymousUser())
        winner = LeaderboardEntry.objects.filter(
            leaderboard__task=task, leaderboard__split=PRIVATE, leaderboard__division__slug="open", is_baseline=False
        ).order_by("rank", "submitted_at", "pk")[0]
        assert Award.objects.filter(submission=winner.submission, name=WINNER_AWARD).exists()
    assert AuditEntry.objects.filter(challenge=season, summary="Changed the challenge: ends_at.").exists()


def _check_it_is_built_once(challenge: Challenge, bundle: Path) -> None:
    """Idempotent: the command finds the demo and changes nothing."""
    counts = (Challenge.objects.count(), Submission.objects.count(), Team.objects.count())
    out = io.StringIO()

    call_command("setup_demo", "--bundle", str(bundle), stdout=out)

    assert out.getvalue().startswith("Found the demo challenge:")
    assert (Challenge.objects.count(), Submission.objects.count(), Team.objects.count()) == counts
    assert Challenge.objects.filter(pk=challenge.pk).exists()

"""The benchmark matrix page (the paper's Table 2): benchmark types x ML tasks, each cell linking its tasks."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.conftest import make_user


def test_the_matrix_links_a_public_task_in_its_cell_and_shows_open_cells(
    client: Client, speech_task: Task, open_division: Division
) -> None:
    response = client.get(reverse("leaderboards:matrix"))

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("leaderboards:task", args=[speech_task.challenge.slug, speech_task.slug]) in page
    assert "open-cell" in page
    assert "Keyword spotting" in page


def test_the_matrix_names_the_leader_and_counts_submissions(
    client: Client, speech_task: Task, open_division: Division
) -> None:
    leader = make_user("leader")
    make_scored_submission(task=speech_task, division=open_division, user=leader, primary=0.61)
    make_scored_submission(task=speech_task, division=open_division, user=make_user("second"), primary=0.42)
    leaderboard_rebuild(task=speech_task, division=open_division)

    page = client.get(reverse("leaderboards:matrix")).content.decode()

    assert "leader <strong>leader</strong>" in page
    assert "2 submissions" in page


def test_the_matrix_hides_tasks_of_draft_challenges(client: Client, organizer: object) -> None:
    now = timezone.now()
    draft = Challenge.objects.create(
        slug="secret",
        title="Secret",
        visibility=Challenge.Visibility.DRAFT,
        starts_at=now,
        ends_at=now + dt.timedelta(days=1),
    )
    Task.objects.create(
        challenge=draft,
        slug="hidden-task",
        title="Hidden task",
        evaluator_slug="selection-speech",
        ml_task="keyword-spotting",
        config={"language": "en", "train_size": 25},
    )

    page = client.get(reverse("leaderboards:matrix")).content.decode()

    assert "Hidden task" not in page


def test_the_leader_is_the_best_team_even_below_a_baseline_and_baselines_are_not_counted(
    client: Client, speech_task: Task, open_division: Division, organizer: object
) -> None:
    baseline_owner = make_user("baseline-owner")
    make_scored_submission(task=speech_task, division=open_division, user=baseline_owner, primary=0.95, baseline=True)
    alice = make_user("alice")
    make_scored_submission(task=speech_task, division=open_division, user=alice, primary=0.55)
    make_scored_submission(task=speech_task, division=open_division, user=alice, primary=0.612345)
    make_scored_submission(task=speech_task, division=open_division, user=make_user("bob"), primary=0.3)
    leaderboard_rebuild(task=speech_task, division=open_division)

    page = client.get(reverse("leaderboards:matrix")).content.decode()

    # The baseline ranks first on the board; the leader is the best team, shown as the table shows it (x100).
    assert 'leader <strong>alice</strong>: <span class="score">61.23</span>' in page
    assert "Macro F1, mean over 10 seeds (\N{MULTIPLICATION SIGN}100)" in page
    assert "3 submissions from 2 teams" in page  # alice's two and bob's one; the baseline is neither


def test_the_matrix_counts_only_submissions_that_rank(
    client: Client, speech_task: Task, open_division: Division
) -> None:
    user = make_user("dora")
    make_scored_submission(task=speech_task, division=open_division, user=user, primary=0.5)
    make_scored_submission(
        task=speech_task, division=open_division, user=user, primary=0.9, status=Submission.Status.REJECTED
    )
    withdrawn = make_scored_submission(task=speech_task, division=open_division, user=user, primary=0.8)
    Submission.objects.filter(pk=withdrawn.pk).update(is_withdrawn=True)
    leaderboard_rebuild(task=speech_task, division=open_division)

    page = client.get(reverse("leaderboards:matrix")).content.decode()

    assert "1 submission from 1 team" in page
    assert 'leader <strong>dora</strong>: <span class="score">50.00</span>' in page


def test_a_task_with_only_baselines_has_no_leader(client: Client, speech_task: Task, open_division: Division) -> None:
    make_scored_submission(task=speech_task, division=open_division, user=make_user("b"), primary=0.9, baseline=True)
    leaderboard_rebuild(task=speech_task, division=open_division)

    page = client.get(reverse("leaderboards:matrix")).content.decode()

    assert "0 submissions from 0 teams" in page
    assert "no team ranked yet" in page
    assert "leader <strong>" not in page

"""The benchmark matrix page (the paper's Table 2): benchmark types x ML tasks, each cell linking its tasks."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboard_rebuild
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

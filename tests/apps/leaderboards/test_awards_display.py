"""Awards granted by organizers are shown on the task and challenge leaderboards, for everyone; those of a
disqualified submission are not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.awards import award_grant
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import challenge_url, client_for, task_url

pytestmark = pytest.mark.django_db


def _awarded(task: Task, division: Division, user: User, organizer: User) -> Submission:
    submission = make_scored_submission(task=task, division=division, user=user, primary=0.7)
    leaderboard_rebuild(task=task, division=division)
    award_grant(submission=submission, actor=organizer, name="Innovation prize", description="A new idea")
    return submission


def test_an_award_is_shown_on_the_task_and_challenge_leaderboards_to_anyone(
    speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    submission = _awarded(speech_task, open_division, registered, organizer)

    for url in (task_url("task", speech_task), challenge_url("challenge", speech_task.challenge)):
        page = client_for(None).get(url).content.decode()
        section = page[page.index('id="awards"') :]
        assert "Innovation prize" in section
        assert f"submission #{submission.pk}" in section
        assert "A new idea" in section


def test_the_award_of_a_disqualified_submission_is_not_shown(
    speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    submission = _awarded(speech_task, open_division, registered, organizer)
    Submission.objects.filter(pk=submission.pk).update(is_disqualified=True)

    page = client_for(None).get(task_url("task", speech_task)).content.decode()

    assert "Innovation prize" not in page


def test_an_award_name_is_escaped(
    speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.7)
    award_grant(submission=submission, actor=organizer, name="<script>alert(1)</script>")

    page = client_for(None).get(task_url("task", speech_task)).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_teams_awards_are_listed_in_its_breakdown_on_the_challenge_board(
    speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    submission = _awarded(speech_task, open_division, registered, organizer)
    url = challenge_url("challenge", speech_task.challenge, team=str(submission.team_id))

    page = client_for(None).get(url).content.decode()

    team_awards = page[page.index('id="team-awards"') :]
    assert "Innovation prize" in team_awards[: team_awards.index("</ul>")]

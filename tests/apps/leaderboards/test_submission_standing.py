"""A submission's page shows the rank it reached on each board of its task and division that the viewer may see
("#1 of 3 on the public board"), or why it is not ranked: its team's row is another of its submissions (and
why that one), it was withdrawn, it is not scored yet. A private board's rank shows only to whom may see that
board (`split_visible`)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboard_reveal_split, leaderboards_rebuild_for_task
from apps.submissions.models import Score, Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import add_private_score, client_for

pytestmark = pytest.mark.django_db
T0 = timezone.now() - dt.timedelta(hours=3)


def _scored(
    task: Task, division: Division, user: User, primary: float, minute: int, *, baseline: bool = False
) -> Submission:
    moment = T0 + dt.timedelta(minutes=minute)
    return make_scored_submission(
        task=task, division=division, user=user, primary=primary, created_at=moment, baseline=baseline
    )


def _standing(user: User, submission: Submission) -> str:
    """The page's rank line, its tags removed and its spaces collapsed."""
    response = client_for(user).get(reverse("submissions:detail", args=[submission.pk]))
    assert response.status_code == 200
    found = re.search(r'<dd id="standing"[^>]*>(.*?)</dd>', response.content.decode(), re.S)
    assert found, "the page shows no rank"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


@pytest.fixture
def board(
    speech_task: Task, open_division: Division, registered: User, other_participant: User, organizer: User
) -> dict[str, Submission]:
    """alice (registered): 0.6 then 0.8; bob: 0.7; the organizer's baseline 0.75. Ranks: alice 1, baseline 2,
    bob 3."""
    made = {
        "alice-first": _scored(speech_task, open_division, registered, 0.6, 0),
        "alice-best": _scored(speech_task, open_division, registered, 0.8, 1),
        "bob": _scored(speech_task, open_division, other_participant, 0.7, 2),
        "baseline": _scored(speech_task, open_division, organizer, 0.75, 3, baseline=True),
    }
    leaderboards_rebuild_for_task(task=speech_task)
    return made


def test_a_ranked_submission_shows_its_rank_among_the_boards_rows(
    board: dict[str, Submission], registered: User, other_participant: User, organizer: User
) -> None:
    assert _standing(registered, board["alice-best"]) == "#1 of 3 on the public board."
    assert _standing(other_participant, board["bob"]) == "#3 of 3 on the public board."
    assert _standing(organizer, board["baseline"]) == "#2 of 3 on the public board."


def test_a_submission_that_is_not_its_teams_row_says_which_one_is_and_why(
    board: dict[str, Submission], registered: User
) -> None:
    # Ranked by its best: a selection as final is not the reason, even when the best one is selected.
    Submission.objects.filter(pk=board["alice-best"].pk).update(is_selected_final=True)

    assert _standing(registered, board["alice-first"]) == (
        f"Not ranked on the public board: its team's row there is submission #{board['alice-best'].pk}, "
        "the team's best submission."
    )


def test_under_the_selected_final_rule_the_selection_is_the_reason(
    board: dict[str, Submission], registered: User, speech_task: Task
) -> None:
    Task.objects.filter(pk=speech_task.pk).update(ranking_rule=Task.RankingRule.SELECTED_FINAL)
    Submission.objects.filter(pk=board["alice-first"].pk).update(is_selected_final=True)
    leaderboards_rebuild_for_task(task=Task.objects.get(pk=speech_task.pk))

    assert _standing(registered, board["alice-first"]) == "#3 of 3 on the public board."
    assert _standing(registered, board["alice-best"]) == (
        f"Not ranked on the public board: its team's row there is submission #{board['alice-first'].pk}, "
        "the submission the team selected as final."
    )


def test_equal_scores_say_the_rank_is_shared(
    board: dict[str, Submission], speech_task: Task, open_division: Division, other_participant: User
) -> None:
    carol = _scored(speech_task, open_division, User.objects.create_user("carol"), 0.7, 5)
    leaderboards_rebuild_for_task(task=speech_task)

    assert _standing(other_participant, board["bob"]) == "#3 of 4 on the public board (tied)."
    assert _standing(carol.submitted_by, carol) == "#3 of 4 on the public board (tied)."


def test_a_withdrawn_or_unscored_submission_is_not_ranked_and_says_why(
    board: dict[str, Submission], speech_task: Task, open_division: Division, registered: User
) -> None:
    Submission.objects.filter(pk=board["alice-first"].pk).update(is_withdrawn=True)
    waiting = _scored(speech_task, open_division, registered, 0.9, 6)
    Submission.objects.filter(pk=waiting.pk).update(current_evaluation=None, status=Submission.Status.QUEUED)

    assert _standing(registered, board["alice-first"]) == "Not ranked: withdrawn by its team."
    assert _standing(registered, waiting) == "Not ranked: not scored yet."
    page = client_for(registered).get(reverse("submissions:detail", args=[waiting.pk])).content.decode()
    assert '<dd id="standing" data-pending="1">' in page  # the page's script says so when the score lands


@pytest.fixture
def private_board(board: dict[str, Submission], speech_task: Task) -> dict[str, Submission]:
    """The same board with a private split: alice's best 0.5, bob 0.9, the baseline 0.6 on the held-out part."""
    speech_task.config = {**speech_task.config, "private_fraction": 0.25, "split_seed": 7}
    speech_task.save(update_fields=["config"])
    for name, value in (("alice-first", 0.4), ("alice-best", 0.5), ("bob", 0.9), ("baseline", 0.6)):
        add_private_score(board[name], value)
    leaderboards_rebuild_for_task(task=speech_task)
    return board


def test_a_participant_sees_no_private_rank_until_the_private_board_is_revealed(
    private_board: dict[str, Submission], registered: User, organizer: User, speech_task: Task, challenge: Challenge
) -> None:
    mine = private_board["alice-best"]
    assert Score.objects.filter(evaluation=mine.current_evaluation, split=Score.Split.PRIVATE).exists()

    assert _standing(registered, mine) == "#1 of 3 on the public board."
    # The organizers see both boards; the private rule ranks alice by her two best public submissions.
    assert _standing(organizer, mine) == "#1 of 3 on the public board. #3 of 3 on the private board."

    leaderboard_reveal_split(task=speech_task, split=Score.Split.PRIVATE, user=organizer)

    assert _standing(registered, mine) == "#1 of 3 on the public board. #3 of 3 on the private board."
    assert _standing(registered, private_board["alice-first"]).endswith(
        f"Not ranked on the private board: its team's row there is submission #{mine.pk}, the private board "
        "ranks a team by its final selections (else its best public submissions)."
    )

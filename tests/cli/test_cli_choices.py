"""`dataperf select`, `dataperf withdraw` and the private parts in `dataperf status`, against a live test server
(no worker needed: the submissions are scored by the test's factory)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.submissions.split_data import add_split_scores, give_private_split
from tests.cli.conftest import Cli

pytestmark = [pytest.mark.e2e]
WHERE = "(speech-challenge/speech-en-25, open)"


def _login(cli: Cli, token: str) -> None:
    result = cli("login", "--url", cli.url, "--token", token)
    assert result.code == 0, result.err


@pytest.fixture
def three(speech_task: Task, open_division: Division, registered: User) -> list[Submission]:
    give_private_split(speech_task)
    made = []
    for primary in (0.5, 0.7, 0.6):
        submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=primary)
        add_split_scores(submission, private=primary - 0.1, whole=primary - 0.05)
        made.append(submission)
    return made


def _selected() -> set[int]:
    return set(Submission.objects.filter(is_selected_final=True).values_list("pk", flat=True))


def test_a_team_selects_clears_and_withdraws_from_the_command_line(
    cli: Cli, registered: User, three: list[Submission], token_of: Callable[[User], str]
) -> None:
    first, second, third = three
    _login(cli, token_of(registered))
    for chosen in (first, second):
        selected = cli("select", str(chosen.pk))
        assert selected.code == 0, selected.err
        assert f"Submission #{chosen.pk} {WHERE} is selected as final." in selected.out

    refused = cli("select", str(third.pk))
    assert refused.code == 2
    assert refused.err.startswith("dataperf: Your team has selected 2 final submissions for this task")
    assert "clear one of them first" in refused.err

    cleared = cli("select", str(first.pk), "--clear")
    assert cleared.code == 0 and f"Submission #{first.pk} {WHERE} is no longer selected as final." in cleared.out
    assert _selected() == {second.pk}

    mine = cli("submissions")
    finals = {line.split()[0]: " final " in f" {line} " for line in mine.out.splitlines()[2:]}
    assert finals == {str(first.pk): False, str(second.pk): True, str(third.pk): False}


def test_a_withdrawal_asks_for_yes_and_then_is_final(
    cli: Cli, registered: User, three: list[Submission], token_of: Callable[[User], str]
) -> None:
    submission = three[0]
    _login(cli, token_of(registered))

    unconfirmed = cli("withdraw", str(submission.pk))
    assert unconfirmed.code == 2
    assert "cannot be undone, and the quota it used is not refunded" in unconfirmed.err
    assert f"dataperf withdraw {submission.pk} --yes" in unconfirmed.err
    assert not Submission.objects.filter(is_withdrawn=True).exists()

    withdrawn = cli("withdraw", str(submission.pk), "--yes")
    assert withdrawn.code == 0, withdrawn.err
    assert f"Submission #{submission.pk} {WHERE} is withdrawn" in withdrawn.out
    assert list(Submission.objects.filter(is_withdrawn=True).values_list("pk", flat=True)) == [submission.pk]

    status = cli("status", str(submission.pk))
    assert f"Submission #{submission.pk} {WHERE}: scored (withdrawn)" in status.out
    again = cli("select", str(submission.pk))
    assert again.code == 2 and f"Submission #{submission.pk} is withdrawn; it cannot be selected as final." in again.err


def test_nobody_outside_the_team_selects_or_withdraws(
    cli: Cli,
    three: list[Submission],
    other_participant: User,
    organizer: User,
    token_of: Callable[[User], str],
) -> None:
    submission = three[0]
    _login(cli, token_of(other_participant))
    hidden = cli("select", str(submission.pk))
    assert hidden.code == 4 and "not found: No such submission." in hidden.err

    _login(cli, token_of(organizer))
    refused = cli("withdraw", str(submission.pk), "--yes")
    assert refused.code == 3 and "not allowed: Only members of team alice can withdraw its submissions." in refused.err
    assert not Submission.objects.filter(is_withdrawn=True).exists() and _selected() == set()


def test_status_prints_the_private_part_and_the_whole_set_once_the_team_may_see_them(
    cli: Cli, registered: User, three: list[Submission], challenge: Challenge, token_of: Callable[[User], str]
) -> None:
    submission = three[0]
    _login(cli, token_of(registered))

    running = cli("status", str(submission.pk))
    assert running.code == 0, running.err
    assert "(macro_f1): 0.5\n" in running.out
    assert "Public part (the private part is held out for the final ranking):" in running.out
    assert "Private part" not in running.out and "Whole evaluation set" not in running.out
    assert "0.4" not in running.out and "0.45" not in running.out

    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    ended = cli("status", str(submission.pk)).out.splitlines()
    headings = [line.strip() for line in ended if line.startswith("  ") and not line.startswith("    ")]
    assert headings[:3] == [
        "Public part (the private part is held out for the final ranking):",
        "Private part:",
        "Whole evaluation set:",
    ]
    primaries = [line.rsplit(" ", 1)[1] for line in ended if "(macro_f1):" in line]
    assert primaries == ["0.5", "0.4", "0.45"]


def test_the_private_leaderboard_is_not_found_before_the_end_and_shows_public_ranks_after(
    cli: Cli, registered: User, three: list[Submission], challenge: Challenge, token_of: Callable[[User], str]
) -> None:
    leaderboards_rebuild_for_task(task=three[0].task)
    _login(cli, token_of(registered))
    slug, task = challenge.slug, three[0].task.slug

    hidden = cli("leaderboard", slug, task, "--split", "private")
    assert hidden.code == 4 and "not found" in hidden.err

    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    shown = cli("leaderboard", slug, task, "--split", "private")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert "private split" in lines[0]
    assert lines[1].split()[:4] == ["RANK", "PUBLIC", "RANK", "TEAM"]
    # Alice's best public submission (0.7) is also her best private one among her two best public ones.
    assert lines[3].split()[:3] == ["1", "1", "alice"]

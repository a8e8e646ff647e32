"""Which splits a viewer sees: public always; private to organizers, then to everyone once the challenge ends
or an organizer reveals it early; concealed as the task's policy says, or once revealed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from apps.challenges.models import AuditAction, AuditEntry, Challenge, ConcealedVisibility, Task
from apps.core.errors import Forbidden, InvalidInput
from apps.divisions.models import Division
from apps.leaderboards.models import SplitReveal
from apps.leaderboards.selectors import split_tabs, split_visible
from apps.leaderboards.services import leaderboard_rebuild, leaderboard_reveal_split
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import add_private_score, client_for, end_challenge, task_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def concealed_task(speech_task: Task) -> Task:
    Task.objects.filter(pk=speech_task.pk).update(
        concealed_config=speech_task.config, concealed_visibility=ConcealedVisibility.ORGANIZERS
    )
    speech_task.refresh_from_db()
    return speech_task


def test_a_participant_does_not_see_the_private_split_while_the_challenge_runs(
    speech_task: Task, registered: User, organizer: User
) -> None:
    assert not split_visible(task=speech_task, split="private", user=registered)
    assert not split_visible(task=speech_task, split="private", user=AnonymousUser())
    assert split_visible(task=speech_task, split="private", user=organizer)


def test_everyone_sees_the_private_split_once_the_challenge_has_ended(
    speech_task: Task, registered: User, challenge: Challenge
) -> None:
    end_challenge(challenge)
    speech_task.refresh_from_db()

    assert split_visible(task=speech_task, split="private", user=registered)
    assert split_visible(task=speech_task, split="private", user=AnonymousUser())


def test_an_organizers_early_reveal_shows_the_private_split_to_everyone(
    speech_task: Task, registered: User, organizer: User
) -> None:
    assert leaderboard_reveal_split(task=speech_task, split="private", user=organizer) is True

    assert split_visible(task=speech_task, split="private", user=registered)
    assert split_visible(task=speech_task, split="private", user=AnonymousUser())
    reveal = SplitReveal.objects.get()
    assert reveal.revealed_by == organizer and reveal.revealed_at is not None


def test_a_reveal_writes_its_own_audit_entry(speech_task: Task, organizer: User) -> None:
    leaderboard_reveal_split(task=speech_task, split="private", user=organizer)

    [entry] = AuditEntry.objects.all()
    assert (entry.challenge_id, entry.action, entry.actor, entry.submission_id) == (
        speech_task.challenge_id,
        AuditAction.LEADERBOARD_REVEAL,
        organizer,
        None,
    )
    assert entry.summary == (
        f"Revealed the private leaderboards of task {speech_task.slug} to everyone, ahead of schedule."
    )
    assert entry.details == {"task": speech_task.slug, "split": "private"}


def test_a_reveal_is_idempotent_and_recorded_once(speech_task: Task, organizer: User) -> None:
    first = leaderboard_reveal_split(task=speech_task, split="private", user=organizer)
    revealed_at = SplitReveal.objects.get().revealed_at
    second = leaderboard_reveal_split(task=speech_task, split="private", user=organizer)

    assert (first, second) == (True, False)
    assert SplitReveal.objects.get().revealed_at == revealed_at
    assert AuditEntry.objects.count() == 1


def test_only_organizers_can_reveal_a_split(speech_task: Task, registered: User) -> None:
    with pytest.raises(Forbidden):
        leaderboard_reveal_split(task=speech_task, split="private", user=registered)

    assert not SplitReveal.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("split", ["public", "nonsense"])
def test_only_the_private_and_concealed_splits_can_be_revealed(speech_task: Task, organizer: User, split: str) -> None:
    with pytest.raises(InvalidInput):
        leaderboard_reveal_split(task=speech_task, split=split, user=organizer)


def test_the_concealed_split_of_a_task_without_a_concealed_task_cannot_be_revealed(
    speech_task: Task, organizer: User
) -> None:
    with pytest.raises(InvalidInput):
        leaderboard_reveal_split(task=speech_task, split="concealed", user=organizer)


def test_a_concealed_split_for_organizers_only_is_shown_to_everyone_once_revealed(
    concealed_task: Task, registered: User, organizer: User
) -> None:
    assert not split_visible(task=concealed_task, split="concealed", user=registered)

    leaderboard_reveal_split(task=concealed_task, split="concealed", user=organizer)

    assert split_visible(task=concealed_task, split="concealed", user=registered)


def test_the_private_board_is_404_for_a_participant_and_200_once_revealed(
    speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    add_private_score(submission, 0.25)
    leaderboard_rebuild(task=speech_task, division=open_division, split="private")
    urls = [task_url(name, speech_task, split="private") for name in ("task", "task_json", "task_csv")]
    assert [client_for(registered).get(url).status_code for url in urls] == [404, 404, 404]

    leaderboard_reveal_split(task=speech_task, split="private", user=organizer)

    assert [client_for(registered).get(url).status_code for url in urls] == [200, 200, 200]


def test_the_page_links_the_private_board_only_for_those_who_see_it(
    speech_task: Task, open_division: Division, closed_division: Division, registered: User, organizer: User
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    add_private_score(submission, 0.25)
    leaderboard_rebuild(task=speech_task, division=open_division, split="private")

    assert split_tabs(task=speech_task, division=open_division, user=registered) == []
    assert [tab["value"] for tab in split_tabs(task=speech_task, division=open_division, user=organizer)] == [
        "public",
        "private",
    ]
    assert "split=private" not in client_for(registered).get(task_url("task", speech_task)).text
    assert "split=private" in client_for(organizer).get(task_url("task", speech_task)).text

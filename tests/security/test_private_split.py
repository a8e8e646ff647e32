"""The private split (issue 13) over every route that is not a web page: the e-mails and the sandbox's inputs;
what participant A sees once the challenge has ended (the private board, never the seed); and leaks injected
into one route at a time, which the crawler's scanner must then report (so that its silence means something).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.challenges.evaluators import task_primary_metric
from apps.challenges.models import CONCEALED_DIR, Challenge, Task, TaskDataFile
from apps.core.users import AnyUser
from apps.leaderboards import challenge_board
from apps.leaderboards import selectors as board_selectors
from apps.submissions import notifications
from apps.submissions import selectors as submission_selectors
from apps.submissions.models import Score, Submission
from apps.submissions.services.algorithm import sandbox_inputs
from evaluators.splits import PRIVATE_FRACTION_KEY, SPLIT_SEED_KEY
from evaluators.taskdir import TASK_FILE
from tests.security.conftest import SecurityWorld
from tests.security.crawler import (
    SHAKE_UP,
    Leak,
    Scanner,
    crawl_urls,
    full_crawl,
    private_routes,
    submission_routes,
    task_routes,
)

pytestmark = pytest.mark.django_db

REVEALED_AT_END = {
    *("A_PRIVATE", "B_PRIVATE", SHAKE_UP),
    *("A_WHOLE_SET", "SEALED_DETAIL", "PRIVATE_UNIT"),
    *("A_CONCEALED", "B_CONCEALED"),
    *("PRIVATE_STANDING", "ROUND_PRIVATE"),
}
"""What participant A may see once the challenge has ended: the private board (both teams' private values and
the shake-up); on A's own submission its whole-set value and sealed charts (which of its units were private);
the concealed boards, which the task opens at the end (`concealed_visibility`); and the ratchet's frozen private
board of round 1. B's whole-set value and sealed details stay B's; the seed stays the organizers'."""


def _names(found: list[Leak]) -> set[str]:
    return {leak.what for leak in found}


# --- Injected leaks: each must be reported ------------------------------------------------------------------


@dataclass(frozen=True)
class Injection:
    """A leak put into the application (`inject`), the URLs that then serve it, and what the scanner must
    name in them."""

    inject: Callable[[pytest.MonkeyPatch], None]
    urls: Callable[[SecurityWorld], list[str]]
    reported: frozenset[str]


def _private_scores_to_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submission_selectors, "private_scores_visible", lambda **kwargs: True)


def _sealed_details_to_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submission_selectors, "details_reveal", lambda **kwargs: True)


def _private_board_to_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    visible = board_selectors.split_visible

    def split_visible(*, task: Task, split: str, user: AnyUser) -> bool:
        return split == Score.Split.PRIVATE or visible(task=task, split=split, user=user)

    monkeypatch.setattr(board_selectors, "split_visible", split_visible)


def _private_challenge_board_to_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(challenge_board, "_private_visible", lambda challenge, tasks, user: True)


def _raw_config_to_participants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Task, "participant_config", property(lambda task: task.config))


def _challenge_private_routes(w: SecurityWorld) -> list[str]:
    return [url for url in private_routes(w) if "/tasks/" not in url]


INJECTIONS = {
    "a submission's private scores shown to its team": Injection(
        _private_scores_to_everyone, submission_routes, frozenset({"A_PRIVATE"})
    ),
    "sealed details (whole set, private units) shown to the team": Injection(
        _sealed_details_to_everyone, submission_routes, frozenset({"A_WHOLE_SET", "PRIVATE_UNIT", "SEALED_DETAIL"})
    ),
    "the private board shown to everyone": Injection(
        _private_board_to_everyone, private_routes, frozenset({"A_PRIVATE", "B_PRIVATE", SHAKE_UP})
    ),
    "the challenge's private board shown to everyone": Injection(
        _private_challenge_board_to_everyone, _challenge_private_routes, frozenset({"A_PRIVATE", "B_PRIVATE"})
    ),
    "the raw config (with the seed) given to participants": Injection(
        _raw_config_to_participants, task_routes, frozenset({"SPLIT_SEED"})
    ),
}


@pytest.mark.parametrize("name", list(INJECTIONS))
def test_an_injected_leak_is_reported_by_the_scanner(
    security_world: SecurityWorld, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    w, injection = security_world, INJECTIONS[name]
    scanner, urls = Scanner(w), injection.urls(w)
    assert scanner.crawled(crawl_urls(w.client("participant_a"), urls, follow=False)) == []
    injection.inject(monkeypatch)
    found = scanner.crawled(crawl_urls(w.client("participant_a"), urls, follow=False))
    assert injection.reported <= _names(found), [str(leak) for leak in found]


# --- E-mails ------------------------------------------------------------------------------------------------


def _text(message: EmailMessage) -> bytes:
    return f"{message.subject}\n{message.body}".encode()


def _scored_mails(w: SecurityWorld, outbox: list[EmailMessage]) -> dict[str, list[EmailMessage]]:
    """The e-mails of A's and B's scored submissions, by recipient."""
    for submission in (w.submission_a, w.submission_b):
        assert notifications.submission_notify(submission_id=submission.pk) == 1
    addresses = {address for message in outbox for address in message.to}
    return {address: [message for message in outbox if address in message.to] for address in addresses}


def test_the_scored_e_mail_carries_the_public_value_only(
    security_world: SecurityWorld, mailoutbox: list[EmailMessage]
) -> None:
    w = security_world
    by_address = _scored_mails(w, mailoutbox)
    label = task_primary_metric(w.task).label
    alice, bob = w.base.user("participant_a").email, w.base.user("participant_b").email
    assert set(by_address) == {alice, bob}
    (to_alice,) = by_address[alice]
    assert f"{label}: 0.5\n" in to_alice.body  # A's public value (make_scored_submission's primary)
    scanner = Scanner(w)
    found = [leak for message in mailoutbox for leak in scanner.scan(f"mail to {message.to}", _text(message))]
    assert found == []


def _private_primary(submission: Submission) -> list[str]:
    primary = task_primary_metric(submission.task)
    assert submission.current_evaluation_id is not None
    private = Score.objects.get(
        evaluation_id=submission.current_evaluation_id, split=Score.Split.PRIVATE, metric=primary.name
    )
    return [f"{primary.label}: {private.value:.6g}", ""]


def test_an_e_mail_that_gave_the_private_value_would_be_reported(
    security_world: SecurityWorld, mailoutbox: list[EmailMessage], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifications, "_public_primary", _private_primary)
    _scored_mails(security_world, mailoutbox)
    scanner = Scanner(security_world)
    found = [leak for message in mailoutbox for leak in scanner.scan("mail", _text(message))]
    assert {"A_PRIVATE", "B_PRIVATE"} <= _names(found)


# --- The sandbox's inputs -----------------------------------------------------------------------------------


def _inputs_leaks(w: SecurityWorld) -> tuple[Path, list[Leak]]:
    folder = sandbox_inputs(w.task, concealed=False)
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    assert len(files) > 1, f"the inputs hold {files}"
    scanner = Scanner(w)
    return folder, [leak for path in files for leak in scanner.scan(str(path.relative_to(folder)), path.read_bytes())]


def test_the_sandbox_inputs_hold_no_secret_and_a_config_with_the_seed_withheld(
    security_world: SecurityWorld, settings: Settings, tmp_path: Path
) -> None:
    settings.SANDBOX_ROOT = str(tmp_path)
    folder, found = _inputs_leaks(security_world)
    assert found == []
    config = yaml.safe_load((folder / TASK_FILE).read_text())["config"]
    assert config[PRIVATE_FRACTION_KEY] == 0.5 and config[SPLIT_SEED_KEY] is None
    files = security_world.task.data_files.filter(role=TaskDataFile.Role.PUBLIC).exclude(
        relative_path__startswith=f"{CONCEALED_DIR}/"
    )
    public = set(files.values_list("relative_path", flat=True))
    written = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    assert written == public | {TASK_FILE}


def test_sandbox_inputs_given_the_raw_config_would_be_reported(
    security_world: SecurityWorld, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SANDBOX_ROOT = str(tmp_path)
    _raw_config_to_participants(monkeypatch)
    _, found = _inputs_leaks(security_world)
    assert [(leak.where, leak.what) for leak in found] == [(TASK_FILE, "SPLIT_SEED")]


# --- After the end ------------------------------------------------------------------------------------------


def test_once_the_challenge_has_ended_a_sees_the_private_board_but_never_the_seed(
    security_world: SecurityWorld,
) -> None:
    """Every route of the private board answers A, with the shake-up (the ratchet's frozen private board too);
    A's own submission shows its private and whole-set values and which of its units were private; nothing else
    is revealed, and never the seed (the ratchet's training-set task's neither)."""
    w = security_world
    Challenge.objects.filter(pk=w.challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    crawl = full_crawl(w)
    found = Scanner(w).crawled(crawl)
    assert _names(found) <= REVEALED_AT_END, sorted({str(leak) for leak in found if leak.what not in REVEALED_AT_END})
    assert "SPLIT_SEED" not in _names(found)
    boards = private_routes(w)
    assert {url: crawl.statuses[url] for url in boards} == dict.fromkeys(boards, 200)
    board = reverse("leaderboards:task_json", args=[w.challenge.slug, w.task.slug]) + "?split=private"
    assert {"A_PRIVATE", "B_PRIVATE", SHAKE_UP} <= _names([leak for leak in found if leak.where == board])
    own = reverse("submissions:status", args=[w.submission_a.pk])
    assert {"A_PRIVATE", "A_WHOLE_SET", "PRIVATE_UNIT"} <= _names([leak for leak in found if leak.where == own])
    frozen = f"/api/v1/challenges/{w.challenge.slug}/ratchets/{w.roman.ratchet.slug}/rounds/1/standings/"
    assert {"PRIVATE_STANDING", "ROUND_PRIVATE", SHAKE_UP} <= _names([leak for leak in found if leak.where == frozen])

"""Stored XSS: every text a participant or an organizer controls is set to script-injection payloads, and every
page that shows it (to participant A, the organizer and staff, the admin included) must show it as text: no
injected element, event handler or `javascript:` link, and JSON embedded with json_script escaped.

The check parses each page (html.parser) rather than searching for strings: an escaped payload legitimately
reads "onerror=alert(1)" as text, an unescaped one makes an attribute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import ApiToken, Team
from apps.challenges.audit import audit_record
from apps.challenges.models import AuditAction, Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.models import Export
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Award, Evaluation, Submission, VerificationStage
from tests.security.conftest import SecurityWorld

pytestmark = pytest.mark.django_db


def payload(tag: str) -> str:
    """Script injections of every kind (element, handler, attribute break-out, `javascript:` link, Markdown
    link), labelled `tag` so that a finding names the field."""
    return (
        f"<script>alert('{tag}')</script><img src=x onerror=alert('{tag}')>\"><svg onload=alert('{tag}')>"
        f"<a href=\"javascript:alert('{tag}')\">a</a>[m](javascript:alert('{tag}')) '-alert('{tag}')-'"
    )


def short(tag: str) -> str:
    """For fields of at most 100 characters."""
    return f"\"><svg onload=alert('{tag}')><script>alert('{tag}')</script>"[:100]


Poisonable = type[Challenge | Task | Division | Submission | Team | User | ApiToken | Award]


def _set(model: Poisonable, pk: int, **values: str) -> None:
    model.objects.filter(pk=pk).update(**values)


@pytest.fixture
def poisoned(security_world: SecurityWorld) -> SecurityWorld:
    """The security world with a payload in every text field people control."""
    w = security_world
    _set(
        Challenge,
        w.challenge.pk,
        title=short("challenge.title"),
        summary=payload("challenge.summary"),
        description=payload("challenge.description"),
        rules=payload("challenge.rules"),
    )
    _set(Task, w.task.pk, title=short("task.title"), description=payload("task.description"))
    for division in (w.base.division, w.closed):
        _set(Division, division.pk, name=short("division.name"), description=payload("division.description"))
    alice = w.base.user("participant_a")
    _set(User, alice.pk, username=short("username"), first_name=short("first_name"))
    for team in Team.objects.filter(memberships__user=alice):
        _set(Team, team.pk, name=short(f"team.name.{team.pk}"))
    for submission in (w.submission_a, w.submission_a_closed):
        _set(
            Submission,
            submission.pk,
            method_description=payload("method_description"),
            code_url="javascript:alert('code_url')",
            artifact_name=payload("artifact_name")[:255],
            message=payload("submission.message"),
            progress_message=payload("progress_message")[:200],
        )
    Submission.objects.filter(pk=w.submission_a_closed.pk).update(
        is_disqualified=True, disqualified_reason=payload("disqualified_reason")
    )
    VerificationStage.objects.filter(submission=w.submission_a_closed).update(
        message=payload("stage.message"), stderr_tail=payload("stage.stderr"), organizer_detail=payload("stage.org")
    )
    charts = [{"title": payload("chart.title"), "kind": "bar", "x": [payload("chart.x")], "y": [1.0]}]
    Evaluation.objects.filter(submission=w.submission_a).update(details={"charts": charts})
    _set(Award, w.award.pk, name=short("award.name"), description=payload("award.description"))
    _set(ApiToken, w.token_a.pk, name=short("token.name"))
    organizer = w.base.user("organizer")
    audit_record(
        challenge=w.challenge,
        actor=organizer,
        action=AuditAction.CHALLENGE_CHANGE,
        summary=payload("audit.summary"),
        details={"title": payload("audit.details")},
    )
    Export.objects.create(
        challenge=w.challenge,
        requested_by=organizer,
        status=Export.Status.FAILED,
        message=payload("export.message"),
        finished_at=timezone.now(),
    )
    w.task.refresh_from_db()
    leaderboards_rebuild_for_task(task=w.task)
    return w


def _pages(w: SecurityWorld) -> list[str]:
    slug, task = w.challenge.slug, w.task.slug
    return [
        "/",
        reverse("challenges:detail", args=[slug]),
        reverse("challenges:task", args=[slug, task]),
        reverse("submissions:new", args=[slug, task]),
        reverse("leaderboards:task", args=[slug, task]),
        reverse("leaderboards:task", args=[slug, task]) + "?division=closed",
        reverse("leaderboards:challenge", args=[slug]),
        reverse("leaderboards:challenge", args=[slug]) + f"?team={w.submission_a.team_id}",
        reverse("leaderboards:matrix"),
        reverse("submissions:list"),
        reverse("submissions:detail", args=[w.submission_a.pk]),
        reverse("submissions:detail", args=[w.submission_a_closed.pk]),
        reverse("accounts:teams"),
        reverse("accounts:team", args=[w.submission_a.team_id]),
        reverse("accounts:team", args=[w.team_a_named.pk]),
        reverse("accounts:tokens"),
        reverse("challenges:registrations", args=[slug]),
        reverse("backoffice:audit", args=[slug]),
        reverse("leaderboards:exports", args=[slug]),
        reverse("challenges:team_join", args=[w.invite_b_token]),
    ]


def _admin_pages(w: SecurityWorld) -> list[str]:
    pages = [
        reverse(f"admin:{name}_changelist")
        for name in (
            "challenges_challenge",
            "challenges_task",
            "divisions_division",
            "submissions_submission",
            "accounts_team",
            "accounts_apitoken",
            "challenges_auditentry",
            "leaderboards_export",
            "challenges_participation",
            "auth_user",
            "leaderboards_leaderboard",
        )
    ]
    objects = [
        ("challenges_challenge", w.challenge.pk),
        ("challenges_task", w.task.pk),
        ("divisions_division", w.closed.pk),
        ("submissions_submission", w.submission_a.pk),
        ("submissions_submission", w.submission_a_closed.pk),
        ("accounts_team", w.submission_a.team_id),
        ("accounts_apitoken", w.token_a.pk),
        ("auth_user", w.base.user("participant_a").pk),
        ("challenges_auditentry", w.challenge.audit_entries.order_by("-pk").values_list("pk", flat=True)[0]),
    ]
    return pages + [reverse(f"admin:{name}_change", args=[pk]) for name, pk in objects]


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}


@dataclass
class _Findings(HTMLParser):
    """Every injected element, event handler, `javascript:` URL and unescaped inline script of a page."""

    problems: list[str] = field(default_factory=list)
    json_blocks: list[str] = field(default_factory=list)
    _script: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            url = "".join((value or "").split()).lower()
            if name.startswith("on") or (name in URL_ATTRIBUTES and url.startswith("javascript:")):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in {"iframe", "object", "embed", "base"}:
            self.problems.append(f"injected <{tag} {values}>")
        if tag == "script" and not values.get("src"):
            self._script = values.get("type") or "text/javascript"

    def handle_data(self, data: str) -> None:
        if self._script is None:
            return
        if self._script != "application/json":
            self.problems.append(f"inline script: {data[:80]!r}")
        elif "<" in data or ">" in data:
            self.problems.append(f"json_script not escaped: {data[:80]!r}")
        else:
            self.json_blocks.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def _inspect(html: str) -> _Findings:
    findings = _Findings()
    findings.feed(html)
    findings.close()
    return findings


@pytest.mark.parametrize("role", ["participant_a", "organizer", "staff"])
def test_no_payload_runs_on_any_page(poisoned: SecurityWorld, role: str) -> None:
    client = poisoned.client(role)
    pages = _pages(poisoned) + (_admin_pages(poisoned) if role == "staff" else [])
    problems: list[str] = []
    shown = escaped_json = 0
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        shown += 1
        findings = _inspect(response.text)
        problems += [f"{url}: {problem}" for problem in findings.problems]
        for block in findings.json_blocks:
            escaped_json += "alert('" in json.dumps(json.loads(block))
    assert not problems, "\n".join(problems)
    # Not a vacuous pass: the pages were shown, with payloads embedded as JSON among them.
    assert shown >= {"participant_a": 15, "organizer": 16, "staff": 35}[role], shown
    assert escaped_json >= 3


def test_the_payloads_are_shown_as_text(poisoned: SecurityWorld) -> None:
    """What the checks above rely on: the fields reach the pages, escaped (Markdown sanitised)."""
    client = poisoned.client("participant_a")
    slug = poisoned.challenge.slug
    detail = client.get(reverse("submissions:detail", args=[poisoned.submission_a_closed.pk])).text
    challenge = client.get(reverse("challenges:detail", args=[slug])).text
    assert "&lt;script&gt;alert(&#x27;method_description&#x27;)" in detail
    assert "&lt;script&gt;alert(&#x27;disqualified_reason&#x27;)" in detail
    assert "&quot;&gt;&lt;svg onload=alert(&#x27;challenge.title&#x27;)" in challenge
    # Markdown: raw HTML and javascript: links are dropped by the sanitiser.
    assert "javascript:" not in challenge


def test_json_script_escapes_what_it_embeds(poisoned: SecurityWorld) -> None:
    board = poisoned.client("participant_a").get(
        reverse("leaderboards:task", args=[poisoned.challenge.slug, poisoned.task.slug])
    )
    blocks = _inspect(board.text).json_blocks
    assert blocks, "the leaderboard embeds its data with json_script"
    assert "\\u003Cscript\\u003E" in board.text
    teams = {row["team"] for row in json.loads(blocks[0])["rows"]}
    assert any(team.startswith("\"><svg onload=alert('team.name") for team in teams)

"""The admin has no side doors: every admin path that changes a board, a registration or a submission leaves an
audit entry. The admin's registry is walked, so a model, action, editable list or save path registered later
without an audited service fails here: each action of a model of those apps is exercised below (and must
write an entry) or declared read-only with its reason; each admin that can save or delete one is exercised
too, or declared with its reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.accounts.models import Team
from apps.challenges.models import AuditAction, AuditEntry, Challenge, Participation, Task
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.leaderboards.models import TaskWeight
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.awards import award_grant
from apps.submissions.models import Submission
from tests.apps.backoffice.test_discovered_slices import scored, slice_task
from tests.apps.conftest import make_scored_submission
from tests.conftest import make_user

# Fixtures of the slice-discovery tests, for the one action that needs a slice-discovery submission.
__all__ = ["scored", "slice_task"]

pytestmark = pytest.mark.django_db

STATE_APPS = {"challenges", "divisions", "submissions", "leaderboards"}
"""The apps whose models make up boards, registrations and submissions (and the audit log itself)."""

READ_ONLY_ACTIONS = {
    ("challenges.challenge", "export_bundle"): "downloads the challenge's bundle; changes nothing",
    ("challenges.task", "check_data"): "loads the task's data and reports its problems; changes nothing",
}
UNAUDITED_DELETES = {
    "challenges.challenge": "the audit log goes with its challenge; one with submissions cannot be deleted",
    "leaderboards.export": "an organizer's export file: no participant sees it, no board depends on it",
}


@dataclass
class Stage:
    """The fixtures an exercise builds on (asked for lazily: most exercises need few of them)."""

    request: pytest.FixtureRequest

    def __getattr__(self, name: str) -> Any:
        return self.request.getfixturevalue(name)

    def scored(self, division: str = "open_division", user: str = "participant") -> Submission:
        return make_scored_submission(
            task=self.speech_task, division=getattr(self, division), user=getattr(self, user), primary=0.6
        )


Selection = tuple[list[Model], dict[str, Any]]


@dataclass(frozen=True)
class Exercise:
    audit: AuditAction
    select: Callable[[Stage], Selection]


def _pending(stage: Stage) -> Selection:
    participation = participation_register(challenge=stage.challenge, user=stage.participant, accept_rules=True)
    Participation.objects.filter(pk=participation.pk).update(status=Participation.Status.PENDING)
    return [participation], {}


def _registered(stage: Stage) -> Selection:
    return [participation_register(challenge=stage.challenge, user=stage.participant, accept_rules=True)], {}


def _scored(stage: Stage) -> Selection:
    return [stage.scored()], {}


def _flagged(**flags: Any) -> Callable[[Stage], Selection]:
    def select(stage: Stage) -> Selection:
        submission = stage.scored()
        Submission.objects.filter(pk=submission.pk).update(**flags)
        return [submission], {}

    return select


def _closed(stage: Stage) -> Selection:
    assert stage.open_division is not None  # the target of the move
    return [stage.scored("closed_division")], {}


def _closed_with_code(stage: Stage) -> Selection:
    submission = stage.scored("closed_division")
    submission.code_archive.save("code.zip", ContentFile(b"code"))
    return [submission], {}


def _awarded(stage: Stage) -> Selection:
    submission = stage.scored()
    award = award_grant(submission=submission, actor=stage.organizer, name="Best")
    return [submission], {"apply": "1", "awards": [award.pk]}


def _scored_task(stage: Stage) -> Selection:
    stage.scored()
    return [stage.speech_task], {}


def _revealable(concealed: bool) -> Callable[[Stage], Selection]:
    def select(stage: Stage) -> Selection:
        task = stage.speech_task
        if concealed:
            Task.objects.filter(pk=task.pk).update(concealed_config=task.config)
        return [task], {"apply": "1", "confirm": "on"}

    return select


def _spare_task(stage: Stage) -> Selection:
    task = stage.speech_task
    spare = Task.objects.create(
        challenge=stage.challenge, slug="spare", title="Spare", evaluator_slug=task.evaluator_slug
    )
    return [spare], {"post": "yes"}


def _spare_division(stage: Stage) -> Selection:
    spare = Division.objects.create(challenge=stage.challenge, slug="spare", name="Spare", kind=Division.Kind.OPEN)
    return [spare], {"post": "yes"}


def _board(stage: Stage) -> Selection:
    submission = stage.scored()
    return [leaderboard_rebuild(task=submission.task, division=submission.division)], {}


def _slice_finder(stage: Stage) -> Selection:
    fields = {"apply": "1", "column": "slice_2", "name": "from_admin", "threshold": "0.5"}
    return [stage.scored_slice], fields


EXERCISES = {
    ("challenges.participation", "approve"): Exercise(AuditAction.PARTICIPATION_APPROVE, _pending),
    ("challenges.participation", "reject"): Exercise(AuditAction.PARTICIPATION_REJECT, _registered),
    ("challenges.task", "rescore_tasks"): Exercise(AuditAction.TASK_RESCORE, _scored_task),
    ("challenges.task", "reveal_private"): Exercise(AuditAction.LEADERBOARD_REVEAL, _revealable(concealed=False)),
    ("challenges.task", "reveal_concealed"): Exercise(AuditAction.LEADERBOARD_REVEAL, _revealable(concealed=True)),
    ("challenges.task", "delete_selected"): Exercise(AuditAction.TASK_CHANGE, _spare_task),
    ("divisions.division", "delete_selected"): Exercise(AuditAction.DIVISION_CHANGE, _spare_division),
    ("submissions.submission", "rescore"): Exercise(AuditAction.SUBMISSION_RESCORE, _scored),
    ("submissions.submission", "reverify"): Exercise(AuditAction.SUBMISSION_REVERIFY, _closed_with_code),
    ("submissions.submission", "disqualify"): Exercise(
        AuditAction.SUBMISSION_DISQUALIFY, lambda stage: ([stage.scored()], {"apply": "1", "reason": "Leaked labels"})
    ),
    ("submissions.submission", "requalify"): Exercise(
        AuditAction.SUBMISSION_REQUALIFY, _flagged(is_disqualified=True, disqualified_reason="Oops")
    ),
    ("submissions.submission", "mark_baseline"): Exercise(AuditAction.SUBMISSION_BASELINE, _scored),
    ("submissions.submission", "unmark_baseline"): Exercise(
        AuditAction.SUBMISSION_UNBASELINE, _flagged(is_baseline=True)
    ),
    ("submissions.submission", "move_to_open"): Exercise(AuditAction.SUBMISSION_MOVE_OPEN, _closed),
    ("submissions.submission", "grant_award"): Exercise(
        AuditAction.AWARD_GRANT, lambda stage: ([stage.scored()], {"apply": "1", "name": "Best", "description": ""})
    ),
    ("submissions.submission", "revoke_awards"): Exercise(AuditAction.AWARD_REVOKE, _awarded),
    ("submissions.submission", "add_discovered_slice"): Exercise(AuditAction.TASK_SLICE, _slice_finder),
    ("leaderboards.leaderboard", "rebuild"): Exercise(AuditAction.LEADERBOARD_REBUILD, _board),
}


@dataclass(frozen=True)
class Save:
    """Change one field of an existing row on its admin change page, as a browser would post it back."""

    audit: AuditAction
    row: Callable[[Stage], Model]
    field: str
    value: str


SAVES = {
    "challenges.challenge": Save(AuditAction.CHALLENGE_CHANGE, lambda stage: stage.challenge, "title", "Renamed"),
    "challenges.task": Save(AuditAction.TASK_CHANGE, lambda stage: stage.speech_task, "title", "Renamed"),
    "divisions.division": Save(AuditAction.DIVISION_CHANGE, lambda stage: stage.open_division, "name", "Renamed"),
    "leaderboards.taskweight": Save(
        AuditAction.TASK_WEIGHT, lambda stage: TaskWeight.objects.create(task=stage.speech_task), "weight", "2.5"
    ),
}


def _state_admins() -> dict[str, admin.ModelAdmin[Any]]:
    registry = admin.site._registry
    return {model._meta.label_lower: ma for model, ma in registry.items() if model._meta.app_label in STATE_APPS}


def _staff_request(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _editable(model_admin: admin.ModelAdmin[Any] | admin.options.InlineModelAdmin[Any, Any], request: Any) -> bool:
    readonly = set(model_admin.get_readonly_fields(request))
    return (
        bool(set(model_admin.get_form(request).base_fields) - readonly)
        if isinstance(model_admin, admin.ModelAdmin)
        else bool(set(model_admin.get_formset(request).form.base_fields) - readonly)
    )


@pytest.fixture
def staff(db: None) -> User:
    return make_user("auditor", staff=True)


@pytest.fixture
def scored_slice(scored: Submission) -> Submission:
    return scored


def test_no_admin_edits_a_state_model_in_its_change_list() -> None:
    editable = {label: ma.list_editable for label, ma in _state_admins().items() if ma.list_editable}

    assert editable == {}


def test_every_action_on_a_state_model_is_exercised_or_declared_read_only(staff: User) -> None:
    request = _staff_request(staff)
    found = {(label, name) for label, ma in _state_admins().items() for name in ma.get_actions(request)}
    unaudited_deletes = {(label, "delete_selected") for label in UNAUDITED_DELETES}

    assert found - EXERCISES.keys() - READ_ONLY_ACTIONS.keys() - unaudited_deletes == set()
    assert (EXERCISES.keys() | READ_ONLY_ACTIONS.keys()) - found == set(), "a declaration names no action"


def test_every_state_admin_that_saves_or_deletes_is_exercised_or_declared(staff: User) -> None:
    request = _staff_request(staff)
    saving, deleting, inline_saving = set(), set(), set()
    for label, ma in _state_admins().items():
        if (ma.has_add_permission(request) or ma.has_change_permission(request)) and _editable(ma, request):
            saving.add(label)
        if ma.has_delete_permission(request):
            deleting.add(label)
        if any(_editable(inline, request) or inline.can_delete for inline in ma.get_inline_instances(request)):
            inline_saving.add(label)

    assert saving - SAVES.keys() == set()
    assert inline_saving - SAVES.keys() == set(), "an editable inline on an admin whose saves are not exercised"
    assert (
        deleting - {label for label, name in EXERCISES if name == "delete_selected"} - UNAUDITED_DELETES.keys() == set()
    )


@pytest.mark.parametrize(("label", "action"), sorted(EXERCISES), ids=lambda part: str(part))
def test_each_admin_action_on_a_state_model_writes_an_audit_entry(
    request: pytest.FixtureRequest, client: Client, staff: User, label: str, action: str
) -> None:
    exercise = EXERCISES[(label, action)]
    selected, fields = exercise.select(Stage(request))
    client.force_login(staff)
    before = set(AuditEntry.objects.values_list("pk", flat=True))

    changelist = reverse(f"admin:{label.replace('.', '_')}_changelist")
    client.post(changelist, {"action": action, "_selected_action": [row.pk for row in selected], **fields})

    written = AuditEntry.objects.exclude(pk__in=before)
    assert [(entry.action, entry.actor) for entry in written] == [(exercise.audit, staff)] * len(selected)


@pytest.mark.parametrize("label", sorted(SAVES))
def test_each_admin_save_of_a_state_model_writes_an_audit_entry(
    request: pytest.FixtureRequest, client: Client, staff: User, label: str
) -> None:
    save = SAVES[label]
    row = save.row(Stage(request))
    client.force_login(staff)
    url = reverse(f"admin:{label.replace('.', '_')}_change", args=[row.pk])
    form = _posted_back(client.get(url).text)
    before = set(AuditEntry.objects.values_list("pk", flat=True))

    response = client.post(url, {**form, save.field: save.value, "_save": "Save"})

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    [entry] = AuditEntry.objects.exclude(pk__in=before)
    assert (entry.action, entry.actor) == (save.audit, staff)


def test_a_challenge_page_posted_back_unchanged_records_nothing(
    client: Client, staff: User, challenge: Challenge
) -> None:
    # The page shows whole seconds: a stored fraction would be a change of its own.
    starts, ends = (moment.replace(microsecond=0) for moment in (challenge.starts_at, challenge.ends_at))
    Challenge.objects.filter(pk=challenge.pk).update(starts_at=starts, ends_at=ends)
    client.force_login(staff)
    url = reverse("admin:challenges_challenge_change", args=[challenge.pk])

    client.post(url, {**_posted_back(client.get(url).text), "_save": "Save"})

    assert list(AuditEntry.objects.values_list("summary", flat=True)) == []


class _FormFields(HTMLParser):
    """The fields of a page's forms as a browser would post them (files and buttons aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name = found.get("name")
        if tag == "input" and name and found.get("type", "text") not in ("file", "submit", "button", "image"):
            if found.get("type") not in ("checkbox", "radio") or "checked" in found:
                self.data.setdefault(name, []).append(found.get("value", "on" if "checked" in found else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in found:
            self.data[self._select].append(found.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data


def _posted_back(page: str) -> dict[str, Any]:
    parser = _FormFields()
    parser.feed(page)
    # A browser drops the newline that Django writes after <textarea>.
    return {
        name: [value.removeprefix("\n") for value in values] if len(values) != 1 else values[0].removeprefix("\n")
        for name, values in parser.data.items()
        if "__prefix__" not in name
    }


def test_teams_and_their_members_are_read_only_in_the_admin(staff: User) -> None:
    team_admin = admin.site._registry[Team]
    request = _staff_request(staff)

    assert not team_admin.has_add_permission(request)
    assert not team_admin.has_change_permission(request)
    assert not team_admin.has_delete_permission(request)
    for inline in team_admin.get_inline_instances(request):
        assert not inline.has_add_permission(request, None)
        assert not inline.can_delete
        assert not _editable(inline, request), f"{type(inline).__name__} edits a team's rows"

"""The closed division as participants and organizers see it: the verification stages of a submission (what
each may read), the concealed scores and board (who may see them, and when), the task page's algorithm card
with its example package, and the organizers' rerun of a verification."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.challenges.models import AuditAction, AuditEntry, Challenge, ConcealedVisibility, Task
from apps.core.errors import Forbidden, InvalidInput
from apps.core.queues import VERIFY_TASK
from apps.divisions.models import Division
from apps.leaderboards.selectors import split_visible
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Score, Submission, VerificationStage
from apps.submissions.services.algorithm import task_sandbox_limits
from apps.submissions.services.verification import submission_reverify
from evaluators import get_evaluator
from evaluators.algorithm import MANIFEST_NAME, example_algorithm_dir
from evaluators.registry import configure
from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator
from tests.apps.conftest import PRIMARY, RecordingBroker, make_scored_submission
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
Stage = VerificationStage.Stage
PUBLIC_STDERR = "warning: <b>slow</b> & steady"
CONCEALED_STDERR = "concealed-row-42 leaked"
ORGANIZER_NOTE = "expected 17 items on concealed/eval.yaml"
CONCEALED_PRIMARY = 0.125


class NoExampleSpeechEvaluator(SelectionSpeechEvaluator):
    """A plug-in benchmark without an `algorithm/` folder beside it (this test module has none)."""

    slug = "no-example-speech"


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _end_challenge(challenge: Challenge) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))


def _set_visibility(task: Task, visibility: str) -> None:
    Task.objects.filter(pk=task.pk).update(concealed_visibility=visibility)


@pytest.fixture
def concealed_task(speech_task: Task) -> Task:
    Task.objects.filter(pk=speech_task.pk).update(concealed_config={"language": "en", "train_size": 25})
    speech_task.refresh_from_db()
    return speech_task


@pytest.fixture
def verified(concealed_task: Task, closed_division: Division, registered: User) -> Submission:
    """A scored closed-division submission with its three stages recorded and a concealed score."""
    submission = make_scored_submission(task=concealed_task, division=closed_division, user=registered, primary=0.5)
    Submission.objects.filter(pk=submission.pk).update(code_archive="code/factory/algorithm.zip")
    assert submission.current_evaluation_id is not None
    Score.objects.create(
        evaluation_id=submission.current_evaluation_id,
        split=Score.Split.CONCEALED,
        metric=PRIMARY,
        value=CONCEALED_PRIMARY,
    )
    now = timezone.now()
    stages: list[dict[str, Any]] = [
        {"stage": Stage.UNPACK, "status": "passed"},
        {
            "stage": Stage.REPRODUCE,
            "status": "passed",
            "stderr_tail": PUBLIC_STDERR,
            "wall_seconds": 2.5,
            "cpu_seconds": 1.25,
            "max_rss_bytes": 50 * 1024**2,
            "output_bytes": 2048,
        },
        # The service never stores the concealed run's stderr where a participant reads it; the selector
        # holds the line even if a row did.
        {
            "stage": Stage.CONCEALED,
            "status": "failed",
            "message": "There is no concealed score.",
            "stderr_tail": CONCEALED_STDERR,
            "organizer_detail": ORGANIZER_NOTE,
        },
    ]
    for offset, fields in enumerate(reversed(stages)):
        # Inserted in reverse (and started in reverse) so that the order shown must come from ORDER.
        VerificationStage.objects.create(submission=submission, started_at=now + dt.timedelta(seconds=offset), **fields)
    submission.refresh_from_db()
    return submission


def _status(user: User, submission: Submission) -> dict[str, Any]:
    response = _client(user).get(reverse("submissions:status", args=[submission.pk]))
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


# --- The verification stages of a submission -----------------------------------------------------------


def test_the_team_sees_the_stages_in_order_with_the_stderr_tail(verified: Submission, participant: User) -> None:
    stages = _status(participant, verified)["stages"]

    assert [stage["stage"] for stage in stages] == ["unpack", "reproduce", "concealed"]
    reproduce = stages[1]
    assert reproduce["stderr_tail"] == PUBLIC_STDERR
    assert reproduce["wall_seconds"] == 2.5 and reproduce["max_rss_bytes"] == 50 * 1024**2
    assert stages[2]["message"] == "There is no concealed score."


def test_the_team_never_reads_the_organizer_detail_nor_the_concealed_stderr(
    verified: Submission, participant: User
) -> None:
    data = _status(participant, verified)
    page = _client(participant).get(reverse("submissions:detail", args=[verified.pk])).text

    assert all("organizer_detail" not in stage for stage in data["stages"])
    assert data["stages"][2]["stderr_tail"] == ""
    for text in (ORGANIZER_NOTE, CONCEALED_STDERR):
        assert text not in page
        assert text not in str(data)


def test_organizers_read_the_organizer_detail_and_the_concealed_stderr(verified: Submission, organizer: User) -> None:
    stages = _status(organizer, verified)["stages"]
    page = _client(organizer).get(reverse("submissions:detail", args=[verified.pk])).text

    assert stages[2]["organizer_detail"] == ORGANIZER_NOTE
    assert stages[2]["stderr_tail"] == CONCEALED_STDERR
    assert stages[0]["organizer_detail"] == ""
    assert ORGANIZER_NOTE in page


def test_the_page_lists_the_stages_then_the_score_with_the_stderr_escaped(
    verified: Submission, participant: User
) -> None:
    page = _client(participant).get(reverse("submissions:detail", args=[verified.pk])).text

    section = page[page.index('id="verification"') :]
    positions = [section.index(f'data-stage="{name}"') for name in ("unpack", "reproduce", "concealed", "score")]
    assert positions == sorted(positions)
    assert "<pre>warning: &lt;b&gt;slow&lt;/b&gt; &amp; steady</pre>" in section
    assert "2.5 s wall" in section and "50.0\xa0MB peak memory" in section


def test_a_stage_not_run_yet_is_shown_waiting(verified: Submission, participant: User) -> None:
    VerificationStage.objects.filter(submission=verified).exclude(stage=Stage.UNPACK).delete()
    Submission.objects.filter(pk=verified.pk).update(status=Submission.Status.VERIFYING)

    data = _status(participant, verified)
    page = _client(participant).get(reverse("submissions:detail", args=[verified.pk])).text

    assert [planned["stage"] for planned in data["stage_plan"]] == ["unpack", "reproduce", "concealed"]
    assert [stage["stage"] for stage in data["stages"]] == ["unpack"]
    assert 'class="step step-pending" data-stage="reproduce"' in page


def test_an_open_division_submission_has_no_verification(
    speech_task: Task, open_division: Division, registered: User
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)

    data = _status(registered, submission)
    page = _client(registered).get(reverse("submissions:detail", args=[submission.pk])).text

    assert data["stages"] == [] and data["stage_plan"] == []
    assert 'id="verification"' not in page


# --- Concealed scores ------------------------------------------------------------------------------------


def test_the_team_sees_no_concealed_score_before_the_end(verified: Submission, participant: User) -> None:
    metrics = _status(participant, verified)["metrics"]

    assert metrics["concealed"] is None
    assert metrics["primary"]["value"] == 0.5


def test_the_team_sees_its_concealed_score_once_the_challenge_has_ended(
    verified: Submission, participant: User, challenge: Challenge
) -> None:
    _end_challenge(challenge)

    concealed = _status(participant, verified)["metrics"]["concealed"]

    assert concealed["primary"]["value"] == CONCEALED_PRIMARY


def test_organizers_see_the_concealed_score_at_once(verified: Submission, organizer: User) -> None:
    assert _status(organizer, verified)["metrics"]["concealed"]["primary"]["value"] == CONCEALED_PRIMARY


def test_an_organizers_only_concealed_score_stays_hidden_after_the_end(
    verified: Submission, participant: User, challenge: Challenge
) -> None:
    _set_visibility(verified.task, ConcealedVisibility.ORGANIZERS)
    _end_challenge(challenge)

    assert _status(participant, verified)["metrics"]["concealed"] is None


# --- The concealed leaderboard ---------------------------------------------------------------------------


@pytest.fixture
def concealed_board(verified: Submission, concealed_task: Task, closed_division: Division) -> Task:
    leaderboard_rebuild(task=concealed_task, division=closed_division, split=Score.Split.CONCEALED)
    return concealed_task


def _board(user: User | None, task: Task, *, split: str = "concealed", json: bool = False) -> Any:
    name = "leaderboards:task_json" if json else "leaderboards:task"
    url = reverse(name, args=[task.challenge.slug, task.slug])
    return _client(user).get(url, {"division": "closed", "split": split})


def test_the_concealed_board_is_not_found_for_a_participant_before_the_end(
    concealed_board: Task, participant: User
) -> None:
    assert _board(participant, concealed_board).status_code == 404
    assert _board(participant, concealed_board, json=True).status_code == 404
    assert _board(None, concealed_board, json=True).status_code == 404


def test_the_concealed_board_opens_once_the_challenge_has_ended(
    concealed_board: Task, participant: User, challenge: Challenge
) -> None:
    _end_challenge(challenge)

    response = _board(participant, concealed_board, json=True)

    assert response.status_code == 200
    assert [row["primary"] for row in response.json()["rows"]] == [CONCEALED_PRIMARY]
    assert "-concealed-" in response["ETag"]


def test_an_always_visible_concealed_board_is_open_at_once(concealed_board: Task, participant: User) -> None:
    _set_visibility(concealed_board, ConcealedVisibility.ALWAYS)

    page = _board(participant, concealed_board)

    assert page.status_code == 200
    assert 'id="concealed-note"' in page.text
    assert "split=concealed" in page.text


def test_an_organizers_only_board_stays_closed_to_participants_after_the_end(
    concealed_board: Task, participant: User, organizer: User, challenge: Challenge
) -> None:
    _set_visibility(concealed_board, ConcealedVisibility.ORGANIZERS)
    _end_challenge(challenge)

    assert _board(participant, concealed_board).status_code == 404
    assert _board(participant, concealed_board, json=True).status_code == 404
    assert _board(organizer, concealed_board, json=True).status_code == 200


def test_the_etag_of_a_board_names_its_split(concealed_board: Task, organizer: User) -> None:
    public = _board(organizer, concealed_board, split="public", json=True)
    concealed = _board(organizer, concealed_board, json=True)

    assert public["ETag"] != concealed["ETag"]
    again = _client(organizer).get(
        reverse("leaderboards:task_json", args=[concealed_board.challenge.slug, concealed_board.slug]),
        {"division": "closed", "split": "concealed"},
        headers={"If-None-Match": concealed["ETag"]},
    )
    assert again.status_code == 304


def test_the_public_board_links_the_concealed_one_only_when_visible(
    concealed_board: Task, participant: User, organizer: User
) -> None:
    participant_page = _board(participant, concealed_board, split="public").text
    organizer_page = _board(organizer, concealed_board, split="public").text

    assert 'id="split-tabs"' not in participant_page and "split=concealed" not in participant_page
    assert 'id="split-tabs"' in organizer_page and "split=concealed" in organizer_page


def test_a_task_without_a_concealed_task_has_no_concealed_board(
    speech_task: Task, closed_division: Division, organizer: User
) -> None:
    assert not split_visible(task=speech_task, split="concealed", user=organizer)
    assert _board(organizer, speech_task).status_code == 404
    assert _board(organizer, speech_task, split="nonsense").status_code == 404


def test_the_private_split_is_revealed_to_participants_only_when_the_challenge_ends(
    speech_task: Task, participant: User, organizer: User, challenge: Challenge
) -> None:
    assert split_visible(task=speech_task, split="private", user=organizer)
    assert not split_visible(task=speech_task, split="private", user=participant)
    assert _board(participant, speech_task, split="private").status_code == 404

    _end_challenge(challenge)

    assert split_visible(task=Task.objects.get(pk=speech_task.pk), split="private", user=participant)


# --- The task page's algorithm card and example package --------------------------------------------------


def _task_page(user: User | None, task: Task) -> str:
    response = _client(user).get(reverse("challenges:task", args=[task.challenge.slug, task.slug]))
    assert response.status_code == 200
    return response.text


def test_a_task_without_a_closed_division_has_no_algorithm_card(speech_task: Task, participant: User) -> None:
    assert 'id="closed-division"' not in _task_page(participant, speech_task)


@pytest.mark.parametrize("overrides", [{}, {"sandbox_cpu_seconds": 7, "sandbox_memory_mb": 96, "sandbox_output_mb": 3}])
def test_the_algorithm_card_states_the_tasks_effective_limits(
    speech_task: Task, closed_division: Division, overrides: dict[str, int]
) -> None:
    Task.objects.filter(pk=speech_task.pk).update(**overrides)
    speech_task.refresh_from_db()
    limits = task_sandbox_limits(speech_task)

    page = _task_page(None, speech_task)

    card = page[page.index('id="closed-division"') : page.index("<h2>Public data</h2>")]
    shown = card[card.index('id="sandbox-limits"') :]
    assert f"{limits.cpu_seconds} CPU seconds" in shown
    assert f"{limits.wall_seconds} seconds of wall-clock time" in shown
    assert f"{limits.processes} processes" in shown
    for size in (limits.memory_bytes, limits.output_bytes, limits.tmp_bytes):
        assert filesizeformat(size) in shown
    assert "DATAPERF_OUTPUT" in card and "/sandbox/input" in card and MANIFEST_NAME in card
    assert "This task has no concealed task" in card


def test_the_algorithm_card_tells_a_concealed_task_is_attached_but_not_what_it_holds(
    concealed_task: Task, closed_division: Division, participant: User
) -> None:
    Task.objects.filter(pk=concealed_task.pk).update(concealed_config={"language": "en", "marker": "secret-cfg-9"})

    card = _task_page(participant, concealed_task)

    assert "This task has a concealed task" in card
    assert "secret-cfg-9" not in card
    assert "once the challenge has ended" in card


def test_anyone_who_sees_the_task_downloads_the_example_algorithm(speech_task: Task, closed_division: Division) -> None:
    folder = example_algorithm_dir(get_evaluator(speech_task.evaluator_slug))
    url = reverse("challenges:task_algorithm_example", args=[speech_task.challenge.slug, speech_task.slug])

    response = _client(None).get(url)

    if folder is None:
        assert response.status_code == 404
        return
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    expected = sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")
    )
    assert MANIFEST_NAME in names
    assert sorted(names) == expected
    assert url in _task_page(None, speech_task)


@pytest.fixture
def plugin_task(challenge: Challenge, closed_division: Division) -> Iterator[Task]:
    """A task of a plug-in benchmark that ships no example algorithm."""
    configure([*settings.EVALUATOR_EXTRA_PATHS, f"{__name__}:NoExampleSpeechEvaluator"])
    try:
        yield Task.objects.create(
            challenge=challenge, slug="plugin", title="Plugin", evaluator_slug=NoExampleSpeechEvaluator.slug
        )
    finally:
        configure(settings.EVALUATOR_EXTRA_PATHS)


def test_a_benchmark_without_an_example_algorithm_answers_404(plugin_task: Task) -> None:
    assert example_algorithm_dir(get_evaluator(plugin_task.evaluator_slug)) is None
    url = reverse("challenges:task_algorithm_example", args=[plugin_task.challenge.slug, plugin_task.slug])

    assert _client(None).get(url).status_code == 404
    page = _task_page(None, plugin_task)
    assert 'id="closed-division"' in page and url not in page


def test_the_example_of_an_unpublished_task_is_not_found(speech_task: Task, participant: User) -> None:
    Task.objects.filter(pk=speech_task.pk).update(is_published=False)
    url = reverse("challenges:task_algorithm_example", args=[speech_task.challenge.slug, speech_task.slug])

    assert _client(participant).get(url).status_code == 404


# --- The organizers' rerun -------------------------------------------------------------------------------


def test_the_admin_action_reruns_the_verification_of_closed_division_submissions(
    verified: Submission,
    speech_task: Task,
    open_division: Division,
    registered: User,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    open_one = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.4)
    staff = _client(make_user("staff", staff=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:submissions_submission_changelist"),
            {"action": "reverify", "_selected_action": [verified.pk, open_one.pk]},
            follow=True,
        )

    verified.refresh_from_db()
    open_one.refresh_from_db()
    assert verified.status == Submission.Status.VERIFYING
    assert not VerificationStage.objects.filter(submission=verified).exists()
    assert broker.ids(VERIFY_TASK) == [verified.pk]
    assert open_one.status == Submission.Status.SCORED
    assert "Queued 1 submission(s) for a new verification." in response.text
    assert f"#{open_one.pk}" in response.text


def test_rerunning_a_verification_writes_its_own_audit_entry(
    verified: Submission, organizer: User, broker: RecordingBroker
) -> None:
    submission_reverify(submission=verified, actor=organizer)

    verified.refresh_from_db()
    assert verified.status == Submission.Status.VERIFYING
    [entry] = AuditEntry.objects.all()
    team = verified.team.name
    assert (entry.action, entry.actor, entry.submission_id) == (AuditAction.SUBMISSION_REVERIFY, organizer, verified.pk)
    assert entry.summary == (
        f"Rerunning the verification of #{verified.pk} ({team}, {verified.task.slug}, {verified.division.slug})."
    )
    assert entry.details == {"task": verified.task.slug, "team": team}


def test_only_an_organizer_can_rerun_a_verification(verified: Submission, registered: User) -> None:
    with pytest.raises(Forbidden):
        submission_reverify(submission=verified, actor=registered)

    verified.refresh_from_db()
    assert verified.status == Submission.Status.SCORED
    assert VerificationStage.objects.filter(submission=verified).exists()
    assert not AuditEntry.objects.exists()


def test_a_submission_without_code_is_not_reverified_and_nothing_is_recorded(
    speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    open_one = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.4)

    with pytest.raises(InvalidInput, match="no code to verify"):
        submission_reverify(submission=open_one, actor=organizer)

    assert not AuditEntry.objects.exists()


def test_the_submission_admin_shows_the_stages_with_the_organizer_detail(verified: Submission) -> None:
    staff = _client(make_user("staff", staff=True))

    page = staff.get(reverse("admin:submissions_submission_change", args=[verified.pk])).text

    assert ORGANIZER_NOTE in page
    assert "concealed_output" not in page

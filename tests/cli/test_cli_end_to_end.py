"""`dataperf` end to end: a live test server, a real Celery worker, the installed command in a subprocess."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from apps.challenges.models import Task, TaskDataFile
from apps.divisions.models import Division
from apps.submissions.models import Score, Submission
from tests.cli.conftest import Cli
from tests.e2e.conftest import Process

pytestmark = [pytest.mark.e2e]


def _login(cli: Cli, token: str) -> None:
    result = cli("login", "--url", cli.url, "--token", token)
    assert result.code == 0, result.err
    assert "Logged in" in result.out


def _download_and_check(cli: Cli, task: Task, dest: Path) -> list[str]:
    result = cli("download", task.challenge.slug, task.slug, "--dest", str(dest))
    assert result.code == 0, result.err
    public = TaskDataFile.objects.filter(task=task, role=TaskDataFile.Role.PUBLIC)
    for data_file in public:
        local = dest / data_file.relative_path
        assert hashlib.sha256(local.read_bytes()).hexdigest() == data_file.sha256
    for hidden in TaskDataFile.objects.filter(task=task, role=TaskDataFile.Role.HIDDEN):
        assert not (dest / hidden.relative_path).exists()
    assert not list(dest.rglob("*.part"))
    return result.out.splitlines()


def test_download_is_verified_and_a_second_run_skips_or_resumes(
    cli: Cli, registered: User, speech_task: Task, token_of: Callable[[User], str], tmp_path: Path
) -> None:
    _login(cli, token_of(registered))
    dest = tmp_path / "task"
    lines = _download_and_check(cli, speech_task, dest)
    public_count = TaskDataFile.objects.filter(task=speech_task, role=TaskDataFile.Role.PUBLIC).count()
    assert sum(line.startswith("downloaded") for line in lines) == public_count
    assert json.loads((dest / "task.yaml").read_text()) == {
        "benchmark": "selection-speech",
        "config": speech_task.config,
    }

    # An interrupted download: half of the biggest file is in its .part file.
    biggest = TaskDataFile.objects.filter(task=speech_task, role="public").order_by("-size", "pk").first()
    assert biggest is not None
    target = dest / biggest.relative_path
    content = target.read_bytes()
    target.unlink()
    target.with_name(target.name + ".part").write_bytes(content[: len(content) // 2])
    lines = _download_and_check(cli, speech_task, dest)
    assert f"resumed     {biggest.relative_path}" in lines
    assert sum(line.startswith("skipped") for line in lines) == public_count - 1

    # The directory is a task directory for offline validation, as the platform validates.
    selection = tmp_path / "selection.json"
    selection.write_text(json.dumps({"targets": {}}))
    offline = subprocess.run(
        [sys.executable, "-m", "evaluators", "validate", "--task", str(dest), "--submission", str(selection)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert offline.returncode == 2 and "invalid submission" in offline.stderr


def test_a_submission_is_uploaded_scored_by_a_worker_and_ranked(
    cli: Cli,
    registered: User,
    speech_task: Task,
    open_division: Division,
    speech_selections: dict[str, dict[str, Any]],
    token_of: Callable[[User], str],
    start_worker: Callable[[], Process],
    tmp_path: Path,
) -> None:
    worker = start_worker()
    _login(cli, token_of(registered))
    selection = tmp_path / "selection.json"
    selection.write_text(json.dumps(speech_selections["random-balanced"]))

    result = cli(
        "submit",
        speech_task.challenge.slug,
        speech_task.slug,
        str(selection),
        "--division",
        "open",
        "--description",
        "balanced random",
        "--wait",
        "--interval",
        "0.2",
    )
    assert result.code == 0, result.err + worker.log()[-3000:]
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.SCORED
    assert submission.method_description == "balanced random"
    assert f"Submission #{submission.pk} (speech-challenge/speech-en-25, open): scored" in result.out
    primary = Score.objects.get(evaluation=submission.current_evaluation, metric="macro_f1", split="public").value
    assert f"(macro_f1): {primary}" in result.out
    assert "uploading selection.json [" in result.err

    status = cli("status", str(submission.pk))
    assert status.code == 0 and f"(macro_f1): {primary}" in status.out
    mine = cli("submissions", "--challenge", speech_task.challenge.slug, "--task", speech_task.slug)
    assert mine.code == 0 and str(submission.pk) in mine.out and "scored" in mine.out

    board = cli("leaderboard", speech_task.challenge.slug, speech_task.slug, "--json")
    assert board.code == 0
    rows = json.loads(board.out)["rows"]
    assert [(row["rank"], row["submission_id"], row["primary"]) for row in rows] == [(1, submission.pk, primary)]
    table = cli("leaderboard", speech_task.challenge.slug, speech_task.slug)
    assert table.code == 0
    header, _, first = table.out.splitlines()[1:4]
    assert header.startswith("RANK  TEAM") and "MACRO F1, MEAN OVER 10 SEEDS" in header
    assert first.split()[:2] == ["1", "alice"] and first.split()[-1] == str(submission.pk)


def test_the_login_is_stored_for_the_owner_only_and_checked(
    cli: Cli, registered: User, token_of: Callable[[User], str]
) -> None:
    token = token_of(registered)
    bad = cli("login", "--url", cli.url, "--token", "dpt_not-a-token")
    assert bad.code == 3
    assert "authentication failed: Invalid or revoked token." in bad.err
    assert not (cli.config_dir / "config.json").exists()

    env_login = cli("login", env={"DATAPERF_URL": cli.url, "DATAPERF_TOKEN": token})
    assert env_login.code == 0, env_login.err
    config = cli.config_dir / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.config_dir.stat().st_mode) == 0o700
    assert json.loads(config.read_text()) == {"url": cli.url, "token": token}
    assert cli("challenges").code == 0

    assert cli("logout").code == 0
    assert not config.exists()
    signed_out = cli("challenges")
    assert signed_out.code == 3 and "not logged in" in signed_out.err


def test_every_api_error_is_a_clear_message_and_its_own_exit_code(
    cli: Cli,
    registered: User,
    speech_task: Task,
    open_division: Division,
    speech_selections: dict[str, dict[str, Any]],
    token_of: Callable[[User], str],
    tmp_path: Path,
) -> None:
    _login(cli, token_of(registered))
    challenge, task = speech_task.challenge.slug, speech_task.slug
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "targets": {\n    "fifty": [\n  }\n}\n')

    rejected = cli("submit", challenge, task, str(broken), "--description", "oops", "--wait")
    assert rejected.code == 2
    assert "rejected" in rejected.out
    assert "broken.json" in rejected.err and "line 4" in rejected.err

    missing = cli("tasks", "no-such-challenge")
    assert missing.code == 4 and "not found: No such challenge." in missing.err

    no_description = cli("submit", challenge, task, str(broken))
    assert no_description.code == 2 and "method_description: This field is required." in no_description.err

    speech_task.quota_per_day = 1
    speech_task.save()
    valid = tmp_path / "valid.json"
    valid.write_text(json.dumps(speech_selections["first-k"]))
    first = cli("submit", challenge, task, str(valid), "--description", "k")
    assert first.code == 0, first.err
    quota = cli("submit", challenge, task, str(valid), "--description", "k")
    assert quota.code == 5
    assert "quota exceeded: Your team has used its 1 submissions for the last 24 hours" in quota.err
    assert "(resets at 20" in quota.err

    revoked = cli("challenges", env={"DATAPERF_TOKEN": "dpt_revoked"})
    assert revoked.code == 3 and "Run `dataperf login`" in revoked.err

    unreachable = cli("challenges", env={"DATAPERF_URL": "http://127.0.0.1:9"})
    assert unreachable.code == 1 and "cannot reach http://127.0.0.1:9" in unreachable.err


def test_a_participant_who_is_not_registered_cannot_download(
    cli: Cli, other_participant: User, speech_task: Task, token_of: Callable[[User], str], tmp_path: Path
) -> None:
    _login(cli, token_of(other_participant))
    result = cli("download", speech_task.challenge.slug, speech_task.slug, "--dest", str(tmp_path / "t"))
    assert result.code == 3
    assert "not allowed: Register for this challenge" in result.err

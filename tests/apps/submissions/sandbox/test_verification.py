"""The closed division end to end at the service level, with the real sandbox: an honest algorithm reproduces its
artifact and gets a concealed score; a dishonest or broken one is rejected with a message saying why."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from apps.challenges.models import Task
from apps.core.queues import EVALUATE_TASK, VERIFY_TASK
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank, verify_and_rank
from apps.leaderboards.models import LeaderboardEntry
from apps.submissions.models import Score, Submission, VerificationStage
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.leases import Outcome
from apps.submissions.services.verification import submission_reverify
from evaluators.algorithm import write_public_inputs
from evaluators.registry import get_evaluator
from evaluators.selection_speech.synthetic import generate_speech_task
from tests.apps.conftest import RecordingBroker
from tests.conftest import put_task_data

pytestmark = [pytest.mark.usefixtures("sandbox_ready"), pytest.mark.django_db(transaction=True)]
Status = Submission.Status

FIRST_K = '''
"""First clips of every class, balanced within the budget."""
import json, os, pathlib
import yaml

inputs = pathlib.Path(os.environ["DATAPERF_INPUT_DIR"])
config = yaml.safe_load((inputs / "task.yaml").read_text())["config"]
allowed = yaml.safe_load((inputs / "allowed_training_set.yaml").read_text())
words = sorted(allowed["targets"])
share = config["train_size"] // (len(words) + 1)
selection = {
    "targets": {word: allowed["targets"][word][:share] for word in words},
    "nontargets": allowed["nontargets"][: config["train_size"] - share * len(words)],
}
pathlib.Path(os.environ["DATAPERF_OUTPUT"]).write_text(json.dumps(selection))
'''
MANIFEST = "format: 1\nbenchmark: selection-speech\nentry_point:\n  module: algorithm\noutput: selection.json\n"


def zipped(files: dict[str, str | bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) | 0x20
            archive.writestr(info, target)
    return buffer.getvalue()


def run_offline(code: str, task_dir: Path, tmp_path: Path) -> bytes:
    """What a participant does at home: run the algorithm over the public inputs, get the artifact."""
    inputs, out = tmp_path / "inputs", tmp_path / "out"
    write_public_inputs(get_evaluator("selection-speech"), task_dir, inputs)
    out.mkdir()
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "algorithm.py").write_text(code)
    env = {
        **os.environ,
        "DATAPERF_INPUT_DIR": str(inputs),
        "DATAPERF_OUTPUT_DIR": str(out),
        "DATAPERF_OUTPUT": str(out / "selection.json"),
        "DATAPERF_SEED": "0",
    }
    subprocess.run([sys.executable, "-m", "algorithm"], cwd=tmp_path / "code", env=env, check=True)
    return (out / "selection.json").read_bytes()


@pytest.fixture
def closed_task(speech_task: Task, closed_division: Division, tmp_path_factory: pytest.TempPathFactory) -> Task:
    """The speech task with a concealed task in Portuguese attached (new target words: the paper's test)."""
    concealed = tmp_path_factory.mktemp("concealed") / "task"
    generate_speech_task(concealed, language="pt", train_size=25, seed=7)
    for path in sorted(p for p in concealed.rglob("*") if p.is_file() and p.name != "task.yaml"):
        target = concealed.parent / "wrapped" / "concealed" / path.relative_to(concealed)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    put_task_data(speech_task, concealed.parent / "wrapped")
    Task.objects.filter(pk=speech_task.pk).update(
        concealed_config={"language": "pt", "train_size": 25}, concealed_visibility="always"
    )
    speech_task.refresh_from_db()
    return speech_task


def submit_closed(user: User, task: Task, division: Division, artifact: bytes, code: bytes) -> Submission:
    data = SubmissionInput(
        artifact=ContentFile(artifact, name="selection.json"),
        artifact_name="selection.json",
        code_archive=ContentFile(code, name="code.zip"),
        method_description="first clips of each class",
    )
    return submission_create(task=task, division=division, user=user, data=data)


def stages(submission: Submission) -> dict[str, VerificationStage]:
    return {stage.stage: stage for stage in VerificationStage.objects.filter(submission=submission)}


def test_an_honest_algorithm_is_verified_and_gets_a_concealed_score(
    closed_task: Task,
    closed_division: Division,
    registered: User,
    speech_task_dir: Path,
    tmp_path: Path,
    broker: RecordingBroker,
) -> None:
    artifact = run_offline(FIRST_K, speech_task_dir, tmp_path)
    submission = submit_closed(
        registered,
        closed_task,
        closed_division,
        artifact,
        zipped({"dataperf-algorithm.yaml": MANIFEST, "algorithm.py": FIRST_K}),
    )
    assert submission.status == Status.VERIFYING
    assert broker.ids(VERIFY_TASK) == [submission.pk]

    assert verify_and_rank(submission_id=submission.pk) == Outcome.VERIFIED
    submission.refresh_from_db()
    assert submission.status == Status.QUEUED
    assert {name: stage.status for name, stage in stages(submission).items()} == {
        "unpack": "passed",
        "reproduce": "passed",
        "concealed": "passed",
    }
    assert submission.concealed_output
    assert broker.ids(EVALUATE_TASK) == [submission.pk]

    assert evaluate_and_rank(submission_id=submission.pk) == Outcome.SCORED
    concealed = Score.objects.filter(evaluation__submission=submission, split=Score.Split.CONCEALED)
    public = Score.objects.filter(evaluation__submission=submission, split=Score.Split.PUBLIC)
    assert concealed.filter(metric="macro_f1").exists() and public.filter(metric="macro_f1").exists()
    assert LeaderboardEntry.objects.filter(leaderboard__split="concealed", submission=submission, rank=1).exists()
    assert "concealed_metrics" not in submission.evaluations.get().details


def test_code_whose_output_differs_from_the_artifact_is_rejected_with_a_diff(
    closed_task: Task, closed_division: Division, registered: User, speech_selections: dict[str, dict[str, list[str]]]
) -> None:
    artifact = json.dumps(speech_selections["random"]).encode()
    code = zipped({"dataperf-algorithm.yaml": MANIFEST, "algorithm.py": FIRST_K})
    submission = submit_closed(registered, closed_task, closed_division, artifact, code)

    assert verify_and_rank(submission_id=submission.pk) == Outcome.REJECTED
    submission.refresh_from_db()
    assert submission.status == Status.REJECTED
    assert "does not reproduce" in submission.message
    assert "only in" in submission.message  # the difference, not just the verdict
    assert stages(submission)["reproduce"].status == "failed"
    assert "concealed" not in stages(submission)


def test_a_crash_is_rejected_with_the_tail_of_stderr(
    closed_task: Task, closed_division: Division, registered: User, speech_task_dir: Path, tmp_path: Path
) -> None:
    artifact = run_offline(FIRST_K, speech_task_dir, tmp_path)
    crashing = "import socket\nsocket.create_connection(('127.0.0.1', 5432), timeout=2)\n"
    code = zipped({"dataperf-algorithm.yaml": MANIFEST, "algorithm.py": crashing})
    submission = submit_closed(registered, closed_task, closed_division, artifact, code)

    assert verify_and_rank(submission_id=submission.pk) == Outcome.REJECTED
    stage = stages(submission)["reproduce"]
    assert "exited with status 1" in stage.message
    assert "ConnectionRefusedError" in stage.stderr_tail


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (zipped({"../evil.py": "x", "dataperf-algorithm.yaml": MANIFEST}), "points outside the archive"),
        (zipped({"/abs.py": "x", "dataperf-algorithm.yaml": MANIFEST}), "absolute path"),
        (zipped({"dataperf-algorithm.yaml": MANIFEST, "big.bin": b"\0" * (60 * 2**20)}), "compression bomb"),
        (
            zipped({"dataperf-algorithm.yaml": MANIFEST, "algorithm.py": "x"}, symlinks={"key": "/etc/passwd"}),
            "symbolic link",
        ),
        (zipped({"dataperf-algorithm.yaml": MANIFEST}), "entry point module 'algorithm' is not in the archive"),
        (zipped({"algorithm.py": FIRST_K}), "dataperf-algorithm.yaml"),
        (
            zipped(
                {"dataperf-algorithm.yaml": MANIFEST.replace("selection-speech", "valuation"), "algorithm.py": FIRST_K}
            ),
            "this task is 'selection-speech'",
        ),
        (b"not an archive at all", "not a zip or tar archive"),
    ],
    ids=["zip-slip", "absolute", "zip-bomb", "symlink", "no-entry-point", "no-manifest", "other-benchmark", "junk"],
)
def test_an_unusable_code_archive_is_rejected_at_unpacking(
    closed_task: Task,
    closed_division: Division,
    registered: User,
    speech_task_dir: Path,
    tmp_path: Path,
    code: bytes,
    expected: str,
) -> None:
    artifact = run_offline(FIRST_K, speech_task_dir, tmp_path)
    submission = submit_closed(registered, closed_task, closed_division, artifact, code)

    assert verify_and_rank(submission_id=submission.pk) == Outcome.REJECTED
    submission.refresh_from_db()
    assert expected in submission.message
    assert stages(submission)["unpack"].status == "failed"
    assert "reproduce" not in stages(submission)


def test_a_tar_gz_package_in_a_folder_works_too(
    closed_task: Task, closed_division: Division, registered: User, speech_task_dir: Path, tmp_path: Path
) -> None:
    artifact = run_offline(FIRST_K, speech_task_dir, tmp_path)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in {"dataperf-algorithm.yaml": MANIFEST, "algorithm.py": FIRST_K}.items():
            info = tarfile.TarInfo(f"my-algorithm/{name}")
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    submission = submit_closed(registered, closed_task, closed_division, artifact, buffer.getvalue())
    assert verify_and_rank(submission_id=submission.pk) == Outcome.VERIFIED


def test_a_concealed_failure_keeps_the_public_score_and_tells_only_organizers_why(
    closed_task: Task, closed_division: Division, registered: User, speech_task_dir: Path, tmp_path: Path
) -> None:
    # Fails only on the concealed task (Portuguese words), printing what it saw there.
    code = FIRST_K + textwrap.dedent("""
        if "cidade" in allowed["targets"]:
            raise SystemExit("concealed words: " + ",".join(words))
    """)
    artifact = run_offline(code, speech_task_dir, tmp_path)
    submission = submit_closed(
        registered,
        closed_task,
        closed_division,
        artifact,
        zipped({"dataperf-algorithm.yaml": MANIFEST, "algorithm.py": code}),
    )

    assert verify_and_rank(submission_id=submission.pk) == Outcome.VERIFIED
    concealed = stages(submission)["concealed"]
    assert concealed.status == "failed"
    assert concealed.stderr_tail == ""
    assert "cidade" not in concealed.message
    assert "cidade" in concealed.organizer_detail
    assert evaluate_and_rank(submission_id=submission.pk) == Outcome.SCORED
    assert not Score.objects.filter(evaluation__submission=submission, split=Score.Split.CONCEALED).exists()


def test_an_organizer_can_rerun_the_verification(
    closed_task: Task,
    closed_division: Division,
    registered: User,
    organizer: User,
    speech_task_dir: Path,
    tmp_path: Path,
    broker: RecordingBroker,
) -> None:
    artifact = run_offline(FIRST_K, speech_task_dir, tmp_path)
    code = zipped({"dataperf-algorithm.yaml": MANIFEST, "algorithm.py": FIRST_K})
    submission = submit_closed(registered, closed_task, closed_division, artifact, code)
    verify_and_rank(submission_id=submission.pk)
    evaluate_and_rank(submission_id=submission.pk)

    submission_reverify(submission=Submission.objects.get(pk=submission.pk), actor=organizer)
    assert Submission.objects.get(pk=submission.pk).status == Status.VERIFYING
    assert broker.ids(VERIFY_TASK) == [submission.pk, submission.pk]
    assert verify_and_rank(submission_id=submission.pk) == Outcome.VERIFIED
    assert verify_and_rank(submission_id=submission.pk) == Outcome.SKIPPED  # a redelivered message does nothing

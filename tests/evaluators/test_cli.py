"""`python -m evaluators`: exit codes, output shapes, listing (in-process through `main`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from evaluators.cli import main
from evaluators.selection_speech.synthetic import baseline_submissions

Capture = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def baseline_file(small_task_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "baseline.json"
    path.write_text(json.dumps(baseline_submissions(small_task_dir, seed=0)["random-balanced"]))
    return path


@pytest.fixture
def public_copy(small_task_dir: Path, tmp_path: Path) -> Path:
    """The task directory without its hidden files, as participants and the web process have it."""
    copy = tmp_path / "public"
    copy.mkdir()
    for name in ("task.yaml", "allowed_training_set.yaml"):
        shutil.copy(small_task_dir / name, copy / name)
    shutil.copytree(small_task_dir / "train_embeddings", copy / "train_embeddings")
    return copy


def _score(task: Path, submission: Path, *extra: str) -> int:
    return main(["score", "--task", str(task), "--submission", str(submission), *extra])


def test_score_prints_one_json_object_with_the_primary_and_metrics(
    small_task_dir: Path, baseline_file: Path, capsys: Capture
) -> None:
    assert _score(small_task_dir, baseline_file) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    output: dict[str, Any] = json.loads(out)
    assert set(output) == {"primary", "metrics"}
    assert 0 < output["primary"] < 1
    assert len(output["metrics"]) == 10
    assert all(name.startswith("macro_f1.seed_") for name in output["metrics"])


def test_score_prints_the_details_when_asked(small_task_dir: Path, baseline_file: Path, capsys: Capture) -> None:
    assert _score(small_task_dir, baseline_file, "--details") == 0
    output = json.loads(capsys.readouterr().out)
    assert output["details"]["n_train_rows"] == 25


def test_score_writes_progress_to_stderr_only(small_task_dir: Path, baseline_file: Path, capsys: Capture) -> None:
    assert _score(small_task_dir, baseline_file, "--progress") == 0
    captured = capsys.readouterr()
    assert "[100%] seed 32" in captured.err
    assert json.loads(captured.out)


def test_score_exits_2_on_an_invalid_submission(small_task_dir: Path, tmp_path: Path, capsys: Capture) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"targets": {}, "nontargets": ["nope"]}')
    assert _score(small_task_dir, bad) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith('invalid submission: nontargets[0]: "nope" is not in the allowed')


def test_score_exits_3_on_a_missing_task_directory(tmp_path: Path, baseline_file: Path, capsys: Capture) -> None:
    assert _score(tmp_path / "missing", baseline_file) == 3
    assert "not a task directory" in capsys.readouterr().err


def test_score_exits_3_on_an_unknown_benchmark(tmp_path: Path, baseline_file: Path, capsys: Capture) -> None:
    (tmp_path / "task.yaml").write_text("benchmark: no-such-benchmark\nconfig: {}\n")
    assert _score(tmp_path, baseline_file) == 3
    err = capsys.readouterr().err
    assert "unknown benchmark 'no-such-benchmark'" in err
    assert "selection-speech" in err


def test_score_exits_3_on_a_bad_config(public_copy: Path, baseline_file: Path, capsys: Capture) -> None:
    (public_copy / "task.yaml").write_text("benchmark: selection-speech\nconfig: {language: fr, train_size: 25}\n")
    assert _score(public_copy, baseline_file) == 3
    assert "config.language" in capsys.readouterr().err


def test_score_exits_3_when_the_hidden_files_are_missing(
    public_copy: Path, baseline_file: Path, capsys: Capture
) -> None:
    assert _score(public_copy, baseline_file) == 3
    assert "eval.yaml" in capsys.readouterr().err


def test_validate_works_with_only_the_public_files(public_copy: Path, baseline_file: Path, capsys: Capture) -> None:
    assert main(["validate", "--task", str(public_copy), "--submission", str(baseline_file)]) == 0
    assert capsys.readouterr().out == "OK\n"


def test_validate_exits_2_with_the_message(public_copy: Path, tmp_path: Path, capsys: Capture) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert main(["validate", "--task", str(public_copy), "--submission", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("invalid submission: the file must hold one JSON object")


def test_list_shows_each_benchmark_with_its_format(capsys: Capture) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "selection-speech: Selection for speech" in out
    assert '"nontargets"' in out


def test_help_lists_the_benchmarks(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "selection-speech" in capsys.readouterr().out


def test_a_missing_command_is_a_usage_error(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2

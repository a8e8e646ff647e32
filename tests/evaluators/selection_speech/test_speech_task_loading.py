"""selection-speech task loading: config rules, data checks, lazy hidden data."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from evaluators import Evaluator, TaskConfigError
from evaluators.selection_speech.data import read_embedding_file
from evaluators.selection_speech.task import SpeechTask

CONFIG = {"language": "en", "train_size": 25}


@pytest.fixture
def task_copy(small_task_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the small synthetic task, free to break."""
    copy = tmp_path / "task"
    shutil.copytree(small_task_dir, copy)
    return copy


def _write_vectors(path: Path, ids: list[str], vectors: np.ndarray) -> None:
    column = pa.array(list(vectors.astype(np.float32)), type=pa.list_(pa.float32()))
    pq.write_table(pa.table({"clip_id": pa.array(ids, pa.string()), "mswc_embedding_vector": column}), path)


def _load(evaluator: Evaluator[Any, Any], directory: Path) -> SpeechTask:
    task: SpeechTask = evaluator.load_task(directory, CONFIG)
    return task


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"language": "fr", "train_size": 25}, "config.language must be one of en, id, pt"),
        ({"language": "en"}, "config.train_size must be an integer"),
        ({"language": "en", "train_size": 0}, "got 0"),
        ({"language": "en", "train_size": 10_001}, "got 10001"),
        ({"language": "en", "train_size": True}, "got True"),
        ({"language": "en", "train_size": "25"}, "got '25'"),
        ({"language": "en", "train_size": 25, "seed": 1}, "unexpected config key(s) seed"),
    ],
)
def test_it_rejects_a_bad_config(speech_evaluator: Evaluator[Any, Any], config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(TaskConfigError) as raised:
        speech_evaluator.validate_config(config)
    assert fragment in str(raised.value)


def test_it_accepts_any_budget_up_to_ten_thousand(speech_evaluator: Evaluator[Any, Any]) -> None:
    assert speech_evaluator.validate_config({"language": "pt", "train_size": 10_000}) == {
        "language": "pt",
        "train_size": 10_000,
    }


def test_it_stacks_the_vectors_as_stored(small_task_dir: Path) -> None:
    path = small_task_dir / "train_embeddings" / "fifty.parquet"
    block = read_embedding_file(path)
    table = pq.read_table(path)
    expected = np.array(table.column("mswc_embedding_vector").to_pylist(), dtype=np.float32)
    assert block.vectors.dtype == np.float32
    np.testing.assert_array_equal(block.vectors, expected)
    assert block.row_of[table.column("clip_id")[3].as_py()] == 3


def test_validation_works_with_only_the_public_files(
    speech_evaluator: Evaluator[Any, Any], task_copy: Path, write_submission: Any
) -> None:
    shutil.rmtree(task_copy / "eval_embeddings")
    (task_copy / "eval.yaml").unlink()
    task = _load(speech_evaluator, task_copy)
    allowed = task.allowed
    parsed = speech_evaluator.validate(
        task,
        write_submission({"targets": {"job": allowed.targets["job"][:2]}, "nontargets": allowed.nontargets[:2]}),
    )
    with pytest.raises(TaskConfigError, match=r"eval\.yaml: missing task file"):
        speech_evaluator.evaluate(task, parsed)


def test_the_evaluation_set_is_loaded_once_for_concurrent_callers(
    speech_evaluator: Evaluator[Any, Any], small_task_dir: Path
) -> None:
    task = _load(speech_evaluator, small_task_dir)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(task.eval_rows())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(rows) for rows in seen}) == 1


def test_the_evaluation_rows_are_labelled_by_name(speech_evaluator: Evaluator[Any, Any], small_task_dir: Path) -> None:
    task = _load(speech_evaluator, small_task_dir)
    evaluation = yaml.safe_load((small_task_dir / "eval.yaml").read_text())
    labels = task.eval_rows().labels
    for word, ids in evaluation["targets"].items():
        assert int((labels == task.class_of[word]).sum()) == len(ids)
    assert int((labels == 0).sum()) == len(evaluation["nontargets"])


def test_it_rejects_embeddings_of_different_dimensions(speech_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = task_copy / "train_embeddings" / "job.parquet"
    block = read_embedding_file(path)
    ids = sorted(block.row_of, key=block.row_of.__getitem__)
    _write_vectors(path, ids, np.zeros((len(ids), 7)))
    with pytest.raises(TaskConfigError, match=r"embeddings of different dimensions \[7, 32\]"):
        _load(speech_evaluator, task_copy)


def test_it_rejects_evaluation_embeddings_of_another_dimension(
    speech_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    path = task_copy / "eval_embeddings" / "route.parquet"
    block = read_embedding_file(path)
    _write_vectors(path, sorted(block.row_of, key=block.row_of.__getitem__), np.zeros((len(block.row_of), 5)))
    task = _load(speech_evaluator, task_copy)
    with pytest.raises(TaskConfigError, match="different dimensions"):
        task.eval_rows()


def test_it_rejects_an_allowed_id_missing_from_its_parquet(
    speech_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    allowed = yaml.safe_load((task_copy / "allowed_training_set.yaml").read_text())
    allowed["targets"]["route"].append("route/common_voice_en_99999999.wav")
    (task_copy / "allowed_training_set.yaml").write_text(yaml.safe_dump(allowed))
    with pytest.raises(TaskConfigError, match=r"'route/common_voice_en_99999999\.wav' is not in route\.parquet"):
        _load(speech_evaluator, task_copy)


def test_it_rejects_a_missing_parquet_file(speech_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    (task_copy / "train_embeddings" / "episode.parquet").unlink()
    with pytest.raises(TaskConfigError, match=r"episode\.parquet: missing embedding file"):
        _load(speech_evaluator, task_copy)


def test_it_rejects_a_parquet_without_the_vector_column(speech_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = task_copy / "train_embeddings" / "episode.parquet"
    pq.write_table(pq.read_table(path).select(["clip_id"]), path)
    with pytest.raises(TaskConfigError, match="cannot be read as parquet"):
        _load(speech_evaluator, task_copy)


def test_it_rejects_a_parquet_with_a_repeated_clip_id(speech_evaluator: Evaluator[Any, Any], task_copy: Path) -> None:
    path = task_copy / "train_embeddings" / "episode.parquet"
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), path)
    with pytest.raises(TaskConfigError, match="a clip_id appears more than once"):
        _load(speech_evaluator, task_copy)


def test_it_rejects_an_allowed_set_that_is_not_a_clip_list(
    speech_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    (task_copy / "allowed_training_set.yaml").write_text("targets: [a, b]\n")
    with pytest.raises(TaskConfigError, match="must be a mapping"):
        _load(speech_evaluator, task_copy)


def test_it_rejects_a_target_word_that_would_name_another_path(
    speech_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    (task_copy / "allowed_training_set.yaml").write_text("targets: {../x: [a]}\nnontargets: [b]\n")
    with pytest.raises(TaskConfigError, match="not a usable target word"):
        _load(speech_evaluator, task_copy)


def test_it_rejects_an_evaluation_word_unknown_to_the_allowed_set(
    speech_evaluator: Evaluator[Any, Any], task_copy: Path
) -> None:
    evaluation = yaml.safe_load((task_copy / "eval.yaml").read_text())
    evaluation["targets"]["sixty"] = []
    (task_copy / "eval.yaml").write_text(yaml.safe_dump(evaluation))
    task = _load(speech_evaluator, task_copy)
    with pytest.raises(TaskConfigError, match=r"target word.*sixty are not in allowed_training_set\.yaml"):
        task.eval_rows()

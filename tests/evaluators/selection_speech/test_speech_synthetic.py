"""The synthetic selection-speech task generator and its baseline selections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from evaluators import Evaluator
from evaluators.selection_speech.synthetic import SyntheticShape, baseline_submissions, generate_speech_task
from evaluators.selection_speech.task import SpeechTask

SHAPE = SyntheticShape(dim=64, allowed_per_target=20, eval_per_target=15, allowed_per_nontarget_word=8)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def test_the_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    generate_speech_task(tmp_path / "a", seed=11, shape=SHAPE)
    generate_speech_task(tmp_path / "b", seed=11, shape=SHAPE)
    first = _files(tmp_path / "a")
    assert len(first) == 2 + 1 + 2 * 5 + 10 + 10 + 3
    assert first == _files(tmp_path / "b")


def test_another_seed_writes_other_data(tmp_path: Path) -> None:
    generate_speech_task(tmp_path / "a", seed=1, shape=SHAPE)
    generate_speech_task(tmp_path / "b", seed=2, shape=SHAPE)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a["train_embeddings/fifty.parquet"] != b["train_embeddings/fifty.parquet"]


def test_a_generated_task_has_the_original_layout_and_schema(tmp_path: Path) -> None:
    generate_speech_task(tmp_path, language="pt", train_size=60, seed=0)
    assert yaml.safe_load((tmp_path / "task.yaml").read_text()) == {
        "benchmark": "selection-speech",
        "config": {"language": "pt", "train_size": 60},
    }
    allowed = yaml.safe_load((tmp_path / "allowed_training_set.yaml").read_text())
    assert sorted(allowed["targets"]) == ["cidade", "grupo", "pessoas", "tempo", "vida"]
    table = pq.read_table(tmp_path / "train_embeddings" / "grupo.parquet")
    assert table.schema.field("clip_id").type == pa.string()
    assert table.schema.field("mswc_embedding_vector").type.value_type == pa.float32()
    assert len(table.column("mswc_embedding_vector")[0]) == 1024
    first_id = table.column("clip_id")[0].as_py()
    assert first_id.startswith("grupo/common_voice_pt_")
    assert first_id.endswith(".wav")
    evaluation = yaml.safe_load((tmp_path / "eval.yaml").read_text())
    unseen = {clip.split("/")[0] for clip in evaluation["nontargets"]} - {
        clip.split("/")[0] for clip in allowed["nontargets"]
    }
    assert len(unseen) == 3


def test_the_training_parquet_holds_clips_outside_the_allowed_set(tmp_path: Path) -> None:
    generate_speech_task(tmp_path, seed=0, shape=SHAPE)
    allowed = yaml.safe_load((tmp_path / "allowed_training_set.yaml").read_text())
    ids = pq.read_table(tmp_path / "train_embeddings" / "job.parquet").column("clip_id").to_pylist()
    assert len(ids) == SHAPE.allowed_per_target + SHAPE.unlisted_per_target
    assert set(allowed["targets"]["job"]) < set(ids)


def test_it_refuses_an_unknown_language(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="language must be one of en, id, pt"):
        generate_speech_task(tmp_path, language="fr")


@pytest.mark.parametrize("budget", [2, 5, 25, 60])
def test_baselines_are_valid_selections_within_the_budget(
    speech_evaluator: Evaluator[Any, Any], tmp_path: Path, budget: int
) -> None:
    generate_speech_task(tmp_path / "task", train_size=budget, seed=4, shape=SHAPE)
    task = speech_evaluator.load_task(tmp_path / "task", {"language": "en", "train_size": budget})
    baselines = baseline_submissions(tmp_path / "task", seed=4)
    assert set(baselines) == {"first-k", "random-balanced", "random"}
    for name, selection in baselines.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(selection))
        assert 2 <= speech_evaluator.validate(task, path).n_entries <= budget


def test_baselines_are_deterministic(small_task_dir: Path) -> None:
    assert baseline_submissions(small_task_dir, seed=5) == baseline_submissions(small_task_dir, seed=5)
    assert baseline_submissions(small_task_dir, seed=5) != baseline_submissions(small_task_dir, seed=6)


def test_baselines_score_between_zero_and_one_on_the_default_task(
    speech_evaluator: Evaluator[Any, Any], tmp_path: Path
) -> None:
    generate_speech_task(tmp_path / "task", seed=0)
    task: SpeechTask = speech_evaluator.load_task(tmp_path / "task", {"language": "en", "train_size": 25})
    scores = {}
    for name, selection in baseline_submissions(tmp_path / "task", seed=0).items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(selection))
        scores[name] = speech_evaluator.evaluate(task, speech_evaluator.validate(task, path)).primary
    assert all(0 < score < 1 for score in scores.values()), scores
    # Learnable but not trivial: a balanced choice beats chance (1/6) clearly, and nothing is perfect.
    assert scores["random-balanced"] > 0.3
    assert max(scores.values()) < 0.95

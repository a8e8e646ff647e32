"""test-set-creation: the config, the task files (organizer errors are TaskConfigError) and check_task."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluators import Evaluator, TaskConfigError
from evaluators.test_set_creation.task import TestSetTask
from tests.evaluators.test_set_creation.helpers import CONFIG


def test_the_config_fills_in_the_models(evaluator: Evaluator[Any, Any]) -> None:
    config = evaluator.validate_config({"labels": ["a", "b"], "n_items": 3})
    assert config == {"labels": ["a", "b"], "n_items": 3, "models": ["logreg", "svc", "mlp"]}
    assert evaluator.validate_config(config) == config


@pytest.mark.parametrize(
    ("config", "rule"),
    [
        ({"labels": ["a", "b"]}, "config.n_items must be an integer from 1"),
        ({"labels": ["a", "b"], "n_items": 0}, "config.n_items must be an integer from 1"),
        ({"labels": ["a", "b"], "n_items": True}, "config.n_items must be an integer"),
        ({"labels": ["a"], "n_items": 3}, "config.labels must be a list of 2 to 1000"),
        ({"labels": ["a", "b"], "n_items": 3, "models": ["tree"]}, "config.models must be a non-empty list"),
        ({"labels": ["a", "b"], "n_items": 3, "max_items": 3}, "unexpected config key(s) max_items"),
    ],
)
def test_it_rejects_a_bad_config(evaluator: Evaluator[Any, Any], config: dict[str, Any], rule: str) -> None:
    with pytest.raises(TaskConfigError) as raised:
        evaluator.validate_config(config)
    assert rule in str(raised.value)


def test_the_metrics_and_the_hidden_file(evaluator: Evaluator[Any, Any]) -> None:
    config = evaluator.validate_config(CONFIG)
    assert evaluator.primary_metric(config).name == "credit"
    assert [(s.name, s.leaderboard_column) for s in evaluator.metric_specs(config)] == [
        ("raw_credit", True),
        ("items_accepted", True),
        ("items_fooling", True),
    ]
    assert [rule.pattern for rule in evaluator.data_files if rule.hidden] == ["human_labels.csv"]


def _copy(task_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "task"
    shutil.copytree(task_dir, copy)
    return copy


def _load(evaluator: Evaluator[Any, Any], task_dir: Path, config: dict[str, Any] = CONFIG) -> TestSetTask:
    task: TestSetTask = evaluator.load_task(task_dir, evaluator.validate_config(config))
    return task


def test_check_task_accepts_the_demo_task(evaluator: Evaluator[Any, Any], task: TestSetTask) -> None:
    assert evaluator.check_task(task) == []


def test_it_rejects_a_pool_smaller_than_n_items(evaluator: Evaluator[Any, Any], task_dir: Path) -> None:
    with pytest.raises(TaskConfigError, match="400 items, fewer than n_items = 500"):
        _load(evaluator, task_dir, {**CONFIG, "n_items": 500})


def test_it_rejects_duplicate_pool_ids(evaluator: Evaluator[Any, Any], task_dir: Path, tmp_path: Path) -> None:
    copy = _copy(task_dir, tmp_path)
    table = pq.read_table(copy / "pool.parquet")
    ids = table.column("id").to_pylist()
    ids[1] = ids[0]
    pq.write_table(table.set_column(0, "id", pa.array(ids)), copy / "pool.parquet")
    with pytest.raises(TaskConfigError, match="an id appears more than once"):
        _load(evaluator, copy)


def test_it_rejects_a_pool_without_the_id_column(
    evaluator: Evaluator[Any, Any], task_dir: Path, tmp_path: Path
) -> None:
    copy = _copy(task_dir, tmp_path)
    pq.write_table(pa.table({"ImageID": ["a"]}), copy / "pool.parquet")
    with pytest.raises(TaskConfigError, match="cannot be read as parquet with the columns id"):
        _load(evaluator, copy)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("id,label\npool_00000,cat\n", "pool item(s) have no human label"),
        ("item,label\n", "the header must be id,label"),
        ("id,label\nnope,cat\n", "'nope' is not an id of pool.parquet"),
        ("id,label\npool_00000,lion\n", "label 'lion' is not one of the task's labels"),
        ("id,label\npool_00000,cat\npool_00000,dog\n", "'pool_00000' has a second human label"),
        ("id,label\npool_00000\n", "line 2: expected id,label"),
    ],
)
def test_check_task_reports_bad_human_labels(
    evaluator: Evaluator[Any, Any], task_dir: Path, tmp_path: Path, text: str, rule: str
) -> None:
    copy = _copy(task_dir, tmp_path)
    (copy / "human_labels.csv").write_text(text, encoding="utf-8")
    problems = evaluator.check_task(_load(evaluator, copy))
    assert len(problems) == 1
    assert rule in problems[0]


def test_check_task_reports_a_training_set_with_unknown_labels(
    evaluator: Evaluator[Any, Any], task_dir: Path, tmp_path: Path
) -> None:
    copy = _copy(task_dir, tmp_path)
    table = pq.read_table(copy / "train.parquet")
    labels = ["lion"] * table.num_rows
    pq.write_table(table.set_column(1, "label", pa.array(labels)), copy / "train.parquet")
    assert "label(s) lion are not in config.labels" in evaluator.check_task(_load(evaluator, copy))[0]


def test_check_task_reports_embeddings_of_another_length(
    evaluator: Evaluator[Any, Any], task_dir: Path, tmp_path: Path
) -> None:
    copy = _copy(task_dir, tmp_path)
    table = pq.read_table(copy / "train.parquet")
    short = pa.array([[0.0, 1.0]] * table.num_rows, type=pa.list_(pa.float32()))
    pq.write_table(table.set_column(2, "embedding", short), copy / "train.parquet")
    assert "embeddings of another length" in evaluator.check_task(_load(evaluator, copy))[0]


def test_check_task_reports_a_pool_the_suite_never_gets_wrong(
    evaluator: Evaluator[Any, Any], task_dir: Path, tmp_path: Path
) -> None:
    copy = _copy(task_dir, tmp_path)
    config = {**CONFIG, "models": ["svc"]}
    loaded = _load(evaluator, copy, config)
    labels = np.asarray(loaded.config.labels)[loaded.predictions()[0]]
    rows = "".join(f"{item},{label}\n" for item, label in zip(loaded.pool_ids, labels, strict=True))
    (copy / "human_labels.csv").write_text("id,label\n" + rows, encoding="utf-8")
    problems = evaluator.check_task(_load(evaluator, copy, config))
    assert problems == ["the model suite predicts every pool item's human label: no submission can earn credit"]

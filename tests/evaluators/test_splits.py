"""The public/private partition of a task's evaluation units (`evaluators.splits`): validated settings, a
partition that is a pure function of the seed and the ids (the same in every process, whatever the order or
the hash seed), stratified per class, and the scoring of each side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluators import TaskConfigError
from evaluators.splits import (
    PRIVATE,
    PUBLIC,
    SplitConfig,
    partition,
    private_count,
    refuse_split,
    row_units,
    score_splits,
    split_and_rest,
    split_problems,
)

REPO = Path(__file__).resolve().parents[2]
IDS = [f"clip-{index:04d}" for index in range(200)]
LABELS = [("cat", "dog", "owl")[index % 3] for index in range(200)]


def test_without_the_keys_there_is_no_split_and_nothing_is_stored() -> None:
    split, rest = split_and_rest({"train_size": 25})

    assert not split.enabled
    assert rest == {"train_size": 25}
    assert split.as_dict() == {}
    assert partition(IDS, split=split) == [False] * len(IDS)


def test_a_split_is_stored_with_its_seed() -> None:
    split, rest = split_and_rest({"private_fraction": 0.5, "split_seed": 7, "language": "en"})

    assert rest == {"language": "en"}
    assert split.as_dict() == {"private_fraction": 0.5, "split_seed": 7}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"private_fraction": 1}, "config.private_fraction must be at least 0 and below 1"),
        ({"private_fraction": -0.1}, "config.private_fraction must be at least 0 and below 1"),
        ({"private_fraction": "half"}, "config.private_fraction must be a number"),
        ({"private_fraction": True}, "config.private_fraction must be a number"),
        ({"private_fraction": float("nan")}, "config.private_fraction must be a number"),
        ({"private_fraction": 0.5}, "config.split_seed is required with a private fraction"),
        ({"private_fraction": 0.5, "split_seed": 1.5}, "config.split_seed must be an integer"),
        ({"private_fraction": 0.5, "split_seed": -1}, "config.split_seed must be an integer"),
    ],
)
def test_bad_settings_name_the_key_and_the_rule(config: dict[str, object], fragment: str) -> None:
    with pytest.raises(TaskConfigError, match=fragment):
        SplitConfig.from_mapping(config)


def test_a_benchmark_without_a_sound_split_refuses_a_fraction_with_its_reason() -> None:
    refuse_split({"private_fraction": 0}, "one number per submission")

    with pytest.raises(TaskConfigError, match="must be 0 for this benchmark: one number per submission"):
        refuse_split({"private_fraction": 0.3}, "one number per submission")


def test_the_partition_does_not_depend_on_the_order_of_the_units() -> None:
    split = SplitConfig(private_fraction=0.3, seed=11)
    forwards = dict(zip(IDS, partition(IDS, split=split, strata=LABELS), strict=True))
    reversed_ids, reversed_labels = IDS[::-1], LABELS[::-1]
    backwards = dict(zip(reversed_ids, partition(reversed_ids, split=split, strata=reversed_labels), strict=True))

    assert forwards == backwards


def test_another_seed_gives_another_partition() -> None:
    first = partition(IDS, split=SplitConfig(private_fraction=0.5, seed=1))
    second = partition(IDS, split=SplitConfig(private_fraction=0.5, seed=2))

    assert first != second
    assert sum(first) == sum(second) == 100


def test_every_class_is_on_both_sides_in_its_share() -> None:
    private = partition(IDS, split=SplitConfig(private_fraction=0.25, seed=3), strata=LABELS)

    for label in ("cat", "dog", "owl"):
        members = [flag for flag, of in zip(private, LABELS, strict=True) if of == label]
        assert sum(members) == private_count(len(members), 0.25)
        assert 0 < sum(members) < len(members)


def test_the_private_count_rounds_to_the_nearest_and_keeps_both_sides() -> None:
    assert [private_count(size, 0.5) for size in (0, 1, 2, 3, 10)] == [0, 0, 1, 2, 5]
    assert private_count(10, 0.01) == 1  # never an empty private side
    assert private_count(10, 0.99) == 9  # never an empty public side
    assert private_count(10, 0.0) == 0


def test_a_class_too_small_to_split_is_reported_with_its_counts() -> None:
    strata = ["cat"] * 5 + ["owl"]

    problems = split_problems([str(i) for i in range(6)], split=SplitConfig(0.5, 0), strata=strata)

    assert problems == [
        "config.private_fraction 0.5: class 'owl' has 1 evaluation unit(s), so one side of the split would hold "
        "none of it (public 1, private 0); every class needs at least 2"
    ]
    assert split_problems(["a"], split=SplitConfig(), strata=["owl"]) == []


def _partition_in_a_new_process(hash_seed: str) -> list[bool]:
    code = (
        "import json, sys\n"
        "from evaluators.splits import SplitConfig, partition\n"
        "ids, labels = json.load(sys.stdin)\n"
        "print(json.dumps(partition(ids, split=SplitConfig(0.4, 5), strata=labels)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps([IDS, LABELS]),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    )
    return list(json.loads(done.stdout))


def test_the_partition_is_the_same_in_every_process_and_under_every_hash_seed() -> None:
    here = partition(IDS, split=SplitConfig(0.4, 5), strata=LABELS)

    assert _partition_in_a_new_process("1") == here
    assert _partition_in_a_new_process("4242") == here


def test_each_side_is_scored_on_its_own_units() -> None:
    values = [float(index) for index in range(10)]
    private = [index % 2 == 1 for index in range(10)]

    def mean_of(mask: list[bool]) -> tuple[float, dict[str, float]]:
        chosen = [value for value, keep in zip(values, mask, strict=True) if keep]
        return sum(chosen) / len(chosen), {"count": float(len(chosen))}

    scores = score_splits(private, mean_of)

    assert scores[PUBLIC].as_dict() == {"primary": 4.0, "metrics": {"count": 5.0}}
    assert scores[PRIVATE].as_dict() == {"primary": 5.0, "metrics": {"count": 5.0}}


def test_rows_of_one_unit_fall_on_one_side() -> None:
    rows = ["a", "b", "a", "c", "b", "d"]
    units = row_units(rows, ["x", "y", "x", "x", "y", "y"])

    private = units.private_rows(SplitConfig(0.5, 9))

    assert units.ids == ("a", "b", "c", "d")
    assert units.strata == ("x", "y", "x", "y")
    assert units.unit_of_row == (0, 1, 0, 2, 1, 3)
    assert private[0] == private[2] and private[1] == private[4]
    assert sum(private[row] for row in (0, 1, 3, 5)) == 2  # one unit of each stratum

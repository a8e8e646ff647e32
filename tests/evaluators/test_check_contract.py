"""`Evaluator.check` keeps the promise of its contract for every registered evaluator: it accepts what `validate`
accepts and rejects what `validate` rejects, with the same message. The platform's validation step runs
`check` and the evaluation step runs `validate`: were they to disagree, a submission could pass validation and
then fail to parse, or be rejected with a message that `validate` would not give offline.

Checked on every reference submission (accepted and rejected ones), on every demo baseline, on malformed copies
of the baselines drawn by the validator fuzzer's generators (`tests/reliability/fuzz_artifacts.py`), and on
hand-made faults of the two evaluators whose `check` has its own reading path (slice discovery, whose parquet
files the fuzzer does not write, and selection for vision).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError, available_slugs, get_evaluator
from evaluators.base import Evaluator
from evaluators.demo import demo_module
from evaluators.taskdir import load_task_dir
from tests.evaluators.conftest import ReferenceSubmission
from tests.reliability.fuzz_artifacts import Demo, build_directory, build_file, demo_world

EXAMPLES = 80
SLUGS = available_slugs()
WITH_DEMO = [slug for slug in SLUGS if get_evaluator(slug).demo_module]
ACCEPTED = "accepted"


def verdicts(evaluator: Evaluator[Any, Any], task: Any, path: Path) -> tuple[str, str]:
    """(validate's verdict, check's verdict): ACCEPTED or the `SubmissionError` message."""
    try:
        evaluator.validate(task, path)
    except SubmissionError as exc:
        validated = str(exc)
    else:
        validated = ACCEPTED
    try:
        evaluator.check(task, path)
    except SubmissionError as exc:
        checked = str(exc)
    else:
        checked = ACCEPTED
    return validated, checked


@functools.cache
def _reference_task(slug: str, case_dir: Path) -> tuple[Evaluator[Any, Any], Any]:
    directory = load_task_dir(case_dir / "task")
    evaluator = get_evaluator(slug)
    return evaluator, evaluator.load_task(directory.path, evaluator.validate_config(directory.config))


def test_check_agrees_with_validate_on_every_reference_submission(reference_submission: ReferenceSubmission) -> None:
    evaluator, task = _reference_task(reference_submission.slug, reference_submission.case_dir)
    path = reference_submission.case_dir / "submissions" / reference_submission.name
    validated, checked = verdicts(evaluator, task, path)
    assert checked == validated
    assert (validated != ACCEPTED) == bool(reference_submission.expectation.get("rejected"))


@pytest.mark.parametrize("slug", SLUGS)
def test_an_evaluator_with_its_own_check_is_exercised_here(slug: str) -> None:
    # An override is only proven by the demo-based tests below; the default (validate, result dropped) agrees
    # by construction.
    evaluator = get_evaluator(slug)
    if type(evaluator).check is not Evaluator.check:
        assert evaluator.demo_module, f"{slug} overrides check; give it a demo module so that it is tested here"


@pytest.fixture(scope="module", params=WITH_DEMO)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield demo_world(request.param, tmp_path_factory.mktemp(f"check-{request.param}"))


def test_check_accepts_every_demo_baseline(demo: Demo) -> None:
    for baseline in demo.baselines:
        assert verdicts(demo.evaluator, demo.task, baseline) == (ACCEPTED, ACCEPTED), baseline.name


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_check_agrees_with_validate_on_malformed_artifacts(demo: Demo, data: st.DataObject) -> None:
    workdir = Path(tempfile.mkdtemp(dir=demo.scratch))
    try:
        artifact = workdir / data.draw(st.sampled_from(["submission", "upload.csv", "selection.json"]))
        build = build_directory if demo.evaluator.submission_is_directory else build_file
        build(data, artifact, demo.baselines, demo.names)
        validated, checked = verdicts(demo.evaluator, demo.task, artifact)
        assert checked == validated
    finally:
        shutil.rmtree(workdir)


# --- hand-made faults of the evaluators with their own check ----------------------------------------------------

Edit = Callable[[list[list[str]]], None]


def _demo_baseline(slug: str, root: Path) -> tuple[Evaluator[Any, Any], Any, Path]:
    evaluator = get_evaluator(slug)
    module = demo_module(evaluator)
    assert module is not None
    module.generate_task(root / "task", config=module.DEMO_TASKS[0].config, seed=0, small=True)
    config = evaluator.validate_config(load_task_dir(root / "task").config)
    baseline = sorted(module.write_baselines(root / "task", root / "baselines", seed=0).values())[0]
    return evaluator, evaluator.load_task(root / "task", config), baseline


@pytest.fixture(scope="module")
def slice_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Evaluator[Any, Any], Any, Path]:
    return _demo_baseline("slice-discovery", tmp_path_factory.mktemp("check-slices"))


@pytest.fixture(scope="module")
def vision_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Evaluator[Any, Any], Any, Path]:
    return _demo_baseline("selection-vision", tmp_path_factory.mktemp("check-vision"))


def _lines(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]


def _set(row: int, column: int, value: str) -> Edit:
    def edit(lines: list[list[str]]) -> None:
        lines[row][column] = value

    return edit


def _drop(row: int) -> Edit:
    def edit(lines: list[list[str]]) -> None:
        del lines[row]

    return edit


def _copy(source: int, target: int) -> Edit:
    def edit(lines: list[list[str]]) -> None:
        lines[target] = list(lines[source])

    return edit


def _both(first: Edit, second: Edit) -> Edit:
    def edit(lines: list[list[str]]) -> None:
        first(lines)
        second(lines)

    return edit


def _cut_last_field(lines: list[list[str]]) -> None:
    del lines[-1][-1]


def _all_positive(lines: list[list[str]]) -> None:
    for line in lines[1:]:
        line[1] = "1"


def _write_slices(lines: list[list[str]], path: Path, file_format: str) -> Path:
    if file_format == "csv":
        path.write_text("".join(",".join(line) + "\n" for line in lines), encoding="utf-8")
        return path
    header, rows = lines[0], lines[1:]
    columns: dict[str, Any] = {header[0]: pa.array([row[0] for row in rows])}
    for index, name in enumerate(header[1:], start=1):
        values = [None if row[index] == "null" else float(row[index]) for row in rows]
        columns[name] = pa.array(values, type=pa.float64())
    pq.write_table(pa.table(columns), path, row_group_size=50)
    return path


SLICE_FAULTS: dict[str, Edit] = {
    "nan-late": _set(-1, 1, "nan"),
    "infinity-early": _set(3, 2, "inf"),
    "null-late": _set(-2, 1, "null"),
    "unknown-id": _set(-3, 0, "not-an-example"),
    "repeated-id": _copy(1, -1),
    "missing-row": _drop(-1),
    "nan-and-repeat": _both(_set(2, 1, "nan"), _copy(1, -1)),
}


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
@pytest.mark.parametrize("fault", ["none", *SLICE_FAULTS])
def test_slice_discovery_check_agrees_on_faults_in_either_format(
    slice_demo: tuple[Evaluator[Any, Any], Any, Path], fault: str, file_format: str, tmp_path: Path
) -> None:
    evaluator, task, baseline = slice_demo
    lines = _lines(baseline)
    if fault in SLICE_FAULTS:
        SLICE_FAULTS[fault](lines)
    if file_format == "csv" and fault == "null-late":
        lines[-2][1] = ""  # CSV has no null: an empty cell
    validated, checked = verdicts(evaluator, task, _write_slices(lines, tmp_path / "scores", file_format))
    assert checked == validated
    assert (validated == ACCEPTED) == (fault == "none"), validated


VISION_FAULTS: dict[str, Edit] = {
    "unknown-id-late": _set(-1, 0, "ffffffffffffffff"),
    "bad-label": _set(-2, 1, "2"),
    "short-line": _cut_last_field,
    "one-label": _all_positive,
}


@pytest.mark.parametrize("fault", ["none", *VISION_FAULTS])
def test_selection_vision_check_agrees_on_faults_in_a_concept_file(
    vision_demo: tuple[Evaluator[Any, Any], Any, Path], fault: str, tmp_path: Path
) -> None:
    evaluator, task, baseline = vision_demo
    submission = tmp_path / "submission"
    shutil.copytree(baseline, submission)
    concept_file = sorted(submission.glob("*.csv"))[-1]
    lines = _lines(concept_file)
    if fault in VISION_FAULTS:
        VISION_FAULTS[fault](lines)
    concept_file.write_text("".join(",".join(line) + "\n" for line in lines), encoding="utf-8")
    validated, checked = verdicts(evaluator, task, submission)
    assert checked == validated
    assert (validated == ACCEPTED) == (fault == "none"), validated

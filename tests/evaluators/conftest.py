"""Fixtures of the evaluator tests (plain pytest, no Django).

Nothing here imports numpy before `evaluators`: importing the package selects the OpenBLAS kernel the
reference values need, which is only possible before numpy is loaded (see evaluators/runtime.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import evaluators
from evaluators.registry import available_slugs, configure, configured_paths
from evaluators.selection_speech.synthetic import SyntheticShape, generate_speech_task
from evaluators.selection_speech.task import SpeechTask

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CASES = REPO_ROOT / "tests" / "fixtures" / "reference_cases"
# The shared reference cases sit beside the repository on the developers' machines and in CI; the copy
# under tests/fixtures keeps the repository self-contained. The first found wins for a slug/case name.
CASE_ROOTS = (FIXTURE_CASES, REPO_ROOT.parent / "shared" / "reference" / "cases")
SPEECH_SLUG = "selection-speech"
SPEECH_CASE = FIXTURE_CASES / SPEECH_SLUG / "en_25"
SMALL_SHAPE = SyntheticShape(
    dim=32,
    allowed_per_target=12,
    unlisted_per_target=2,
    eval_per_target=10,
    nontarget_words=4,
    allowed_per_nontarget_word=6,
    eval_per_nontarget_word=5,
    unseen_words=2,
    eval_per_unseen_word=5,
)

WriteSubmission = Callable[[Any], Path]


@dataclass(frozen=True)
class ReferenceSubmission:
    """One submission of a reference case and what the reference code gave for it."""

    slug: str
    case: str
    case_dir: Path
    name: str
    expectation: dict[str, Any]

    @property
    def test_id(self) -> str:
        return f"{self.slug}/{self.case}/{self.name}"


def discover_reference_submissions() -> list[ReferenceSubmission]:
    """Every submission of every reference case whose slug is registered, deduplicated by slug/case."""
    known = set(available_slugs())
    seen: set[tuple[str, str]] = set()
    found: list[ReferenceSubmission] = []
    for root in CASE_ROOTS:
        for expected_file in sorted(root.glob("*/*/expected.json")):
            case_dir = expected_file.parent
            slug, case = case_dir.parent.name, case_dir.name
            if slug not in known or (slug, case) in seen:
                continue
            seen.add((slug, case))
            expectations = json.loads(expected_file.read_text(encoding="utf-8"))
            found += [
                ReferenceSubmission(slug, case, case_dir, name, expectation)
                for name, expectation in sorted(expectations.items())
            ]
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "reference_submission" in metafunc.fixturenames:
        submissions = discover_reference_submissions()
        metafunc.parametrize("reference_submission", submissions, ids=[s.test_id for s in submissions])


@pytest.fixture
def reset_registry() -> Iterator[None]:
    """Start without host-configured paths and give the host's paths back afterwards."""
    host_paths = configured_paths()
    configure([])
    yield
    configure(host_paths)


@pytest.fixture(scope="session")
def speech_evaluator() -> evaluators.Evaluator[Any, Any]:
    return evaluators.get_evaluator(SPEECH_SLUG)


@pytest.fixture(scope="session")
def reference_task(speech_evaluator: evaluators.Evaluator[Any, Any]) -> SpeechTask:
    """The public en_25 reference task, loaded once."""
    task: SpeechTask = speech_evaluator.load_task(SPEECH_CASE / "task", {"language": "en", "train_size": 25})
    return task


@pytest.fixture(scope="session")
def reference_selection() -> dict[str, Any]:
    """The reference case's valid submission, as a dict to derive invalid ones from."""
    path = SPEECH_CASE / "submissions" / "A_en_25_balanced.json"
    selection: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return selection


@pytest.fixture(scope="session")
def reference_allowed() -> dict[str, Any]:
    allowed: dict[str, Any] = yaml.safe_load((SPEECH_CASE / "task" / "allowed_training_set.yaml").read_text())
    return allowed


@pytest.fixture(scope="session")
def small_task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic task (32-d embeddings, budget 25): fast to score, for the rules tests."""
    directory = tmp_path_factory.mktemp("small_speech_task")
    generate_speech_task(directory, language="en", train_size=25, seed=3, shape=SMALL_SHAPE)
    return directory


@pytest.fixture(scope="session")
def small_task(speech_evaluator: evaluators.Evaluator[Any, Any], small_task_dir: Path) -> SpeechTask:
    task: SpeechTask = speech_evaluator.load_task(small_task_dir, {"language": "en", "train_size": 25})
    return task


@pytest.fixture
def write_submission(tmp_path: Path) -> WriteSubmission:
    """Write a submission (a JSON-able object, or str / bytes written as they are) and return its path."""
    counter = iter(range(1_000_000))

    def write(content: Any) -> Path:
        path = tmp_path / f"submission_{next(counter)}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content), encoding="utf-8")
        return path

    return write

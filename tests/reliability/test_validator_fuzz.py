"""Every registered evaluator's `validate` under 500 malformed artifacts: it returns, or raises a
`SubmissionError` whose message is non-empty, names what is wrong (a file, a line, a key, a value) and can be
stored as text (UTF-8, no NUL: PostgreSQL refuses both, which would leave the submission stuck in
`validating`). Any other exception, or a validator that hangs, fails the test.

Each evaluator's demo task (`small=True`) is generated and loaded once; the examples are malformed copies of
its baselines (`write_baselines`) and plain junk (`fuzz_artifacts.py`). Derandomized: the same examples on
every run. Evaluators without a demo module are test plug-ins (the slowed-down speech evaluator shares the
speech validator); every built-in one has a demo module.
"""

from __future__ import annotations

import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError, available_slugs, get_evaluator
from evaluators.registry import BUILTIN_EVALUATORS
from tests.reliability.fuzz_artifacts import Demo, build_directory, build_file, demo_world

EXAMPLES = 500
HANG_SECONDS = 10
PLACE = re.compile(
    r"\b(line|row|column|key|value|field|header|file|folder|directory|item|id|label|entries|pair|market|"
    r"concept|dataset|target|nontarget|seller|budget|bytes|byte|index|score|submission|ImageID|Confidence)s?\b",
    re.IGNORECASE,
)
SLUGS = [slug for slug in available_slugs() if get_evaluator(slug).demo_module]


class ValidatorHung(Exception):
    pass


def test_every_built_in_evaluator_is_fuzzed() -> None:
    assert set(BUILTIN_EVALUATORS) <= set(SLUGS)


@pytest.fixture(scope="module", params=SLUGS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    made = demo_world(request.param, tmp_path_factory.mktemp(f"fuzz-{request.param}"))
    yield made
    # Seen with `-s`: how the examples ended (a fuzzer that only ever produced accepted files would test nothing).
    print(f"\n{request.param}: {dict(made.outcomes)}")


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise ValidatorHung(f"validate() ran for more than {HANG_SECONDS} s")


def _names_a_place(message: str, artifact: Path) -> bool:
    if PLACE.search(message):
        return True
    names = {artifact.name} | {path.name for path in artifact.rglob("*")} if artifact.is_dir() else {artifact.name}
    return any(name and name in message for name in names)


def _check(demo: Demo, artifact: Path) -> None:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HANG_SECONDS)
    try:
        demo.evaluator.validate(demo.task, artifact)
    except SubmissionError as exc:
        message = str(exc)
        assert message.strip(), "an empty message"
        assert "\x00" not in message, f"a NUL character in {message!r}"
        message.encode("utf-8")  # raises on a lone surrogate: the message could not be stored or shown
        assert _names_a_place(message, artifact), f"the message names nothing: {message!r}"
        demo.outcomes["rejected"] += 1
    else:
        demo.outcomes["accepted"] += 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_validate_returns_or_raises_a_submission_error_naming_the_fault(demo: Demo, data: st.DataObject) -> None:
    workdir = Path(tempfile.mkdtemp(dir=demo.scratch))
    try:
        artifact = workdir / data.draw(st.sampled_from(["submission", "selection.json", "upload.csv", "my files"]))
        build = build_directory if demo.evaluator.submission_is_directory else build_file
        build(data, artifact, demo.baselines, demo.names)
        _check(demo, artifact)
    finally:
        shutil.rmtree(workdir)

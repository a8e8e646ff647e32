"""The evaluator contract: every benchmark type implements one `Evaluator` subclass.

An evaluator is plain Python (no Django): files and arrays in, a typed result out. The platform and the
offline CLI (`python -m evaluators score`) call exactly the same methods, so a participant scoring offline
gets the number the server would give.

Life cycle, as the platform drives it:

1. `validate_config(config)` when an organizer saves a task (raises `TaskConfigError`).
2. `load_task(task_dir, config)` once per worker process and task data version (the platform caches the
   returned object; it must be safe to reuse for many submissions and must not be mutated by them).
3. `validate(task, submission_path)` parses the artifact fully and checks every rule, raising
   `SubmissionError` with a message a participant can act on. It may only read the task's *public* files,
   because the web process and participants (offline) run it too.
   `check(task, submission_path)` applies the same rules with the same messages without keeping the parsed
   form: the platform's validation step calls it (it only needs the verdict), and the evaluation step parses
   again with `validate`.
4. `evaluate(task, parsed, report_progress)` computes the metrics. It may read hidden files.

`canonical(task, parsed)` gives a validated artifact's substance as plain JSON data; the closed division
compares the forms of a submitted artifact and of its algorithm's rerun (see `evaluators.algorithm`).
"""

from __future__ import annotations

import abc
import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

ProgressCallback = Callable[[float, str], None]
"""`report_progress(fraction, message)`: fraction in [0, 1], message a short human-readable phrase."""


class EvaluatorError(Exception):
    """Base class of the errors an evaluator raises on purpose."""


class SubmissionError(EvaluatorError):
    """The submission breaks a rule. The message is shown to the participant as it is.

    It names the file, the line or key, the offending value and the rule, e.g.
    `targets.fifty[3]: "fifty/x.wav" is not in the allowed training set of "fifty"`.
    """


class TaskConfigError(EvaluatorError):
    """The task's configuration or data files are unusable (an organizer's error, never a participant's)."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric an evaluator reports.

    `name` is the key in `EvaluationResult.metrics` (or the primary's name); `display_scale` is the factor
    the leaderboard multiplies by when showing the value (100 for the DataPerf leaderboards' percentages).
    """

    name: str
    label: str
    higher_is_better: bool = True
    display_scale: float = 1.0
    leaderboard_column: bool = False
    """Shown as a column of the leaderboard table (per-concept or per-model values, say)."""


@dataclass(frozen=True)
class SplitScore:
    """A primary value and metrics computed on one side of a task's public/private split."""

    primary: float
    metrics: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"primary": self.primary, "metrics": self.metrics}


@dataclass(frozen=True)
class EvaluationResult:
    """What `evaluate` returns.

    `primary` is the primary metric on the original's scale, over the whole evaluation set; `metrics` holds
    every other reported value (name -> float); `details` is JSON-serialisable data for charts (curves,
    per-class values), never hidden labels. `splits` is empty unless the task has a private split
    (`evaluators.splits`): then it holds "public" and "private", each with the same metric names computed on
    that side alone, and every chart outside `details["sealed"]` and `details["sealed_charts"]` is computed
    on the public side alone.
    """

    primary: float
    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    splits: dict[str, SplitScore] = field(default_factory=dict)


def chart(
    kind: str,
    title: str,
    x: Sequence[Any],
    y: Sequence[float],
    *,
    x_label: str = "",
    y_label: str = "",
    series: str = "",
) -> dict[str, Any]:
    """One chart for `EvaluationResult.details["charts"]` (a list of these), drawn on the submission page.

    Charts (and data under `details["sealed"]`) that would reveal hidden information (e.g. which listed rows
    were mislabelled) go in `details["sealed_charts"]`: shown to organizers, and to the team once the
    challenge has ended.

    `kind` is "bar" or "line"; charts with the same title and different `series` share one plot.
    """
    if kind not in {"bar", "line"}:
        raise ValueError(f"unknown chart kind {kind!r}")
    return {
        "kind": kind,
        "title": title,
        "x": list(x),
        "y": [float(v) for v in y],
        "x_label": x_label,
        "y_label": y_label,
        "series": series,
    }


@dataclass(frozen=True)
class DataFileRule:
    """Declares which task files exist and who may see them.

    `pattern` is a glob relative to the task directory (`train_embeddings/*.parquet`). Hidden files are
    never served to participants nor mounted into a sandbox; the platform refuses to mark a file matching a
    hidden rule as public.
    """

    pattern: str
    hidden: bool
    description: str
    required: bool = True


TaskT = TypeVar("TaskT")
ParsedT = TypeVar("ParsedT")


def no_progress(fraction: float, message: str) -> None:
    """A `ProgressCallback` that ignores what it is told."""


def plain_data(value: object) -> object:
    """`value` as JSON-serialisable data: dataclasses become dicts of their fields, mappings dicts (keys as
    strings), lists and tuples lists (order kept), sets sorted lists, numpy arrays and scalars their `tolist()`.

    Raises `TypeError` for anything else (an evaluator whose parsed artifact holds such values must override
    `Evaluator.canonical`).
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: plain_data(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((plain_data(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    # numpy arrays and scalars, recognised without importing numpy (see evaluators/__init__.py).
    to_list = getattr(value, "tolist", None)
    if callable(to_list) and type(value).__module__ == "numpy":
        return plain_data(to_list())
    raise TypeError(f"{type(value).__name__} is not plain data; override Evaluator.canonical")


class Evaluator(abc.ABC, Generic[TaskT, ParsedT]):
    """Base class of every benchmark type. Subclasses set the class attributes and implement the methods.

    `slug` never changes once published. `version` changes whenever a score could change for the same
    inputs (a bug fix, a library pin); the platform records it with every score and can rescore.
    """

    slug: ClassVar[str]
    title: ClassVar[str]
    version: ClassVar[str]
    submission_format: ClassVar[str]
    """A short participant-facing description of the artifact (shown on the task page and in `--help`)."""
    submission_is_directory: ClassVar[bool] = False
    """True when the artifact is a directory (uploaded as a zip or tar.gz archive and unpacked safely)."""
    data_files: ClassVar[Sequence[DataFileRule]] = ()
    split_refusal: ClassVar[str | None] = None
    """Why a public/private split of this benchmark's evaluation data has no sound meaning, if it has none:
    `validate_config` then refuses a private fraction with this reason, and the task page shows it."""
    demo_module: ClassVar[str | None] = None
    """Dotted path of a module with the benchmark's synthetic data (see `evaluators.demo`): used for the demo
    challenge and by the contract test that every registered evaluator passes."""

    def check_task(self, task: TaskT) -> list[str]:
        """Problems an organizer must fix, found with every file (public and hidden) present: e.g. a task whose
        metric would divide by zero. Called when task data changes, before any submission is scored."""
        return []

    @abc.abstractmethod
    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Return the normalised config (defaults filled in) or raise `TaskConfigError`."""

    @abc.abstractmethod
    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        """The primary metric of a task with this (validated) config."""

    @abc.abstractmethod
    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        """Every non-primary metric `evaluate` reports for this (validated) config, in display order."""

    @abc.abstractmethod
    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> TaskT:
        """Load (or memory-map) the task's data. Raise `TaskConfigError` on missing or malformed files.

        The object is cached and shared by many submissions; it must be treated as read-only. Loading hidden
        files may be deferred to the first `evaluate`, so that `validate` works on a public-only copy.
        """

    @abc.abstractmethod
    def validate(self, task: TaskT, submission_path: Path) -> ParsedT:
        """Parse and check the artifact fully; raise `SubmissionError` with an actionable message.

        Reads only public task files. Never raises anything else on bad input (malformed, wrong types,
        unknown ids, oversized): every input fault becomes a `SubmissionError`.
        """

    def check(self, task: TaskT, submission_path: Path) -> None:
        """The same rules and the same messages as `validate`, without keeping the parsed form.

        Returns exactly when `validate` would return and raises the `SubmissionError` `validate` would raise
        (the same first fault, the same message); like it, reads only public task files. The platform's
        validation step calls this, since it only needs the verdict (the evaluation step runs `validate`).

        The default calls `validate` and drops the result. An evaluator whose parsed form is large (a score
        per example, a million rows per file) overrides it to check values as it reads them and store none,
        through the same reading code as `validate`, so that the two cannot diverge: the parsed form would
        otherwise be most of the memory a validation of a large upload takes.
        """
        self.validate(task, submission_path)

    @abc.abstractmethod
    def evaluate(
        self, task: TaskT, parsed: ParsedT, report_progress: ProgressCallback = no_progress
    ) -> EvaluationResult:
        """Score a validated submission. Deterministic: the same inputs give the same result."""

    def canonical(self, task: TaskT, parsed: ParsedT) -> object:
        """The substance of a validated artifact as JSON-serialisable data (dicts, lists, strings, numbers).

        The closed division's reproducibility check compares the form of the submitted artifact with that of
        its algorithm's output, and `evaluators.algorithm.describe_difference` explains a mismatch. Two
        artifacts the evaluator scores identically for the same reason (the same selection in another order,
        the same ids in another file layout) must give equal forms; artifacts that differ in substance must
        give different ones. Order is kept only where it matters (a ranking); sets become sorted lists.

        The default is the parsed artifact itself as plain data (`plain_data`: exact, but sensitive to every
        order it keeps); evaluators override it to leave out what does not count.
        """
        return plain_data(parsed)


class CollectiveEvaluator(Evaluator[TaskT, ParsedT]):
    """An evaluator whose score of one submission depends on the others (test-set creation divides an item's
    credit among every submission holding it). `evaluate` scores a submission as if it were alone; the
    platform calls `evaluate_all` over the ranked submissions of each division of the task (a division is a
    competition of its own), in one job, whenever one lands."""

    @abc.abstractmethod
    def evaluate_all(
        self, task: TaskT, parsed: Mapping[str, ParsedT], report_progress: ProgressCallback = no_progress
    ) -> dict[str, EvaluationResult]:
        """Score every submission (key -> parsed artifact) together; return key -> result for every key."""

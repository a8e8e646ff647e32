"""The demo challenge as a bundle: one task per demo task of every registered benchmark, on deterministic
synthetic data, each with the demo's private split (`evaluators.demo.demo_split`) and a concealed task (the same
benchmark on data drawn with another seed, without a split) for the closed division. `demo_create` imports it
like any other bundle; `manage.py write_demo_bundle` writes it alone."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.backoffice.bundles import FORMAT, BundleWriter, InvalidBundle, bundle_manifest_read
from apps.challenges.models import CONCEALED_DIR, Challenge, ConcealedVisibility, TaskDataFile
from apps.challenges.services import data_file_required_role
from apps.core.errors import InvalidInput
from apps.divisions.models import Division
from evaluators import available_slugs, get_evaluator
from evaluators.demo import DemoModule, DemoTask, demo_module
from evaluators.taskdir import TASK_FILE

DEMO_SLUG = "dataperf-demo"
OPENED_BEFORE = dt.timedelta(weeks=6)
"""The demo challenge opened this long before its bundle was written: the simulated history fills the time."""
LIFETIME = dt.timedelta(days=365)
FRESH_FOR = dt.timedelta(days=30)
"""A stored demo bundle is written again when its challenge would end within this time (or opened too recently)."""

DESCRIPTION = """
A demonstration of DataPerf's data-centric benchmarks: in every task the model and its training recipe are
fixed, and what competes is *the data you hand in*: a training-set selection, a ranking of label errors, a
purchase plan, slices, rows to clean, a training set or a test set.

All data here is synthetic (generated deterministically), in the original DataPerf formats. Download a task's
public files, check your file offline with `python -m evaluators validate`, and submit.
"""

RULES = """
1. The open division accepts any method; the closed division also requires the code that produced the file.
2. Do not try to obtain hidden data (ground truth, evaluation sets).
3. Quotas are per team and per task, as each task page states.
"""

DIVISIONS: list[dict[str, Any]] = [
    {"slug": "open", "kind": Division.Kind.OPEN.value, "name": "Open", "order": 0},
    {"slug": "closed", "kind": Division.Kind.CLOSED.value, "name": "Closed", "order": 1},
]


def demo_bundle_path() -> Path:
    """Where `demo_create` keeps the demo's bundle: VAR_DIR/bundles/dataperf-demo.zip."""
    return Path(settings.VAR_DIR) / "bundles" / f"{DEMO_SLUG}.zip"


def demo_specs(benchmarks: Sequence[str] | None = None) -> list[tuple[str, DemoModule, DemoTask]]:
    """(benchmark slug, its demo module, demo task) of every demo task, or of the named benchmarks' only.
    Raises `InvalidInput` for a name that is not a benchmark with a demo."""
    found: list[tuple[str, DemoModule, DemoTask]] = []
    for slug in available_slugs():
        module = demo_module(get_evaluator(slug))
        if module is not None and (benchmarks is None or slug in benchmarks):
            found += [(slug, module, spec) for spec in module.DEMO_TASKS]
    unknown = sorted(set(benchmarks or ()) - {slug for slug, _, _ in found})
    if unknown:
        raise InvalidInput(f"No demo for the benchmark(s) {', '.join(unknown)}.")
    return found


def demo_bundle_write(
    *,
    target: Path,
    benchmarks: Sequence[str] | None = None,
    small: bool = False,
    now: dt.datetime | None = None,
    challenge: Mapping[str, Any] | None = None,
) -> Path:
    """Generate the demo's data and write its bundle to `target` (replaced); returns `target`.

    The challenge opened `OPENED_BEFORE` before `now` (default: the current time) and ends a year after.
    `benchmarks` limits it to those benchmarks' demo tasks; `small` generates each benchmark's quick,
    unit-test-sized data; `challenge` replaces fields of the challenge (another slug, title, dates: the previous
    season). Deterministic data (seed 0; the concealed tasks seed 1). Creates no database rows.
    """
    now = now or timezone.now()
    fields = {
        "slug": DEMO_SLUG,
        "title": "DataPerf demo: data-centric benchmarks",
        "summary": "Every DataPerf benchmark type on synthetic data: the model is fixed, the data competes.",
        "description": DESCRIPTION,
        "rules": RULES,
        "starts_at": now - OPENED_BEFORE,
        "ends_at": now + LIFETIME,
        "visibility": Challenge.Visibility.PUBLIC.value,
        **(challenge or {}),
    }
    with tempfile.TemporaryDirectory(prefix="demo-bundle-") as tmp, BundleWriter(target) as writer:
        tasks = [
            _write_task(writer, slug, module, spec, order=order, work=Path(tmp), small=small)
            for order, (slug, module, spec) in enumerate(demo_specs(benchmarks))
        ]
        writer.finish(challenge=fields, divisions=DIVISIONS, tasks=tasks)
    return target


def _challenge_config(slug: str, spec: DemoTask) -> dict[str, Any]:
    """The demo task's normalised config in the challenge, private split included."""
    return get_evaluator(slug).validate_config(spec.challenge_config())


def _write_task(
    writer: BundleWriter, slug: str, module: DemoModule, spec: DemoTask, *, order: int, work: Path, small: bool
) -> dict[str, Any]:
    for seed, prefix in ((0, ""), (1, f"{CONCEALED_DIR}/")):
        data_dir = work / spec.slug / str(seed)
        module.generate_task(data_dir, config=spec.config, seed=seed, small=small)
        for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and p.name != TASK_FILE):
            relative = prefix + path.relative_to(data_dir).as_posix()
            role = data_file_required_role(evaluator_slug=slug, relative_path=relative) or TaskDataFile.Role.HIDDEN
            with path.open("rb") as handle:
                writer.add_file(task_slug=spec.slug, relative_path=relative, role=role, source=handle)
    return {
        "slug": spec.slug,
        "title": spec.title,
        "description": spec.description,
        "order": order,
        "evaluator_slug": slug,
        "ml_task": spec.ml_task,
        "config": _challenge_config(slug, spec),
        "quota_per_day": 10,
        # The platform refuses a split on a concealed task: it is hidden as a whole until its own reveal.
        "concealed_config": get_evaluator(slug).validate_config(spec.config),
        "concealed_visibility": ConcealedVisibility.ALWAYS.value,
    }


def demo_bundle_current(*, path: Path, now: dt.datetime | None = None) -> bool:
    """Whether the stored bundle can serve: it exists, is of this platform's format, its challenge opened at
    least `OPENED_BEFORE` ago (the simulated history needs the time) and is not about to end, and it holds
    exactly the demo tasks of the benchmarks registered now, with the configs the demo gives them now (a changed
    demo config, such as a new private split, rewrites it)."""
    if not path.is_file():
        return False
    now = now or timezone.now()
    try:
        document = bundle_manifest_read(archive=path)
        challenge, tasks = document["challenge"], document["tasks"]
        starts, ends = (
            dt.datetime.fromisoformat(challenge["starts_at"]),
            dt.datetime.fromisoformat(challenge["ends_at"]),
        )
        configs = {task["slug"]: task["config"] for task in tasks}
    except (InvalidBundle, KeyError, TypeError, ValueError):
        return False
    expected = {spec.slug: _challenge_config(slug, spec) for slug, _, spec in demo_specs()}
    return (
        document.get("format") == FORMAT
        and starts <= now - OPENED_BEFORE
        and now < ends - FRESH_FOR
        and configs == expected
    )


def demo_bundle_ensure(*, path: Path | None = None, small: bool = False) -> Path:
    """The demo bundle at `path` (default `demo_bundle_path()`), written first (with `small` data, if asked)
    unless `demo_bundle_current`."""
    path = path or demo_bundle_path()
    if not demo_bundle_current(path=path):
        demo_bundle_write(target=path, small=small)
    return path

"""Where evaluators come from: built-ins, installed entry points, and dotted paths named by the host.

Evaluator classes are named by dotted path (`package.module:Class` or `package.module.Class`) and imported
only when first needed, then cached: importing an evaluator pulls in scikit-learn and friends, which the web
process should not pay for at start-up unless it asks. `check_registry()` imports everything once and
reports every problem as text, so the host can fail loudly at start-up (the Django side turns the list into
system-check errors).

Sources, in precedence order (the first registration of a slug wins; duplicates are reported):

1. `BUILTIN_EVALUATORS` below;
2. entry points of the group `dataperf.evaluators` (name = slug, value = dotted path);
3. dotted paths given by the host through `configure(extra_paths)`; their slug is read from the class.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from evaluators.base import Evaluator, EvaluatorError

BUILTIN_EVALUATORS: dict[str, str] = {
    "selection-speech": "evaluators.selection_speech.evaluator:SelectionSpeechEvaluator",
    "selection-vision": "evaluators.selection_vision.evaluator:SelectionVisionEvaluator",
    "acquisition": "evaluators.acquisition.evaluator:AcquisitionEvaluator",
    "valuation": "evaluators.valuation.evaluator:ValuationEvaluator",
    "training-set-creation": "evaluators.training_set_creation.evaluator:TrainingSetCreationEvaluator",
    "test-set-creation": "evaluators.test_set_creation.evaluator:TestSetCreationEvaluator",
    "slice-discovery": "evaluators.slice_discovery.evaluator:SliceDiscoveryEvaluator",
    "budget-cleaning": "evaluators.budget_cleaning.evaluator:BudgetCleaningEvaluator",
    "debugging-vision": "evaluators.debugging_vision.evaluator:DebuggingVisionEvaluator",
    "adversarial-test-set": "evaluators.adversarial_test_set.evaluator:AdversarialTestSetEvaluator",
}
ENTRY_POINT_GROUP = "dataperf.evaluators"

_REQUIRED_ATTRIBUTES = ("slug", "title", "version", "submission_format")
_extra_paths: tuple[str, ...] = ()
_configure_lock = threading.Lock()


class RegistryError(EvaluatorError):
    """An evaluator named in the registry cannot be imported or is not a usable `Evaluator` subclass."""


class UnknownEvaluatorError(EvaluatorError, KeyError):
    """No evaluator is registered under this slug. A `KeyError`, so `except KeyError` also catches it."""

    def __init__(self, slug: str, known: Sequence[str]) -> None:
        self.slug = slug
        self.known = list(known)
        super().__init__(slug)

    def __str__(self) -> str:
        # KeyError's __str__ would print the repr of the argument; the message is meant for people.
        known = ", ".join(self.known) or "none"
        return f"unknown benchmark {self.slug!r}; known benchmarks: {known}"


@dataclass(frozen=True)
class RegistryEntry:
    """One registration: `slug` is None for host-given paths, whose slug is the class's own."""

    path: str
    origin: str
    slug: str | None


def configure(extra_paths: Sequence[str]) -> None:
    """Set the host's additional evaluator dotted paths (replacing earlier ones) and forget cached lookups."""
    global _extra_paths
    with _configure_lock:
        _extra_paths = tuple(extra_paths)
        _resolve_slugs.cache_clear()


def configured_paths() -> tuple[str, ...]:
    """The host's additional dotted paths, as last given to `configure`."""
    return _extra_paths


def _entry_points() -> list[RegistryEntry]:
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    return [
        RegistryEntry(path=ep.value, origin=f"entry point {ep.name!r} ({ENTRY_POINT_GROUP})", slug=ep.name)
        for ep in sorted(found, key=lambda ep: ep.name)
    ]


def registry_entries() -> list[RegistryEntry]:
    """Every registration, in precedence order (built-ins, entry points, host paths)."""
    entries = [RegistryEntry(path, "built-in", slug) for slug, path in BUILTIN_EVALUATORS.items()]
    entries += _entry_points()
    entries += [RegistryEntry(path, "configured path", None) for path in _extra_paths]
    return entries


def _split_path(path: str) -> tuple[str, str]:
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise RegistryError(f"{path!r} is not a dotted path of the form 'package.module:Class'")
    return module_name, attribute


@functools.cache
def load_evaluator_class(path: str) -> type[Evaluator[Any, Any]]:
    """Import the class named by `path` and check it is a concrete `Evaluator`; raise `RegistryError`."""
    module_name, attribute = _split_path(path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(f"{path!r}: cannot import module {module_name!r}: {exc}") from exc
    candidate = getattr(module, attribute, None)
    if candidate is None:
        raise RegistryError(f"{path!r}: module {module_name!r} has no attribute {attribute!r}")
    if not isinstance(candidate, type) or not issubclass(candidate, Evaluator):
        raise RegistryError(f"{path!r} is not a subclass of evaluators.base.Evaluator")
    missing = [name for name in _REQUIRED_ATTRIBUTES if not isinstance(getattr(candidate, name, None), str)]
    if missing:
        raise RegistryError(f"{path!r} does not set the class attribute(s) {', '.join(missing)}")
    if getattr(candidate, "__abstractmethods__", None):
        abstract = ", ".join(sorted(candidate.__abstractmethods__))
        raise RegistryError(f"{path!r} does not implement {abstract}")
    return candidate


@functools.cache
def _instance(path: str) -> Evaluator[Any, Any]:
    # Evaluators hold no per-submission state, so one instance per process serves every caller.
    return load_evaluator_class(path)()


@functools.cache
def _resolve_slugs() -> dict[str, str]:
    """slug -> path of every registration that can be resolved; host paths that fail to import are left out.

    Host paths are imported here because their slug is only known from the class; check_registry() reports
    the failures.
    """
    resolved: dict[str, str] = {}
    for entry in registry_entries():
        slug = entry.slug
        if slug is None:
            try:
                slug = load_evaluator_class(entry.path).slug
            except RegistryError:
                continue
        resolved.setdefault(slug, entry.path)
    return resolved


def available_slugs() -> list[str]:
    """The slugs of every registered evaluator, sorted."""
    return sorted(_resolve_slugs())


def get_evaluator(slug: str) -> Evaluator[Any, Any]:
    """The (shared, stateless) evaluator registered under `slug`.

    Raises `UnknownEvaluatorError` (a `KeyError`) listing the known slugs, or `RegistryError` if the
    registered class cannot be imported.
    """
    path = _resolve_slugs().get(slug)
    if path is None:
        raise UnknownEvaluatorError(slug, available_slugs())
    return _instance(path)


def _entry_problems(entry: RegistryEntry) -> tuple[str | None, list[str]]:
    """The slug the entry really provides (None if unusable) and its problems."""
    try:
        cls = load_evaluator_class(entry.path)
    except RegistryError as exc:
        return None, [f"{entry.origin}: {exc}"]
    if entry.slug is not None and cls.slug != entry.slug:
        return entry.slug, [f"{entry.origin}: registered as {entry.slug!r} but {entry.path} declares slug {cls.slug!r}"]
    return cls.slug, []


def check_registry() -> list[str]:
    """Import every registered evaluator and return the problems found, as sentences (empty if none).

    Reported: an import failure, a class that is not a concrete `Evaluator` subclass, a registry key that
    differs from the class's `slug`, and a slug registered more than once.
    """
    problems: list[str] = []
    seen: dict[str, RegistryEntry] = {}
    for entry in registry_entries():
        slug, entry_problems = _entry_problems(entry)
        problems += entry_problems
        if slug is None:
            continue
        first = seen.setdefault(slug, entry)
        if first is not entry:
            problems.append(
                f"slug {slug!r} is registered twice: {first.path} ({first.origin}) and "
                f"{entry.path} ({entry.origin}); the first one is used"
            )
    return problems

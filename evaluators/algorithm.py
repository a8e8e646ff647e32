"""Algorithm packages of the closed division: the manifest, the public inputs, and comparing artifacts.

A participant of the closed division submits an artifact together with the code that produced it. The code
is an archive whose root holds `dataperf-algorithm.yaml`:

    format: 1                     # the manifest format (the integer 1)
    benchmark: selection-speech   # the evaluator slug the algorithm targets
    entry_point:                  # exactly one of:
      module: algorithm           #   run as `python -m algorithm`, the code directory as working directory
      # command: [python, run.py] #   an argv list (no shell); its first item is looked up on PATH
    output: selection.json        # where, under the output directory, the artifact (file or folder) goes

At run time the algorithm gets `DATAPERF_INPUT_DIR` (the task's public files and `task.yaml`, read-only),
`DATAPERF_OUTPUT_DIR` (empty, writable), `DATAPERF_OUTPUT` (= output dir / `output`) and `DATAPERF_SEED`.
The platform reruns it over the public inputs and compares the evaluator's `canonical` form of its output
with that of the submitted artifact; `describe_difference` tells the participant what differs.

Every builtin benchmark ships an example algorithm in `evaluators/<benchmark>/algorithm/`.
"""

from __future__ import annotations

import fnmatch
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from evaluators.base import Evaluator, SubmissionError
from evaluators.inputs import content_root
from evaluators.taskdir import TASK_FILE

MANIFEST_NAME = "dataperf-algorithm.yaml"
MANIFEST_FORMAT = 1
EXAMPLE_DIR_NAME = "algorithm"
CONCEALED_DIR = "concealed"
"""Files of a task directory under this folder belong to the concealed task and are never public inputs."""

_MANIFEST_KEYS = ("format", "benchmark", "entry_point", "output")
_ENTRY_POINT_KEYS = ("module", "command")
_MAX_MANIFEST_BYTES = 64 * 1024
_MAX_SHOWN_CHARS = 60


class ManifestError(SubmissionError):
    """The algorithm package has no usable `dataperf-algorithm.yaml`; the message is shown to the participant."""


@dataclass(frozen=True)
class AlgorithmManifest:
    """A valid manifest. Exactly one of `module` and `command` is set; `output` is a normalised relative
    POSIX path (no `..`, not absolute, not the output directory itself)."""

    benchmark: str
    module: str | None
    command: tuple[str, ...] | None
    output: str

    def argv(self, python: str) -> list[str]:
        """The command line that runs the algorithm: `[python, "-m", module]`, or the manifest's command as it
        is (its first item is looked up on PATH by whoever runs it; `python` is then unused)."""
        if self.module is not None:
            return [python, "-m", self.module]
        if self.command is None:  # unreachable for a manifest built by parse_manifest
            raise ValueError("the manifest has neither a module nor a command")
        return list(self.command)


def _fail(message: str) -> ManifestError:
    return ManifestError(f"{MANIFEST_NAME}: {message}")


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN_CHARS else text[: _MAX_SHOWN_CHARS - 3] + "..."


def _read_manifest(path: Path) -> object:
    try:
        if not path.is_file():
            raise _fail("missing: the archive's root must hold this file (format, benchmark, entry_point, output)")
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise _fail(f"larger than {_MAX_MANIFEST_BYTES} bytes; a manifest is a few lines")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail("not UTF-8 text") from exc
    except OSError as exc:
        raise _fail(f"cannot be read ({exc.strerror or exc})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(f"not valid YAML: {exc}") from exc


def _check_keys(document: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(key) for key in document if key not in allowed)
    if unknown:
        raise _fail(f"unknown key(s) {', '.join(unknown)} in {where}; allowed: {', '.join(allowed)}")


def _format(document: Mapping[Any, Any]) -> None:
    if "format" not in document:
        raise _fail(f"missing 'format'; write 'format: {MANIFEST_FORMAT}'")
    value = document["format"]
    # bool is an int subclass: `format: true` is not format 1.
    if isinstance(value, bool) or value != MANIFEST_FORMAT or not isinstance(value, int):
        raise _fail(f"'format' must be the integer {MANIFEST_FORMAT}, got {_show(value)}")


def _benchmark(document: Mapping[Any, Any]) -> str:
    if "benchmark" not in document:
        raise _fail("missing 'benchmark': the slug of the benchmark the algorithm targets, e.g. 'selection-speech'")
    value = document["benchmark"]
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"'benchmark' must be a benchmark slug (a non-empty string), got {_show(value)}")
    return value.strip()


def _module(value: object) -> str:
    if isinstance(value, str) and value.endswith(".py"):
        # The usual slip: a file name where `python -m` wants a module name.
        raise _fail(f"entry_point.module names a module, not a file: write {_show(value[:-3])}, not {_show(value)}")
    if not isinstance(value, str) or not all(part.isidentifier() for part in value.split(".")):
        raise _fail(
            f"entry_point.module must be a dotted Python module path such as 'algorithm' or 'mypkg.run', "
            f"got {_show(value)}"
        )
    return value


def _command(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise _fail(
            "entry_point.command must be a non-empty list of non-empty strings (an argv, no shell), e.g. "
            f'["python", "run.py"]; got {_show(value)}'
        )
    return tuple(value)


def _entry_point(document: Mapping[Any, Any]) -> tuple[str | None, tuple[str, ...] | None]:
    if "entry_point" not in document:
        raise _fail("missing 'entry_point': a mapping with either 'module' (e.g. algorithm) or 'command'")
    entry = document["entry_point"]
    if not isinstance(entry, dict):
        raise _fail(f"'entry_point' must be a mapping with either 'module' or 'command', got {_show(entry)}")
    _check_keys(entry, _ENTRY_POINT_KEYS, "entry_point")
    if ("module" in entry) == ("command" in entry):
        given = "both" if "module" in entry else "neither"
        raise _fail(f"entry_point must have exactly one of 'module' and 'command', it has {given}")
    if "module" in entry:
        return _module(entry["module"]), None
    return None, _command(entry["command"])


def _output(document: Mapping[Any, Any]) -> str:
    if "output" not in document:
        raise _fail("missing 'output': the relative path the algorithm writes its artifact to, e.g. 'selection.json'")
    value = document["output"]
    if not isinstance(value, str):
        raise _fail(f"'output' must be the relative path of the artifact (a string), got {_show(value)}")
    if not value.strip():
        raise _fail("'output' is empty; name the artifact's file or folder, e.g. 'selection.json'")
    if "\\" in value:
        raise _fail(f"'output' {_show(value)} contains a backslash; separate folders with '/'")
    path = PurePosixPath(value)
    if path.is_absolute():
        raise _fail(f"'output' {_show(value)} is absolute; give a path relative to the output directory")
    if ".." in path.parts:
        raise _fail(f"'output' {_show(value)} contains '..'; the artifact must stay inside the output directory")
    if path.as_posix() == ".":
        raise _fail(f"'output' {_show(value)} names the output directory itself; name a file or folder in it")
    return path.as_posix()


def parse_manifest(path: Path) -> AlgorithmManifest:
    """Read and check `dataperf-algorithm.yaml`; raise `ManifestError` naming the fault.

    Checks: the file exists, is UTF-8 YAML holding a mapping with only the keys format, benchmark,
    entry_point and output; `format` is the integer 1; `benchmark` is a non-empty string (the caller compares
    it with the task's slug); `entry_point` has exactly one of `module` (a dotted module path) and `command`
    (a non-empty list of strings); `output` is a relative path without `..`.
    """
    document = _read_manifest(Path(path))
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        raise _fail(f"must be a mapping with the keys {', '.join(_MANIFEST_KEYS)}; the file is {kind}")
    _check_keys(document, _MANIFEST_KEYS, "the manifest")
    _format(document)
    benchmark = _benchmark(document)
    module, command = _entry_point(document)
    return AlgorithmManifest(benchmark=benchmark, module=module, command=command, output=_output(document))


def find_manifest_root(code_dir: Path) -> Path:
    """The directory holding the manifest: the package's root by the archives' one rule (`content_root`:
    `code_dir` itself, or the one folder wrapping everything, archiver noise aside).

    Raises `ManifestError` when it holds no `dataperf-algorithm.yaml`.
    """
    root = content_root(Path(code_dir))
    if (root / MANIFEST_NAME).is_file():
        return root
    raise ManifestError(
        f"no {MANIFEST_NAME} at the archive's root (nor in a single folder wrapping everything); "
        "add it next to your code"
    )


def example_algorithm_dir(evaluator: Evaluator[Any, Any]) -> Path | None:
    """The benchmark's example algorithm: the folder `algorithm/` next to the evaluator's module file, when it
    holds a manifest; None otherwise."""
    directory = Path(inspect.getfile(type(evaluator))).resolve().parent / EXAMPLE_DIR_NAME
    return directory if (directory / MANIFEST_NAME).is_file() else None


def _is_hidden(evaluator: Evaluator[Any, Any], relative: str) -> bool:
    # As the platform decides a file's role: a path matching any hidden rule is hidden, whatever the order.
    return any(rule.hidden and fnmatch.fnmatch(relative, rule.pattern) for rule in evaluator.data_files)


def public_input_files(evaluator: Evaluator[Any, Any], task_dir: Path) -> list[str]:
    """Relative POSIX paths (sorted) of the task directory's files that match no hidden data-file rule,
    leaving out `task.yaml` and everything under `concealed/`."""
    task_dir = Path(task_dir)
    found = []
    for path in task_dir.rglob("*"):
        relative = path.relative_to(task_dir).as_posix()
        if not path.is_file() or relative == TASK_FILE or relative.split("/", 1)[0] == CONCEALED_DIR:
            continue
        if not _is_hidden(evaluator, relative):
            found.append(relative)
    return sorted(found)


def write_public_inputs(evaluator: Evaluator[Any, Any], task_dir: Path, dest: Path) -> list[str]:
    """Copy the task's public input files and `task.yaml` into `dest` (created if needed), at their relative
    paths: what an algorithm sees as `DATAPERF_INPUT_DIR`. Returns the copied relative paths."""
    task_dir, dest = Path(task_dir), Path(dest)
    copied = [*public_input_files(evaluator, task_dir), TASK_FILE]
    for relative in copied:
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(task_dir / relative, target)
    return copied


# --- Comparing canonical forms -------------------------------------------------------------------------------

_EXPECTED = "the submitted artifact"
_ACTUAL = "the algorithm's output"


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= _MAX_SHOWN_CHARS else text[: _MAX_SHOWN_CHARS - 3] + "..."


def _listed(values: list[object], limit: int) -> str:
    shown = ", ".join(_shown(value) for value in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def _key(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def _multiset_only(left: list[Any], right: list[Any]) -> list[Any]:
    """The entries of `left` (in its order) that `right` lacks, counting repeats."""
    remaining = Counter(_key(value) for value in right)
    only = []
    for value in left:
        key = _key(value)
        if remaining[key]:
            remaining[key] -= 1
        else:
            only.append(value)
    return only


def _list_difference(expected: list[Any], actual: list[Any], where: str, limit: int) -> str:
    only_expected = _multiset_only(expected, actual)
    only_actual = _multiset_only(actual, expected)
    if only_expected or only_actual:
        parts = []
        if only_expected:
            parts.append(f"{len(only_expected)} only in {_EXPECTED} ({_listed(only_expected, limit)})")
        if only_actual:
            parts.append(f"{len(only_actual)} only in {_ACTUAL} ({_listed(only_actual, limit)})")
        return f"{where}{', '.join(parts)}"
    position = next(index for index, (a, b) in enumerate(zip(expected, actual, strict=True)) if _key(a) != _key(b))
    return (
        f"{where}the same entries in another order; first difference at position {position}: "
        f"{_shown(expected[position])} in {_EXPECTED}, {_shown(actual[position])} in {_ACTUAL}"
    )


FLOAT_REL_TOL = 1e-6
FLOAT_ABS_TOL = 1e-9
"""Two numbers closer than this are equal: the participant's machine and the sandbox may round the last bits of
a float differently (another BLAS kernel, another CPU), which no score would notice."""


def _close_numbers(expected: object, actual: object) -> bool:
    numbers = all(isinstance(value, int | float) and not isinstance(value, bool) for value in (expected, actual))
    return numbers and math.isclose(
        float(expected),  # type: ignore[arg-type]  # checked just above
        float(actual),  # type: ignore[arg-type]
        rel_tol=FLOAT_REL_TOL,
        abs_tol=FLOAT_ABS_TOL,
    )


def _differences(expected: object, actual: object, path: str, limit: int) -> list[str]:
    where = f"{path}: " if path else ""
    if _key(expected) == _key(actual) or _close_numbers(expected, actual):
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(expected.keys() | actual.keys(), key=str):
            inner = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{inner}: only in {_EXPECTED}")
            elif key not in expected:
                found.append(f"{inner}: only in {_ACTUAL}")
            else:
                found += _differences(expected[key], actual[key], inner, limit)
        return found
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return [_list_difference(list(expected), list(actual), where, limit)]
    return [f"{where}{_shown(expected)} in {_EXPECTED}, {_shown(actual)} in {_ACTUAL}"]


def describe_difference(expected: object, actual: object, limit: int = 5) -> str:
    """A short human summary of how two canonical forms (see `Evaluator.canonical`) differ; "" when equal.

    `expected` is the submitted artifact's form, `actual` the algorithm's output's. Mappings are compared key
    by key (at most `limit` differing keys are described, then a count); lists as multisets first (entries
    only in one of them, at most `limit` shown), and when they hold the same entries, by the first position
    where they differ; other values are shown side by side.
    """
    found = _differences(expected, actual, "", limit)
    if not found:
        return ""
    summary = "; ".join(found[:limit])
    if len(found) > limit:
        summary += f"; and {len(found) - limit} more difference(s)"
    return summary


def run_locally(code_dir: Path, input_dir: Path, output_dir: Path) -> Path:
    """Run an algorithm package outside any sandbox, as a participant does at home (and the demo and tests do to
    make an artifact): the manifest's entry point with the same variables as in the sandbox, this interpreter
    for a module entry point. Returns the output's path; raises `subprocess.CalledProcessError` if it fails."""
    manifest = parse_manifest(code_dir / MANIFEST_NAME)
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / manifest.output
    env = {
        **os.environ,
        "DATAPERF_INPUT_DIR": str(input_dir),
        "DATAPERF_OUTPUT_DIR": str(output_dir),
        "DATAPERF_OUTPUT": str(output),
        "DATAPERF_SEED": "0",
    }
    # The participant's own code on their own machine: the argv is theirs by design.
    subprocess.run(manifest.argv(sys.executable), cwd=code_dir, env=env, check=True, capture_output=True)  # noqa: S603
    return output

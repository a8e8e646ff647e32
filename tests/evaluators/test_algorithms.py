"""Algorithm packages of the closed division: the manifest, the public inputs, every benchmark's example
algorithm (run as the platform runs it, over the public inputs of its demo tasks) and the canonical forms
the reproducibility check compares."""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from evaluators import SubmissionError, available_slugs, get_evaluator
from evaluators.algorithm import (
    MANIFEST_NAME,
    AlgorithmManifest,
    ManifestError,
    describe_difference,
    example_algorithm_dir,
    find_manifest_root,
    parse_manifest,
    public_input_files,
    write_public_inputs,
)
from evaluators.base import EvaluationResult, Evaluator, MetricSpec, ProgressCallback, no_progress
from evaluators.demo import demo_module
from evaluators.registry import BUILTIN_EVALUATORS
from evaluators.taskdir import TASK_FILE, load_task_dir

RUN_TIMEOUT_SECONDS = 120
# What the sandbox offers an algorithm besides the standard library.
ALLOWED_THIRD_PARTY = {"numpy", "pandas", "pyarrow", "scipy", "sklearn", "yaml"}


# --- Running the example algorithms over their demo tasks ------------------------------------------------------


@dataclass(frozen=True)
class AlgorithmRun:
    """One demo task, its public inputs and two runs of the benchmark's example algorithm over them."""

    evaluator: Evaluator[Any, Any]
    task_dir: Path
    input_dir: Path
    task: Any
    manifest: AlgorithmManifest
    outputs: tuple[Path, Path]
    work: Path


def _demo_cases() -> list[tuple[str, int]]:
    cases = []
    for slug in available_slugs():
        evaluator = get_evaluator(slug)
        module = demo_module(evaluator)
        if module is not None and example_algorithm_dir(evaluator) is not None:
            cases += [(slug, index) for index in range(len(module.DEMO_TASKS))]
    return cases


def _case_id(case: tuple[str, int]) -> str:
    module = demo_module(get_evaluator(case[0]))
    assert module is not None
    return module.DEMO_TASKS[case[1]].slug


def run_algorithm(code_dir: Path, input_dir: Path, out_dir: Path, output: str, hash_seed: str) -> Path:
    """Run `python -m algorithm` as the platform does (environment, working directory); return DATAPERF_OUTPUT."""
    out_dir.mkdir(parents=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATAPERF_INPUT_DIR": str(input_dir),
        "DATAPERF_OUTPUT_DIR": str(out_dir),
        "DATAPERF_OUTPUT": str(out_dir / output),
        "DATAPERF_SEED": "0",
        # The sandbox gives one CPU thread; a different hash seed per run catches set-order dependence.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONHASHSEED": hash_seed,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "algorithm"],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out_dir / output


@pytest.fixture(scope="module", params=_demo_cases(), ids=_case_id)
def algorithm_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AlgorithmRun:
    slug, index = request.param
    evaluator = get_evaluator(slug)
    module = demo_module(evaluator)
    example = example_algorithm_dir(evaluator)
    assert module is not None and example is not None
    work = tmp_path_factory.mktemp(f"algorithm-{slug}")
    task_dir = work / "task"
    module.generate_task(task_dir, config=module.DEMO_TASKS[index].config, seed=0, small=True)
    input_dir = work / "input"
    write_public_inputs(evaluator, task_dir, input_dir)
    code_dir = work / "code"
    shutil.copytree(example, code_dir)
    manifest = parse_manifest(code_dir / MANIFEST_NAME)
    outputs = (
        run_algorithm(code_dir, input_dir, work / "out-1", manifest.output, hash_seed="1"),
        run_algorithm(code_dir, input_dir, work / "out-2", manifest.output, hash_seed="2"),
    )
    task = evaluator.load_task(task_dir, evaluator.validate_config(load_task_dir(task_dir).config))
    return AlgorithmRun(evaluator, task_dir, input_dir, task, manifest, outputs, work)


def _canonical(run: AlgorithmRun, path: Path) -> object:
    return run.evaluator.canonical(run.task, run.evaluator.validate(run.task, path))


def test_every_builtin_benchmark_ships_an_example_algorithm_for_its_own_slug() -> None:
    for slug in BUILTIN_EVALUATORS:
        evaluator = get_evaluator(slug)
        directory = example_algorithm_dir(evaluator)
        assert directory is not None, slug
        assert directory == Path(sys.modules[type(evaluator).__module__].__file__ or "").resolve().parent / "algorithm"
        manifest = parse_manifest(directory / MANIFEST_NAME)
        assert manifest.benchmark == slug
        assert (directory / f"{manifest.module}.py").is_file()


def test_a_demo_case_exists_for_every_builtin_benchmark() -> None:
    assert {slug for slug, _ in _demo_cases()} >= set(BUILTIN_EVALUATORS)


def test_the_example_algorithms_import_only_what_the_sandbox_offers() -> None:
    for slug in BUILTIN_EVALUATORS:
        directory = example_algorithm_dir(get_evaluator(slug))
        assert directory is not None
        for source in directory.glob("*.py"):
            tree = ast.parse(source.read_text(encoding="utf-8"))
            assert ast.get_docstring(tree), f"{source} starts with a docstring"
            imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
            imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
            roots = {name.split(".")[0] for name in imported}
            assert "evaluators" not in roots, source
            assert roots <= ALLOWED_THIRD_PARTY | set(sys.stdlib_module_names), (source, roots)


def test_the_example_algorithm_writes_a_valid_artifact_from_the_public_inputs_only(algorithm_run: AlgorithmRun) -> None:
    run = algorithm_run
    assert run.manifest.benchmark == run.evaluator.slug
    hidden = set(_all_files(run.task_dir)) - set(public_input_files(run.evaluator, run.task_dir)) - {TASK_FILE}
    assert hidden, "the demo task has hidden files the algorithm must not see"
    assert not hidden & set(_all_files(run.input_dir))
    for output in run.outputs:
        assert output.is_dir() == run.evaluator.submission_is_directory
        run.evaluator.validate(run.task, output)


def test_the_example_algorithm_is_deterministic(algorithm_run: AlgorithmRun) -> None:
    first, second = (_canonical(algorithm_run, output) for output in algorithm_run.outputs)
    assert first == second
    assert describe_difference(first, second) == ""
    json.dumps(first)  # the canonical form is JSON-serialisable


def test_an_equivalent_artifact_in_another_order_or_layout_has_the_same_canonical_form(
    algorithm_run: AlgorithmRun,
) -> None:
    run = algorithm_run
    variant = run.work / "equivalent" / run.manifest.output
    variant.parent.mkdir(parents=True, exist_ok=True)
    EQUIVALENTS[run.evaluator.slug](run.outputs[0], variant, run.task)
    assert _file_bytes(variant) != _file_bytes(run.outputs[0]), "the variant is written differently"
    assert _canonical(run, variant) == _canonical(run, run.outputs[0])


def test_a_changed_artifact_has_another_canonical_form_and_the_difference_names_it(
    algorithm_run: AlgorithmRun,
) -> None:
    run = algorithm_run
    variant = run.work / "changed" / run.manifest.output
    variant.parent.mkdir(parents=True, exist_ok=True)
    fragments = CHANGES[run.evaluator.slug](run.outputs[0], variant, run.task)
    submitted, rerun = _canonical(run, variant), _canonical(run, run.outputs[0])
    assert submitted != rerun
    summary = describe_difference(submitted, rerun)
    for fragment in fragments:
        assert fragment in summary, (fragment, summary)


def _all_files(directory: Path) -> list[str]:
    return sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file())


def _file_bytes(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {"": path.read_bytes()}
    return {name: (path / name).read_bytes() for name in _all_files(path)}


# --- Equivalent and changed artifacts, per benchmark -----------------------------------------------------------
# Each takes the algorithm's artifact, the path to write the variant to and the loaded task. A change returns
# the fragments describe_difference must name.

Variant = Callable[[Path, Path, Any], None]
Change = Callable[[Path, Path, Any], list[str]]


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.reader(handle) if row]


def _write_csv(path: Path, rows: Sequence[Sequence[object]], *, newline: str = "\n", bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, lineterminator=newline).writerows(rows)


def _other(values: Sequence[str], value: str) -> str:
    return next(candidate for candidate in values if candidate != value)


def speech_equivalent(source: Path, dest: Path, task: Any) -> None:
    selection = json.loads(source.read_text(encoding="utf-8"))
    reordered = {word: list(reversed(ids)) for word, ids in reversed(selection["targets"].items())}
    dest.write_text(
        json.dumps({"nontargets": selection["nontargets"][::-1], "targets": reordered}, indent=3), encoding="utf-8"
    )


def speech_change(source: Path, dest: Path, task: Any) -> list[str]:
    selection = json.loads(source.read_text(encoding="utf-8"))
    dropped = selection["nontargets"].pop()
    dest.write_text(json.dumps(selection), encoding="utf-8")
    return ["nontargets", dropped, "1 only in the algorithm's output"]


def vision_equivalent(source: Path, dest: Path, task: Any) -> None:
    # JSON instead of CSV, rows reversed, inside a folder wrapping everything (looked through).
    for concept_file in sorted(source.iterdir()):
        rows = _read_csv(concept_file)[1:]
        labels = {image_id: int(label) for image_id, label in reversed(rows)}
        target = dest / "my-selection" / f"{concept_file.stem}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(labels, indent=2), encoding="utf-8")


def vision_change(source: Path, dest: Path, task: Any) -> list[str]:
    shutil.copytree(source, dest)
    concept_file = sorted(dest.iterdir())[0]
    rows = _read_csv(concept_file)
    image_id, label = rows[1]
    rows[1] = [image_id, "0" if label == "1" else "1"]
    _write_csv(concept_file, rows)
    return [concept_file.stem, image_id]


def debugging_equivalent(source: Path, dest: Path, task: Any) -> None:
    # Another method name, Windows line ends, an ignored run-time note and archiver noise.
    dest.mkdir(parents=True)
    for ranking in sorted(source.iterdir()):
        data_id = ranking.name.partition("_")[0]
        text = ranking.read_text(encoding="utf-8").replace("\n", "\r\n")
        (dest / f"{data_id}_another-method.txt").write_bytes(text.encode("utf-8"))
        (dest / f"time_{data_id}_another-method.txt").write_text("12.5 seconds\n", encoding="utf-8")
    (dest / ".DS_Store").write_bytes(b"\x00")


def debugging_change(source: Path, dest: Path, task: Any) -> list[str]:
    shutil.copytree(source, dest)
    ranking = sorted(dest.iterdir())[0]
    lines = ranking.read_text(encoding="utf-8").splitlines()
    lines[0], lines[1] = lines[1], lines[0]
    ranking.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [ranking.name.partition("_")[0], "another order", "position 0"]


def acquisition_equivalent(source: Path, dest: Path, task: Any) -> None:
    # Spaces around the numbers, a leading "+", blank lines; inside a wrapping folder.
    for plan in sorted(source.iterdir()):
        counts = plan.read_text(encoding="utf-8").strip().split(",")
        target = dest / "plans" / plan.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n" + ", ".join(f" +{count} " for count in counts) + "\n\n", encoding="utf-8")


def acquisition_change(source: Path, dest: Path, task: Any) -> list[str]:
    shutil.copytree(source, dest)
    plan = dest / f"{task.config.markets[0]}.csv"
    counts = [int(count) for count in plan.read_text(encoding="utf-8").strip().split(",")]
    seller = next(index for index, count in enumerate(counts) if count > 0)
    counts[seller] -= 1
    plan.write_text(",".join(str(count) for count in counts) + "\n", encoding="utf-8")
    seller_name = task.markets[task.config.markets[0]].sellers[seller].file_name
    return [seller_name, f"{counts[seller]} in the submitted artifact", f"{counts[seller] + 1} in the algorithm's"]


def valuation_equivalent(source: Path, dest: Path, task: Any) -> None:
    header, *rows = _read_csv(source)
    padded = [[f" {pair} ", f"{float(value):.12f}"] for pair, value in reversed(rows)]
    _write_csv(dest, [header, *padded], newline="\r\n", bom=True)


def valuation_change(source: Path, dest: Path, task: Any) -> list[str]:
    header, *rows = _read_csv(source)
    pair, value = rows[0]
    changed = float(value) + 0.25 if float(value) < 0.5 else float(value) - 0.25
    rows[0] = [pair, repr(changed)]
    _write_csv(dest, [header, *rows])
    return [pair, json.dumps(changed), json.dumps(float(value))]


def slice_equivalent(source: Path, dest: Path, task: Any) -> None:
    # Parquet instead of CSV, rows reversed, other column names.
    header, *rows = _read_csv(source)
    rows.reverse()
    columns: dict[str, Any] = {"id": pa.array([row[0] for row in rows], pa.string())}
    for column in range(1, len(header)):
        columns[f"score_{chr(ord('a') + column)}"] = pa.array([float(row[column]) for row in rows], pa.float64())
    pq.write_table(pa.table(columns), dest)


def slice_change(source: Path, dest: Path, task: Any) -> list[str]:
    header, *rows = _read_csv(source)
    rows[3][2] = repr(float(rows[3][2]) + 0.5)
    _write_csv(dest, [header, *rows])
    return ["column 2", rows[3][0]]


def cleaning_equivalent(source: Path, dest: Path, task: Any) -> None:
    # DCBench's mask layout: every training row, in reverse order, TRUE/false.
    selected = {row[0] for row in _read_csv(source)[1:]}
    rows = [[row_id, "TRUE" if row_id in selected else "false"] for row_id in reversed(task.ids)]
    _write_csv(dest, [["id", "clean"], *rows])


def cleaning_change(source: Path, dest: Path, task: Any) -> list[str]:
    header, *rows = _read_csv(source)
    assert rows, "the example algorithm selects some rows"
    dropped = rows.pop(len(rows) // 2)[0]
    _write_csv(dest, [header, *rows])
    return ["rows_to_clean", dropped, "1 only in the algorithm's output"]


def training_equivalent(source: Path, dest: Path, task: Any) -> None:
    header, *rows = _read_csv(source / "labels.csv")
    _write_csv(dest / "wrapped" / "labels.csv", [header, *[[f" {item}", f"{label} "] for item, label in rows[::-1]]])


def training_change(source: Path, dest: Path, task: Any) -> list[str]:
    header, *rows = _read_csv(source / "labels.csv")
    item, label = rows[0]
    rows[0] = [item, _other(task.config.labels, label)]
    _write_csv(dest / "labels.csv", [header, *rows])
    return [
        f"{label}: 1 only in the algorithm's output (pool:{item})",
        f"{rows[0][1]}: 1 only in the submitted artifact (pool:{item})",
    ]


def claims_equivalent(source: Path, dest: Path, task: Any) -> None:
    header, *rows = _read_csv(source)
    _write_csv(dest, [header, *[[f"{item} ", f" {label}"] for item, label in rows[::-1]]], bom=True)


def claims_change(source: Path, dest: Path, task: Any) -> list[str]:
    header, *rows = _read_csv(source)
    item, label = rows[-1]
    rows[-1] = [item, _other(task.config.labels, label)]
    _write_csv(dest, [header, *rows])
    return [item, f"{rows[-1][1]} in the submitted artifact", f"{label} in the algorithm's output"]


def adversarial_change(source: Path, dest: Path, task: Any) -> list[str]:
    header, *rows = _read_csv(source / "labels.csv")
    item, label = rows[-1]
    rows[-1] = [item, _other(task.config.labels, label)]
    _write_csv(dest / "labels.csv", [header, *rows])
    return [f"{item}: {rows[-1][1]} in the submitted artifact, {label} in the algorithm's output"]


EQUIVALENTS: dict[str, Variant] = {
    "selection-speech": speech_equivalent,
    "selection-vision": vision_equivalent,
    "debugging-vision": debugging_equivalent,
    "acquisition": acquisition_equivalent,
    "valuation": valuation_equivalent,
    "slice-discovery": slice_equivalent,
    "budget-cleaning": cleaning_equivalent,
    "training-set-creation": training_equivalent,
    "test-set-creation": claims_equivalent,
    "adversarial-test-set": training_equivalent,
}
CHANGES: dict[str, Change] = {
    "selection-speech": speech_change,
    "selection-vision": vision_change,
    "debugging-vision": debugging_change,
    "acquisition": acquisition_change,
    "valuation": valuation_change,
    "slice-discovery": slice_change,
    "budget-cleaning": cleaning_change,
    "training-set-creation": training_change,
    "test-set-creation": claims_change,
    "adversarial-test-set": adversarial_change,
}


# --- The manifest ---------------------------------------------------------------------------------------------

VALID_MANIFEST: dict[str, Any] = {
    "format": 1,
    "benchmark": "selection-speech",
    "entry_point": {"module": "algorithm"},
    "output": "selection.json",
}
_DROP = object()


def _write_manifest(directory: Path, content: Mapping[str, Any] | str | bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MANIFEST_NAME
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(dict(content)), encoding="utf-8")
    return path


def _with(**changes: Any) -> dict[str, Any]:
    manifest = dict(VALID_MANIFEST)
    for key, value in changes.items():
        if value is _DROP:
            del manifest[key]
        else:
            manifest[key] = value
    return manifest


def test_a_valid_manifest_with_a_module_runs_python_dash_m(tmp_path: Path) -> None:
    manifest = parse_manifest(_write_manifest(tmp_path, _with(output="./out/selection.json")))
    assert manifest == AlgorithmManifest("selection-speech", "algorithm", None, "out/selection.json")
    assert manifest.argv("/usr/bin/python3") == ["/usr/bin/python3", "-m", "algorithm"]


def test_a_valid_manifest_with_a_command_runs_the_command_as_given(tmp_path: Path) -> None:
    manifest = parse_manifest(
        _write_manifest(tmp_path, _with(entry_point={"command": ["python", "run.py", "--fast"]}, output="out"))
    )
    assert manifest.module is None
    assert manifest.command == ("python", "run.py", "--fast")
    assert manifest.argv("/usr/bin/python3") == ["python", "run.py", "--fast"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("format: [1", "not valid YAML"),
        (b"format: 1\nbenchmark: \xff\n", "not UTF-8 text"),
        ("", "must be a mapping with the keys format, benchmark, entry_point, output; the file is empty"),
        (
            "- format\n- 1\n",
            "must be a mapping with the keys format, benchmark, entry_point, output; the file is a list",
        ),
        (_with(extra=1, another=2), "unknown key(s) another, extra in the manifest"),
        (_with(format=_DROP), "missing 'format'"),
        (_with(format=2), "'format' must be the integer 1, got 2"),
        (_with(format="1"), "'format' must be the integer 1, got \"1\""),
        (_with(format=True), "'format' must be the integer 1, got True"),
        (_with(format=1.0), "'format' must be the integer 1, got 1.0"),
        (_with(benchmark=_DROP), "missing 'benchmark'"),
        (_with(benchmark=" "), "'benchmark' must be a benchmark slug (a non-empty string), got \" \""),
        (_with(benchmark=7), "'benchmark' must be a benchmark slug (a non-empty string), got 7"),
        (_with(entry_point=_DROP), "missing 'entry_point'"),
        (_with(entry_point="algorithm"), "'entry_point' must be a mapping with either 'module' or 'command'"),
        (_with(entry_point={}), "exactly one of 'module' and 'command', it has neither"),
        (_with(entry_point={"module": "a", "command": ["b"]}), "exactly one of 'module' and 'command', it has both"),
        (_with(entry_point={"module": "a", "script": "b"}), "unknown key(s) script in entry_point"),
        (_with(entry_point={"module": "my-algorithm"}), "entry_point.module must be a dotted Python module path"),
        (_with(entry_point={"module": "pkg..run"}), "entry_point.module must be a dotted Python module path"),
        (_with(entry_point={"module": "1st"}), "entry_point.module must be a dotted Python module path"),
        (_with(entry_point={"module": "run.py"}), 'names a module, not a file: write "run", not "run.py"'),
        (_with(entry_point={"module": ["algorithm"]}), "entry_point.module must be a dotted Python module path"),
        (_with(entry_point={"command": []}), "entry_point.command must be a non-empty list of non-empty strings"),
        (_with(entry_point={"command": "python run.py"}), "entry_point.command must be a non-empty list"),
        (_with(entry_point={"command": ["python", 3]}), "entry_point.command must be a non-empty list"),
        (_with(entry_point={"command": [""]}), "entry_point.command must be a non-empty list"),
        (_with(output=_DROP), "missing 'output'"),
        (_with(output=None), "'output' must be the relative path of the artifact (a string), got None"),
        (_with(output=["a"]), "'output' must be the relative path of the artifact (a string)"),
        (_with(output=""), "'output' is empty"),
        (_with(output="  "), "'output' is empty"),
        (_with(output="/tmp/selection.json"), "'output' \"/tmp/selection.json\" is absolute"),
        (_with(output="../selection.json"), "contains '..'"),
        (_with(output="out/../../selection.json"), "contains '..'"),
        (_with(output="."), "names the output directory itself"),
        (_with(output="out\\selection.json"), "contains a backslash"),
    ],
)
def test_a_faulty_manifest_is_refused_with_a_message_naming_the_fault(
    tmp_path: Path, content: Mapping[str, Any] | str | bytes, message: str
) -> None:
    with pytest.raises(ManifestError) as raised:
        parse_manifest(_write_manifest(tmp_path, content))
    assert str(raised.value).startswith(f"{MANIFEST_NAME}: ")
    assert message in str(raised.value)
    assert isinstance(raised.value, SubmissionError)


def test_a_missing_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=re.escape("missing: the archive's root must hold this file")):
        parse_manifest(tmp_path / MANIFEST_NAME)


def test_the_manifest_root_is_the_code_directory_itself(tmp_path: Path) -> None:
    _write_manifest(tmp_path, VALID_MANIFEST)
    (tmp_path / "nested").mkdir()
    assert find_manifest_root(tmp_path) == tmp_path


def test_the_manifest_root_is_the_single_folder_wrapping_everything(tmp_path: Path) -> None:
    _write_manifest(tmp_path / "my-algorithm", VALID_MANIFEST)
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    assert find_manifest_root(tmp_path) == tmp_path / "my-algorithm"


@pytest.mark.parametrize(
    "layout",
    [
        [],  # empty archive
        ["a/" + MANIFEST_NAME, "b/algorithm.py"],  # two folders
        ["a/" + MANIFEST_NAME, "README.md"],  # a folder and a file
        ["a/b/" + MANIFEST_NAME],  # two levels deep
        ["a/algorithm.py"],  # a single folder without the manifest
    ],
    ids=["empty", "two-folders", "folder-and-file", "two-levels-deep", "folder-without-manifest"],
)
def test_no_manifest_at_the_archives_root_is_refused(tmp_path: Path, layout: list[str]) -> None:
    for relative in layout:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("format: 1\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=re.escape("no dataperf-algorithm.yaml at the archive's root")):
        find_manifest_root(tmp_path)


# --- Public inputs ---------------------------------------------------------------------------------------------


def test_public_inputs_leave_out_hidden_files_task_yaml_and_the_concealed_task(tmp_path: Path) -> None:
    evaluator = get_evaluator("selection-speech")
    module = demo_module(evaluator)
    assert module is not None
    task_dir = tmp_path / "task"
    module.generate_task(task_dir, config=module.DEMO_TASKS[0].config, seed=0, small=True)
    (task_dir / "concealed").mkdir()
    (task_dir / "concealed" / "allowed_training_set.yaml").write_text("targets: {}\n", encoding="utf-8")
    (task_dir / "notes.txt").write_text("no rule matches this file\n", encoding="utf-8")

    files = public_input_files(evaluator, task_dir)

    assert "allowed_training_set.yaml" in files
    assert "train_embeddings/about.parquet" in files
    assert "notes.txt" in files
    assert "eval.yaml" not in files
    assert not [name for name in files if name.startswith(("eval_embeddings/", "concealed/"))]
    assert TASK_FILE not in files
    assert files == sorted(files)

    copied = write_public_inputs(evaluator, task_dir, tmp_path / "inputs")
    assert sorted(copied) == sorted([*files, TASK_FILE])
    assert _all_files(tmp_path / "inputs") == sorted([*files, TASK_FILE])
    assert (tmp_path / "inputs" / TASK_FILE).read_bytes() == (task_dir / TASK_FILE).read_bytes()


def test_a_path_matching_any_hidden_rule_is_not_public_whatever_the_rule_order(tmp_path: Path) -> None:
    evaluator = get_evaluator("valuation")  # hidden rules come first there; public ones match other files
    (tmp_path / "pairs" / "p").mkdir(parents=True)
    for name in ("A.csv", "B.csv", "B_labels.csv", "test.csv"):
        (tmp_path / "pairs" / "p" / name).write_text("x\n", encoding="utf-8")
    (tmp_path / "test.csv").write_text("x\n", encoding="utf-8")
    assert public_input_files(evaluator, tmp_path) == ["pairs/p/A.csv", "pairs/p/B.csv"]


# --- describe_difference and the default canonical form --------------------------------------------------------


def test_equal_forms_have_no_difference() -> None:
    form = {"train": ["a", "b"], "order": [3, 1, 2], "value": 0.5}
    assert describe_difference(form, json.loads(json.dumps(form))) == ""


def test_ids_only_on_one_side_are_counted_and_shown() -> None:
    summary = describe_difference({"train": ["a", "b", "c", "x"]}, {"train": ["d", "e", "x"]})
    assert summary == ("train: 3 only in the submitted artifact (a, b, c), 2 only in the algorithm's output (d, e)")


def test_repeats_count_as_entries() -> None:
    assert describe_difference({"n": ["a", "a"]}, {"n": ["a"]}) == "n: 1 only in the submitted artifact (a)"


def test_the_same_entries_in_another_order_are_reported_at_the_first_differing_position() -> None:
    summary = describe_difference({"ranking": [4, 7, 1, 2]}, {"ranking": [4, 7, 2, 1]})
    assert summary == (
        "ranking: the same entries in another order; first difference at position 2: 1 in the submitted "
        "artifact, 2 in the algorithm's output"
    )


def test_floats_that_differ_only_in_their_last_bits_are_equal() -> None:
    # Another BLAS kernel on the participant's machine: the same value to 12 digits is the same output.
    assert describe_difference({"pair": {"a": 0.1 + 0.2}}, {"pair": {"a": 0.3}}) == ""
    assert describe_difference({"pair": {"a": 0.75}}, {"pair": {"a": 0.75 + 1e-12}}) == ""
    assert describe_difference({"pair": {"a": 0.75}}, {"pair": {"a": 0.7501}}) != ""
    assert describe_difference({"flag": True}, {"flag": 1}) != ""


def test_numbers_are_shown_side_by_side_and_missing_keys_are_named() -> None:
    summary = describe_difference({"clean": 0.9, "noisy": 0.5}, {"clean": 0.875, "shifted": 0.5})
    assert summary == (
        "clean: 0.9 in the submitted artifact, 0.875 in the algorithm's output; noisy: only in the submitted "
        "artifact; shifted: only in the algorithm's output"
    )


def test_long_differences_are_cut_to_the_limit() -> None:
    expected = {f"id{index}": 0.0 for index in range(8)}
    actual = {f"id{index}": 1.0 for index in range(8)}
    summary = describe_difference(expected, actual, limit=3)
    assert summary.count("in the submitted artifact") == 3
    assert summary.endswith("; and 5 more difference(s)")
    listed = describe_difference({"x": list("abcdefg")}, {"x": []}, limit=2)
    assert listed == "x: 7 only in the submitted artifact (a, b, ...)"


@dataclass(frozen=True)
class _Parsed:
    names: tuple[str, ...]
    rows: Any
    weights: dict[str, Any]


class _PlainEvaluator(Evaluator[None, Any]):
    """An evaluator without an example algorithm and with the default canonical form."""

    slug = "plain"
    title = "Plain"
    version = "1"
    submission_format = "anything"

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return dict(config)

    def primary_metric(self, config: Mapping[str, Any]) -> MetricSpec:
        return MetricSpec("score", "Score")

    def metric_specs(self, config: Mapping[str, Any]) -> list[MetricSpec]:
        return []

    def load_task(self, task_dir: Path, config: Mapping[str, Any]) -> None:
        return None

    def validate(self, task: None, submission_path: Path) -> Any:
        return None

    def evaluate(self, task: None, parsed: Any, report_progress: ProgressCallback = no_progress) -> EvaluationResult:
        return EvaluationResult(primary=0.0, metrics={})


def test_the_default_canonical_form_is_the_parsed_artifact_as_plain_data() -> None:
    parsed = _Parsed(
        names=("b", "a"), rows=np.array([[1, 2], [3, 4]]), weights={"w": np.float64(0.5), "n": np.int64(3)}
    )
    form = _PlainEvaluator().canonical(None, parsed)
    assert form == {"names": ["b", "a"], "rows": [[1, 2], [3, 4]], "weights": {"w": 0.5, "n": 3}}
    assert json.loads(json.dumps(form)) == form
    with pytest.raises(TypeError, match=re.escape("override Evaluator.canonical")):
        _PlainEvaluator().canonical(None, object())


def test_an_evaluator_without_an_algorithm_folder_has_no_example() -> None:
    assert example_algorithm_dir(_PlainEvaluator()) is None

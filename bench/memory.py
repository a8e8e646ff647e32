"""Peak memory of the evaluators on large inputs, each measured in a fresh process (`bench.memory_child`).

1. A selection-vision task whose candidate pool is 200,000 x 1024 float32 embeddings (the evaluator's pool
   format: `embeddings/train_emb_256_dataperf.parquet`, ImageID and embedding), two concepts with hidden test
   sets, and a submission of 1,000 labelled images per concept, scored (load, validate, evaluate) as a worker
   does: by default (the pool read into memory), and with `DATAPERF_EVALUATOR_CACHE_DIR` (the selected rows
   read from a cache file that an earlier process wrote, as every worker after the first on a host reads it;
   the run keeps its historical name `cache_mapped`). Goal: peak RSS <= 1.5x the pool's size on disk.
2. 100 MB uploads validated by the evaluators that accept files that large: a slice-discovery CSV and the
   same table as parquet (one row per example of a task of that many examples), and a selection-vision
   directory of five concept files of 1,000,000 rows each. The platform streams uploads to disk in chunks
   (`submission_create`) and its validation step calls the evaluator's `check` (the verdict, no parsed form
   kept). Goal: peak RSS under 200 MB. `validate` (the parsed form kept, as the evaluation step parses before
   scoring) is measured beside it, for the record.

Quick mode shrinks everything (a 20,000 x 64 pool, 2 MB uploads) to check the machinery, not the goals.
`DATAPERF_BENCH_MEMORY_PARTS=uploads` (or `pool`) runs one of the two parts (both by default).
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from bench.common import ROOT, Result
from evaluators.selection_vision.cache import CACHE_DIR_VARIABLE
from evaluators.selection_vision.data import POOL_FILE, held_out_path
from evaluators.slice_discovery.synthetic import SliceShape, generate_slice_task
from evaluators.taskdir import TASK_FILE

NAME = "memory"
MB = 1_000_000
POOL_GOAL_FACTOR = 1.5
UPLOAD_GOAL_BYTES = 200 * MB
PARTS_VARIABLE = "DATAPERF_BENCH_MEMORY_PARTS"
PARTS = ("pool", "uploads")
CONCEPTS = ("Cupcake", "Hawk")
ROW_GROUP = 10_000


@dataclass(frozen=True)
class Size:
    pool_rows: int
    dim: int
    test_rows: int
    selected: int
    upload_bytes: int


FULL = Size(pool_rows=200_000, dim=1024, test_rows=2_000, selected=1_000, upload_bytes=100 * MB)
QUICK = Size(pool_rows=20_000, dim=64, test_rows=400, selected=200, upload_bytes=2 * MB)
VISION_ROW_BYTES = 19  # "<16 hex digits>,<0 or 1>" and a newline
VISION_MAX_ROWS = 1_000_000  # the largest max_per_concept


def measure(mode: str, task_dir: Path, submission: Path, **environment: str) -> dict[str, Any]:
    """Run `bench.memory_child` in a fresh process and return its figures. Started through `sh`, which forks:
    started directly, the child's ru_maxrss would include this (larger) process's peak."""
    argv = ["/bin/sh", "-c", '"$0" "$@"; exit $?', sys.executable, "-m", "bench.memory_child", mode]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    done = subprocess.run([*argv, str(task_dir), str(submission)], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the measured process failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["peak"] = max(figures["ru_maxrss"], figures["vm_hwm"])
    return figures


# --- a selection-vision task with a large pool -------------------------------------------------------------


def _hex_ids(rng: np.random.Generator, count: int) -> list[str]:
    # An odd multiplier is a bijection of 64-bit integers: distinct ids without a set of strings.
    keys = (np.arange(count, dtype=np.uint64) + np.uint64(rng.integers(1, 2**32))) * np.uint64(0x9E3779B97F4A7C15)
    return [f"{int(key):016x}" for key in keys]


def _embeddings(vectors: np.ndarray[Any, Any]) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), type=pa.float32()), vectors.shape[1])


def _write_pool(path: Path, ids: list[str], dim: int, rng: np.random.Generator) -> None:
    """The pool in row groups, so that writing it needs one group of memory, not the pool's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("ImageID", pa.string()), ("embedding", pa.list_(pa.float32()))])
    with pq.ParquetWriter(path, schema, use_dictionary=False) as writer:
        for start in range(0, len(ids), ROW_GROUP):
            chunk = ids[start : start + ROW_GROUP]
            vectors = rng.standard_normal((len(chunk), dim), dtype=np.float32)
            embedding = pa.ListArray.from_arrays(
                pa.array(np.arange(0, len(chunk) * dim + 1, dim, dtype=np.int32)), _embeddings(vectors).flatten()
            )
            writer.write_table(pa.table({"ImageID": pa.array(chunk), "embedding": embedding}, schema=schema))


def _write_selection(path: Path, ids: list[str], rng: np.random.Generator, rows: int) -> None:
    chosen = rng.choice(len(ids), size=rows, replace=False)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ImageID", "Confidence"])
        writer.writerows((ids[row], index % 2) for index, row in enumerate(chosen))


def vision_task(root: Path, size: Size, *, max_per_concept: int = 1000) -> tuple[Path, list[str]]:
    """A selection-vision task directory with a `pool_rows` x `dim` float32 pool; returns it and the pool's ids."""
    rng = np.random.default_rng(0)
    task_dir = root / "task"
    ids = _hex_ids(rng, size.pool_rows)
    _write_pool(task_dir / POOL_FILE, ids, size.dim, rng)
    for concept in CONCEPTS:
        test = held_out_path(task_dir, concept)
        test.parent.mkdir(parents=True, exist_ok=True)
        vectors = rng.standard_normal((size.test_rows, size.dim), dtype=np.float32)
        labels = [str(index % 2) for index in range(size.test_rows)]
        table = {"ImageID": _hex_ids(rng, size.test_rows), "embedding": _embeddings(vectors), "Confidence": labels}
        pq.write_table(pa.table(table), test)
    config = {"concepts": list(CONCEPTS), "max_per_concept": max_per_concept}
    (task_dir / TASK_FILE).write_text(yaml.safe_dump({"benchmark": "selection-vision", "config": config}))
    return task_dir, ids


def score_pool(tmp: Path, size: Size, result: Result) -> None:
    started = time.perf_counter()
    task_dir, ids = vision_task(tmp / "pool", size)
    submission = tmp / "pool" / "submission"
    submission.mkdir()
    rng = np.random.default_rng(1)
    for concept in CONCEPTS:
        _write_selection(submission / f"{concept}.csv", ids, rng, size.selected)
    on_disk = (task_dir / POOL_FILE).stat().st_size
    print(
        f"  pool {size.pool_rows} x {size.dim} float32: {on_disk / MB:.0f} MB on disk "
        f"(written in {time.perf_counter() - started:.0f} s)"
    )
    cache = tmp / "cache"
    runs = {
        "in_memory": measure("score", task_dir, submission),
        "cache_first_process": measure("score", task_dir, submission, **{CACHE_DIR_VARIABLE: str(cache)}),
        "cache_mapped": measure("score", task_dir, submission, **{CACHE_DIR_VARIABLE: str(cache)}),
    }
    for name, figures in runs.items():
        figures["peak_over_pool_on_disk"] = round(figures["peak"] / on_disk, 3)
        print(
            f"  scoring, {name.replace('_', ' ')}: peak RSS {figures['peak'] / MB:.0f} MB = "
            f"{figures['peak_over_pool_on_disk']:.2f}x the pool on disk (after imports "
            f"{figures['rss_after_imports'] / MB:.0f} MB, after load_task {figures['rss_after_load'] / MB:.0f} MB; "
            f"load {figures['load_seconds']:.1f} s, evaluate {figures['evaluate_seconds']:.1f} s)"
        )
    result.figures["pool"] = {"rows": size.pool_rows, "dim": size.dim, "bytes_on_disk": on_disk, "runs": runs}
    for name, label in (("in_memory", "default (pool in memory)"), ("cache_mapped", "with the pool cache, mapped")):
        factor = runs[name]["peak_over_pool_on_disk"]
        goal = f"scoring a {size.pool_rows} x {size.dim} pool, {label}: peak / on disk"
        result.goal(goal, f"<= {POOL_GOAL_FACTOR}", factor, factor <= POOL_GOAL_FACTOR)
    _explain_pool(runs, on_disk, result)


def _explain_pool(runs: dict[str, dict[str, Any]], on_disk: int, result: Result) -> None:
    """Where the memory goes, from the figures (the notes of the README's benchmark section)."""
    default, cached = runs["in_memory"], runs["cache_mapped"]
    if default["peak_over_pool_on_disk"] > POOL_GOAL_FACTOR:
        result.note(
            f"default: {default['rss_after_imports'] / MB:.0f} MB after imports, then the pool held at the file's "
            f"precision ({default['rss_after_load'] / MB:.0f} MB resident after load_task for a {on_disk / MB:.0f} "
            "MB file) and read one row group at a time in 1,024-row batches; the peak "
            f"({default['peak'] / MB:.0f} MB) is reached while loading"
        )
    if cached["peak_over_pool_on_disk"] > POOL_GOAL_FACTOR:
        end = cached["at_end"]
        result.note(
            f"cache: of the {cached['peak'] / MB:.0f} MB peak, {end['rss_file'] / MB:.0f} MB are mapped file pages "
            f"and {end['rss_anon'] / MB:.0f} MB private memory; the selected rows are read from the cache file "
            "with positioned reads, which map nothing"
        )


# --- 100 MB uploads ----------------------------------------------------------------------------------------


def _slice_scores(n_rows: int, n_columns: int, rng: np.random.Generator) -> pa.Table:
    ids = [f"img_{index:06d}" for index in range(n_rows)]
    columns = {f"slice_{index}": np.round(rng.random(n_rows), 6) for index in range(n_columns)}
    return pa.table({"id": ids, **columns})


def slice_uploads(root: Path, target_bytes: int) -> tuple[Path, dict[str, Path]]:
    """A slice-discovery task of as many examples as make a CSV of about `target_bytes`, and that CSV and the
    same table as parquet."""
    n_columns = 20
    rng = np.random.default_rng(2)
    sample = root / "sample.csv"
    root.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(_slice_scores(1000, n_columns, rng), sample)
    n_rows = min(int(target_bytes / (sample.stat().st_size / 1000)), 999_999)
    task_dir = root / "task"
    generate_slice_task(task_dir, n_pred_slices=n_columns, shape=SliceShape(n_examples=n_rows, dim=8))
    table = _slice_scores(n_rows, n_columns, rng)
    uploads = {"slice-discovery CSV": root / "scores.csv", "slice-discovery parquet": root / "scores.parquet"}
    pacsv.write_csv(table, uploads["slice-discovery CSV"], pacsv.WriteOptions(quoting_style="none"))
    pq.write_table(table, uploads["slice-discovery parquet"])
    return task_dir, uploads


def vision_upload(root: Path, size: Size) -> tuple[Path, Path]:
    """A selection-vision directory artifact of about `upload_bytes`: one CSV per concept, each within the largest
    `max_per_concept` (rows are ImageID,Confidence; a pool id may repeat: a repeated row is a training row)."""
    pool = Size(pool_rows=20_000, dim=16, test_rows=100, selected=0, upload_bytes=0)
    task_dir, ids = vision_task(root, pool, max_per_concept=VISION_MAX_ROWS)
    count = max(2, math.ceil(size.upload_bytes / (VISION_ROW_BYTES * VISION_MAX_ROWS)))
    concepts = [f"Concept{index}" for index in range(count)]
    config = {"concepts": concepts, "max_per_concept": VISION_MAX_ROWS}
    (task_dir / TASK_FILE).write_text(yaml.safe_dump({"benchmark": "selection-vision", "config": config}))
    rows = size.upload_bytes // count // VISION_ROW_BYTES
    submission = root / "submission"
    submission.mkdir()
    line_ids = np.array(ids)[np.arange(rows) % len(ids)]
    for concept in concepts:
        body = "\n".join(f"{image},{index % 2}" for index, image in enumerate(line_ids))
        (submission / f"{concept}.csv").write_text(f"ImageID,Confidence\n{body}\n")
    return task_dir, submission


def validate_uploads(tmp: Path, size: Size, result: Result) -> None:
    slice_task, uploads = slice_uploads(tmp / "slices", size.upload_bytes)
    vision_task_dir, vision_submission = vision_upload(tmp / "vision-upload", size)
    cases = [(name, slice_task, path) for name, path in uploads.items()]
    cases.append(("selection-vision directory", vision_task_dir, vision_submission))
    figures: dict[str, Any] = {}
    for name, task_dir, path in cases:
        files = [path] if path.is_file() else sorted(path.iterdir())
        upload = sum(file.stat().st_size for file in files)
        measured = measure("check", task_dir, path)
        measured.update(upload_bytes=upload, validation_increment=measured["peak"] - measured["rss_after_load"])
        measured["validate"] = _validate_figures(task_dir, path)
        figures[name] = measured
        print(
            f"  validating a {upload / MB:.0f} MB {name}: peak RSS {measured['peak'] / MB:.0f} MB (after imports "
            f"{measured['rss_after_imports'] / MB:.0f} MB, after load_task {measured['rss_after_load'] / MB:.0f} MB; "
            f"validation adds {measured['validation_increment'] / MB:.0f} MB; {measured['validate_seconds']:.1f} s; "
            f"validate keeping the parsed form: peak {measured['validate']['peak'] / MB:.0f} MB)"
        )
        goal = f"validating a {upload / MB:.0f} MB {name}: peak RSS (MB)"
        result.goal(goal, f"< {UPLOAD_GOAL_BYTES // MB}", measured["peak"] / MB, measured["peak"] < UPLOAD_GOAL_BYTES)
    result.figures["uploads"] = figures
    for name, measured in figures.items():
        if measured["peak"] >= UPLOAD_GOAL_BYTES:
            # Where the memory goes, from the figures: the libraries, the task, then the check itself.
            result.note(
                f"uploads, {name}: {measured['rss_after_imports'] / MB:.0f} MB after imports, "
                f"{measured['rss_after_load'] / MB:.0f} MB after load_task, then the check adds "
                f"{measured['validation_increment'] / MB:.0f} MB"
            )


def _validate_figures(task_dir: Path, path: Path) -> dict[str, Any]:
    """The figures of `validate` (parsed form kept) on the same upload: not the goal, the cost `check` avoids."""
    measured = measure("validate", task_dir, path)
    keys = ("peak", "rss_after_imports", "rss_after_load", "rss_after_validate", "validate_seconds")
    return {key: measured[key] for key in keys}


def _parts() -> tuple[str, ...]:
    """The parts named by `DATAPERF_BENCH_MEMORY_PARTS` (comma-separated), every part when it is unset."""
    named = tuple(part.strip() for part in os.environ.get(PARTS_VARIABLE, "").split(",") if part.strip())
    unknown = [part for part in named if part not in PARTS]
    if unknown:
        raise SystemExit(f"{PARTS_VARIABLE}: unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    return named or PARTS


def run(*, quick: bool) -> Result:
    size = QUICK if quick else FULL
    parts = _parts()
    result = Result(NAME, quick)
    result.settings = {"pool": f"{size.pool_rows} x {size.dim} float32", "upload_bytes": size.upload_bytes}
    if parts != PARTS:
        result.settings["parts"] = list(parts)
    print(f"memory ({'quick sizes' if quick else 'full sizes'}; {', '.join(parts)}):")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        if "pool" in parts:
            score_pool(Path(tmp), size, result)
        if "uploads" in parts:
            validate_uploads(Path(tmp), size, result)
    if quick:
        result.note("quick sizes check the machinery; the goals are about the full sizes")
    return result

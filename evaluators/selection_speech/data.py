"""Task files of selection-speech: the clip lists (YAML) and the embedding parquet files.

Formats (the original DataPerf ones): `allowed_training_set.yaml` and `eval.yaml` are
`{targets: {word: [clip_id, ...]}, nontargets: [clip_id, ...]}`; `<dir>/<word>.parquet` has the columns
`clip_id` (string) and `mswc_embedding_vector` (list of float32). The parquet of a target clip is its
word's; the parquet of a nontarget clip is named after the part of its id before the first `/`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from evaluators.base import TaskConfigError

ALLOWED_FILE = "allowed_training_set.yaml"
EVAL_FILE = "eval.yaml"
TRAIN_DIR = "train_embeddings"
EVAL_DIR = "eval_embeddings"
CLIP_COLUMN = "clip_id"
VECTOR_COLUMN = "mswc_embedding_vector"
NONTARGET_CLASS = 0
NONTARGET_CLASS_NAME = "nontarget"

FloatArray = npt.NDArray[np.floating[Any]]
LabelArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ClipLists:
    """The content of `allowed_training_set.yaml` or `eval.yaml`; `targets` keeps the file's key order."""

    targets: dict[str, list[str]]
    nontargets: list[str]

    def parquet_stems(self) -> set[str]:
        """The parquet files (by stem) holding the listed clips."""
        stems = {word for word, ids in self.targets.items() if ids}
        return stems | {parquet_stem(clip_id) for clip_id in self.nontargets}


@dataclass(frozen=True)
class EmbeddingBlock:
    """One parquet file: its vectors (row i = parquet row i) and the row of each clip id."""

    path: Path
    vectors: FloatArray
    row_of: dict[str, int]


@dataclass(frozen=True)
class EmbeddingStore:
    """The parquet files of one directory that a clip list needs, by stem, and their common dimension."""

    blocks: dict[str, EmbeddingBlock]
    dim: int


@dataclass(frozen=True)
class LabelledRows:
    """Feature rows and class ids, in the order the reference code stacks them, and the clip of each row."""

    features: FloatArray
    labels: LabelArray
    clip_ids: tuple[str, ...]


def parquet_stem(clip_id: str) -> str:
    """The name (without `.parquet`) of the file holding a nontarget clip: the id's first path part."""
    return clip_id.split("/", 1)[0]


def _string_list(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TaskConfigError(f"{where} must be a list of clip id strings")
    return value


def _check_word(word: object, where: str) -> str:
    # Words name files (<word>.parquet), so they must not be able to point elsewhere.
    if not isinstance(word, str) or not word or "/" in word or "\\" in word or word.startswith("."):
        raise TaskConfigError(f"{where}: {word!r} is not a usable target word (it names a parquet file)")
    return word


def load_clip_lists(path: Path) -> ClipLists:
    """Read a clip-list YAML file; raise `TaskConfigError` on a missing or malformed file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TaskConfigError(f"{path}: missing task file") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TaskConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("targets"), dict):
        raise TaskConfigError(f"{path}: must be a mapping {{targets: {{word: [clip_id, ...]}}, nontargets: [...]}}")
    targets = {
        _check_word(word, f"{path}: targets"): _string_list(ids, f"{path}: targets.{word}")
        for word, ids in document["targets"].items()
    }
    nontargets = _string_list(document.get("nontargets"), f"{path}: nontargets")
    if NONTARGET_CLASS_NAME in targets:
        raise TaskConfigError(f"{path}: a target word may not be called {NONTARGET_CLASS_NAME!r}")
    return ClipLists(targets=targets, nontargets=nontargets)


def _clip_ids(table: pa.Table, path: Path) -> list[str]:
    column = table.column(CLIP_COLUMN)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) or column.null_count:
        raise TaskConfigError(f"{path}: column {CLIP_COLUMN!r} must hold strings without nulls")
    ids: list[str] = column.to_pylist()
    return ids


def _vectors(table: pa.Table, path: Path) -> FloatArray:
    """Stack the list column into an (n, d) array without a Python loop over rows."""
    column = table.column(VECTOR_COLUMN).combine_chunks()
    list_type = column.type
    is_list = pa.types.is_list(list_type) or pa.types.is_large_list(list_type)
    if not (is_list or pa.types.is_fixed_size_list(list_type)) or not pa.types.is_floating(list_type.value_type):
        raise TaskConfigError(f"{path}: column {VECTOR_COLUMN!r} must be a list of floats, not {list_type}")
    n_rows = len(column)
    if n_rows == 0:
        return np.empty((0, 0), dtype=list_type.value_type.to_pandas_dtype())
    lengths = pc.min_max(pc.list_value_length(column)).as_py()
    values = pc.list_flatten(column)
    if column.null_count or values.null_count or lengths["min"] != lengths["max"] or not lengths["min"]:
        raise TaskConfigError(f"{path}: every {VECTOR_COLUMN!r} must be a non-empty vector of one length")
    flat: FloatArray = values.to_numpy(zero_copy_only=False)
    return flat.reshape(n_rows, int(lengths["max"]))


def read_embedding_file(path: Path) -> EmbeddingBlock:
    """Read one embedding parquet file; raise `TaskConfigError` if it is missing or malformed."""
    if not path.is_file():
        raise TaskConfigError(f"{path}: missing embedding file")
    try:
        table = pq.read_table(path, columns=[CLIP_COLUMN, VECTOR_COLUMN], memory_map=True)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise TaskConfigError(
            f"{path}: cannot be read as parquet with {CLIP_COLUMN!r}, {VECTOR_COLUMN!r}: {exc}"
        ) from exc
    ids = _clip_ids(table, path)
    row_of = {clip_id: row for row, clip_id in enumerate(ids)}
    if len(row_of) != len(ids):
        raise TaskConfigError(f"{path}: a clip_id appears more than once")
    return EmbeddingBlock(path=path, vectors=_vectors(table, path), row_of=row_of)


def load_embedding_store(directory: Path, stems: Iterable[str], *, expected_dim: int | None = None) -> EmbeddingStore:
    """Read `<directory>/<stem>.parquet` for every stem and check that all vectors have one dimension."""
    blocks = {stem: read_embedding_file(directory / f"{stem}.parquet") for stem in sorted(stems)}
    dims = {block.vectors.shape[1] for block in blocks.values() if len(block.vectors)}
    if expected_dim is not None:
        dims.add(expected_dim)
    if len(dims) > 1:
        raise TaskConfigError(f"{directory}: embeddings of different dimensions {sorted(dims)}")
    return EmbeddingStore(blocks=blocks, dim=dims.pop() if dims else 0)


def check_clips_present(store: EmbeddingStore, clips: ClipLists, source: Path) -> None:
    """Raise `TaskConfigError` unless every clip of the list is a row of its parquet file."""
    for word, ids in clips.targets.items():
        _check_in_block(store, word, ids, source)
    for clip_id in clips.nontargets:
        _check_in_block(store, parquet_stem(clip_id), [clip_id], source)


def _check_in_block(store: EmbeddingStore, stem: str, ids: Sequence[str], source: Path) -> None:
    block = store.blocks.get(stem)
    for clip_id in ids:
        if block is None or clip_id not in block.row_of:
            raise TaskConfigError(f"{source}: clip {clip_id!r} is not in {stem}.parquet")


def assemble_rows(
    store: EmbeddingStore,
    targets: Sequence[tuple[str, Sequence[str]]],
    nontargets: Sequence[str],
    class_of: Mapping[str, int],
) -> LabelledRows:
    """Feature rows and labels in the reference order (the models are sensitive to it).

    Targets: for each word in the given order, the rows of `<word>.parquet` whose clip is listed, in parquet
    row order, each row once. Then nontargets, grouped by parquet in order of first appearance, within a
    group in list order, repeats kept. Every clip must be present (see `check_clips_present`).
    """
    parts: list[FloatArray] = []
    labels: list[float] = []
    clip_ids: list[str] = []
    for word, ids in targets:
        if ids:
            block = store.blocks[word]
            # Row -> clip: distinct clips are distinct rows, so each row is kept once, in parquet order.
            clip_of_row = {block.row_of[clip_id]: clip_id for clip_id in ids}
            rows = sorted(clip_of_row)
            parts.append(block.vectors[rows])
            labels += [float(class_of[word])] * len(rows)
            clip_ids += [clip_of_row[row] for row in rows]
    groups: dict[str, list[str]] = {}
    for clip_id in nontargets:
        groups.setdefault(parquet_stem(clip_id), []).append(clip_id)
    for stem, group in groups.items():
        block = store.blocks[stem]
        parts.append(block.vectors[[block.row_of[clip_id] for clip_id in group]])
        labels += [float(NONTARGET_CLASS)] * len(group)
        clip_ids += group
    # np.concatenate promotes dtypes as the reference's np.vstack does (float32 stays float32).
    features = np.concatenate(parts) if parts else np.empty((0, store.dim), dtype=np.float32)
    return LabelledRows(features=features, labels=np.asarray(labels, dtype=np.float64), clip_ids=tuple(clip_ids))

"""Synthetic selection-speech tasks and baseline selections, for tests, demos and offline trials.

A generated task has the original layout and schemas (`task.yaml`, `allowed_training_set.yaml`, `eval.yaml`,
`train_embeddings/<word>.parquet`, `eval_embeddings/<word>.parquet` with `clip_id` and a list<float32>
`mswc_embedding_vector`) and realistic shapes: 5 target words, several nontarget words, evaluation-only
"unseen" nontarget words, clip ids like `fifty/common_voice_en_00001234.wav`. Embeddings are clustered per
word in a low-dimensional subspace plus isotropic noise, and a share of clips carries another word's
embedding (label noise), so a selection matters but the task is not trivial. Everything is derived from
`seed`: the same arguments write byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from evaluators.demo import DemoTask
from evaluators.selection_speech.data import (
    ALLOWED_FILE,
    CLIP_COLUMN,
    EVAL_DIR,
    EVAL_FILE,
    TRAIN_DIR,
    VECTOR_COLUMN,
    ClipLists,
    load_clip_lists,
)
from evaluators.taskdir import TASK_FILE, load_task_dir

TARGET_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("episode", "fifty", "job", "restaurant", "route"),
    "id": ("bahasa", "karena", "sangat", "tahun", "waktu"),
    "pt": ("cidade", "grupo", "pessoas", "tempo", "vida"),
}
NONTARGET_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("about", "again", "before", "city", "during", "family", "house", "little", "morning", "water"),
    "id": ("anak", "bapak", "buku", "desa", "hari", "jalan", "kota", "makan", "rumah", "sekolah"),
    "pt": ("agora", "casa", "dia", "escola", "homem", "lugar", "mundo", "noite", "porta", "rua"),
}
UNSEEN_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("garden", "number", "people", "window", "yellow"),
    "id": ("air", "laut", "malam", "pagi", "tangan"),
    "pt": ("amigo", "carro", "festa", "livro", "praia"),
}
_SUBSPACE_DIM = 12


@dataclass(frozen=True)
class SyntheticShape:
    """Sizes and difficulty of a synthetic task (the defaults evaluate 10 seeds in well under a second)."""

    dim: int = 1024
    allowed_per_target: int = 60
    unlisted_per_target: int = 5
    eval_per_target: int = 40
    nontarget_words: int = 10
    allowed_per_nontarget_word: int = 20
    eval_per_nontarget_word: int = 10
    unseen_words: int = 3
    eval_per_unseen_word: int = 10
    separation: float = 1.3
    noise: float = 1.0
    label_noise: float = 0.1


@dataclass
class _Generator:
    """Draws clip ids and vectors in one fixed order, so that a seed fixes every byte written."""

    rng: np.random.Generator
    shape: SyntheticShape
    language: str
    centres: dict[str, np.ndarray] = field(default_factory=dict)
    basis: np.ndarray = field(default_factory=lambda: np.empty(0))
    next_number: int = 1

    def clip_ids(self, word: str, count: int) -> list[str]:
        ids = []
        for _ in range(count):
            self.next_number += int(self.rng.integers(1, 5))
            ids.append(f"{word}/common_voice_{self.language}_{self.next_number:08d}.wav")
        return ids

    def vectors(self, word: str, count: int) -> np.ndarray:
        names = sorted(self.centres)
        centres = np.stack([self.centres[word]] * count)
        noisy = self.rng.random(count) < self.shape.label_noise
        for row in np.flatnonzero(noisy):
            others = [name for name in names if name != word]
            centres[row] = self.centres[others[int(self.rng.integers(len(others)))]]
        low = centres + self.rng.standard_normal((count, _SUBSPACE_DIM))
        high = self.rng.standard_normal((count, self.shape.dim)) * self.shape.noise
        vectors: np.ndarray = (low @ self.basis + high).astype(np.float32)
        return vectors


def _write_parquet(path: Path, ids: list[str], vectors: np.ndarray) -> None:
    """Write the original schema; no timestamps are stored, so equal inputs give equal bytes."""
    n_rows, dim = vectors.shape
    offsets = pa.array(np.arange(0, (n_rows + 1) * dim, dim, dtype=np.int32))
    column = pa.ListArray.from_arrays(offsets, pa.array(vectors.reshape(-1), type=pa.float32()))
    table = pa.table({CLIP_COLUMN: pa.array(ids, type=pa.string()), VECTOR_COLUMN: column})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")


def _write_yaml(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=120), encoding="utf-8")


def _word_files(gen: _Generator, out_dir: Path, word: str, n_allowed: int, n_unlisted: int) -> list[str]:
    """Write the training parquet of a word (allowed clips plus unlisted ones); return the allowed ids."""
    ids = gen.clip_ids(word, n_allowed + n_unlisted)
    unlisted = set(gen.rng.choice(len(ids), size=n_unlisted, replace=False).tolist()) if n_unlisted else set()
    _write_parquet(out_dir / TRAIN_DIR / f"{word}.parquet", ids, gen.vectors(word, len(ids)))
    return [clip_id for index, clip_id in enumerate(ids) if index not in unlisted]


def _eval_file(gen: _Generator, out_dir: Path, word: str, count: int) -> list[str]:
    ids = gen.clip_ids(word, count)
    _write_parquet(out_dir / EVAL_DIR / f"{word}.parquet", ids, gen.vectors(word, count))
    return ids


def _new_generator(language: str, seed: int, shape: SyntheticShape) -> _Generator:
    if language not in TARGET_WORDS:
        raise ValueError(f"language must be one of {', '.join(TARGET_WORDS)}, got {language!r}")
    if not 0 < shape.nontarget_words <= len(NONTARGET_WORDS[language]):
        raise ValueError(f"nontarget_words must be from 1 to {len(NONTARGET_WORDS[language])}")
    if not 0 <= shape.unseen_words <= len(UNSEEN_WORDS[language]):
        raise ValueError(f"unseen_words must be from 0 to {len(UNSEEN_WORDS[language])}")
    gen = _Generator(rng=np.random.default_rng(seed), shape=shape, language=language)
    words = (
        *TARGET_WORDS[language],
        *NONTARGET_WORDS[language][: shape.nontarget_words],
        *UNSEEN_WORDS[language][: shape.unseen_words],
    )
    gen.basis = gen.rng.standard_normal((_SUBSPACE_DIM, shape.dim)) / np.sqrt(_SUBSPACE_DIM)
    gen.centres = {word: gen.rng.standard_normal(_SUBSPACE_DIM) * shape.separation for word in words}
    return gen


def generate_speech_task(
    out_dir: Path,
    *,
    language: str = "en",
    train_size: int = 25,
    seed: int = 0,
    shape: SyntheticShape | None = None,
) -> None:
    """Write a complete selection-speech task directory into `out_dir` (created if needed).

    Deterministic: the same arguments write byte-identical files. Raises `ValueError` on an unknown
    language or impossible sizes.
    """
    shape = shape or SyntheticShape()
    gen = _new_generator(language, seed, shape)
    out_dir.mkdir(parents=True, exist_ok=True)
    nontarget_words = NONTARGET_WORDS[language][: shape.nontarget_words]
    allowed = ClipLists(targets={}, nontargets=[])
    evaluation = ClipLists(targets={}, nontargets=[])
    for word in TARGET_WORDS[language]:
        allowed.targets[word] = _word_files(gen, out_dir, word, shape.allowed_per_target, shape.unlisted_per_target)
        evaluation.targets[word] = _eval_file(gen, out_dir, word, shape.eval_per_target)
    for word in nontarget_words:
        allowed.nontargets.extend(_word_files(gen, out_dir, word, shape.allowed_per_nontarget_word, 0))
        evaluation.nontargets.extend(_eval_file(gen, out_dir, word, shape.eval_per_nontarget_word))
    for word in UNSEEN_WORDS[language][: shape.unseen_words]:
        evaluation.nontargets.extend(_eval_file(gen, out_dir, word, shape.eval_per_unseen_word))
    _write_yaml(out_dir / ALLOWED_FILE, {"targets": allowed.targets, "nontargets": allowed.nontargets})
    _write_yaml(out_dir / EVAL_FILE, {"targets": evaluation.targets, "nontargets": evaluation.nontargets})
    task = {"benchmark": "selection-speech", "config": {"language": language, "train_size": train_size}}
    _write_yaml(out_dir / TASK_FILE, task)


def _quotas(budget: int, n_classes: int) -> list[int]:
    """Split the budget evenly over the classes; the remainder goes to the nontarget class (index 0)."""
    quotas = [budget // n_classes] * n_classes
    quotas[0] += budget - sum(quotas)
    if quotas[1] == 0:
        # Fewer entries than classes: keep at least one target clip.
        quotas[0] -= 1
        quotas[1] = 1
    return quotas


def _pick(rng: np.random.Generator | None, ids: list[str], count: int) -> list[str]:
    """`count` ids in list order: the first ones (rng None) or a random subset."""
    count = min(count, len(ids))
    if rng is None:
        return ids[:count]
    chosen = sorted(rng.choice(len(ids), size=count, replace=False).tolist())
    return [ids[index] for index in chosen]


def _balanced(allowed: ClipLists, budget: int, rng: np.random.Generator | None) -> dict[str, Any]:
    words = sorted(allowed.targets)
    quotas = _quotas(budget, len(words) + 1)
    return {
        "targets": {
            word: _pick(rng, allowed.targets[word], quota) for word, quota in zip(words, quotas[1:], strict=True)
        },
        "nontargets": _pick(rng, allowed.nontargets, quotas[0]),
    }


def _uniform(allowed: ClipLists, budget: int, rng: np.random.Generator) -> dict[str, Any]:
    """A uniform draw over all allowed clips, forced to hold at least one target and one nontarget."""
    pool = [(word, clip_id) for word in sorted(allowed.targets) for clip_id in allowed.targets[word]]
    first_target = pool.pop(int(rng.integers(len(pool))))
    nontargets = list(allowed.nontargets)
    first_nontarget = nontargets.pop(int(rng.integers(len(nontargets))))
    pool += [("", clip_id) for clip_id in nontargets]
    rest = rng.choice(len(pool), size=min(budget - 2, len(pool)), replace=False).tolist()
    chosen = [first_target, ("", first_nontarget)] + [pool[index] for index in rest]
    targets: dict[str, list[str]] = {word: [] for word in sorted(allowed.targets)}
    for word, clip_id in chosen:
        if word:
            targets[word].append(clip_id)
    return {"targets": targets, "nontargets": [clip_id for word, clip_id in chosen if not word]}


def baseline_submissions(task_dir: Path, *, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Named valid selections within the task's budget, deterministic for a seed.

    `first-k`: the first clips of each allowed list, balanced over the 6 classes; `random-balanced`: a random
    subset of each class, same quotas; `random`: a uniform draw over all allowed clips. Raises `ValueError`
    if the budget is below 2 (no valid selection can hold one target and one nontarget).
    """
    budget = int(load_task_dir(task_dir).config["train_size"])
    if budget < 2:
        raise ValueError("a valid selection needs a budget of at least 2")
    allowed = load_clip_lists(task_dir / ALLOWED_FILE)
    rng = np.random.default_rng(seed)
    return {
        "first-k": _balanced(allowed, budget, None),
        "random-balanced": _balanced(allowed, budget, rng),
        "random": _uniform(allowed, budget, rng),
    }


# --- The demo protocol of `evaluators.demo` -----------------------------------------------------------------

DEMO_TASKS = [
    DemoTask(
        slug=f"speech-selection-en-{size}",
        title=f"Speech selection, English, budget {size}",
        ml_task="keyword-spotting",
        config={"language": "en", "train_size": size},
        description=(
            f"Pick at most **{size}** training clips (targets and nontargets together) out of "
            "`allowed_training_set.yaml`. The fixed model is a soft-voting ensemble of an SVM and a logistic "
            "regression on 1024-dimensional spoken-word embeddings, scored by macro F1 on the hidden "
            "evaluation set, averaged over 10 seeds."
        ),
        slow_to_score=True,
    )
    for size in (25, 60)
]


def generate_task(out_dir: Path, *, config: Mapping[str, Any], seed: int = 0, small: bool = False) -> None:
    """A complete task directory for `config` (`language`, `train_size`); `small` shrinks the embeddings."""
    shape = SyntheticShape(dim=64, allowed_per_target=20, eval_per_target=15) if small else None
    generate_speech_task(
        out_dir,
        language=str(config.get("language", "en")),
        train_size=int(config.get("train_size", 25)),
        seed=seed,
        shape=shape,
    )


def write_baselines(task_dir: Path, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """The baseline selections of `baseline_submissions`, written as JSON files into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, selection in baseline_submissions(task_dir, seed=seed).items():
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(selection, indent=1), encoding="utf-8")
        written[name] = path
    return written

"""The loaded selection-speech task: config, allowed clips, training embeddings, lazily the evaluation set."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators.base import TaskConfigError
from evaluators.selection_speech.data import (
    ALLOWED_FILE,
    EVAL_DIR,
    EVAL_FILE,
    NONTARGET_CLASS_NAME,
    TRAIN_DIR,
    ClipLists,
    EmbeddingStore,
    LabelledRows,
    assemble_rows,
    check_clips_present,
    load_clip_lists,
    load_embedding_store,
)
from evaluators.splits import RowUnits, SplitConfig, row_units, split_and_rest, split_problems

LANGUAGES = ("en", "id", "pt")
MAX_TRAIN_SIZE = 10_000
_CONFIG_KEYS = frozenset({"language", "train_size"})


@dataclass(frozen=True)
class SpeechConfig:
    """A validated task config: `language` (en, id, pt), `train_size` (the selection budget) and the
    public/private split of the evaluation clips (`private_fraction`, `split_seed`; none by default)."""

    language: str
    train_size: int
    split: SplitConfig = field(default_factory=SplitConfig)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SpeechConfig:
        """Validate a raw config; raise `TaskConfigError` naming the key and the rule."""
        if not isinstance(config, Mapping):
            raise TaskConfigError(f"the config must be a mapping, got {type(config).__name__}")
        split, config = split_and_rest(config)
        unexpected = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unexpected:
            raise TaskConfigError(
                f"unexpected config key(s) {', '.join(unexpected)}; allowed: language, train_size, "
                "private_fraction, split_seed"
            )
        language = config.get("language")
        if language not in LANGUAGES:
            raise TaskConfigError(f"config.language must be one of {', '.join(LANGUAGES)}, got {language!r}")
        train_size = config.get("train_size")
        # bool is an int subclass; `train_size: true` is a typo, not a budget of 1.
        if isinstance(train_size, bool) or not isinstance(train_size, int) or not 0 < train_size <= MAX_TRAIN_SIZE:
            raise TaskConfigError(
                f"config.train_size must be an integer from 1 to {MAX_TRAIN_SIZE} (25 and 60 are the "
                f"DataPerf budgets), got {train_size!r}"
            )
        return cls(language=str(language), train_size=train_size, split=split)

    def as_dict(self) -> dict[str, Any]:
        """The normalised config, as stored by the platform (the split keys only when there is a split)."""
        return {"language": self.language, "train_size": self.train_size, **self.split.as_dict()}


def eval_units(rows: LabelledRows, class_names: tuple[str, ...]) -> RowUnits:
    """The units of the split: the distinct (class, clip) pairs of the evaluation set, "<class name>/<clip id>"
    (unique even if an organizer lists a clip under two classes), stratified by class. A nontarget clip listed
    twice in `eval.yaml` is two rows but one unit, so both rows fall on one side."""
    names = [class_names[int(label)] for label in rows.labels.tolist()]
    return row_units([f"{name}/{clip_id}" for name, clip_id in zip(names, rows.clip_ids, strict=True)], names)


class SpeechTask:
    """Everything `validate` and `evaluate` need, loaded once and shared read-only by many submissions.

    The training side (public files) is loaded by the constructor's caller, `load_speech_task`; the
    evaluation side (hidden files) on the first call of `eval_rows()`, so that validation works on a copy
    of the task holding only the public files.
    """

    def __init__(self, *, task_dir: Path, config: SpeechConfig, allowed: ClipLists, train: EmbeddingStore) -> None:
        self.task_dir = task_dir
        self.config = config
        self.allowed = allowed
        self.train = train
        self.target_names: tuple[str, ...] = tuple(sorted(allowed.targets))
        # Class ids by name over ALL target words, so a word missing from a submission shifts nothing.
        self.class_of: dict[str, int] = {word: rank + 1 for rank, word in enumerate(self.target_names)}
        self.class_names: tuple[str, ...] = (NONTARGET_CLASS_NAME, *self.target_names)
        self.allowed_target_ids = {word: frozenset(ids) for word, ids in allowed.targets.items()}
        self.allowed_nontarget_ids = frozenset(allowed.nontargets)
        self.target_word_of: dict[str, str] = {}
        for word in self.target_names:
            for clip_id in allowed.targets[word]:
                self.target_word_of.setdefault(clip_id, word)
        self._eval_rows: LabelledRows | None = None
        self._eval_lock = threading.Lock()
        self._private_rows: tuple[bool, ...] | None = None

    def eval_rows(self) -> LabelledRows:
        """The evaluation rows and labels, read from the hidden files on first use (thread-safe)."""
        if self._eval_rows is None:
            with self._eval_lock:
                if self._eval_rows is None:
                    self._eval_rows = self._load_eval_rows()
        return self._eval_rows

    def private_rows(self) -> tuple[bool, ...]:
        """For each evaluation row, whether it is private (all False without a split). Hidden data: never
        shown. Computed on first use; racing threads compute the same tuple, so caching needs no lock."""
        if self._private_rows is None:
            self._private_rows = eval_units(self.eval_rows(), self.class_names).private_rows(self.config.split)
        return self._private_rows

    def split_problems(self) -> list[str]:
        """A class of the evaluation set too small to have clips on both sides (nothing without a split)."""
        if not self.config.split.enabled:
            return []
        units = eval_units(self.eval_rows(), self.class_names)
        return split_problems(units.ids, split=self.config.split, strata=units.strata, unit="evaluation clip")

    def _load_eval_rows(self) -> LabelledRows:
        eval_file = self.task_dir / EVAL_FILE
        clips = load_clip_lists(eval_file)
        unknown = sorted(set(clips.targets) - set(self.target_names))
        if unknown:
            raise TaskConfigError(f"{eval_file}: target word(s) {', '.join(unknown)} are not in {ALLOWED_FILE}")
        if not clips.nontargets and not any(clips.targets.values()):
            raise TaskConfigError(f"{eval_file}: lists no clip")
        expected_dim = self.train.dim or None
        store = load_embedding_store(self.task_dir / EVAL_DIR, clips.parquet_stems(), expected_dim=expected_dim)
        check_clips_present(store, clips, eval_file)
        return assemble_rows(store, list(clips.targets.items()), clips.nontargets, self.class_of)


def load_speech_task(task_dir: Path, config: SpeechConfig) -> SpeechTask:
    """Load the public side of a task (allowed clips, training embeddings); raise `TaskConfigError`."""
    allowed_file = task_dir / ALLOWED_FILE
    allowed = load_clip_lists(allowed_file)
    if not allowed.targets or not any(allowed.targets.values()) or not allowed.nontargets:
        raise TaskConfigError(f"{allowed_file}: needs at least one target clip and one nontarget clip")
    train = load_embedding_store(task_dir / TRAIN_DIR, allowed.parquet_stems())
    check_clips_present(train, allowed, allowed_file)
    return SpeechTask(task_dir=task_dir, config=config, allowed=allowed, train=train)

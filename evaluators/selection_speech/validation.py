"""Parsing and checking a selection-speech submission: `{"targets": {word: [clip_id]}, "nontargets": [...]}`.

Rules of the reference `eval.py` (target keys must be targets, ids must be allowed for their class, at most
`train_size` entries counting repeats) plus platform rules where the original crashes or mis-scores: at
least one target and one nontarget clip, no duplicated keys, no unexpected keys, strict types.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.base import SubmissionError
from evaluators.inputs import JSONObject, json_type_name, parse_json, read_text_file, show
from evaluators.selection_speech.task import SpeechTask

MAX_SUBMISSION_BYTES = 50 * 1024 * 1024
TOP_LEVEL_KEYS = ("targets", "nontargets")


@dataclass(frozen=True)
class SpeechSelection:
    """A valid selection. `targets` keeps the order of the keys in the JSON text (it decides row order)."""

    targets: tuple[tuple[str, tuple[str, ...]], ...]
    nontargets: tuple[str, ...]

    @property
    def n_entries(self) -> int:
        """The number of list entries, repeats included: what the budget counts."""
        return sum(len(ids) for _, ids in self.targets) + len(self.nontargets)


def _reject_duplicates(obj: JSONObject, where: str) -> None:
    if obj.duplicate_keys:
        raise SubmissionError(f"{where}: the key {show(obj.duplicate_keys[0])} appears more than once")


def _top_level(document: Any) -> JSONObject:
    if not isinstance(document, JSONObject):
        raise SubmissionError(
            f'the file must hold one JSON object {{"targets": {{...}}, "nontargets": [...]}}, '
            f"got {json_type_name(document)}"
        )
    _reject_duplicates(document, "top-level object")
    for key in document:
        if key not in TOP_LEVEL_KEYS:
            raise SubmissionError(f'unexpected top-level key {show(key)}; only "targets" and "nontargets" are allowed')
    for key in TOP_LEVEL_KEYS:
        if key not in document:
            raise SubmissionError(
                f'the top-level object has no {show(key)} key; both "targets" and '
                '"nontargets" are required (an empty list or object is allowed)'
            )
    return document


def _clip_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise SubmissionError(f"{where} must be a list of clip id strings, got {json_type_name(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise SubmissionError(f"{where}[{index}] must be a clip id string, got {json_type_name(item)} {show(item)}")
    return tuple(value)


def _elsewhere_hint(task: SpeechTask, clip_id: str) -> str:
    owner = task.target_word_of.get(clip_id)
    if owner is not None:
        return f' (it is an allowed clip of the target "{owner}": list it under targets.{owner})'
    if clip_id in task.allowed_nontarget_ids:
        return " (it is an allowed nontarget clip: list it under nontargets)"
    return ""


def _targets(task: SpeechTask, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, JSONObject):
        raise SubmissionError(f'"targets" must be an object {{word: [clip_id, ...]}}, got {json_type_name(value)}')
    _reject_duplicates(value, "targets")
    selected: list[tuple[str, tuple[str, ...]]] = []
    for word, ids in value.items():
        if word not in task.allowed_target_ids:
            raise SubmissionError(
                f"targets: {show(word)} is not a target word of this task; "
                f"the target words are {', '.join(task.target_names)}"
            )
        clips = _clip_list(ids, f"targets.{word}")
        allowed = task.allowed_target_ids[word]
        for index, clip_id in enumerate(clips):
            if clip_id not in allowed:
                raise SubmissionError(
                    f'targets.{word}[{index}]: {show(clip_id)} is not in the allowed training set of "{word}"'
                    + _elsewhere_hint(task, clip_id)
                )
        selected.append((word, clips))
    return tuple(selected)


def _nontargets(task: SpeechTask, value: Any) -> tuple[str, ...]:
    clips = _clip_list(value, "nontargets")
    for index, clip_id in enumerate(clips):
        if clip_id not in task.allowed_nontarget_ids:
            raise SubmissionError(
                f"nontargets[{index}]: {show(clip_id)} is not in the allowed nontarget clips"
                + _elsewhere_hint(task, clip_id)
            )
    return clips


def _check_budget_and_classes(task: SpeechTask, selection: SpeechSelection) -> None:
    budget = task.config.train_size
    if selection.n_entries > budget:
        raise SubmissionError(
            f"the selection has {selection.n_entries} entries, more than the budget of {budget} "
            "(every list entry counts, a repeated clip id each time)"
        )
    if not any(ids for _, ids in selection.targets):
        raise SubmissionError(
            "the selection has no target clip: list at least one clip under targets (the classifier "
            "cannot be trained without one)"
        )
    if not selection.nontargets:
        raise SubmissionError(
            "the selection has no nontarget clip: list at least one clip under nontargets (the classifier "
            "cannot be trained without one)"
        )


def parse_selection(task: SpeechTask, path: Path) -> SpeechSelection:
    """Read and check a submission file; raise `SubmissionError` with the first broken rule.

    Reads only the submission and the task's public data (already loaded in `task`).
    """
    text = read_text_file(path, max_bytes=MAX_SUBMISSION_BYTES, label=path.name)
    document = _top_level(parse_json(text, label=path.name))
    selection = SpeechSelection(
        targets=_targets(task, document["targets"]),
        nontargets=_nontargets(task, document["nontargets"]),
    )
    _check_budget_and_classes(task, selection)
    return selection

"""budget-cleaning: whatever bytes arrive, validation answers with a selection or a SubmissionError."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError
from evaluators.budget_cleaning.task import CleaningTask
from evaluators.budget_cleaning.validation import parse_selection

_cells = st.one_of(
    st.integers(-5, 320).map(str),
    st.sampled_from(["", "id", "true", "False", "1", "0", "yes", "4.0", " 7 ", '"', "\x00", "1e3", "-0"]),
    st.text(max_size=6),
)
_lines = st.lists(st.lists(_cells, min_size=0, max_size=3).map(",".join), max_size=140)
_headers = st.sampled_from(["id", "id,clean", ",idx_selected", "id,idx_selected", "", "ID", "id,clean,x"])


def _outcome(task: CleaningTask, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "submission"
        path.write_bytes(content)
        try:
            parsed = parse_selection(task, path)
        except SubmissionError as exc:
            assert str(exc).strip()
        else:
            assert len(parsed.rows) <= task.max_selected
            assert len(set(parsed.rows)) == len(parsed.rows)


@settings(max_examples=500, deadline=None)
@given(header=_headers, lines=_lines, separator=st.sampled_from(["\n", "\r\n", "\r"]))
def test_malformed_csv_text_only_ever_gives_a_submission_error(
    reference_task: CleaningTask, header: str, lines: list[str], separator: str
) -> None:
    _outcome(reference_task, separator.join([header, *lines]).encode("utf-8", errors="surrogatepass"))


@settings(max_examples=500, deadline=None)
@given(content=st.binary(max_size=300))
def test_random_bytes_only_ever_give_a_submission_error(reference_task: CleaningTask, content: bytes) -> None:
    _outcome(reference_task, content)

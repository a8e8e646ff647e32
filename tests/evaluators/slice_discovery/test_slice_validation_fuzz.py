"""slice-discovery: whatever bytes arrive, validation answers with a parsed table or a SubmissionError."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError
from evaluators.slice_discovery.data import load_predictions
from evaluators.slice_discovery.task import SliceConfig, SliceTask
from evaluators.slice_discovery.validation import parse_scores

IDS = ("a1", "a2", "b1", "b2", "c1")


@pytest.fixture(scope="module")
def tiny_task(tmp_path_factory: pytest.TempPathFactory) -> SliceTask:
    directory = tmp_path_factory.mktemp("tiny_slice_task")
    rows = "".join(f"{example_id},{index % 2},0.5\n" for index, example_id in enumerate(IDS))
    (directory / "test_predictions.csv").write_text("id,target,probs\n" + rows)
    predictions = load_predictions(directory / "test_predictions.csv")
    return SliceTask(task_dir=directory, config=SliceConfig(n_pred_slices=2), predictions=predictions)


_cells = st.one_of(
    st.sampled_from([*IDS, "id", "", "x", "0.5", "1", "-3e2", "nan", "inf", "1e999", '"', "a1 ", "\x00"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)
_lines = st.lists(st.lists(_cells, min_size=0, max_size=4).map(",".join), max_size=8)
_separators = st.sampled_from(["\n", "\r\n", "\r"])


def _outcome(task: SliceTask, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "submission"
        path.write_bytes(content)
        try:
            parsed = parse_scores(task, path)
        except SubmissionError as exc:
            assert str(exc).strip()
        else:
            assert parsed.scores.shape == (len(IDS), 2)


@settings(max_examples=500, deadline=None)
@given(header=st.sampled_from(["id,s0,s1", "id,s0", "s0,id,s1", ""]), lines=_lines, separator=_separators)
def test_malformed_csv_text_only_ever_gives_a_submission_error(
    tiny_task: SliceTask, header: str, lines: list[str], separator: str
) -> None:
    _outcome(tiny_task, separator.join([header, *lines]).encode("utf-8", errors="surrogatepass"))


@settings(max_examples=500, deadline=None)
@given(content=st.binary(max_size=200), parquet_magic=st.booleans())
def test_random_bytes_only_ever_give_a_submission_error(
    tiny_task: SliceTask, content: bytes, parquet_magic: bool
) -> None:
    _outcome(tiny_task, (b"PAR1" if parquet_magic else b"") + content)


def _parquet_bytes(columns: dict[str, pa.Array]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


_arrays = st.one_of(
    st.lists(st.sampled_from([*IDS, "zz"]), min_size=5, max_size=5).map(pa.array),
    st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.none(), min_size=5, max_size=5).map(
        lambda values: pa.array(values, type=pa.float64())
    ),
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=5, max_size=5).map(pa.array),
    st.lists(st.booleans(), min_size=5, max_size=5).map(pa.array),
    st.lists(st.lists(st.floats(0, 1), max_size=2), min_size=5, max_size=5).map(pa.array),
)


@settings(max_examples=500, deadline=None)
@given(
    names=st.lists(st.sampled_from(["id", "s0", "s1", "s2"]), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_wellformed_parquet_with_any_columns_only_ever_gives_a_submission_error(
    tiny_task: SliceTask, names: list[str], data: st.DataObject
) -> None:
    columns = {name: data.draw(_arrays) for name in names}
    _outcome(tiny_task, _parquet_bytes(columns))

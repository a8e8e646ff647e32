"""debugging-vision: every rule a submission directory can break, one test each, on the small synthetic task
(datasets 01g317 and 09j2d, train_size 40)."""

from __future__ import annotations

import os
import string
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators import SubmissionError
from evaluators.debugging_vision.task import DebuggingTask
from evaluators.debugging_vision.validation import MAX_ENTRIES, MAX_FILE_BYTES, parse_submission

WriteDirectory = Callable[[Mapping[str, str | bytes]], Path]
GOOD = "".join(f"{row}\n" for row in range(40))


def _both(first: str | bytes, second: str | bytes = GOOD) -> dict[str, str | bytes]:
    return {"01g317_m.txt": first, "09j2d_m.txt": second}


def _rejects(task: DebuggingTask, path: Path) -> str:
    with pytest.raises(SubmissionError) as raised:
        parse_submission(task, path)
    return str(raised.value)


def test_it_accepts_a_full_ranking_per_dataset(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    parsed = parse_submission(small_task, write_directory(_both(GOOD, "".join(f"{r}\n" for r in reversed(range(40))))))
    assert [f.data_id for f in parsed.files] == ["01g317", "09j2d"]
    assert parsed.ranking_file("01g317").ranking == tuple(range(40))
    assert parsed.ranking_file("09j2d").ranking == tuple(reversed(range(40)))
    assert parsed.ranking_file("09j2d").name == "09j2d_m.txt"


def test_it_accepts_the_public_reference_submission(public_task: DebuggingTask) -> None:
    case = Path(__file__).resolve().parents[3] / "tests/fixtures/reference_cases/debugging-vision/synC"
    parsed = parse_submission(public_task, case / "submissions" / "oracle")
    assert len(parsed.ranking_file("synC").ranking) == 300


def test_it_keeps_only_the_first_train_size_lines_but_checks_them_all(
    small_task: DebuggingTask, write_directory: WriteDirectory
) -> None:
    long = GOOD + "".join(f"{row}\n" for row in range(40))
    parsed = parse_submission(small_task, write_directory(_both(long)))
    assert parsed.ranking_file("01g317").ranking == tuple(range(40))
    assert parsed.ranking_file("01g317").n_lines == 80
    assert "line 81" in _rejects(small_task, write_directory(_both(long + "40\n")))


def test_it_accepts_short_lists_repeats_and_an_empty_file(
    small_task: DebuggingTask, write_directory: WriteDirectory
) -> None:
    parsed = parse_submission(small_task, write_directory(_both("3\n3\n5", "")))
    assert parsed.ranking_file("01g317").ranking == (3, 3, 5)
    assert parsed.ranking_file("09j2d").ranking == ()


def test_it_reads_lines_as_python_text_mode_does(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    parsed = parse_submission(small_task, write_directory(_both("1\r\n 2 \r3\t\n+4\n5")))
    assert parsed.ranking_file("01g317").ranking == (1, 2, 3, 4, 5)
    with_bom = parse_submission(small_task, write_directory(_both(b"\xef\xbb\xbf7\n8\n")))
    assert with_bom.ranking_file("01g317").ranking == (7, 8)


def test_it_ignores_time_files_and_hidden_entries(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    directory = write_directory({**_both(GOOD), "time_01g317_m.txt": "12.5 seconds", ".DS_Store": b"\x00\x01"})
    (directory / "__MACOSX").mkdir()
    assert len(parse_submission(small_task, directory).files) == 2


def test_it_rejects_a_single_file(small_task: DebuggingTask, tmp_path: Path) -> None:
    path = tmp_path / "01g317_m.txt"
    path.write_text(GOOD)
    assert "must be a directory" in _rejects(small_task, path)


def test_it_rejects_a_missing_directory(small_task: DebuggingTask, tmp_path: Path) -> None:
    assert "no such directory" in _rejects(small_task, tmp_path / "absent")


def test_it_rejects_a_missing_dataset_file(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    message = _rejects(small_task, write_directory({"01g317_m.txt": GOOD}))
    assert "no ranking file for dataset 09j2d" in message


def test_it_rejects_a_blank_line(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    message = _rejects(small_task, write_directory(_both("1\n\n2\n")))
    assert "01g317_m.txt" in message
    assert "line 2 is blank" in message


def test_it_rejects_an_empty_last_line(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    assert "line 41 is blank" in _rejects(small_task, write_directory(_both(GOOD + "\n")))


def test_it_rejects_a_line_of_spaces(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    assert "line 2 is blank" in _rejects(small_task, write_directory(_both("1\n   \n2")))


@pytest.mark.parametrize("value", ["17.0", "abc", "1_7", "0x1", "1e3", "٣", "1 2", "--1", "\x00"])
def test_it_rejects_a_line_that_is_not_an_integer(
    small_task: DebuggingTask, write_directory: WriteDirectory, value: str
) -> None:
    message = _rejects(small_task, write_directory(_both(f"1\n{value}\n")))
    assert "line 2" in message
    assert "is not an integer" in message


@pytest.mark.parametrize("value", ["40", "-1", "-0040", "99999999999999999999", "9" * 5000])
def test_it_rejects_an_index_outside_the_training_rows(
    small_task: DebuggingTask, write_directory: WriteDirectory, value: str
) -> None:
    message = _rejects(small_task, write_directory(_both(f"0\n1\n{value}\n")))
    assert "line 3" in message
    assert "is outside 0..39" in message


def test_it_accepts_a_negative_zero_and_a_plus_sign(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    assert parse_submission(small_task, write_directory(_both("-0\n+39\n"))).files[0].ranking == (0, 39)


def test_it_rejects_two_files_for_one_dataset(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    message = _rejects(small_task, write_directory({**_both(GOOD), "01g317_other.txt": GOOD}))
    assert "two ranking files for dataset 01g317" in message


def test_it_rejects_a_file_of_an_unknown_dataset(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    message = _rejects(small_task, write_directory({**_both(GOOD), "synC_m.txt": GOOD}))
    assert '"synC" is not a dataset of this task' in message


@pytest.mark.parametrize("name", ["01g317.txt", "01g317_m.csv", "notes.md", "01g317-m.txt"])
def test_it_rejects_an_unexpected_file(small_task: DebuggingTask, write_directory: WriteDirectory, name: str) -> None:
    message = _rejects(small_task, write_directory({**_both(GOOD), name: GOOD}))
    assert f'unexpected file "{name}"' in message
    assert "<id>_<method>.txt" in message


def test_it_rejects_a_sub_directory(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    directory = write_directory({"09j2d_m.txt": GOOD})  # not alone: a lone folder would be the root
    (directory / "rankings").mkdir()
    assert '"rankings" is a directory' in _rejects(small_task, directory)


def test_it_rejects_a_link(small_task: DebuggingTask, write_directory: WriteDirectory, tmp_path: Path) -> None:
    directory = write_directory({"09j2d_m.txt": GOOD})
    target = tmp_path / "elsewhere.txt"
    target.write_text(GOOD)
    os.symlink(target, directory / "01g317_m.txt")
    assert "is a link" in _rejects(small_task, directory)


def test_it_rejects_an_oversized_file(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    message = _rejects(small_task, write_directory(_both(b"1\n" * (MAX_FILE_BYTES // 2 + 1))))
    assert f"more than the limit of {MAX_FILE_BYTES}" in message


def test_it_rejects_bytes_that_are_not_utf8(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    assert "not UTF-8 text" in _rejects(small_task, write_directory(_both(b"1\n\xff\xfe\n")))


def test_it_rejects_too_many_entries(small_task: DebuggingTask, write_directory: WriteDirectory) -> None:
    files: dict[str, str | bytes] = {f"time_{n}.txt": "" for n in range(MAX_ENTRIES + 1)}
    assert f"more than {MAX_ENTRIES} entries" in _rejects(small_task, write_directory(files))


_NAMES = st.one_of(
    st.sampled_from(["01g317_m.txt", "09j2d_m.txt", "01g317_x.txt", "time_a.txt", "x.txt", "01g317", ".hidden"]),
    st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=20).filter(
        lambda name: name not in {".", ".."}
    ),
)
_LINES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", " ", "17.0", "1_0", "\t3", "+5", "-0", "nan", "\x00", "\r"]),
    st.text(max_size=12),
)
_CONTENT = st.one_of(
    st.binary(max_size=200),
    st.lists(_LINES, max_size=60).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")),
)


def _only_submission_errors(task: DebuggingTask, files: dict[str, bytes], directories: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in directories:
            (root / name).mkdir(exist_ok=True)
        for name, content in files.items():
            if not (root / name).exists():
                (root / name).write_bytes(content)
        try:
            parsed = parse_submission(task, root)
        except SubmissionError as exc:
            assert str(exc).strip()
        else:
            assert all(0 <= row < 40 for f in parsed.files for row in f.ranking)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(_NAMES, _CONTENT, max_size=4), directories=st.lists(_NAMES, max_size=2))
def test_no_directory_makes_validation_raise_anything_but_a_submission_error(
    small_task: DebuggingTask, files: dict[str, bytes], directories: list[str]
) -> None:
    _only_submission_errors(small_task, files, directories)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_CONTENT, second=_CONTENT)
def test_no_ranking_text_makes_validation_raise_anything_but_a_submission_error(
    small_task: DebuggingTask, first: bytes, second: bytes
) -> None:
    _only_submission_errors(small_task, {"01g317_m.txt": first, "09j2d_m.txt": second}, [])

"""The simulated teams' artifacts: mixtures of a good artifact and a poor one (two baselines of the benchmark's
demo module), and malformed copies for the validator to reject. Plain files in, plain files out, whatever the
benchmark, by the shape of the files alone:

- two CSV files with the same header and the same keys (first column) are tables of one row per key: each row is
  taken from the good file with probability `share`, else from the poor one;
- two CSV files with the same header and other keys are selections: `share` of the good file's rows (drawn at
  random), then the poor file's rows whose key is not taken yet, then (when the poor file has rows, but too few
  new keys) the good file's others, to the good file's length (a benchmark that wants an exact count gets it);
  mixed with an empty selection, a selection keeps `share` of its rows;
- two directories are mixed file by file (same name: mixed as above; same stem, another format: one of them,
  as a whole; on one side only: kept), so a file that only the good method writes (extra features) stays;
- anything else (different headers, other formats) is taken whole: the good one with probability `share`.

Deterministic: the same inputs, share and seed write the same bytes (a directory is zipped with fixed dates).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np

from apps.core.archives import make_zip

Rows = list[list[str]]
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
"""The date of every member of the demo's zips: the same directory gives the same bytes (and sha256) each time."""


def artifact_mix(*, good: Path, poor: Path, share: float, seed: int, out: Path) -> Path:
    """Write the mixture of `good` and `poor` (files, or directories) with `share` (0 to 1) of good choices
    to `out` (a directory when both are directories, else a file named after `good`'s suffix); returns it."""
    rng = np.random.default_rng(seed)
    if good.is_dir() and poor.is_dir():
        _mix_dirs(good, poor, share, rng, out)
        return out
    target = out.with_suffix(good.suffix)
    _mix_files(good, poor, share, rng, target)
    return target


def _mix_dirs(good: Path, poor: Path, share: float, rng: np.random.Generator, out: Path) -> None:
    good_files = {p.relative_to(good): p for p in sorted(good.rglob("*")) if p.is_file()}
    poor_files = {p.relative_to(poor): p for p in sorted(poor.rglob("*")) if p.is_file()}
    by_stem = {relative.with_suffix(""): relative for relative in poor_files}
    for relative, path in good_files.items():
        other = poor_files.get(relative) or poor_files.get(by_stem.get(relative.with_suffix(""), Path("-")))
        if other is None:
            _copy(path, out / relative)
        elif other.name == path.name:
            _mix_files(path, other, share, rng, out / relative)
        else:
            chosen = (path, relative) if rng.random() < share else (other, other.relative_to(poor))
            _copy(chosen[0], out / chosen[1])
    stems = {relative.with_suffix("") for relative in good_files}
    for relative, path in poor_files.items():
        if relative.with_suffix("") not in stems:
            _copy(path, out / relative)


def _mix_files(good: Path, poor: Path, share: float, rng: np.random.Generator, out: Path) -> None:
    good_rows, poor_rows = _csv_rows(good), _csv_rows(poor)
    if good_rows is None or poor_rows is None or good_rows[:1] != poor_rows[:1] or len(good_rows) < 2:
        _copy(good if rng.random() < share else poor, out)
        return
    header, good_body, poor_body = good_rows[0], good_rows[1:], poor_rows[1:]
    if sorted(row[0] for row in good_body) == sorted(row[0] for row in poor_body):
        body = _mix_table(good_body, poor_body, share, rng)
    else:
        body = _mix_selection(good_body, poor_body, share, rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])


def _mix_table(good: Rows, poor: Rows, share: float, rng: np.random.Generator) -> Rows:
    """One row per key, in the good file's order: the good row with probability `share`."""
    poor_by_key = {row[0]: row for row in poor}
    return [row if rng.random() < share else poor_by_key[row[0]] for row in good]


def _mix_selection(good: Rows, poor: Rows, share: float, rng: np.random.Generator) -> Rows:
    """`share` of the good rows, then poor rows, then (unless `poor` is empty) the other good rows, to the good
    file's length; a key once."""
    count = len(good)
    picked = sorted(int(i) for i in rng.choice(count, size=round(share * count), replace=False))
    chosen = [good[i] for i in picked]
    taken = {row[0] for row in chosen}
    left = sorted(set(range(count)) - set(picked)) if poor else []
    for row in [*poor, *(good[i] for i in left)]:
        if len(chosen) >= count:
            break
        if row[0] not in taken:
            chosen.append(row)
            taken.add(row[0])
    return chosen


def _csv_rows(path: Path) -> Rows | None:
    """The file's rows when it is a CSV file (UTF-8 text whose rows all have its header's width), else None."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        rows = [row for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) if row]
    except (UnicodeDecodeError, csv.Error):
        return None
    if not rows or any(len(row) != len(rows[0]) for row in rows):
        return None
    return rows


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def artifact_malformed(*, source: Path, kind: str, out: Path) -> Path:
    """A copy of the artifact `source` with one mistake participants make, in its first CSV file (for a
    directory, the first in name order): `kind` "unknown-key" adds a row whose key names nothing of the task;
    "semicolons" writes it with semicolons (a spreadsheet's export in many locales), or, when its header has a
    single column (no comma to replace), adds the unknown key too. Returns the copy."""
    if source.is_dir():
        shutil.copytree(source, out)
        first = min(out.rglob("*.csv"), default=None) or min(p for p in out.rglob("*") if p.is_file())
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        first = Path(shutil.copyfile(source, out.with_suffix(source.suffix)))
    text = first.read_text(encoding="utf-8")
    if kind == "semicolons" and "," in text.split("\n", 1)[0]:
        first.write_text(text.replace(",", ";"), encoding="utf-8")
    elif kind in ("unknown-key", "semicolons"):
        last = text.rstrip("\n").split("\n")[-1].split(",")
        first.write_text(text.rstrip("\n") + "\n" + ",".join(["no-such-key", *last[1:]]) + "\n", encoding="utf-8")
    else:
        raise ValueError(f"unknown kind of mistake {kind!r}")
    return out if source.is_dir() else first


def artifact_shuffled(*, source: Path, seed: int, out: Path) -> Path | None:
    """A copy of the CSV file `source` whose keys (first column) are dealt the other columns of its rows at
    random: a table of random choices. None when `source` is not a CSV file of a header and two rows or more,
    with a column besides its keys."""
    rows = _csv_rows(source) if source.is_file() else None
    if rows is None or len(rows) < 3 or len(rows[0]) < 2:
        return None
    body = rows[1:]
    order = np.random.default_rng(seed).permutation(len(body))
    target = out.with_suffix(source.suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        shuffled = [[row[0], *body[int(j)][1:]] for row, j in zip(body, order, strict=True)]
        csv.writer(handle, lineterminator="\n").writerows([rows[0], *shuffled])
    return target


def zip_fixed(folder: Path, target: Path) -> Path:
    """Zip the files under `folder` into `target` with fixed dates (`ZIP_DATE`), so that the same files always
    give the same archive; returns `target`."""
    return make_zip(folder, target, date_time=ZIP_DATE)

"""Helpers shared by the selection-vision tests (plain functions; the fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
VISION_CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / "selection-vision" / "pool4000_3concepts"
CONCEPTS = ["Cupcake", "Hawk", "Sushi"]
CONFIG: dict[str, Any] = {"concepts": CONCEPTS, "max_per_concept": 1000}

# A directory artifact: file name -> content (str or bytes, written as is; a list of rows becomes a CSV;
# a dict becomes JSON).
WriteDir = Callable[[dict[str, Any]], Path]


def to_csv(rows: list[list[str]], header: str = "ImageID,Confidence") -> str:
    """CSV text with a header line and one line per row."""
    return "\n".join([header, *(",".join(row) for row in rows)]) + "\n"


def replace_contents(directory: Path, files: dict[str, bytes]) -> None:
    """Make `directory` hold exactly `files` (name -> bytes; names may contain one `/`), reusing it.

    Generated-input tests write hundreds of submissions; creating and removing a directory each time costs
    milliseconds on some file systems, unlinking files does not.
    """
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_dir():
            path.write_bytes(content)

"""Constants and helpers shared by the test-set-creation tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evaluators.test_set_creation.synthetic import DEMO_TASKS

SLUG = "test-set-creation"
N_ITEMS = 6
CONFIG: dict[str, Any] = {**DEMO_TASKS[0].config, "n_items": N_ITEMS}

WriteCsv = Callable[..., Path]


def csv_text(rows: Sequence[Sequence[str]], header: Sequence[str] = ("item", "label")) -> str:
    """A submission's text: the header, then the rows, with "\\n" line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()

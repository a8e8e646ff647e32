"""Example algorithm for adversarial-test-set: claim the pool items a nearest-neighbour vote is least sure of.

Reads the pool (`pool/items.csv`) and the reference training set (`train/items.csv`); in image tasks, their PNG
files too, decoded by the small reader below (8-bit grayscale, grey with alpha, RGB and RGBA, not interlaced:
what common tools write; the sandbox has no imaging library) and sampled on a 16x16 grid. Every pool item gets
the label of a 5-nearest-neighbour vote over the training set (Euclidean distance); the items whose vote is the
least confident come first (ties in pool order), and the first `max_items` are claimed with the vote's label.
Ambiguous items are the likeliest to fool the models; a wrong claim costs nothing but a place in the budget.
Pool items only. Writes the directory DATAPERF_OUTPUT holding `labels.csv` (`item,label`).

Only public files are read (`pool/`, `train/`, `task.yaml`). Offline, from this folder, with a directory holding
the task's public files and its task.yaml:

    DATAPERF_INPUT_DIR=path/to/task DATAPERF_OUTPUT_DIR=out DATAPERF_OUTPUT=out/test_set \\
        DATAPERF_SEED=0 python -m algorithm
"""

from __future__ import annotations

import csv
import os
import struct
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

NEIGHBOURS = 5
GRID = 16
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel (8-bit only)


def _chunks(data: bytes) -> tuple[bytes, bytes]:
    """The IHDR chunk's data and the IDAT chunks' data joined."""
    header, idat, offset = b"", b"", 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    return header, idat


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """The PNG scanline filters undone: (height, stride) bytes."""
    rows = np.zeros((height + 1, stride), dtype=np.int64)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int64)
        above, out = rows[y], rows[y + 1]
        if kind in (0, 2):
            out[:] = (line + (above if kind == 2 else 0)) % 256
            continue
        for x in range(stride):
            left = out[x - bpp] if x >= bpp else 0
            corner = above[x - bpp] if x >= bpp else 0
            if kind == 1:
                predicted = left
            elif kind == 3:
                predicted = (left + above[x]) // 2
            else:
                estimate = left + above[x] - corner
                distances = (abs(estimate - left), abs(estimate - above[x]), abs(estimate - corner))
                predicted = (left, above[x], corner)[distances.index(min(distances))]
            out[x] = (line[x] + predicted) % 256
    return rows[1:]


def read_png(path: Path) -> np.ndarray | None:
    """The image as grey values in [0, 1] (alpha over white), or None for a PNG this reader does not handle."""
    header, idat = _chunks(path.read_bytes())
    if len(header) != 13:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in CHANNELS or interlace:
        return None
    bpp = CHANNELS[colour]
    pixels = _unfilter(zlib.decompress(idat), height, width * bpp, bpp).reshape(height, width, bpp) / 255.0
    grey = pixels[..., 0] if bpp < 3 else pixels[..., :3] @ np.array([0.299, 0.587, 0.114])
    if bpp in (2, 4):
        alpha = pixels[..., -1]
        grey = grey * alpha + (1 - alpha)
    return grey


def _sampled(grey: np.ndarray) -> np.ndarray:
    rows = ((np.arange(GRID) + 0.5) * grey.shape[0] / GRID).astype(int)
    columns = ((np.arange(GRID) + 0.5) * grey.shape[1] / GRID).astype(int)
    return grey[np.ix_(rows, columns)].reshape(-1)


def read_table(directory: Path, labelled: bool) -> tuple[list[str], list[str], np.ndarray]:
    """Ids, labels (empty for the pool) and vectors of an item table; unreadable images are left out."""
    with (directory / "items.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [[cell.strip() for cell in row] for row in csv.reader(handle) if row]
    first = 2 if labelled else 1
    ids, labels, vectors = [], [], []
    for row in rows[1:]:
        if len(rows[0]) > first:
            vector: np.ndarray | None = np.asarray([float(cell) for cell in row[first:]], dtype=np.float64)
        else:
            grey = read_png(directory / "images" / f"{row[0]}.png")
            vector = None if grey is None else _sampled(grey)
        if vector is not None:
            ids.append(row[0])
            labels.append(row[1] if labelled else "")
            vectors.append(vector)
    return ids, labels, np.asarray(vectors, dtype=np.float64)


def neighbour_votes(train: np.ndarray, labels: list[str], pool: np.ndarray) -> list[tuple[str, float]]:
    """For every pool vector: the majority label of its nearest training items (first label on ties) and the
    share of the neighbours that voted for it."""
    k = min(NEIGHBOURS, len(labels))
    distances = (pool**2).sum(axis=1)[:, None] - 2 * pool @ train.T + (train**2).sum(axis=1)[None, :]
    votes = []
    for nearest in np.argsort(distances, axis=1, kind="stable")[:, :k].tolist():
        counts = Counter(labels[row] for row in nearest)
        best = max(counts.values())
        label = next(labels[row] for row in nearest if counts[labels[row]] == best)
        votes.append((label, best / k))
    return votes


def main() -> None:
    """Read the inputs named by the DATAPERF_* variables and write the test set."""
    input_dir = Path(os.environ["DATAPERF_INPUT_DIR"])
    output = Path(os.environ["DATAPERF_OUTPUT"])
    config: dict[str, Any] = yaml.safe_load((input_dir / "task.yaml").read_text(encoding="utf-8"))["config"]
    train_ids, train_labels, train = read_table(input_dir / "train", labelled=True)
    pool_ids, _, pool = read_table(input_dir / "pool", labelled=False)
    votes = neighbour_votes(train, train_labels, pool) if train_ids and pool_ids else []
    order = sorted(range(len(votes)), key=lambda row: (votes[row][1], row))[: int(config["max_items"])]
    output.mkdir(parents=True, exist_ok=True)
    with (output / "labels.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item", "label"])
        writer.writerows([pool_ids[row], votes[row][0]] for row in order)


if __name__ == "__main__":
    main()

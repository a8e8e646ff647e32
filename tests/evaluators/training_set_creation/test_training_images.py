"""training-set-creation: the one image path (PNG -> features) and its refusals, per file."""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evaluators import Evaluator, TaskConfigError
from evaluators.taskdir import load_task_dir
from evaluators.training_set_creation import images
from evaluators.training_set_creation.images import ImageRejected, image_features
from evaluators.training_set_creation.task import TrainingTask
from tests.evaluators.training_set_creation.helpers import MakeSubmission, pool_rows


def _save(image: Image.Image, path: Path, **params: Any) -> Path:
    image.save(path, format="PNG", **params)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_header(width: int, height: int, bit_depth: int = 8, colour: int = 0) -> bytes:
    """A PNG whose header claims width x height pixels, with one tiny (wrong) data chunk: never decodable."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00")) + _chunk(b"IEND", b"")
    )


def test_a_copy_of_a_pool_image_gives_the_pool_vector(
    evaluator: Evaluator[Any, Any], roman: TrainingTask, roman_dir: Path, make_submission: MakeSubmission
) -> None:
    item = roman.pool.ids[7]
    rows = [*pool_rows(roman, 3, start=10), ["copies/seven.png", "v"]]
    parsed = evaluator.validate(
        roman, make_submission(rows, {"copies/seven.png": roman_dir / "pool/images" / f"{item}.png"})
    )
    assert np.array_equal(parsed.features[-1], roman.pool.features[7])


def test_features_are_grayscale_resized_scaled_and_flattened_row_by_row(tmp_path: Path) -> None:
    pixels = np.zeros((64, 64), dtype=np.uint8)
    pixels[:32, :] = 255  # top half white
    vector = image_features(_save(Image.fromarray(pixels, mode="L"), tmp_path / "a.png"), 8)
    assert vector.shape == (64,)
    assert vector.dtype == np.float64
    grid = vector.reshape(8, 8)
    assert np.all(grid[:3] == 1.0)
    assert np.all(grid[5:] == 0.0)


def test_rgb_is_converted_with_pillows_luma_weights(tmp_path: Path) -> None:
    path = _save(Image.new("RGB", (10, 10), (255, 0, 0)), tmp_path / "red.png")
    assert image_features(path, 4)[0] == pytest.approx(76 / 255)


def test_transparent_pixels_count_as_white_paper(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert np.all(image_features(_save(rgba, tmp_path / "clear.png"), 4) == 1.0)
    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([0, 0, 0] * 256)
    assert np.all(image_features(_save(palette, tmp_path / "p.png", transparency=0), 4) == 1.0)
    opaque = Image.new("LA", (10, 10), (0, 255))
    assert np.all(image_features(_save(opaque, tmp_path / "la.png"), 4) == 0.0)


def test_one_bit_images_are_accepted(tmp_path: Path) -> None:
    path = _save(Image.new("1", (9, 9), 1), tmp_path / "bit.png")
    assert np.all(image_features(path, 3) == 1.0)


def test_it_refuses_a_16_bit_png(tmp_path: Path) -> None:
    path = _save(Image.new("I;16", (9, 9), 300), tmp_path / "deep.png")
    with pytest.raises(ImageRejected, match="PNG mode 'I;16' is not supported"):
        image_features(path, 4)


def test_it_refuses_a_jpeg_named_png(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.new("L", (9, 9)).save(path, format="JPEG")
    with pytest.raises(ImageRejected, match="not a PNG image"):
        image_features(path, 4)


def test_it_refuses_huge_dimensions_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with_header(3000, 10))
    with pytest.raises(ImageRejected, match="the image is 3000x10 pixels; at most 2048 pixels per side"):
        image_features(path, 4)


def test_it_refuses_too_many_pixels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 100)
    path = _save(Image.new("L", (20, 20)), tmp_path / "wide.png")
    with pytest.raises(ImageRejected, match=r"20x20 pixels; .* and 100 pixels in all"):
        image_features(path, 4)


def test_it_turns_pillows_decompression_bomb_error_into_a_refusal(tmp_path: Path) -> None:
    path = tmp_path / "giant.png"
    path.write_bytes(png_with_header(50_000, 50_000))
    with pytest.raises(ImageRejected):
        image_features(path, 4)


def test_it_refuses_a_file_over_the_byte_limit_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    with path.open("wb") as handle:
        handle.truncate(images.MAX_IMAGE_BYTES + 1)
    with pytest.raises(ImageRejected, match="more than the limit"):
        image_features(path, 4)


def test_it_refuses_a_truncated_png(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 50), dtype=np.uint8)).save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[:200])
    with pytest.raises(ImageRejected, match="cannot be decoded as PNG"):
        image_features(path, 4)


def test_the_task_refuses_a_pool_image_that_cannot_be_decoded(
    evaluator: Evaluator[Any, Any], roman_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "task"
    shutil.copytree(roman_dir, copy)
    first = sorted((copy / "pool/images").iterdir())[0]
    first.write_bytes(b"broken")
    with pytest.raises(TaskConfigError, match=f"1 image\\(s\\) of .*{first.name}: not a PNG image"):
        evaluator.load_task(copy, evaluator.validate_config(load_task_dir(copy).config))

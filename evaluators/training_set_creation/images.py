"""The one image path of training-set-creation: PNG file -> feature vector. Pool, test set and submitted
images all go through `image_features`, so a submitted copy of a pool image gives the pool's exact vector.

The preprocessing, step by step (documented in README.md; changing any step changes scores, so bump the
evaluator's version):

1. open the file as PNG only (`Image.open(path, formats=["PNG"])`; a JPEG renamed `.png` is refused);
2. refuse it before decoding when it has more than `MAX_IMAGE_BYTES` bytes, a side over `MAX_IMAGE_SIDE`
   or more than `MAX_IMAGE_PIXELS` pixels (decompression bombs: the header is read, the pixels are not);
3. decode; modes 1, L, LA, P, PA, RGB, RGBA are accepted (16-bit and float PNGs are refused);
4. grayscale: an image with an alpha channel or a transparent palette entry is composited over white, then
   every image is converted to 8-bit grayscale with Pillow's `convert("L")` (L = 0.299 R + 0.587 G + 0.114 B);
5. resize to `size` x `size` with `Image.Resampling.BILINEAR` (the aspect ratio is not kept);
6. scale to [0, 1] (value / 255, float64) and flatten row by row.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 2048
MAX_IMAGE_PIXELS = 2048 * 2048
ACCEPTED_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA"})
RESAMPLING = Image.Resampling.BILINEAR

FeatureArray = npt.NDArray[np.float64]


class ImageRejected(Exception):
    """An image file cannot be used; the message says why (without the file name: callers add it)."""


def _check_file_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageRejected(f"cannot be read ({exc.strerror or exc})") from exc
    if size > MAX_IMAGE_BYTES:
        raise ImageRejected(f"the file has {size} bytes, more than the limit of {MAX_IMAGE_BYTES}")
    if size == 0:
        raise ImageRejected("the file is empty")


def _check_header(image: Image.Image) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected(f"the image is {width}x{height} pixels, it has no pixels")
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        raise ImageRejected(
            f"the image is {width}x{height} pixels; at most {MAX_IMAGE_SIDE} pixels per side and "
            f"{MAX_IMAGE_PIXELS} pixels in all are allowed"
        )
    if image.mode not in ACCEPTED_MODES:
        raise ImageRejected(f"PNG mode {image.mode!r} is not supported; save the image as 8-bit grayscale, RGB or RGBA")


def to_grayscale(image: Image.Image) -> Image.Image:
    """8-bit grayscale; transparent pixels count as white paper (step 4 of the module docstring)."""
    has_alpha = image.mode in {"LA", "PA", "RGBA"} or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return image.convert("L")


def grayscale_features(image: Image.Image, size: int) -> FeatureArray:
    """Steps 4 to 6 on a decoded image: grayscale, resize to `size` x `size`, scale to [0, 1], flatten."""
    resized = to_grayscale(image).resize((size, size), RESAMPLING)
    pixels = np.asarray(resized, dtype=np.float64)
    features: FeatureArray = (pixels / 255.0).reshape(-1)
    return features


def _decode(path: Path, size: int) -> FeatureArray:
    with Image.open(path, formats=["PNG"]) as image:
        _check_header(image)
        image.load()
        return grayscale_features(image, size)


def image_features(path: Path, size: int) -> FeatureArray:
    """The feature vector (`size * size` values in [0, 1]) of a PNG file; raise `ImageRejected` saying why.

    Every failure of the file (not a PNG, truncated, too large, unsupported mode) becomes `ImageRejected`.
    """
    _check_file_size(path)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; our own limit is far lower anyway.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(path, size)
    except ImageRejected:
        raise
    except UnidentifiedImageError as exc:
        raise ImageRejected("not a PNG image (the file cannot be identified as PNG)") from exc
    except Exception as exc:
        # Pillow's decoders raise many types on hostile bytes (SyntaxError, OSError, struct.error,
        # zlib.error, DecompressionBombError, ...): whatever it is, this file cannot be decoded.
        raise ImageRejected(f"cannot be decoded as PNG ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def read_features_of_files(paths: list[Path], size: int) -> tuple[FeatureArray, list[tuple[int, str]]]:
    """Features of every file (row i = paths[i]) and the failures as (index, reason); failed rows are zero."""
    matrix = np.zeros((len(paths), size * size), dtype=np.float64)
    failures: list[tuple[int, str]] = []
    for index, path in enumerate(paths):
        try:
            matrix[index] = image_features(path, size)
        except ImageRejected as exc:
            failures.append((index, str(exc)))
    return matrix, failures

"""Deterministic Roman-numeral images (i .. x) for the OCR demo task, drawn with Pillow only.

Two styles, picked at random per image: text in Pillow's bundled default font (`ImageFont.load_default(size)`,
no system font files, no downloads), upper or lower case; or procedural pen strokes (I = a vertical stroke,
V = two strokes meeting at the bottom, X = two crossing strokes) with jittered end points and optional
serif bars. Then a random rotation, offset, stroke width, blur and pixel noise. Dark ink on light paper,
as in the Data-Centric AI competition. Everything is drawn from the `rng` passed in, in a fixed order.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

NUMERALS = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
OTHER_GLYPHS = "ABCDEFGHJKLMNOPQRSTUWYZ0123456789"
CANVAS_SIDES = (40, 48, 56, 64, 72)

Point = tuple[float, float]


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _paper(rng: np.random.Generator, side: int) -> tuple[Image.Image, int, int]:
    paper = int(rng.integers(215, 256))
    ink = int(rng.integers(0, 70))
    return Image.new("L", (side, side), paper), paper, ink


def _draw_text(rng: np.random.Generator, image: Image.Image, text: str, ink: int) -> None:
    side = image.size[0]
    stroke = int(rng.integers(0, 3))
    draw = ImageDraw.Draw(image)
    # Size the text so that it spans 60 to 85 % of the canvas's width (or 70 % of its height).
    probe = _font(100)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=probe, stroke_width=stroke)
    fit = min(side * rng.uniform(0.6, 0.85) / max(right - left, 1), side * 0.7 / max(bottom - top, 1))
    font = _font(max(8, int(100 * fit)))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    x = (side - (right - left)) / 2 - left + rng.uniform(-0.05, 0.05) * side
    y = (side - (bottom - top)) / 2 - top + rng.uniform(-0.05, 0.05) * side
    draw.text((x, y), text, font=font, fill=ink, stroke_width=stroke, stroke_fill=ink)


def _glyph_strokes(letter: str, left: float, width: float, top: float, bottom: float) -> list[tuple[Point, Point]]:
    mid = left + width / 2
    if letter == "i":
        return [((mid, top), (mid, bottom))]
    if letter == "v":
        return [((left, top), (mid, bottom)), ((mid, bottom), (left + width, top))]
    return [((left, top), (left + width, bottom)), ((left + width, top), (left, bottom))]


def _draw_strokes(rng: np.random.Generator, image: Image.Image, numeral: str, ink: int) -> None:
    side = image.size[0]
    widths = {"i": 0.25, "v": 0.7, "x": 0.7}
    total = sum(widths[letter] for letter in numeral) + 0.15 * (len(numeral) - 1)
    scale = side * rng.uniform(0.6, 0.85) / max(total, 1.2)
    height = side * rng.uniform(0.5, 0.7)
    left = (side - total * scale) / 2 + rng.uniform(-0.05, 0.05) * side
    top = (side - height) / 2 + rng.uniform(-0.05, 0.05) * side
    pen = int(rng.integers(1, 5))
    jitter = side * 0.03
    draw = ImageDraw.Draw(image)
    for letter in numeral:
        glyph_width = widths[letter] * scale
        for start, end in _glyph_strokes(letter, left, glyph_width, top, top + height):
            shaken = [(px + rng.normal(0, jitter), py + rng.normal(0, jitter)) for px, py in (start, end)]
            draw.line(shaken, fill=ink, width=pen)
        left += glyph_width + 0.15 * scale
    if rng.random() < 0.4:
        # Serif bars over and under the whole numeral, as many handwritten Roman numerals have.
        span = ((side - total * scale) / 2, (side + total * scale) / 2)
        for bar in (top, top + height):
            draw.line([(span[0], bar), (span[1], bar)], fill=ink, width=max(1, pen - 1))


def _finish(rng: np.random.Generator, image: Image.Image, paper: int) -> Image.Image:
    angle = float(rng.uniform(-8, 8))
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=paper)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.0))))
    sigma = float(rng.uniform(0, 15))
    pixels = np.asarray(image, dtype=np.float64) + rng.normal(0, sigma, size=(image.size[1], image.size[0]))
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="L")


def render_numeral(rng: np.random.Generator, numeral: str) -> Image.Image:
    """One image of `numeral` (one of `NUMERALS`), in a random style; an 8-bit grayscale image."""
    image, paper, ink = _paper(rng, int(rng.choice(CANVAS_SIDES)))
    if rng.random() < 0.5:
        _draw_text(rng, image, numeral.upper() if rng.random() < 0.8 else numeral, ink)
    else:
        _draw_strokes(rng, image, numeral, ink)
    return _finish(rng, image, paper)


def render_off_topic(rng: np.random.Generator) -> Image.Image:
    """An image that shows no Roman numeral: a blank page, a scribble or another letter or digit."""
    image, paper, ink = _paper(rng, int(rng.choice(CANVAS_SIDES)))
    kind = rng.random()
    if kind < 0.5:
        _draw_text(rng, image, OTHER_GLYPHS[int(rng.integers(len(OTHER_GLYPHS)))], ink)
    elif kind < 0.75:
        draw = ImageDraw.Draw(image)
        side = image.size[0]
        points = [(float(rng.uniform(0, side)), float(rng.uniform(0, side))) for _ in range(int(rng.integers(3, 7)))]
        draw.line(points, fill=ink, width=int(rng.integers(1, 4)))
    return _finish(rng, image, paper)


def shifted(image: Image.Image, dx: int, dy: int, angle: float) -> Image.Image:
    """A copy moved by (dx, dy) pixels and turned by `angle` degrees (the paper colour fills the border)."""
    paper = int(max(image.getextrema()))  # type: ignore[arg-type]  # an "L" image's extrema are two ints
    moved = image.rotate(angle, resample=Image.Resampling.BILINEAR, translate=(dx, dy), fillcolor=paper)
    return moved


def confusable(rng: np.random.Generator, label: int, n_labels: int) -> int:
    """A different label: half of the time a neighbour (ii for iii), else any other label."""
    if rng.random() < 0.5:
        step = 1 if rng.random() < 0.5 else -1
        return int((label + step) % n_labels)
    other = int(rng.integers(n_labels - 1))
    return other if other < label else other + 1

"""Handwriting-like digits made offline in MNIST's format, and the same digits printed and scanned.

MNIST's digits came from NIST's bilevel scans: each was fitted into a 20×20 box keeping its aspect
ratio (anti-aliasing gave the grey levels), then placed so its centre of mass sat at the centre of
a 28×28 field. `mnist_format` follows that description on its own, independently of the app's
preparation (core.data.images), so the two can be checked against each other. The glyphs come
from the system's fonts and from scikit-learn's bundled 8×8 handwritten digits, slanted,
rotated, thickened and elastically bent, so a small model finds them about as hard as MNIST.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from core.data.images import MNIST_BOX, MNIST_SIZE

STYLES = ("fonts", "bundled", "mixed")
FONT_FOLDERS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
GLYPH_SIDE = 128  # the high-resolution field a glyph is drawn and bent in, as NIST's scans were
FONT_SIZE = 84
BUNDLED_ZOOM = 11  # the 8×8 digits (10×10 with a blank border) become 110 pixels a side
SCAN_SIDE = 280  # 10 scanner pixels per MNIST pixel


def synthetic_digits(n: int, style: str = "mixed", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` digits as MNIST stores them, (n, 28, 28) uint8 with ink bright, and their labels (n,) int64.

    style "fonts" draws the system's fonts, "bundled" redraws scikit-learn's 8×8 handwritten digits,
    "mixed" alternates the two. Classes are balanced and shuffled; the same seed gives the same digits.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}; got {style!r}.")
    if n < 0:
        raise ValueError(f"n must be a count of digits, 0 or more; got {n}.")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.int64)
    digits = np.zeros((n, MNIST_SIZE, MNIST_SIZE), dtype=np.uint8)
    for index, label in enumerate(labels):
        use_font = style == "fonts" or (style == "mixed" and index % 2 == 0)
        glyph = _font_glyph(int(label), rng) if use_font else _bundled_glyph(int(label), rng)
        digits[index] = mnist_format(_bilevel(_bent(glyph, rng)))
    return digits, labels


def mnist_format(ink: np.ndarray) -> np.ndarray:
    """A high-resolution ink image (bright on dark) as an MNIST digit: 28×28 uint8, made as MNIST's were.

    Crop to the ink, fit the longer side to 20 pixels keeping the aspect ratio with an anti-aliasing
    filter, then translate by whole pixels so the centre of mass sits at the field's centre (14, 14).
    """
    ink = np.asarray(ink, dtype=np.float32)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise ValueError("The glyph has no ink to normalise.")
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    factor = MNIST_BOX / max(crop.shape)
    size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
    boxed = np.clip(np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS)), 0.0, 1.0)
    row, col = ndimage.center_of_mass(boxed)
    top = min(max(round(MNIST_SIZE / 2 - row), 0), MNIST_SIZE - boxed.shape[0])
    left = min(max(round(MNIST_SIZE / 2 - col), 0), MNIST_SIZE - boxed.shape[1])
    field = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    field[top : top + boxed.shape[0], left : left + boxed.shape[1]] = boxed
    return np.round(field * 255).astype(np.uint8)


def scanned(digit: np.ndarray, seed: int = 0, side: int = SCAN_SIDE) -> np.ndarray:
    """An MNIST digit as a scanner sees it printed: `side`×`side` uint8, dark ink on light paper.

    Enlarged smoothly, with a margin, a small offset and tilt, blurred, on uneven paper with noise.
    """
    rng = np.random.default_rng(seed)
    digit = np.asarray(digit)
    ink = digit.astype(np.float32) / (255 if np.issubdtype(digit.dtype, np.integer) else 1)
    printed_side = round(side * rng.uniform(0.75, 1.0))
    printed = Image.fromarray(ink).resize((printed_side, printed_side), Image.Resampling.BICUBIC)
    page = Image.new("F", (side, side), 0.0)
    page.paste(printed, tuple(int(offset) for offset in rng.integers(0, side - printed_side + 1, 2)))
    page = page.rotate(float(rng.uniform(-4, 4)), Image.Resampling.BILINEAR)
    ink = ndimage.gaussian_filter(np.clip(np.asarray(page), 0.0, 1.0), sigma=rng.uniform(0.8, 2.5))
    paper = rng.uniform(0.8, 0.97) + np.linspace(-1, 1, side)[None, :] * rng.uniform(-0.04, 0.04)
    pen = rng.uniform(0.05, 0.3)
    grey = paper - ink * (paper - pen) + rng.normal(0.0, rng.uniform(0.01, 0.04), (side, side))
    return np.round(np.clip(grey, 0.0, 1.0) * 255).astype(np.uint8)


# --- Glyphs -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _font_paths() -> tuple[str, ...]:
    """The system's TrueType and OpenType fonts; an empty tuple means Pillow's built-in font is used."""
    found = [path for folder in FONT_FOLDERS if folder.is_dir() for path in folder.rglob("*.[ot]tf")]
    return tuple(sorted(str(path) for path in found))


@lru_cache(maxsize=64)
def _font(path: str | None) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(path, FONT_SIZE) if path else ImageFont.load_default(FONT_SIZE)


def _font_glyph(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One digit in a random font and stroke weight, anti-aliased, ink bright, GLYPH_SIDE a side."""
    paths = _font_paths()
    font = _font(str(rng.choice(paths)) if paths else None)
    image = Image.new("L", (GLYPH_SIDE, GLYPH_SIDE), 0)
    weight = int(rng.integers(0, 6))
    centre = (GLYPH_SIDE / 2, GLYPH_SIDE / 2)
    draw = ImageDraw.Draw(image)
    draw.text(centre, str(digit), fill=255, font=font, anchor="mm", stroke_width=weight, stroke_fill=255)
    return np.asarray(image, dtype=np.float32) / 255


@lru_cache(maxsize=1)
def _bundled_by_class() -> tuple[np.ndarray, ...]:
    """scikit-learn's 1,797 handwritten 8×8 digits in [0, 1], grouped by class."""
    from sklearn.datasets import load_digits

    bundled = load_digits()
    return tuple(bundled.images[bundled.target == digit] / 16 for digit in range(10))


def _bundled_glyph(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One of scikit-learn's handwritten digits of this class, enlarged smoothly to GLYPH_SIDE a side."""
    choices = _bundled_by_class()[digit]
    small = np.pad(choices[rng.integers(len(choices))], 1)
    enlarged = np.clip(ndimage.zoom(small, BUNDLED_ZOOM, order=3), 0.0, 1.0)
    margin = (GLYPH_SIDE - enlarged.shape[0]) // 2
    return np.pad(enlarged, ((margin, GLYPH_SIDE - enlarged.shape[0] - margin),) * 2).astype(np.float32)


def _bent(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The glyph slanted, turned, stretched and elastically bent, as different hands write one digit."""
    angle = np.deg2rad(rng.uniform(-12, 12))
    slant = rng.uniform(-0.35, 0.25)
    stretch = np.array([rng.uniform(0.85, 1.1), rng.uniform(0.7, 1.15)])  # rows, columns
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = turn @ np.array([[1.0, 0.0], [slant, 1.0]]) / stretch[None, :]
    centre = (GLYPH_SIDE - 1) / 2
    grid = np.indices(glyph.shape, dtype=np.float32).reshape(2, -1) - centre
    source = matrix @ grid + centre
    wobble = [ndimage.gaussian_filter(rng.uniform(-1, 1, glyph.shape), 9) * 120 for _ in range(2)]
    source += np.stack(wobble).reshape(2, -1)
    return ndimage.map_coordinates(glyph, source, order=1).reshape(glyph.shape)


def _bilevel(glyph: np.ndarray) -> np.ndarray:
    """Ink or paper, as NIST's scans were stored (stroke weight comes from the font's weight and the bending)."""
    return (glyph >= 0.5).astype(np.float32)

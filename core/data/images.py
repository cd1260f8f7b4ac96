"""A user's photo or drawing turned into the digit a model sees, prepared the way MNIST was made."""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

MAX_IMAGE_PIXELS = 40_000_000
MAX_FILE_BYTES = 20 * 1024 * 1024

# The only formats Pillow may try; the many others it knows add parsing surface and nothing else.
# ("JPEG" also opens phone cameras' multi-picture JPEGs, which Pillow reports as "MPO".)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
FORMAT_NAMES = "PNG, JPEG, BMP, GIF, WebP or TIFF"
# Pillow's decoders raise all of these on malformed input, not only OSError.
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    ZeroDivisionError,
)

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, as Pillow's convert("L")
ONE_COLOUR_SPREAD = 0.1  # below this spread of grey, the visible pixels of a transparent image are one paint

DISPLAY_MAX_SIDE = 512
# Huge photos are shrunk before the work; a digit stays far larger than the 20 pixels it ends up as.
WORK_MAX_SIDE = 2048
BORDER_FRACTION = 0.05  # the outer frame that tells the paper's brightness
BLANK_LEVEL = 0.1  # peak ink above the paper below which there is no digit
INK_FRACTION = 0.2  # of the peak ink: fainter pixels are paper texture, shadow or JPEG noise
SPECK_FRACTION = 0.05  # of the largest ink blob: smaller blobs are dust or pen specks

MNIST_SIZE, MNIST_BOX = 28, 20
DETAIL = 10  # pixels per model-input pixel while scaling and placing: placement to a tenth of a pixel
SMALL_SIDE = 16  # up to this, a side is filled by the digit (scikit-learn's 8×8 digits)

BLANK_MESSAGE = (
    "No digit found: the image is blank. Draw or photograph a single dark digit on light paper "
    "(or a light digit on dark)."
)
EMPTY_CANVAS_MESSAGE = "The canvas is empty: draw a digit first."


class ImageError(ValueError):
    """User-facing message: what is wrong with the image and what to do."""


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class PreprocessedDigit:
    """Every stage of the preparation, so a page can show the user what the model sees."""

    original: np.ndarray  # the input, ink bright on dark, at most 512 pixels a side
    inverted: bool  # True when the paper was light and the image was inverted
    cropped: np.ndarray  # the ink's bounding box, faint pixels and specks removed
    scaled: np.ndarray  # the crop scaled into the inner box (20×20 for 28×28), aspect ratio kept
    model_input: np.ndarray  # (height, width) float32 in [0, 1], centred by mass: exactly what the model sees
    steps: tuple[tuple[str, np.ndarray], ...]  # (name, image) of the four stages above, in order


# --- Decoding ---------------------------------------------------------------------------------------


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Greyscale float32 in [0, 1] from the bytes of a PNG, JPEG, BMP, GIF, WebP or TIFF file.

    Animated files give their first frame; phone photos are turned upright (EXIF orientation).
    Transparency: when every visible pixel has the same colour (a drawing-canvas export, black or white
    strokes on nothing) the alpha channel itself is the ink and comes back bright on dark, because the
    paint's colour says nothing and compositing white strokes onto white would erase them. Any other
    transparent image is composited onto white paper.
    """
    if not data:
        raise ImageError(f'"{name}" is empty (0 bytes). Choose a {FORMAT_NAMES} image of a single digit.')
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(
            f'"{name}" is {len(data) / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB. '
            "Save it smaller (a digit needs only a few hundred pixels a side) and upload it again."
        )
    with _open(data, name) as image:
        try:
            image.load()  # the first frame only, for animations
        except Image.DecompressionBombError as error:
            raise ImageError(_too_many_pixels(name)) from error
        except DECODE_ERRORS as error:
            raise ImageError(
                f'"{name}" is truncated or damaged: its pixels could not be read ({error}). '
                "Export or save the image again and upload the new file."
            ) from error
        return _to_grey(_upright(image))


def _open(data: bytes, name: str) -> Image.Image:
    """Read the header only, and refuse images with too many pixels before any is decoded."""
    try:
        with warnings.catch_warnings():
            # Pillow warns between its own limit and twice that; ours is lower and refuses just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as error:
        raise ImageError(_too_many_pixels(name)) from error
    except UnidentifiedImageError as error:
        raise ImageError(
            f'"{name}" is not an image this app can read; expected {FORMAT_NAMES}. '
            "Check the file, or save it as PNG or JPEG and upload it again."
        ) from error
    except DECODE_ERRORS as error:
        raise ImageError(f'"{name}" could not be opened ({error}). Save it as PNG or JPEG and try again.') from error
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise ImageError(_too_many_pixels(name, width, height))
    return image


def _too_many_pixels(name: str, width: int | None = None, height: int | None = None) -> str:
    found = f"is {width:,}×{height:,} = {width * height:,} pixels" if width and height else "has too many pixels"
    return (
        f'"{name}" {found}; the limit is {MAX_IMAGE_PIXELS:,} pixels. '
        "Resize it (a few hundred pixels a side is plenty for a digit) and upload it again."
    )


def _upright(image: Image.Image) -> Image.Image:
    """Turn a phone photo the way the camera was held; a damaged EXIF block is ignored, not fatal."""
    try:
        return ImageOps.exif_transpose(image)
    except DECODE_ERRORS:
        return image


def _to_grey(image: Image.Image) -> np.ndarray:
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float32) / 65535
    if image.mode in ("I", "F"):
        return _stretch(np.asarray(image, dtype=np.float32))
    if image.has_transparency_data:
        grey, alpha = np.moveaxis(np.asarray(image.convert("RGBA").convert("LA")), -1, 0)
        return _grey_with_alpha(grey.astype(np.float32) / 255, alpha.astype(np.float32) / 255)
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


def _stretch(values: np.ndarray) -> np.ndarray:
    """32-bit integer and float images have no fixed scale, so their own range becomes [0, 1]."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def _grey_with_alpha(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The transparency rule of decode_image: alpha is the ink for one-colour paint, else white paper."""
    if alpha.min() >= 1.0:
        return grey
    if _is_one_colour(grey, alpha):
        return alpha.copy()
    return grey * alpha + (1.0 - alpha)


def _is_one_colour(grey: np.ndarray, alpha: np.ndarray) -> bool:
    """Whether the visible pixels share one grey, each weighted by how visible it is."""
    weight = float(alpha.sum(dtype=np.float64))
    if weight == 0.0:
        return True
    mean = float((grey * alpha).sum(dtype=np.float64)) / weight
    variance = float((np.square(grey - mean) * alpha).sum(dtype=np.float64)) / weight
    return variance**0.5 < ONE_COLOUR_SPREAD


def canvas_to_image(rgba: np.ndarray | None) -> np.ndarray:
    """Greyscale ink bright on dark, float32 in [0, 1], from streamlit-drawable-canvas's image_data.

    image_data is an (H, W, 4) uint8 RGBA array; float arrays are taken as already in [0, 1].
    Transparency follows decode_image's rule; an opaque light background is inverted.
    """
    if rgba is None:
        raise ImageError(EMPTY_CANVAS_MESSAGE)
    pixels = np.asarray(rgba)
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.size == 0:
        raise ImageError(
            f"Expected the canvas as a (height, width, 4) RGBA array, got shape {pixels.shape}. "
            "Pass the image_data of st_canvas(...)."
        )
    scale = 255.0 if np.issubdtype(pixels.dtype, np.integer) else 1.0
    pixels = pixels.astype(np.float32) / scale
    ink = _grey_with_alpha(pixels[..., :3] @ LUMA, pixels[..., 3])
    if float(np.ptp(ink)) < BLANK_LEVEL:
        raise ImageError(EMPTY_CANVAS_MESSAGE)
    return 1.0 - ink if _has_light_background(ink) else ink


def on_square(image: np.ndarray) -> np.ndarray:
    """The image centred on a square of empty (black) paper, so a thin digit's preview keeps a sane size."""
    height, width = np.shape(image)
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    return np.pad(np.asarray(image), ((top, side - height - top), (left, side - width - left)))


# --- Preprocessing ----------------------------------------------------------------------------------


def prepare_digit_file(data: bytes, name: str, size: tuple[int, int] = (28, 28)) -> PreprocessedDigit:
    """decode_image, then preprocess_digit."""
    return preprocess_digit(decode_image(data, name), size)


def preprocess_digit(image: np.ndarray, size: tuple[int, int] = (28, 28)) -> PreprocessedDigit:
    """Prepare a greyscale image's digit the way MNIST's were, for a model of input `size` (height, width).

    Invert when the paper is light, remove the paper's level and gradient, drop faint pixels and specks,
    crop to the ink, scale it to fit the inner box keeping its aspect ratio (area averaging: the grey
    edges MNIST's anti-aliasing gave), and place it so its centre of mass sits on the centre pixel
    (14, 14 for 28×28) to a tenth of a pixel. `image` is float in [0, 1] (uint8 is read as 0-255). Limits, plainly:
    ruled or squared paper, or two digits, count as ink too; crop the photo to one digit first.
    """
    height, width = _checked_size(size)
    work = _fit_within(_as_grey(image), WORK_MAX_SIDE)
    inverted = _has_light_background(work)
    ink = 1.0 - work if inverted else work
    cropped = _crop_to_ink(_remove_background(ink))
    box_height, box_width = _inner_side(height), _inner_side(width)
    detailed = _scale_into(cropped, box_height, box_width)
    scaled = _block_mean(detailed)
    model_input = _centre_by_mass(detailed, height, width)
    original = _fit_within(ink, DISPLAY_MAX_SIDE)
    steps = (
        ("Your image", original),
        ("Cropped to the ink", cropped),
        (f"Scaled into {box_width}×{box_height}", scaled),
        (f"Centred in {width}×{height}", model_input),
    )
    return PreprocessedDigit(original, inverted, cropped, scaled, model_input, steps)


def _checked_size(size: tuple[int, int]) -> tuple[int, int]:
    height, width = (int(side) for side in size)
    if height < 1 or width < 1:
        raise ValueError(f"size must be (height, width) in pixels, both at least 1; got {size!r}.")
    return height, width


def _as_grey(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 2:
        raise ImageError(
            f"Expected a 2-D greyscale image, got an array of shape {array.shape}. "
            "Convert it first with decode_image() or canvas_to_image()."
        )
    if array.size == 0:
        raise ImageError(BLANK_MESSAGE)
    grey = array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        grey /= 255
    return np.clip(np.nan_to_num(grey), 0.0, 1.0)


def _fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink by area averaging so the longer side is at most max_side; smaller images are unchanged."""
    height, width = image.shape
    factor = max_side / max(height, width)
    if factor >= 1:
        return image
    new_size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return _resize(image, new_size, Image.Resampling.BOX)


def _resize(image: np.ndarray, new_size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    """Resize a float image (Pillow mode "F") to new_size = (width, height)."""
    resized = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize(new_size, resample)
    return np.asarray(resized, dtype=np.float32)


def _frame(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The top, bottom, left and right strips of the outer frame (at least one pixel thick)."""
    height, width = image.shape
    rows = max(1, round(height * BORDER_FRACTION))
    cols = max(1, round(width * BORDER_FRACTION))
    return image[:rows], image[-rows:], image[:, :cols], image[:, -cols:]


def _has_light_background(image: np.ndarray) -> bool:
    """Light paper when the frame's median is above mid-grey; a median ignores a stroke crossing the edge."""
    return float(np.median(np.concatenate([strip.ravel() for strip in _frame(image)]))) > 0.5


def _remove_background(ink: np.ndarray) -> np.ndarray:
    """Subtract the paper, modelled as a plane through the four edges (photos are often lit from one side).

    Each edge's level is its 25th percentile, so a stroke covering most of an edge still reads as paper.
    The plane is capped at 0.5: after inversion, paper is never brighter than that.
    """
    top, bottom, left, right = (float(np.percentile(strip, 25)) for strip in _frame(ink))
    height, width = ink.shape
    down = np.linspace(top, bottom, height, dtype=np.float32)[:, None]
    across = np.linspace(left, right, width, dtype=np.float32)[None, :]
    paper = np.clip(down + across - (top + bottom + left + right) / 4, 0.0, 0.5)
    return np.clip(ink - paper, 0.0, 1.0)


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The ink's bounding box, faint pixels and specks set to 0, strokes at full strength 1."""
    peak = float(ink.max())
    if not peak >= BLANK_LEVEL:
        raise ImageError(BLANK_MESSAGE)
    mask = _without_specks(ink >= INK_FRACTION * peak)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    # MNIST's strokes are saturated; a photo's are uneven and noisy, so the strongest tenth of the ink,
    # not the single brightest pixel, counts as full strength.
    full = float(np.percentile(ink[box][mask[box]], 90))
    return np.clip(np.where(mask[box], ink[box] / full, 0.0), 0.0, 1.0).astype(np.float32)


def _without_specks(mask: np.ndarray) -> np.ndarray:
    """Drop connected blobs smaller than SPECK_FRACTION of the largest (diagonal neighbours connect)."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0  # the background
    return (sizes >= SPECK_FRACTION * sizes.max())[labels]


def _inner_side(side: int) -> int:
    """The box the digit is scaled into: 20 of 28 as MNIST; a small side is filled whole.

    All 1,797 of scikit-learn's 8×8 digits span the full 8 rows (their 32×32 bitmaps were normalised
    to fill the frame), so shrinking them into a 6×6 box would not look like the training data.
    """
    return side if side <= SMALL_SIDE else max(1, round(side * MNIST_BOX / MNIST_SIZE))


def _scale_into(cropped: np.ndarray, box_height: int, box_width: int) -> np.ndarray:
    """Scale to fit the box keeping the aspect ratio, at DETAIL pixels per box pixel.

    Shrinking averages areas (how both datasets got their grey levels); enlarging interpolates.
    """
    height, width = cropped.shape
    factor = min(box_height / height, box_width / width)
    new_height = min(box_height, max(1, round(height * factor)))
    new_width = min(box_width, max(1, round(width * factor)))
    resample = Image.Resampling.BOX if factor * DETAIL < 1 else Image.Resampling.BILINEAR
    return np.clip(_resize(cropped, (new_width * DETAIL, new_height * DETAIL), resample), 0.0, 1.0)


def _centre_by_mass(detailed: np.ndarray, height: int, width: int) -> np.ndarray:
    """Place the scaled digit so its centre of mass lands on the field's centre, to a tenth of a pixel.

    The centre is pixel (height / 2, width / 2), where MNIST's whole-pixel shift put it to within half a
    pixel. Keeping the fraction matters: a rounded shift jumps a whole pixel when the centre sits near
    a half pixel, and a digit one pixel off is a different input to a dense network. Averaging
    DETAIL×DETAIL blocks of the placed digit anti-aliases it as shrinking it did.
    """
    centre = ndimage.center_of_mass(detailed) if detailed.sum() > 0 else np.subtract(detailed.shape, 1) / 2
    field = np.zeros((height * DETAIL, width * DETAIL), dtype=np.float32)
    starts = [
        _start(float(position), length, side)
        for position, length, side in zip(centre, detailed.shape, field.shape, strict=True)
    ]
    field[starts[0] : starts[0] + detailed.shape[0], starts[1] : starts[1] + detailed.shape[1]] = detailed
    return _block_mean(field)


def _start(centre: float, length: int, side: int) -> int:
    """Where the digit starts: its centre of mass on the middle, and never so far that ink falls off the edge."""
    wanted = round(side / 2 + DETAIL / 2 - (centre + 0.5))  # pixel index c spans [c, c + 1]
    return min(max(wanted, 0), side - length)


def _block_mean(detailed: np.ndarray) -> np.ndarray:
    """Each DETAIL×DETAIL block averaged into one pixel, brightest pixel 1."""
    height, width = (side // DETAIL for side in detailed.shape)
    blocks = detailed.reshape(height, DETAIL, width, DETAIL).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)
    peak = float(blocks.max())
    return blocks / peak if peak > 0 else blocks

"""Tests for core.data.images: decoding uploads and canvases, and MNIST-style digit preparation."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile
from scipy import ndimage

from core.data import images
from core.data.handwriting import scanned, synthetic_digits
from core.data.images import (
    BLANK_MESSAGE,
    EMPTY_CANVAS_MESSAGE,
    MAX_FILE_BYTES,
    ImageError,
    canvas_to_image,
    decode_image,
    on_square,
    prepare_digit_file,
    preprocess_digit,
)

CANVAS = (400, 300)  # width, height of the synthetic pages
MNIST_CENTRE = 14.0  # MNIST's whole-pixel shift put the centre of mass within half a pixel of (14, 14)

# Strokes of a few digits, drawn off-centre (towards the top left) on purpose.
STROKES = {
    "one": lambda draw, ink: draw.line([(90, 40), (100, 200)], fill=ink, width=14),
    "seven": lambda draw, ink: draw.line([(40, 50), (160, 50), (90, 220)], fill=ink, width=12, joint="curve"),
    "zero": lambda draw, ink: draw.ellipse([(50, 30), (150, 210)], outline=ink, width=12),
}


# --- Helpers ----------------------------------------------------------------------------------------


def page(digit: str = "seven", ink: int = 0, paper: int = 255) -> Image.Image:
    """A greyscale page with one digit drawn on it."""
    image = Image.new("L", CANVAS, paper)
    STROKES[digit](ImageDraw.Draw(image), ink)
    return image


def grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255


def encoded(image: Image.Image, file_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


def ink_box(array: np.ndarray) -> tuple[int, int]:
    """Height and width of the bounding box of the non-zero pixels."""
    rows = np.flatnonzero(array.any(axis=1))
    cols = np.flatnonzero(array.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width×height: cheap to make, costly only if it were decoded."""
    data = encoded(Image.new("1", (1, 1)), "PNG")
    ihdr = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
    return data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


def assert_same_digit(result: images.PreprocessedDigit, expected: images.PreprocessedDigit) -> None:
    """Same crop and same scaled digit; compared before centring, where a half-pixel can flip a shift."""
    assert np.abs(np.subtract(result.cropped.shape, expected.cropped.shape)).max() <= 2
    assert result.scaled.shape == expected.scaled.shape
    assert np.abs(result.scaled - expected.scaled).mean() < 0.05


def assert_mnist_like(model_input: np.ndarray, size: int = 28) -> None:
    """The MNIST conventions: values in [0, 1], peak 1, ink in the 20×20 box, centre of mass centred."""
    assert model_input.shape == (size, size)
    assert model_input.dtype == np.float32
    assert model_input.min() >= 0.0
    assert model_input.max() == pytest.approx(1.0)
    assert max(ink_box(model_input)) in (20, 21)  # 20 pixels, placed to a fraction: they may straddle a 21st
    centre = ndimage.center_of_mass(model_input)
    assert centre == pytest.approx((MNIST_CENTRE, MNIST_CENTRE), abs=0.1)


# --- Preprocessing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_an_off_centre_digit_is_scaled_into_20x20_and_centred_by_mass(digit):
    result = preprocess_digit(grey(page(digit)))

    assert_mnist_like(result.model_input)
    assert result.inverted
    assert result.cropped.min() >= 0.0 and result.cropped.max() == pytest.approx(1.0)


def test_a_tall_thin_stroke_keeps_its_aspect_ratio():
    result = preprocess_digit(grey(page("one")))

    assert result.scaled.shape[0] == 20 and result.scaled.shape[1] < 10
    height, width = ink_box(result.model_input)
    assert height in (20, 21) and width < 10


def test_dark_ink_on_white_and_white_ink_on_black_give_the_same_input():
    on_white = preprocess_digit(grey(page(ink=0, paper=255)))
    on_black = preprocess_digit(grey(page(ink=255, paper=0)))

    assert on_white.inverted and not on_black.inverted
    assert np.abs(on_white.model_input - on_black.model_input).mean() < 0.05
    assert on_white.original.max() == pytest.approx(1.0)  # shown ink bright on dark, like the model input


def test_steps_are_named_with_their_real_sizes_and_end_with_the_model_input():
    result = preprocess_digit(grey(page()))

    names = [name for name, _ in result.steps]
    assert names == ["Your image", "Cropped to the ink", "Scaled into 20×20", "Centred in 28×28"]
    assert result.steps[0][1] is result.original
    assert result.steps[-1][1] is result.model_input


def test_a_photo_on_uneven_grey_paper_is_inverted_and_centred():
    # Paper lit from the left (0.95 fading to 0.55 grey), with noise, a dark digit and a few dust specks.
    rng = np.random.default_rng(0)
    height, width = CANVAS[1], CANVAS[0]
    paper = np.linspace(0.95, 0.55, width, dtype=np.float32)[None, :] + np.linspace(0.0, -0.1, height)[:, None]
    photo = paper + rng.normal(0.0, 0.02, (height, width))
    digit = grey(page("seven")) < 0.5
    photo[digit] = 0.15 + rng.normal(0.0, 0.02, digit.sum())
    for row, col in [(270, 350), (20, 380), (250, 30)]:
        photo[row : row + 3, col : col + 3] = 0.2
    data = encoded(Image.fromarray(np.clip(photo * 255, 0, 255).astype(np.uint8)), "JPEG", quality=85)

    result = prepare_digit_file(data, "photo.jpg")

    assert result.inverted
    assert_mnist_like(result.model_input)
    assert_same_digit(result, preprocess_digit(grey(page("seven"))))


def test_a_huge_image_is_shown_downscaled():
    image = Image.new("L", (3000, 1000), 255)
    ImageDraw.Draw(image).line([(1200, 200), (1300, 800)], fill=0, width=60)

    result = preprocess_digit(grey(image))

    assert max(result.original.shape) == 512
    assert_mnist_like(result.model_input)


def test_an_8x8_digit_fills_the_frame_like_scikit_learn_digits():
    # scikit-learn's digits span all 8 rows; enlarged and prepared again they must come back alike.
    from sklearn.datasets import load_digits

    digits = load_digits().images[:50]
    similarities = []
    for digit in digits:
        result = preprocess_digit(np.kron(digit / 16, np.ones((10, 10))), size=(8, 8))
        assert result.model_input.shape == (8, 8)
        assert ink_box(result.model_input)[0] == 8
        expected = digit / digit.max()
        similarities.append(np.corrcoef(result.model_input.ravel(), expected.ravel())[0, 1])

    assert np.mean(similarities) > 0.85
    assert [name for name, _ in result.steps][2:] == ["Scaled into 8×8", "Centred in 8×8"]


def test_a_drawn_digit_prepared_for_8x8_stays_in_range():
    result = preprocess_digit(grey(page("zero")), size=(8, 8))

    assert result.model_input.shape == (8, 8)
    assert result.model_input.min() >= 0.0 and result.model_input.max() == pytest.approx(1.0)


def test_uint8_arrays_are_read_as_0_to_255():
    as_bytes = preprocess_digit(np.asarray(page()))
    as_floats = preprocess_digit(grey(page()))

    np.testing.assert_allclose(as_bytes.model_input, as_floats.model_input, atol=1e-6)


@pytest.mark.parametrize(
    "image",
    [np.ones((300, 400)), np.zeros((300, 400)), np.full((50, 50), 0.7), np.zeros((1, 1)), np.ones((1, 1))],
    ids=["white page", "black page", "grey page", "1×1 black", "1×1 white"],
)
def test_a_blank_image_says_no_digit_was_found(image):
    with pytest.raises(ImageError, match="No digit found: the image is blank"):
        preprocess_digit(image)


@pytest.mark.parametrize("shape", [(1, 5), (5, 1), (3, 3), (2, 200)])
def test_degenerate_shapes_do_not_crash(shape):
    image = np.zeros(shape, dtype=np.float32)
    image[shape[0] // 2, shape[1] // 2] = 1.0

    try:
        result = preprocess_digit(image)
    except ImageError as error:
        assert str(error) == BLANK_MESSAGE
    else:
        assert result.model_input.shape == (28, 28)
        assert result.model_input.max() == pytest.approx(1.0)


def test_a_speck_far_from_the_digit_is_ignored():
    image = page("one")
    ImageDraw.Draw(image).ellipse([(350, 250), (356, 256)], fill=0)

    height, width = ink_box(preprocess_digit(grey(image)).model_input)

    assert height in (20, 21) and width < 10


def test_a_colour_array_is_refused_with_a_hint():
    with pytest.raises(ImageError, match="2-D greyscale"):
        preprocess_digit(np.zeros((10, 10, 3)))


# --- Canvas -----------------------------------------------------------------------------------------


def canvas_rgba(stroke: tuple[int, int, int], background_alpha: int = 0) -> np.ndarray:
    """Like streamlit-drawable-canvas's image_data: strokes of one colour on a (transparent) background."""
    shape = grey(page(ink=255, paper=0))
    rgba = np.zeros((*shape.shape, 4), dtype=np.uint8)
    background = 255 - np.array(stroke) if background_alpha else 0
    rgba[..., :3] = background
    rgba[..., 3] = background_alpha
    drawn = shape > 0
    rgba[drawn, :3] = stroke
    rgba[drawn, 3] = np.maximum((shape[drawn] * 255).astype(np.uint8), background_alpha)
    return rgba


@pytest.mark.parametrize(
    ("stroke", "background_alpha"),
    [((0, 0, 0), 0), ((255, 255, 255), 0), ((0, 0, 0), 255), ((255, 255, 255), 255), ((200, 30, 30), 0)],
    ids=["black on transparent", "white on transparent", "black on white", "white on black", "red"],
)
def test_a_canvas_gives_ink_bright_on_dark(stroke, background_alpha):
    image = canvas_to_image(canvas_rgba(stroke, background_alpha))
    result = preprocess_digit(image)

    assert image.dtype == np.float32 and image.ndim == 2
    assert np.median(image) < 0.1
    assert not result.inverted
    assert_same_digit(result, preprocess_digit(grey(page(ink=255, paper=0))))


@pytest.mark.parametrize(
    "rgba",
    [None, np.zeros((200, 200, 4), dtype=np.uint8), np.full((200, 200, 4), 255, dtype=np.uint8)],
    ids=["None", "all transparent", "opaque white"],
)
def test_an_empty_canvas_asks_for_a_drawing(rgba):
    with pytest.raises(ImageError, match=EMPTY_CANVAS_MESSAGE):
        canvas_to_image(rgba)


def test_a_canvas_of_the_wrong_shape_is_refused():
    with pytest.raises(ImageError, match=r"\(height, width, 4\) RGBA"):
        canvas_to_image(np.zeros((20, 20, 3), dtype=np.uint8))


# --- Decoding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_format", "mode", "options"),
    [
        ("PNG", "L", {}),
        ("PNG", "RGB", {}),
        ("PNG", "1", {}),
        ("JPEG", "RGB", {"quality": 90}),
        ("JPEG", "CMYK", {"quality": 90}),
        ("WEBP", "RGB", {"quality": 90}),
        ("BMP", "RGB", {}),
        ("BMP", "P", {}),
        ("TIFF", "L", {}),
        ("GIF", "P", {}),
    ],
)
def test_common_formats_decode_to_the_same_digit(file_format, mode, options):
    image = decode_image(encoded(page().convert(mode), file_format, **options), f"digit.{file_format}")
    result = preprocess_digit(image)

    assert image.dtype == np.float32 and image.shape == (CANVAS[1], CANVAS[0])
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert result.inverted
    assert_same_digit(result, preprocess_digit(grey(page())))


def test_a_16_bit_png_decodes_with_its_full_precision():
    # Levels finer than 8 bits (1/65535 apart) must survive, not be rounded to 1/255.
    values = ((0.2 + 0.6 * grey(page())) * 65535).astype(np.uint16) + np.arange(CANVAS[0], dtype=np.uint16)
    data = encoded(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"

    image = decode_image(data)

    np.testing.assert_allclose(image, values / 65535, atol=1e-6)
    assert_mnist_like(preprocess_digit(image).model_input)


def test_an_animated_gif_gives_its_first_frame():
    first, second = page("one").convert("P"), page("zero").convert("P")
    data = encoded(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2

    image = decode_image(data, "animation.gif")

    np.testing.assert_allclose(image, grey(page("one")), atol=1 / 255)


@pytest.mark.parametrize("stroke", [(0, 0, 0), (255, 255, 255)], ids=["black strokes", "white strokes"])
def test_a_transparent_png_from_a_canvas_uses_alpha_as_ink(stroke):
    rgba = canvas_rgba(stroke)

    image = decode_image(encoded(Image.fromarray(rgba), "PNG"), "canvas.png")

    np.testing.assert_allclose(image, rgba[..., 3] / 255, atol=1e-6)
    assert_mnist_like(preprocess_digit(image).model_input)


def test_a_transparent_picture_of_several_colours_is_composited_onto_white():
    # A dark digit on a white card, in a transparent margin: the margin must become paper, not ink.
    rgba = np.zeros((CANVAS[1], CANVAS[0], 4), dtype=np.uint8)
    rgba[20:-20, 20:-20] = 255
    rgba[..., :3] = np.asarray(page())[..., None]
    rgba[:20, ..., 3] = rgba[-20:, ..., 3] = rgba[:, :20, 3] = rgba[:, -20:, 3] = 0

    image = decode_image(encoded(Image.fromarray(rgba), "PNG"))

    assert image[:20].min() == pytest.approx(1.0)  # transparent margin → white paper
    assert preprocess_digit(image).inverted


def test_a_palette_image_with_a_transparent_colour_decodes():
    image = page().convert("P")
    data = encoded(image, "PNG", transparency=255)

    decoded = decode_image(data)

    assert decoded.shape == (CANVAS[1], CANVAS[0])
    assert_mnist_like(preprocess_digit(decoded).model_input)


def test_a_phone_photo_is_turned_upright_from_its_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = encoded(page("one").convert("RGB"), "JPEG", exif=exif)

    image = decode_image(data, "phone.jpg")

    assert image.shape == (CANVAS[0], CANVAS[1])


def test_prepare_digit_file_decodes_and_prepares():
    result = prepare_digit_file(encoded(page(), "PNG"), "digit.png", size=(8, 8))

    assert result.model_input.shape == (8, 8)
    assert result.inverted


# --- Bad files --------------------------------------------------------------------------------------


def test_an_empty_file_is_refused():
    with pytest.raises(ImageError, match=r'"upload.png" is empty \(0 bytes\)'):
        decode_image(b"", "upload.png")


def test_a_file_that_is_not_an_image_is_refused():
    with pytest.raises(ImageError, match=r'"notes\.txt" is not an image this app can read; expected PNG, JPEG'):
        decode_image(b"not an image", "notes.txt")


def test_a_truncated_png_is_refused():
    data = encoded(page(), "PNG")

    with pytest.raises(ImageError, match="is truncated or damaged") as caught:
        decode_image(data[: len(data) // 2], "half.png")
    assert isinstance(caught.value.__cause__, OSError)


def test_a_file_over_the_byte_limit_is_refused():
    with pytest.raises(ImageError, match="the limit is 20 MB"):
        decode_image(b"\x89PNG" + bytes(MAX_FILE_BYTES), "huge.png")


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (10_000, 10_000), (8_000, 6_000)])
def test_too_many_pixels_are_refused_from_the_header_alone(width, height, monkeypatch):
    data = png_header(width, height)
    assert len(data) < 100
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image.size))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may leak either
        with pytest.raises(ImageError, match="the limit is 40,000,000 pixels") as caught:
            decode_image(data, "bomb.png")

    assert decoded == [], "refused before any pixel was decoded"
    assert "Resize it" in str(caught.value)


def test_the_pixel_count_is_stated_when_it_is_known():
    with pytest.raises(ImageError, match="is 8,000×6,000 = 48,000,000 pixels"):
        decode_image(png_header(8_000, 6_000), "big.png")


def test_a_blank_page_file_says_no_digit_was_found():
    with pytest.raises(ImageError, match="No digit found"):
        prepare_digit_file(encoded(Image.new("L", (200, 300), 255), "PNG"), "blank.png")


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)


# --- MNIST-format digits and their scans ------------------------------------------------------------


def test_synthetic_digits_are_mnist_format_balanced_and_repeatable():
    x, y = synthetic_digits(40, "mixed", seed=3)
    again, _ = synthetic_digits(40, "mixed", seed=3)

    assert x.shape == (40, 28, 28) and x.dtype == np.uint8 and y.shape == (40,)
    assert np.bincount(y, minlength=10).tolist() == [4] * 10
    np.testing.assert_array_equal(x, again)
    for digit in x[:10]:
        assert max(ink_box(digit)) == 20 and digit.max() >= 200
        centre = ndimage.center_of_mass(digit.astype(np.float64))
        assert centre == pytest.approx((MNIST_CENTRE, MNIST_CENTRE), abs=0.5 + 1e-6)


@pytest.mark.parametrize("style", ["fonts", "bundled"])
def test_each_style_of_synthetic_digits_has_ink(style):
    x, y = synthetic_digits(10, style, seed=1)

    assert sorted(y.tolist()) == list(range(10))
    assert (x.reshape(10, -1).max(axis=1) > 0).all()


def test_an_unknown_style_is_refused():
    with pytest.raises(ValueError, match="style must be one of"):
        synthetic_digits(5, "cursive")


def test_a_scanned_digit_comes_back_close_to_its_original_array():
    digits, _ = synthetic_digits(8, "mixed", seed=11)
    for index, digit in enumerate(digits):
        scan = scanned(digit, seed=index)
        assert scan.shape == (280, 280) and np.median(scan) > 150  # dark ink on light paper

        result = prepare_digit_file(encoded(Image.fromarray(scan), "PNG"), "scan.png")

        assert result.inverted
        original = digit / 255
        assert np.corrcoef(result.model_input.ravel(), original.ravel())[0, 1] > 0.85
        assert np.abs(result.model_input - original).mean() < 0.08


def test_a_scan_and_its_negative_prepare_alike():
    digit = synthetic_digits(1, "fonts", seed=5)[0][0]
    scan = scanned(digit, seed=2)

    on_light = preprocess_digit(scan)
    on_dark = preprocess_digit(255 - scan)

    assert on_light.inverted and not on_dark.inverted
    assert np.abs(on_light.model_input - on_dark.model_input).mean() < 0.05


@pytest.mark.parametrize("shape", [(161, 24), (24, 161), (20, 20), (1, 1)])
def test_previews_are_square_and_keep_the_image_in_the_middle(shape):
    image = np.ones(shape, dtype=np.float32)

    square = on_square(image)

    assert square.shape == (max(shape), max(shape))
    assert square.sum() == image.sum()
    rows, cols = np.flatnonzero(square.any(axis=1)), np.flatnonzero(square.any(axis=0))
    assert abs(rows[0] - (max(shape) - 1 - rows[-1])) <= 1 and abs(cols[0] - (max(shape) - 1 - cols[-1])) <= 1

"""Handwriting drawn in the app: each drawing checked and kept in MNIST's format, scored by a model, zipped.

A drawing is kept once, as MNIST stores a digit (28×28 uint8, ink bright, prepared by core.data.images),
whatever model reads it later: a model of another input size gets it prepared again for its size. The zip
holds class folders of PNGs (`3/0007.png`), which the upload loader reads back as a dataset unchanged.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.data.datasets import Dataset
from core.data.images import MNIST_SIZE, ImageError, canvas_to_image, preprocess_digit
from core.results import lesson_texts as texts
from core.results.inspection import most_confused_cell, tile_mosaic
from core.training.evaluation import confusion_matrix
from core.training.inference import ModelSnapshot, predict_probabilities

DIGITS = tuple(range(10))
DIGIT_NAMES = tuple(str(digit) for digit in DIGITS)
SOLO_ROUNDS = 2  # each digit asked for twice: one drawing of a digit could be a slip
# A drawing must cover this share of the canvas and span this share of its side: a dot or a tick is no digit.
MIN_INK_SHARE = 0.01
MIN_SPAN = 0.2
ROOM_SHARE = 0.2  # of the training images when drawings are mixed into a dataset to fine-tune on
MAX_REPEATS = 20
TOO_LITTLE_INK_MESSAGE = "That is too little ink to be a digit: draw it bigger, filling most of the square."


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class HandwritingScore:
    """How a model read a set of drawings: its answer and confidence for each, and the confusion counts."""

    labels: np.ndarray
    predictions: np.ndarray
    confidences: np.ndarray
    confusion: np.ndarray  # counts[i, j] = drawings of digit i read as j

    @classmethod
    def of(cls, labels, predictions, confidences, num_classes: int = len(DIGITS)) -> HandwritingScore:
        """The score of readings already made: each drawing's digit, the model's answer and its confidence."""
        labels, predictions = np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)
        confusion = confusion_matrix(labels, predictions, num_classes)
        return cls(labels, predictions, np.asarray(confidences, dtype=np.float64), confusion)

    @property
    def total(self) -> int:
        return len(self.labels)

    @property
    def correct(self) -> int:
        return int((self.labels == self.predictions).sum())

    @property
    def accuracy(self) -> float | None:
        """The share read right; None when there is nothing to score."""
        return self.correct / self.total if self.total else None


def reads_digits(class_names: Sequence[str]) -> bool:
    """Whether a model's classes are the ten digits, so handwritten digits can test it."""
    return tuple(class_names) == DIGIT_NAMES


def solo_prompts(rounds: int = SOLO_ROUNDS) -> tuple[int, ...]:
    """The digits one person is asked for, in turn: 0 to 9, `rounds` times."""
    return tuple(digit for _ in range(rounds) for digit in DIGITS)


def drawing_from_canvas(rgba: np.ndarray | None) -> np.ndarray:
    """A canvas's image_data as a kept drawing (28×28 uint8); ImageError when it is empty or nearly so."""
    ink = canvas_to_image(rgba)
    check_enough_ink(ink)
    return as_mnist(ink)


def check_enough_ink(ink: np.ndarray) -> None:
    """Refuse a nearly empty drawing: too few inked pixels, or all of them in a small spot."""
    inked = ink >= 0.5
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    if rows.size == 0 or inked.mean() < MIN_INK_SHARE:
        raise ImageError(TOO_LITTLE_INK_MESSAGE)
    span = max((rows[-1] - rows[0] + 1) / ink.shape[0], (cols[-1] - cols[0] + 1) / ink.shape[1])
    if span < MIN_SPAN:
        raise ImageError(TOO_LITTLE_INK_MESSAGE)


def as_mnist(ink: np.ndarray) -> np.ndarray:
    """Greyscale ink (bright on dark, [0, 1]) prepared the MNIST way, as 28×28 uint8."""
    prepared = preprocess_digit(ink, (MNIST_SIZE, MNIST_SIZE)).model_input
    return np.round(np.clip(prepared, 0.0, 1.0) * 255).astype(np.uint8)


def model_inputs(drawings: Sequence[np.ndarray], image_shape: tuple[int, int]) -> np.ndarray:
    """Kept drawings as a model of `image_shape` reads them: floats in [0, 1], prepared again for another size."""
    if not len(drawings):
        return np.zeros((0, *image_shape), dtype=np.float32)
    scaled = np.stack([np.asarray(drawing, dtype=np.float32) / 255 for drawing in drawings])
    if tuple(image_shape) == (MNIST_SIZE, MNIST_SIZE):
        return scaled
    return np.stack([preprocess_digit(drawing, tuple(image_shape)).model_input for drawing in scaled])


def score_drawings(
    snapshot: ModelSnapshot, drawings: Sequence[np.ndarray], labels: Sequence[int], num_classes: int = len(DIGITS)
) -> HandwritingScore:
    """How the model (a numpy snapshot, safe in any thread) reads each drawing."""
    if not len(drawings):
        return HandwritingScore.of([], [], [], num_classes)
    probabilities = predict_probabilities(snapshot, model_inputs(drawings, snapshot.input_shape[:2]))
    return HandwritingScore.of(labels, probabilities.argmax(axis=1), probabilities.max(axis=1), num_classes)


def worst_readings(score: HandwritingScore, limit: int = 8) -> list[int]:
    """The drawings read wrongly, the surest of its wrong answer first (indices into the scored set)."""
    wrong = np.flatnonzero(score.labels != score.predictions)
    return [int(index) for index in wrong[np.argsort(-score.confidences[wrong], kind="stable")][:limit]]


def held_out_split(labels: Sequence[int], share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices to teach and to hold out: a seeded `share` of each digit's drawings held out, the rest taught."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    held = [
        rng.permutation(members)[: round(len(members) * share)]
        for members in (np.flatnonzero(labels == digit) for digit in np.unique(labels))
    ]
    held_out = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.arange(len(labels)), held_out), held_out


def with_drawings(dataset: Dataset, drawings: Sequence[np.ndarray], labels: Sequence[int]) -> Dataset:
    """The dataset with drawings mixed into its training images (its test set unchanged), for fine-tuning.

    A room's few hundred drawings would vanish among tens of thousands of training images, so they are
    repeated until they make about ROOM_SHARE of the mix (at most MAX_REPEATS times each).
    """
    images = model_inputs(drawings, dataset.image_shape)
    pixels = np.round(images * dataset.pixel_max_raw).astype(dataset.pixels_train.dtype)
    wanted = ROOM_SHARE / (1 - ROOM_SHARE) * len(dataset.pixels_train) / max(1, len(pixels))
    repeats = int(min(MAX_REPEATS, max(1, round(wanted))))
    return dataclasses.replace(
        dataset,
        title=f"{dataset.title} and the room's handwriting",
        pixels_train=np.concatenate([dataset.pixels_train, np.tile(pixels, (repeats, 1, 1))]),
        y_train=np.concatenate([dataset.y_train, np.tile(np.asarray(labels, dtype=dataset.y_train.dtype), repeats)]),
    )


def handwriting_story(
    test_accuracy: float | None,
    room: HandwritingScore,
    taught: tuple[int, HandwritingScore, HandwritingScore, float | None, float | None] | None = None,
) -> list[str]:
    """The answer to "Does it work on our handwriting?" in sentences from the room's numbers.

    `taught` is (drawings taught, held-out score before, held-out score after, test accuracy before, after).
    """
    if not room.total or test_accuracy is None:
        return [texts.HANDWRITING_NOTHING_YET]
    points = 100 * (test_accuracy - room.accuracy)
    sentences = [
        texts.HANDWRITING_SCORES.format(test=test_accuracy, room=room.accuracy, correct=room.correct, total=room.total),
        texts.HANDWRITING_GAP.format(points=points) if points >= 1 else texts.HANDWRITING_NO_GAP,
    ]
    cell = most_confused_cell(room.confusion)
    if cell is not None:
        true, predicted = cell
        sentences.append(texts.HANDWRITING_CONFUSED.format(true=true, predicted=predicted, count=room.confusion[cell]))
    if taught is None:
        return [*sentences, texts.HANDWRITING_TEACH_NEXT]
    count, before, after, test_before, test_after = taught
    if before.total and after.total:
        gained = 100 * (after.accuracy - before.accuracy)
        sentences.append(
            texts.HANDWRITING_TAUGHT.format(
                taught=count, held=after.total, after=after.accuracy, before=before.accuracy, points=gained
            )
        )
    if test_before is not None and test_after is not None:
        lost = 100 * (test_before - test_after)
        template = texts.HANDWRITING_FORGOT if lost >= 0.5 else texts.HANDWRITING_REMEMBERED
        sentences.append(template.format(after=test_after, before=test_before, points=lost))
    return sentences


def drawing_mosaic(drawings: Sequence[np.ndarray], columns: int = 10, gap_level: float = 0.35) -> np.ndarray:
    """Drawings side by side in rows of `columns`, in [0, 1], with grey gaps so dark margins stay apart."""
    tiles = np.asarray(drawings, dtype=np.float32).reshape(-1, MNIST_SIZE, MNIST_SIZE) / 255
    if not len(tiles):
        return np.full((MNIST_SIZE, MNIST_SIZE), gap_level, dtype=np.float32)
    mosaic = tile_mosaic(tiles, columns=min(columns, len(tiles)), gap=2)
    return np.where(np.isnan(mosaic), gap_level, mosaic)


def dataset_zip(
    drawings: Sequence[np.ndarray], labels: Sequence[int], class_names: Sequence[str] = DIGIT_NAMES
) -> bytes:
    """The drawings as a .zip of class folders (`3/0007.png`), the format the upload loader reads."""
    if len(drawings) != len(labels):
        raise ValueError(f"Expected one label per drawing; got {len(drawings)} drawings and {len(labels)} labels.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, (drawing, label) in enumerate(zip(drawings, labels, strict=True), start=1):
            picture = io.BytesIO()
            Image.fromarray(np.asarray(drawing, dtype=np.uint8)).save(picture, format="PNG")
            archive.writestr(f"{class_names[int(label)]}/{number:04d}.png", picture.getvalue())
    return buffer.getvalue()

"""What a trained model gets wrong and what it looks at: mistakes, confusion-matrix cells, weights and activations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.training.evaluation import per_class_scores
from core.training.inference import CONV2D, DENSE, MAX_POOLING2D, ModelSnapshot, forward

MAX_TILES = 64  # a 128-unit layer shows its first 64 units: enough to see features form, quick to draw


@dataclass(frozen=True)
class Mistake:
    """One wrongly classified image: its row in the images scored, the labels, and the model's confidence."""

    index: int
    true: int
    predicted: int
    confidence: float  # the probability the model gave its (wrong) prediction


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class ActivationView:
    """One layer's response to one image, as tiles to draw side by side."""

    layer: str
    kind: str
    tiles: np.ndarray  # (count, height, width)
    shape: tuple[int, ...]  # the layer's output shape for one image
    shown: int  # tiles shown (at most MAX_TILES) of `total`
    total: int


def confident_mistakes(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    true_class: int | None = None,
    predicted_class: int | None = None,
    limit: int = 24,
) -> list[Mistake]:
    """The wrong predictions the model was surest of, most confident first; optionally one true or predicted class."""
    return ranked_mistakes(
        y_true, probabilities.argmax(axis=1), probabilities.max(axis=1), true_class, predicted_class, limit
    )


def ranked_mistakes(
    y_true: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    true_class: int | None = None,
    predicted_class: int | None = None,
    limit: int = 24,
) -> list[Mistake]:
    """confident_mistakes from each image's predicted class and its confidence (as runs record them per epoch)."""
    y_true, predicted, confidence = np.asarray(y_true), np.asarray(predicted), np.asarray(confidence, dtype=float)
    chosen = predicted != y_true
    if true_class is not None:
        chosen &= y_true == true_class
    if predicted_class is not None:
        chosen &= predicted == predicted_class
    rows = np.flatnonzero(chosen)
    # Stable sort: equal confidences keep test-set order, so the gallery does not shuffle between reruns.
    rows = rows[np.argsort(-confidence[rows], kind="stable")][:limit]
    return [Mistake(int(i), int(y_true[i]), int(predicted[i]), float(confidence[i])) for i in rows]


@dataclass(frozen=True)
class MistakeChanges:
    """How one epoch's wrong answers differ from the epoch before's."""

    wrong: int  # images wrong after this epoch
    fixed: int  # wrong before, right now
    new: int  # right before, wrong now


def mistake_changes(y_true: np.ndarray, predicted_before: np.ndarray, predicted_now: np.ndarray) -> MistakeChanges:
    """Mistakes fixed and made anew between two epochs' predictions of the same images."""
    wrong_before = np.asarray(predicted_before) != np.asarray(y_true)
    wrong_now = np.asarray(predicted_now) != np.asarray(y_true)
    return MistakeChanges(
        int(wrong_now.sum()), int((wrong_before & ~wrong_now).sum()), int((~wrong_before & wrong_now).sum())
    )


def cell_examples(
    y_true: np.ndarray, probabilities: np.ndarray, true_class: int, predicted_class: int, limit: int = 16
) -> list[int]:
    """Test rows in one confusion-matrix cell (true class, predicted class), most confident first."""
    predicted = probabilities.argmax(axis=1)
    rows = np.flatnonzero((np.asarray(y_true) == true_class) & (predicted == predicted_class))
    confidence = probabilities[rows, predicted_class]
    return [int(i) for i in rows[np.argsort(-confidence, kind="stable")][:limit]]


def most_confused_cell(counts: np.ndarray) -> tuple[int, int] | None:
    """(true, predicted) of the largest off-diagonal count: the model's most common mistake; None if none."""
    off_diagonal = np.array(counts, dtype=np.int64)
    np.fill_diagonal(off_diagonal, 0)
    if off_diagonal.max(initial=0) == 0:
        return None
    true_class, predicted_class = np.unravel_index(int(off_diagonal.argmax()), off_diagonal.shape)
    return int(true_class), int(predicted_class)


def per_class_table(counts: np.ndarray, class_names) -> list[dict]:
    """One row per class: precision, recall, F1 and the number of test images (support)."""
    scores = per_class_scores(counts)
    return [
        {
            "class": name,
            "precision": float(scores["precision"][k]),
            "recall": float(scores["recall"][k]),
            "f1": float(scores["f1"][k]),
            "support": int(scores["support"][k]),
        }
        for k, name in enumerate(class_names)
    ]


def weight_tiles(weights: np.ndarray, image_shape: tuple[int, int], limit: int = MAX_TILES) -> np.ndarray:
    """The first layer's weights as pictures, (tiles, height, width).

    A Dense kernel (pixels, units) gives one image-sized tile per unit: the pattern that unit responds to.
    A Conv2D kernel (height, width, channels, filters) gives one small tile per filter (channels summed).
    """
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim == 2:
        pixels = weights.shape[0]
        if pixels != math.prod(image_shape):
            raise ValueError(
                f"A Dense kernel of {pixels} inputs cannot be drawn as {image_shape[0]}×{image_shape[1]} images."
            )
        return weights.T[:limit].reshape(-1, *image_shape)
    if weights.ndim == 4:
        return np.moveaxis(weights.sum(axis=2), -1, 0)[:limit]
    raise ValueError(f"Expected a Dense (2-D) or Conv2D (4-D) kernel; got shape {weights.shape}.")


def activation_views(snapshot: ModelSnapshot, image: np.ndarray) -> list[ActivationView]:
    """Each Conv2D, pooling and Dense layer's output for one image (Flatten, Reshape and Dropout copy theirs)."""
    views = []
    kinds = {layer.name: layer.kind for layer in snapshot.layers}
    for name, output in forward(snapshot, np.asarray(image)[None]):
        if kinds[name] not in (CONV2D, MAX_POOLING2D, DENSE):
            continue
        tiles = activation_tiles(output[0])
        total = output.shape[-1] if output.ndim == 4 else 1
        views.append(ActivationView(name, kinds[name], tiles, tuple(output.shape[1:]), len(tiles), total))
    return views


def activation_tiles(activation: np.ndarray, limit: int = MAX_TILES) -> np.ndarray:
    """One image's layer output as tiles: a feature map per filter, or a Dense layer's units as one near-square grid."""
    activation = np.asarray(activation, dtype=np.float32)
    if activation.ndim == 3:
        return np.moveaxis(activation, -1, 0)[:limit]
    units = activation.reshape(-1)
    columns = math.ceil(math.sqrt(units.size))
    rows = math.ceil(units.size / columns)
    # Cells past the last unit stay NaN, so a picture can leave them blank rather than draw a zero.
    grid = np.full(rows * columns, np.nan, dtype=np.float32)
    grid[: units.size] = units
    return grid.reshape(1, rows, columns)


def tile_mosaic(tiles: np.ndarray, columns: int | None = None, gap: int = 1) -> np.ndarray:
    """Tiles laid out in a grid, NaN in the gaps between them (and in unused cells)."""
    tiles = np.asarray(tiles, dtype=np.float32)
    count, height, width = tiles.shape
    columns = columns or max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, dtype=np.float32)
    for k, tile in enumerate(tiles):
        top, left = (k // columns) * (height + gap), (k % columns) * (width + gap)
        mosaic[top : top + height, left : left + width] = tile
    return mosaic

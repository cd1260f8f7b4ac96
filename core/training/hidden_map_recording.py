"""The last hidden layer's map, as the trainers record it each epoch: which layer, which images, what rows.

Each epoch the trainer records the last hidden layer's activations for one fixed, seeded sample of
the validation images (at most SAMPLE_SIZE), as float16: 2 bytes × images × units, so 1,000 images
of a 128-unit layer take 250 KB an epoch. A CNN's last hidden layer is its last pooled feature
maps, averaged over regions down to at most MAX_UNITS numbers. Reading the record (its projection
and scores) is core.results.hidden_map's.
"""

from __future__ import annotations

import numpy as np

from core.training.inference import CONV2D, DENSE, DROPOUT, FLATTEN, ModelSnapshot, forward

SAMPLE_SIZE = 1000
MAX_UNITS = 512  # a CNN's feature maps are averaged over regions down to at most this many numbers
# Detail keys of a run record (TrainingRun.set_detail), written by the trainers, read by the pages.
LAYER_DETAIL = "hidden_layer"  # the layer's name
SAMPLE_DETAIL = "hidden_sample"  # rows of the run's validation images, sorted
ACTIVATIONS_DETAIL = "hidden_activations"  # one (images, units) float16 array per epoch

NO_HIDDEN_LAYER = (
    "This model has no hidden layer: its inputs go straight to the output, so there is no inner map of the "
    "digits to draw. Add a hidden layer (or choose the CNN) on the Train page."
)


class NoHiddenLayerError(ValueError):
    """The model's pixels feed its output layer directly."""


def hidden_layer(snapshot: ModelSnapshot) -> str:
    """The layer whose output the map records: the last one before the output layer, a CNN's last pooling."""
    layers = snapshot.layers[:-1]  # the last layer is the output
    if not any(layer.kind in (DENSE, CONV2D) for layer in layers):
        raise NoHiddenLayerError(NO_HIDDEN_LAYER)
    # Dropout copies its input at inference; Flatten only reshapes a feature map, which is averaged instead.
    chosen = [layer for layer in layers if layer.kind not in (DROPOUT, FLATTEN)]
    return chosen[-1].name


def sample_indices(validation_count: int, seed: int, size: int = SAMPLE_SIZE) -> np.ndarray:
    """A fixed, seeded sample of the validation images, sorted (the same for every epoch)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(validation_count, min(size, validation_count), replace=False)).astype(np.int32)


def features(activations: np.ndarray) -> np.ndarray:
    """A layer's output as the recorded float16 rows; feature maps averaged over a grid of at most MAX_UNITS cells."""
    activations = np.asarray(activations, dtype=np.float32)
    if activations.ndim == 4:
        activations = _grid_average(activations)
    return activations.reshape(len(activations), -1).astype(np.float16)


def _grid_average(maps: np.ndarray) -> np.ndarray:
    """Each feature map averaged over the cells of the finest square grid that keeps cells × maps ≤ MAX_UNITS.

    The digits' CNN (4×4 maps, 32 of them) keeps all 512 numbers; MNIST's (7×7, 64) averages 2×2 regions
    of its maps into 256. Averaging whole maps (one number each) loses where a stroke is, and with it
    most of what tells the digits apart.
    """
    _, height, width, channels = maps.shape
    side = max(1, min(height, width, int(np.sqrt(MAX_UNITS // channels))))
    rows = np.array_split(np.arange(height), side)
    cols = np.array_split(np.arange(width), side)
    cells = [maps[:, r][:, :, c].mean(axis=(1, 2)) for r in rows for c in cols]
    return np.stack(cells, axis=1)


def hidden_features(snapshot: ModelSnapshot, images: np.ndarray, layer: str) -> np.ndarray:
    """The recorded rows from the numpy forward pass (the baseline's path; Keras's uses Keras)."""
    return features(dict(forward(snapshot, images))[layer])


def record_epoch(run, layer: str, sample: np.ndarray, rows: np.ndarray) -> None:
    """Append one epoch's rows to a run record (TrainingRun), with the layer and the sample the first time."""
    details = run.snapshot().details
    if SAMPLE_DETAIL not in details:
        run.set_detail(LAYER_DETAIL, layer)
        run.set_detail(SAMPLE_DETAIL, sample)
    run.set_detail(ACTIVATIONS_DETAIL, [*details.get(ACTIVATIONS_DETAIL, []), rows])


def recorded_bytes(details: dict) -> int:
    """What the map's record of one run takes in memory."""
    return int(
        sum(rows.nbytes for rows in details.get(ACTIVATIONS_DETAIL, []))
        + details.get(SAMPLE_DETAIL, np.zeros(0)).nbytes
    )

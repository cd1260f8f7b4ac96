"""The last hidden layer's map of the digits, epoch by epoch, read from a run's record: how it is projected and scored.

One 2-D projection, PCA fitted on the latest epoch, places every epoch, so the frames are comparable
and the points move only because the network changed. The separation of the classes is the silhouette
of the true classes in the full hidden space. What is recorded, and how, is core.training.hidden_map_recording's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.training.hidden_map_recording import (
    ACTIVATIONS_DETAIL,
    LAYER_DETAIL,
    NO_HIDDEN_LAYER,
    SAMPLE_DETAIL,
    NoHiddenLayerError,
    hidden_layer,
    recorded_bytes,
)

NOT_RECORDED = "The hidden layer's map appears after the first epoch."

# --- Projection and scores -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class HiddenMap:
    """Every epoch's sample placed in one 2-D projection, and how well the classes separate."""

    points: np.ndarray  # (epochs, images, 2)
    labels: np.ndarray  # (images,) true class
    predictions: np.ndarray | None  # (epochs, images) the class read that epoch, or None if unknown
    separation: np.ndarray  # (epochs,) silhouette of the true classes, −1 to 1
    explained: float  # share of the latest epoch's variance the two axes show

    @property
    def epochs(self) -> int:
        return len(self.points)


def project(activations: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Every epoch through one PCA fitted on the latest epoch: (epochs, images, 2), and its explained share.

    Exact SVD (no random start) and a fixed sign per axis (its largest loading positive), so the same
    activations always give the same picture.
    """
    latest = np.asarray(activations[-1], dtype=np.float64)
    mean = latest.mean(axis=0)
    _, singular, components = np.linalg.svd(latest - mean, full_matrices=False)
    axes = components[:2]
    if len(axes) < 2:  # a one-unit layer: the second axis is flat
        axes = np.vstack([axes, np.zeros_like(axes)])
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    axes = axes * np.where(signs == 0, 1.0, signs)[:, None]
    variance = singular**2
    explained = float(variance[:2].sum() / variance.sum()) if variance.sum() > 0 else 0.0
    points = np.stack([(np.asarray(rows, dtype=np.float64) - mean) @ axes.T for rows in activations])
    return points.astype(np.float32), explained


def separation(rows: np.ndarray, labels: np.ndarray) -> float:
    """The silhouette of the true classes: near 1 when each class is a tight, distant cluster, near 0 when mixed."""
    from sklearn.metrics import silhouette_score

    rows = np.asarray(rows, dtype=np.float32)
    # A silhouette needs 2 to n - 1 classes among n images: a small upload's validation set may have neither.
    if not 2 <= len(np.unique(labels)) < len(rows) or np.ptp(rows, axis=0).max(initial=0.0) == 0:
        return 0.0
    return float(silhouette_score(rows, labels))


def build_map(
    activations: list[np.ndarray], labels: np.ndarray, predictions: list[np.ndarray] | None = None
) -> HiddenMap:
    """The map of a run's recorded epochs: projected points, separation scores, and each epoch's answers."""
    if not activations:
        raise ValueError(NOT_RECORDED)
    labels = np.asarray(labels)
    points, explained = project(activations)
    scores = np.array([separation(rows, labels) for rows in activations])
    answered = None
    if predictions is not None and len(predictions) >= len(activations):
        answered = np.stack([np.asarray(p)[: len(labels)] for p in predictions[: len(activations)]])
    return HiddenMap(points, labels, answered, scores, explained)


def fastest_separation(scores: np.ndarray) -> tuple[int, int] | None:
    """(a, a + 1): the epochs between which the separation score rose most; None without a rise."""
    scores = np.asarray(scores, dtype=float)
    if len(scores) < 2:
        return None
    gains = np.diff(scores)
    best = int(gains.argmax())
    return (best + 1, best + 2) if gains[best] > 0 else None


def separation_sentence(scores: np.ndarray) -> str:
    """The map's story in one computed sentence."""
    scores = np.asarray(scores, dtype=float)
    if len(scores) < 2:
        return (
            f"After epoch 1 the classes separate with a score of {scores[0]:.2f}; train more epochs to see them move."
        )
    span = fastest_separation(scores)
    if span is None:
        return (
            f"The classes did not pull further apart: the separation score went from {scores[0]:.2f} "
            f"to {scores[-1]:.2f}."
        )
    a, b = span
    return (
        f"The classes pull apart fastest in epoch {a}–{b} (separation {scores[a - 1]:.2f} → {scores[b - 1]:.2f}); "
        f"from epoch 1 to {len(scores)} it went from {scores[0]:.2f} to {scores[-1]:.2f}."
    )


# --- A run's map, for the pages -------------------------------------------------------------------

NO_VALIDATION = "The map reads validation images, and this run kept none: train with a validation split above 0."


def why_missing(details: dict, epochs_done: int, validation_split: float) -> str | None:
    """Why a run has no map to draw (None when it has one): no epoch yet, no validation images, no hidden layer."""
    if details.get(ACTIVATIONS_DETAIL):
        return None
    snapshot = details.get("snapshot")
    if snapshot is not None:
        try:
            hidden_layer(snapshot)
        except NoHiddenLayerError as error:
            return str(error)
    if validation_split <= 0:
        return NO_VALIDATION
    return NOT_RECORDED if epochs_done == 0 or snapshot is not None else NO_HIDDEN_LAYER


def run_map(details: dict, x_val: np.ndarray, y_val: np.ndarray) -> tuple[HiddenMap, np.ndarray]:
    """A run's map from its recorded details and its validation images: the map, and the sampled images."""
    sample = details[SAMPLE_DETAIL]
    activations = details[ACTIVATIONS_DETAIL]
    answers = details.get("val_predictions") or []
    predictions = [np.asarray(p)[sample] for p in answers] if len(answers) >= len(activations) else None
    return build_map(activations, y_val[sample], predictions), x_val[sample]


def describe(details: dict, built: HiddenMap) -> str:
    """What the map shows, its size in memory included, for a caption."""
    rows = details[ACTIVATIONS_DETAIL][-1]
    return (
        f"{rows.shape[0]:,} validation images through `{details[LAYER_DETAIL]}` ({rows.shape[1]} numbers each), "
        f"placed by one PCA fitted on the latest epoch (its two axes show {built.explained:.0%} of the spread). "
        f"Kept as float16: {size_text(recorded_bytes(details))} for {built.epochs} "
        f"epoch{'s' if built.epochs != 1 else ''}."
    )


def size_text(size: int) -> str:
    """Bytes as a person reads them: "147 KB", "14.1 MB"."""
    if size < 1024 * 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"

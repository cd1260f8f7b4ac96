"""The lesson's reading of a run: annotation rules computed from its epoch history, and the numbers each step shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from core.config import EPOCHS_RANGE, TrainingConfig
from core.data.splits import run_sizes
from core.results import lesson_texts as texts
from core.training.run import RunSnapshot

STEP_COUNT = len(texts.STEP_TITLES)
# An epoch that adds less than this many points of accuracy is marked as diminishing returns.
DIMINISHING_THRESHOLD_POINTS = 1.0
# "Loss still falling while accuracy plateaus": loss down by at least this share, accuracy within this many points.
PLATEAU_MIN_LOSS_DROP = 0.03
PLATEAU_MAX_ACCURACY_CHANGE_POINTS = 0.5
# Validation loss must end this share above its minimum to count as rising: one noisy epoch is not overfitting.
OVERFITTING_MIN_RISE = 0.02
EARLY_STOPPING_PATIENCE = 2
DEFAULT_VALIDATION_SPLIT = 0.1

DIMINISHING, PLATEAU, BEST, OVERFITTING = "diminishing_returns", "plateau", "best_epoch", "overfitting"


@dataclass(frozen=True)
class Annotation:
    """One thing the curves say: where to mark it (epoch, history key, value) and what it means."""

    kind: str
    epoch: int
    metric: str  # the history key the marker sits on, e.g. "val_accuracy" or "val_loss"
    value: float
    label: str  # a few words drawn on the chart
    sentence: str  # the full sentence the page reads out
    end_epoch: int | None = None  # for spans (overfitting: from `epoch` to the last epoch)


def parse_step(value: str | None, count: int = STEP_COUNT) -> int:
    """The 1-based step a URL asks for; anything missing or out of range opens step 1 or the nearest end."""
    try:
        step = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(step, 1), count)


# --- annotation rules ------------------------------------------------------------------------


def accuracy_key(epochs: Sequence[dict]) -> str:
    """Validation accuracy when the run has it (it says how the model does on unseen images), else training."""
    return "val_accuracy" if _series(epochs, "val_accuracy") else "accuracy"


def epoch_gains(epochs: Sequence[dict], key: str) -> list[tuple[int, float]]:
    """(epoch, gain in percentage points over the epoch before) from the second epoch with a value on."""
    series = _series(epochs, key)
    return [(epoch, 100 * (value - series[i][1])) for i, (epoch, value) in enumerate(series[1:])]


def diminishing_returns(
    epochs: Sequence[dict], threshold_points: float = DIMINISHING_THRESHOLD_POINTS, num_classes: int = 10
) -> Annotation | None:
    """The first epoch whose accuracy gain over the last falls below threshold_points."""
    key = accuracy_key(epochs)
    gains = epoch_gains(epochs, key)
    values = dict(_series(epochs, key))
    split = _split(key)
    for index, (epoch, gain) in enumerate(gains):
        if gain >= threshold_points:
            continue
        if index == 0:
            first_epoch = _series(epochs, key)[0][0]
            sentence = texts.DIMINISHING_AT_ONCE.format(
                split=split, chance=1 / num_classes, accuracy=values[first_epoch], gain=gain
            )
        else:
            first_epoch, first_gain = max(gains[:index], key=lambda pair: pair[1])
            sentence = texts.DIMINISHING.format(
                first_epoch=first_epoch, first_gain=first_gain, epoch=epoch, gain=gain, split=split
            )
        label = texts.MARK_DIMINISHING.format(threshold=threshold_points)
        return Annotation(DIMINISHING, epoch, key, values[epoch], label, sentence)
    return None


def loss_falls_accuracy_plateaus(
    epochs: Sequence[dict],
    min_loss_drop: float = PLATEAU_MIN_LOSS_DROP,
    max_accuracy_change_points: float = PLATEAU_MAX_ACCURACY_CHANGE_POINTS,
) -> Annotation | None:
    """The first epoch where training loss still falls clearly while training accuracy hardly moves.

    Cross-entropy keeps falling when the probability of the true class rises, even if the most
    probable class (what accuracy counts) stays the same: the model grows more confident.
    """
    rows = [row for row in epochs if row.get("loss") is not None and row.get("accuracy") is not None]
    for before, after in pairwise(rows):
        drop = (before["loss"] - after["loss"]) / before["loss"] if before["loss"] > 0 else 0.0
        change = 100 * (after["accuracy"] - before["accuracy"])
        if drop >= min_loss_drop and abs(change) < max_accuracy_change_points:
            sentence = texts.PLATEAU.format(
                before=before["epoch"],
                epoch=after["epoch"],
                loss_drop=drop,
                loss_before=before["loss"],
                loss_after=after["loss"],
                accuracy_change=change,
            )
            return Annotation(PLATEAU, after["epoch"], "accuracy", after["accuracy"], texts.MARK_PLATEAU, sentence)
    return None


def best_epoch(epochs: Sequence[dict]) -> Annotation | None:
    """The epoch with the lowest validation loss (what early stopping keeps); None without validation."""
    series = _series(epochs, "val_loss")
    if not series:
        return None
    epoch, val_loss = min(series, key=lambda pair: pair[1])
    row = next(row for row in epochs if row["epoch"] == epoch)
    if epoch == series[-1][0]:
        sentence = texts.BEST_EPOCH_LAST.format(epoch=epoch)
    elif row.get("val_accuracy") is not None:
        sentence = texts.BEST_EPOCH.format(epoch=epoch, val_loss=val_loss, val_accuracy=row["val_accuracy"])
    else:
        sentence = texts.BEST_EPOCH_LOSS_ONLY.format(epoch=epoch, val_loss=val_loss)
    return Annotation(BEST, epoch, "val_loss", val_loss, texts.MARK_BEST.format(epoch=epoch), sentence)


def overfitting(epochs: Sequence[dict], min_rise: float = OVERFITTING_MIN_RISE) -> Annotation | None:
    """Where validation loss starts rising for good while training loss keeps falling; None if it does not."""
    val_series = _series(epochs, "val_loss")
    if len(val_series) < 2:
        return None
    best_index = min(range(len(val_series)), key=lambda i: val_series[i][1])
    best_value, (last_epoch, last_value) = val_series[best_index][1], val_series[-1]
    if best_index == len(val_series) - 1 or last_value < best_value * (1 + min_rise):
        return None
    training = dict(_series(epochs, "loss"))
    best_at = val_series[best_index][0]
    if best_at in training and last_epoch in training and training[last_epoch] >= training[best_at]:
        return None  # both losses rising is instability (a learning rate too high), not overfitting
    start_epoch, start_value = val_series[best_index + 1]
    sentence = texts.OVERFITTING.format(epoch=start_epoch, best=best_value, last=last_value)
    return Annotation(OVERFITTING, start_epoch, "val_loss", start_value, texts.MARK_OVERFITTING, sentence, last_epoch)


def annotations(epochs: Sequence[dict], num_classes: int = 10) -> list[Annotation]:
    """Every rule that fires on this history, in the order the lesson tells them."""
    found = (
        diminishing_returns(epochs, num_classes=num_classes),
        loss_falls_accuracy_plateaus(epochs),
        best_epoch(epochs),
        overfitting(epochs),
    )
    return [annotation for annotation in found if annotation is not None]


def reading(snapshot: RunSnapshot, num_classes: int = 10) -> list[str]:
    """The result in sentences, every number taken from this one snapshot (while it trains, "so far")."""
    epochs = snapshot.epochs
    if not epochs:
        return [texts.NOTHING_YET]
    key = accuracy_key(epochs)
    sentences = []
    series = _series(epochs, key)
    if series and series[0][0] == 1:
        sentences.append(texts.FIRST_EPOCH.format(accuracy=series[0][1], split=_split(key), chance=1 / num_classes))
    found = annotations(epochs, num_classes)
    kinds = {annotation.kind for annotation in found}
    sentences += [annotation.sentence for annotation in found]
    if DIMINISHING not in kinds and len(series) > 1:
        sentences.insert(1, texts.NO_DIMINISHING.format(threshold=DIMINISHING_THRESHOLD_POINTS))
    if BEST not in kinds:
        sentences.append(texts.NO_VALIDATION)
    if snapshot.test_metrics.get("accuracy") is not None:
        sentences.append(texts.TEST_RESULT.format(accuracy=snapshot.test_metrics["accuracy"]))
    if snapshot.is_active:
        sentences.insert(0, texts.READING_SO_FAR.format(epochs=len(epochs), total=snapshot.total_epochs))
    return sentences


# --- early stopping --------------------------------------------------------------------------


def early_stopping_config(config: TrainingConfig, patience: int = EARLY_STOPPING_PATIENCE) -> TrainingConfig:
    """The same run with early stopping, and room to use it: at least twice the epochs (10 or more)."""
    epochs = min(max(2 * config.epochs, 10), EPOCHS_RANGE[1])
    return config.replace(
        early_stopping_patience=patience,
        epochs=epochs,
        validation_split=config.validation_split or DEFAULT_VALIDATION_SPLIT,
    )


def early_stopping_advice(snapshot: RunSnapshot, patience: int = EARLY_STOPPING_PATIENCE) -> str:
    if snapshot.config.early_stopping_patience:
        return texts.EARLY_STOPPING_USED.format(patience=snapshot.config.early_stopping_patience)
    if overfitting(snapshot.epochs):
        return texts.EARLY_STOPPING_ADVICE.format(patience=patience)
    if snapshot.is_active:  # not a verdict yet: the next epochs may still overfit
        return texts.EARLY_STOPPING_SO_FAR.format(epochs=len(snapshot.epochs), patience=patience)
    return texts.EARLY_STOPPING_MORE.format(epochs=len(snapshot.epochs), patience=patience)


# --- numbers for the data, model and fit steps -------------------------------------------------


@dataclass(frozen=True)
class FitNumbers:
    train: int
    validation: int
    steps: int
    updates: int


def fit_numbers(config: TrainingConfig, training_images: int) -> FitNumbers:
    """How many images train and validate, and how many weight updates an epoch makes.

    The engine's own split (core.data.splits.run_sizes), counted without shuffling or copying any image.
    """
    train, validation = run_sizes(config, training_images)
    steps = -(-train // config.batch_size)
    return FitNumbers(train, validation, steps, steps * config.epochs)


def sample_indices(labels: np.ndarray, count: int = 10) -> list[int]:
    """The first image of each class in class order (then the next ones), up to count: every label shows once."""
    order = []
    for label in np.unique(labels):
        order.append(int(np.flatnonzero(labels == label)[0]))
    extra = [i for i in range(len(labels)) if i not in set(order)]
    return (order + extra)[:count]


def pixel_window(pixels: np.ndarray, pixel_max_raw: int, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The centre size×size pixels of an image as stored (0..pixel_max_raw) and scaled to [0, 1]."""
    height, width = pixels.shape[:2]
    top, left = max((height - size) // 2, 0), max((width - size) // 2, 0)
    raw = np.asarray(pixels[top : top + size, left : left + size], dtype=int)
    return raw, np.round(raw / pixel_max_raw, 2)


def model_diagram_dot(layers: Sequence[dict], font_size: int = 12) -> str:
    """A Graphviz DOT block diagram of core.training.architecture.describe_model's rows, top to bottom.

    st.graphviz_chart draws DOT in the browser, so no Graphviz binary is needed.
    """
    lines = [
        "digraph model {",
        "  rankdir=TB;",
        f'  node [shape=box, style="rounded,filled", fillcolor="#EEF0FB", color="#4C5FD5", '
        f'fontname="Helvetica", fontsize={font_size}];',
        # A clear background and mid-grey arrows: the diagram reads on a light page and a dark one.
        '  bgcolor="transparent";',
        '  edge [color="#808495"];',
    ]
    for index, row in enumerate(layers):
        label = texts.MODEL_DIAGRAM_LABEL.format(
            layer=row["layer"], kind=row["type"], shape=row["output shape"], parameters=row["parameters"]
        )
        lines.append(f'  layer{index} [label="{label}"];')
    lines += [f"  layer{i} -> layer{i + 1};" for i in range(len(layers) - 1)]
    lines.append("}")
    return "\n".join(lines)


def _series(epochs: Sequence[dict], key: str) -> list[tuple[int, float]]:
    return [(row["epoch"], row[key]) for row in epochs if row.get(key) is not None]


def _split(key: str) -> str:
    return "validation" if key.startswith("val_") else "training"

"""Scores from labels and predictions: accuracy, macro precision / recall / F1, confusion matrices."""

from __future__ import annotations

import numpy as np

# Images per batch when a model scores validation or test images.
PREDICT_BATCH_SIZE = 1024


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = images of true class i predicted as class j."""
    index = np.asarray(y_true, dtype=np.int64) * num_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_scores(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support for each class of a confusion matrix."""
    counts = np.asarray(counts, dtype=np.float64)
    true_positives = np.diag(counts)
    predicted = counts.sum(axis=0)
    actual = counts.sum(axis=1)
    # A class never predicted (or never present) scores 0, as scikit-learn does with zero_division=0.
    precision = np.divide(true_positives, predicted, out=np.zeros_like(true_positives), where=predicted > 0)
    recall = np.divide(true_positives, actual, out=np.zeros_like(true_positives), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual}


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, float]:
    """Accuracy and macro-averaged precision, recall and F1 (the app's four metrics)."""
    counts = confusion_matrix(y_true, y_pred, num_classes)
    per_class = per_class_scores(counts)
    # Average over the classes that occur in labels or predictions, as scikit-learn's "macro" does.
    present = (counts.sum(axis=1) > 0) | (counts.sum(axis=0) > 0)
    return {
        "accuracy": float(np.trace(counts) / max(counts.sum(), 1)),
        "precision": float(per_class["precision"][present].mean()) if present.any() else 0.0,
        "recall": float(per_class["recall"][present].mean()) if present.any() else 0.0,
        "f1": float(per_class["f1"][present].mean()) if present.any() else 0.0,
    }


def cross_entropy(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean −log p(true class), the loss both Keras losses compute for one-label images."""
    picked = probabilities[np.arange(len(y_true)), np.asarray(y_true, dtype=np.int64)]
    return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())


def scores_with_loss(
    y_true: np.ndarray, probabilities: np.ndarray, num_classes: int, metrics: tuple[str, ...]
) -> dict[str, float]:
    """Loss plus the chosen metrics, from class probabilities."""
    scores = classification_scores(y_true, probabilities.argmax(axis=1), num_classes)
    chosen = {name: scores[name] for name in metrics}
    return {"loss": cross_entropy(y_true, probabilities), **chosen}


def record_validation(run, y_val: np.ndarray, probabilities: np.ndarray, num_classes: int) -> dict[str, float]:
    """Score one epoch's validation predictions into `run` (per-class F1, confusion matrix, answers).

    Returns the val_* scores for the epoch row. Shared by the Keras callback and the baseline, so
    both models are measured the same way.
    """
    scores = scores_with_loss(y_val, probabilities, num_classes, run.config.metrics)
    predicted = probabilities.argmax(axis=1)
    counts = confusion_matrix(y_val, predicted, num_classes)
    epoch_details = {
        "val_confusion_matrices": counts,
        "val_per_class_f1": per_class_scores(counts)["f1"],
        # Each image's answer and confidence, for that epoch's mistakes: 4 bytes an image instead of
        # a float32 row of probabilities (MNIST's 6,000: 24 KB an epoch instead of 240 KB).
        "val_predictions": predicted.astype(np.int16),
        "val_confidences": probabilities.max(axis=1).astype(np.float16),
    }
    details = run.snapshot().details
    for key, value in epoch_details.items():
        run.set_detail(key, [*details.get(key, []), value])
    return {f"val_{name}": value for name, value in scores.items()}


def record_test(run, y_test: np.ndarray, probabilities: np.ndarray, num_classes: int) -> None:
    """Score the test set into `run`: metrics, confusion matrix and the probabilities themselves."""
    run.test_probabilities = probabilities
    run.set_test_metrics(scores_with_loss(y_test, probabilities, num_classes, run.config.metrics))
    run.set_detail("test_confusion_matrix", confusion_matrix(y_test, probabilities.argmax(axis=1), num_classes))

"""Keras against the baseline: the comparison table and a plain-words reading computed from it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from core.training.run import RunSnapshot

TABLE_METRICS = ("accuracy", "precision", "recall", "f1")


def comparison_table(snapshots: Sequence[RunSnapshot]) -> pd.DataFrame:
    """One row per model: final test scores, fit time, time per epoch, parameters.

    Only the metrics some run was asked to measure get a column: an unchosen one would be empty.
    """
    chosen = [metric for metric in TABLE_METRICS if any(metric in snap.config.metrics for snap in snapshots)]
    rows = []
    for snap in snapshots:
        epochs = len(snap.epochs)
        row = {"model": snap.label, "status": snap.status}
        for metric in chosen:
            row[f"test {metric}"] = snap.test_metrics.get(metric)
        row["fit seconds"] = snap.fit_seconds
        row["seconds per epoch"] = snap.fit_seconds / epochs if snap.fit_seconds and epochs else None
        row["epochs"] = epochs
        row["parameters"] = snap.parameter_count
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_reading(keras: RunSnapshot, baseline: RunSnapshot) -> str:
    """One paragraph: which model won, by how much, and at what cost in time."""
    keras_accuracy = keras.test_metrics.get("accuracy")
    baseline_accuracy = baseline.test_metrics.get("accuracy")
    if keras_accuracy is None or baseline_accuracy is None:
        return "The reading appears when both models have finished and been scored on the test set."
    gap = (keras_accuracy - baseline_accuracy) * 100
    if abs(gap) < 0.25:
        verdict = f"The two models are level on the test set ({keras_accuracy:.1%} against {baseline_accuracy:.1%})."
    else:
        winner, loser = (keras, baseline) if gap > 0 else (baseline, keras)
        verdict = (
            f"{winner.label} reads {max(keras_accuracy, baseline_accuracy):.1%} of the test images correctly, "
            f"{abs(gap):.1f} points more than {loser.label} ({min(keras_accuracy, baseline_accuracy):.1%})."
        )
    return f"{verdict} {_time_cost(keras, baseline)}"


# Fit times closer than this ratio read as "about as long": a tenth of a second either way is noise.
SAME_TIME_RATIO = 1.15


def _time_cost(keras: RunSnapshot, baseline: RunSnapshot) -> str:
    """ "Keras trained its 5 epochs in 2.1 s, 4.8× faster than scikit-learn MLP (10.0 s for its 5)"."""
    if not keras.fit_seconds or not baseline.fit_seconds:
        return ""
    faster, slower = sorted((keras, baseline), key=lambda snap: snap.fit_seconds)
    ratio = slower.fit_seconds / faster.fit_seconds
    if len(faster.epochs) == len(slower.epochs):
        epochs = _count(len(faster.epochs), "epoch")
        if ratio < SAME_TIME_RATIO:
            return (
                f"Both trained their {epochs} in about the same time: {faster.label} "
                f"{_seconds(faster.fit_seconds)}, {slower.label} {_seconds(slower.fit_seconds)}."
            )
        return (
            f"{faster.label} trained its {epochs} in {_seconds(faster.fit_seconds)}, {ratio:.1f}× faster "
            f"than {slower.label} ({_seconds(slower.fit_seconds)})."
        )
    return (
        f"{faster.label} trained {_count(len(faster.epochs), 'epoch')} in {_seconds(faster.fit_seconds)}, "
        f"{slower.label} {_count(len(slower.epochs), 'epoch')} in {_seconds(slower.fit_seconds)}."
    )


def _seconds(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def value_at_seconds(snap: RunSnapshot, metric: str, seconds: float) -> float | None:
    """The last epoch value of `metric` reached within `seconds` of wall clock (the race view)."""
    reached = [row.get(metric) for row in snap.epochs if row["seconds"] <= seconds and row.get(metric) is not None]
    return reached[-1] if reached else None

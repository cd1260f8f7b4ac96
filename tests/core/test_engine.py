"""The training engine on the embedded digits: live records, stop, NaN, seeds, train more, metrics."""

import math
import threading

import numpy as np
import pytest

from core.engine import speed_settings, train
from core.run import FAILED, FINISHED, STOPPED, TrainingRun


def test_a_run_records_every_epoch_for_training_and_validation(digits, quick_config):
    config = quick_config.replace(metrics=("accuracy", "precision", "recall", "f1"), epochs=3)
    run = TrainingRun(config)
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == FINISHED and len(snap.epochs) == 3
    for row in snap.epochs:
        for metric in ("loss", "accuracy", "precision", "recall", "f1"):
            assert row[metric] >= 0 and row[f"val_{metric}"] >= 0
    assert snap.epochs[-1]["loss"] < snap.epochs[0]["loss"], "the loss falls while the model learns"
    assert snap.test_metrics["accuracy"] > 0.85
    assert len(snap.batches) >= 3 and all(0 < p["progress"] <= 3 for p in snap.batches)
    assert len(snap.details["val_per_class_f1"]) == 3 and snap.details["test_confusion_matrix"].sum() == len(
        digits.y_test
    )


def test_the_embedded_digits_reach_95_percent_in_seconds(digits):
    from core.config import TrainingConfig

    run = TrainingRun(TrainingConfig(dataset="digits", epochs=20))
    train(run, digits)
    assert run.snapshot().test_metrics["accuracy"] >= 0.95


def test_same_seed_and_settings_give_the_same_curves(digits, quick_config):
    first, second = TrainingRun(quick_config), TrainingRun(quick_config)
    train(first, digits)
    train(second, digits)
    losses = [[row["loss"] for row in run.snapshot().epochs] for run in (first, second)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    other = TrainingRun(quick_config.replace(seed=7))
    train(other, digits)
    assert other.snapshot().epochs[0]["loss"] != pytest.approx(losses[0][0], rel=1e-6)


def test_stop_ends_training_at_the_next_batch_and_keeps_the_model(digits, quick_config):
    run = TrainingRun(quick_config.replace(epochs=100, batch_size=16))
    stopper = threading.Timer(1.0, run.request_stop)
    stopper.start()
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == STOPPED and len(snap.epochs) < 100
    assert run.model is not None and "accuracy" in snap.test_metrics


def test_a_nan_loss_fails_the_run_with_an_explanation(digits, quick_config):
    run = TrainingRun(
        quick_config.replace(optimizer="sgd", learning_rate=10.0, hidden_layers=(512, 512, 512), epochs=5)
    )
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == FAILED
    assert "learning rate" in snap.message and "diverged" in snap.message


def test_train_more_continues_the_curves(digits, quick_config):
    run = TrainingRun(quick_config)
    train(run, digits)
    first_model = run.model
    run.prepare_more_epochs(2)
    train(run, digits, extra_epochs=2)
    snap = run.snapshot()
    assert [row["epoch"] for row in snap.epochs] == [1, 2, 3, 4]
    assert run.model is first_model and snap.status == FINISHED
    assert snap.epochs[3]["seconds"] > snap.epochs[1]["seconds"]


def test_learning_rate_change_applies_and_is_marked(digits, quick_config):
    run = TrainingRun(quick_config)
    run.request_learning_rate(0.0005)
    train(run, digits)
    snap = run.snapshot()
    assert snap.learning_rate_changes[0]["learning_rate"] == 0.0005
    assert snap.epochs[-1]["learning_rate"] == pytest.approx(0.0005)


def test_categorical_loss_and_cnn_train(digits, quick_config):
    run = TrainingRun(quick_config.replace(loss="categorical_crossentropy", model="cnn", metrics=("accuracy", "f1")))
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == FINISHED and math.isfinite(snap.epochs[-1]["val_f1"])
    assert snap.test_metrics["accuracy"] > 0.5


def test_early_stopping_stops_before_the_last_epoch_when_validation_stalls(digits, quick_config):
    run = TrainingRun(quick_config.replace(epochs=100, early_stopping_patience=1, hidden_layers=(512,)))
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == FINISHED and len(snap.epochs) < 100 and "Early stopping" in snap.message


def test_speed_settings_keep_live_updates_in_every_epoch():
    assert speed_settings(1875) == {"jit_compile": True, "steps_per_execution": 50}
    assert speed_settings(40)["steps_per_execution"] == 2
    assert speed_settings(3)["steps_per_execution"] == 1

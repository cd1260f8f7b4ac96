"""The scikit-learn baseline: one point per epoch with every metric, matched settings, stop."""

import pytest

from core.training.baseline import baseline_settings, train_baseline
from core.training.run import FINISHED, STOPPED, TrainingRun
from tests.polling import stop_at_first

ALL_METRICS = ("accuracy", "precision", "recall", "f1")


def test_one_point_per_epoch_with_every_chosen_metric(digits, quick_config):
    run = TrainingRun(quick_config.replace(epochs=4, metrics=ALL_METRICS), "baseline")
    train_baseline(run, digits)
    snap = run.snapshot()
    assert snap.status == FINISHED and [row["epoch"] for row in snap.epochs] == [1, 2, 3, 4]
    for row in snap.epochs:
        for metric in ("loss", *ALL_METRICS):
            assert row[metric] is not None and row[f"val_{metric}"] is not None
    assert snap.test_metrics["accuracy"] > 0.85
    assert snap.parameter_count == 64 * 128 + 128 + 128 * 10 + 10


def test_settings_are_matched_and_differences_said(quick_config):
    plain = baseline_settings(quick_config)
    assert plain.parameters["solver"] == "adam" and plain.parameters["hidden_layer_sizes"] == (128,)
    assert plain.parameters["batch_size"] == 32 and plain.parameters["alpha"] == 0.0
    momentum = baseline_settings(quick_config.replace(optimizer="sgd_momentum", learning_rate=0.01))
    assert momentum.parameters["solver"] == "sgd" and momentum.parameters["momentum"] == 0.9
    rmsprop = baseline_settings(quick_config.replace(optimizer="rmsprop"))
    assert rmsprop.parameters["solver"] == "adam" and any("rmsprop" in note for note in rmsprop.notes)
    cnn = baseline_settings(quick_config.replace(model="cnn"))
    assert cnn.parameters["hidden_layer_sizes"] == (128,) and any("CNN" in note for note in cnn.notes)
    sigmoid = baseline_settings(quick_config.replace(activation="sigmoid"))
    assert sigmoid.parameters["activation"] == "logistic"


def test_same_seed_same_baseline_curves(digits, quick_config):
    first, second = TrainingRun(quick_config, "baseline"), TrainingRun(quick_config, "baseline")
    train_baseline(first, digits)
    train_baseline(second, digits)
    assert [r["loss"] for r in first.snapshot().epochs] == pytest.approx([r["loss"] for r in second.snapshot().epochs])


def test_stop_is_honoured_between_slices(digits, quick_config):
    run = TrainingRun(quick_config.replace(epochs=100), "baseline")
    stop_at_first(run, "epoch")
    train_baseline(run, digits)
    assert run.status == STOPPED and 1 <= run.completed_epochs <= 2


def test_the_baselines_speed_ups_keep_its_scores(digits, quick_config):
    """One BLAS thread and no repeated checks (the baseline's), or scikit-learn's defaults: the same model, data
    and batches, so the same scores but for the order in which a product's sums are added."""
    from threadpoolctl import threadpool_info

    threads = max((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1)
    config = quick_config.replace(epochs=3)
    one, library = TrainingRun(config, "baseline"), TrainingRun(config, "baseline")
    train_baseline(one, digits, blas_threads=1)
    train_baseline(library, digits, blas_threads=threads, checks=True)
    for mine, theirs in zip(one.snapshot().epochs, library.snapshot().epochs, strict=True):
        assert mine["loss"] == pytest.approx(theirs["loss"], rel=0.02)
        assert mine["val_accuracy"] == pytest.approx(theirs["val_accuracy"], abs=0.02)
    tested = library.snapshot().test_metrics["accuracy"]
    assert one.snapshot().test_metrics["accuracy"] == pytest.approx(tested, abs=0.02)

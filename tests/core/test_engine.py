"""The training engine on the embedded digits: live records, stop, NaN, seeds, train more, metrics."""

import math

import numpy as np
import pytest

from core.data.splits import prepare_data, run_indices, run_sizes, validation_images
from core.training.engine import speed_settings, train, training_batches
from core.training.run import FAILED, FINISHED, STOPPED, TrainingRun
from tests.polling import stop_at_first


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
    stop_at_first(run, "epoch")  # once the first epoch has landed, whatever the machine's speed
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == STOPPED and 1 <= len(snap.epochs) <= 2, [row["epoch"] for row in snap.epochs]
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
    assert speed_settings(1875, epochs=5) == {"jit_compile": True, "steps_per_execution": 50}
    assert speed_settings(40)["steps_per_execution"] == 2
    assert speed_settings(3)["steps_per_execution"] == 1


def test_a_jax_runs_chunks_are_the_most_steps_that_keep_twenty_updates_an_epoch():
    from core.training.engine import MIN_UPDATES_PER_EPOCH, steps_per_update

    for images, batch_size in ((54_000, 32), (1_293, 32), (60_000, 16), (70, 32), (5, 32)):
        steps, per = math.ceil(images / batch_size), steps_per_update(images, batch_size)
        assert per >= 1 and (steps // per >= MIN_UPDATES_PER_EPOCH or per == 1), (images, batch_size)
        assert steps // (per + 1) < MIN_UPDATES_PER_EPOCH, "a larger chunk would leave fewer updates"
    # The lesson: 84 steps a chunk, 20 updates an epoch; TensorFlow's steps_per_execution stays capped.
    assert steps_per_update(54_000, 32) == 84 > speed_settings(1688, backend="jax")["steps_per_execution"]


def test_speed_settings_compile_with_xla_only_where_it_pays_off():
    assert not speed_settings(41, epochs=5)["jit_compile"]  # the embedded digits: compiling costs more
    assert speed_settings(1688, epochs=5)["jit_compile"]  # Fashion-MNIST
    assert speed_settings(41, epochs=5, backend="jax")["jit_compile"]  # JAX without XLA runs eagerly


def test_prepared_data_keeps_images_with_labels_and_validation_can_be_rebuilt(digits, quick_config):
    config = quick_config.replace(validation_split=0.2, subsample=500)
    data = prepare_data(config, digits)
    assert len(data.pixels_train) == len(data.y_train) == 400 and len(data.x_val) == len(data.y_val) == 100
    assert data.pixels_train.dtype == np.uint8 and data.x_val.dtype == np.float32
    # Each image still carries its own label: find every prepared image among the originals.
    position = {image.tobytes(): i for i, image in enumerate(digits.pixels_train)}
    for pixels, label in zip(data.pixels_train[:50], data.y_train[:50], strict=True):
        assert digits.y_train[position[pixels.tobytes()]] == label
    # The evaluate page rebuilds a run's validation images from its config alone.
    x_val, y_val = validation_images(config, digits)
    np.testing.assert_array_equal(x_val, data.x_val)
    np.testing.assert_array_equal(y_val, data.y_val)


def test_training_batches_scale_every_image_once_per_epoch_in_a_new_order(digits, quick_config):
    data = prepare_data(quick_config.replace(validation_split=0.0, subsample=100), digits)
    batches = training_batches(data, data.y_train, batch_size=32, seed=1)
    epochs = [[(x.numpy(), y.numpy()) for x, y in batches] for _ in range(2)]
    for epoch in epochs:
        assert [len(y) for _, y in epoch] == [32, 32, 32, 4]
        images = np.concatenate([x for x, _ in epoch])
        labels = np.concatenate([y for _, y in epoch])
        assert images.dtype == np.float32 and images.min() == 0.0 and images.max() == 1.0
        # The same 100 (image, label) pairs, scaled by the dataset's brightest pixel.
        scaled = (data.pixels_train / np.float32(16)).reshape(100, -1)
        expected = sorted(zip(map(bytes, scaled), data.y_train, strict=True))
        assert sorted(zip(map(bytes, images.reshape(100, -1)), labels, strict=True)) == expected
    first_order = np.concatenate([y for _, y in epochs[0]])
    second_order = np.concatenate([y for _, y in epochs[1]])
    assert not np.array_equal(first_order, second_order), "reshuffled each epoch"


@pytest.mark.parametrize(
    "size, validation_split, subsample",
    [(1437, 0.1, None), (1437, 0.0, None), (1437, 0.29, 100), (50, 0.2, 500), (1, 0.5, None), (60_000, 0.15, 11)],
)
def test_run_sizes_count_what_run_indices_choose(quick_config, size, validation_split, subsample):
    config = quick_config.replace(validation_split=validation_split, subsample=subsample)
    train_indices, validation_indices = run_indices(config, size)
    assert run_sizes(config, size) == (len(train_indices), len(validation_indices))


def test_a_warm_up_trains_whole_epochs_then_validates_and_tests(digits, quick_config):
    from core.jobs.start import WARM_UP_EPOCHS, warm_up

    run = warm_up(quick_config.replace(epochs=5), digits)
    snap = run.snapshot()
    assert snap.status == FINISHED and len(snap.epochs) == WARM_UP_EPOCHS, "the digits' whole epochs, validated"
    assert snap.batches[-1]["step"] == snap.steps_per_epoch, "the epoch's last batch (a smaller one) is compiled too"
    assert "val_loss" in snap.epochs[0] and "accuracy" in snap.test_metrics, "the predict programs ran too"

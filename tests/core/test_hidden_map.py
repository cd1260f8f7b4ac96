"""The hidden layer's map: recorded every epoch by both trainers, small, projected the same way every time, and
its separation score rises as the network learns the digits."""

import numpy as np
import pytest

from core import charts
from core.data.splits import validation_images
from core.results import hidden_map
from core.training import hidden_map_recording
from core.training.baseline import train_baseline
from core.training.engine import train
from core.training.inference import FLATTEN, LayerSnapshot, ModelSnapshot
from core.training.run import FINISHED, TrainingRun


def recorded(run: TrainingRun) -> tuple[list[np.ndarray], np.ndarray]:
    details = run.snapshot().details
    return details.get(hidden_map_recording.ACTIVATIONS_DETAIL, []), details.get(hidden_map_recording.SAMPLE_DETAIL)


@pytest.mark.parametrize("kind", ["keras", "baseline"])
def test_every_epoch_records_the_last_hidden_layer_and_the_classes_pull_apart(digits, quick_config, kind):
    config = quick_config.replace(epochs=5)
    run = TrainingRun(config, kind)
    (train if kind == "keras" else train_baseline)(run, digits)
    assert run.status == FINISHED
    activations, sample = recorded(run)
    assert len(activations) == 5
    # The digits' validation set is smaller than the sample size: all of it, in order.
    validation = len(run.snapshot().details["val_predictions"][0])
    assert len(sample) == min(validation, hidden_map_recording.SAMPLE_SIZE) and np.all(np.diff(sample) > 0)
    assert all(rows.shape == (len(sample), 128) and rows.dtype == np.float16 for rows in activations)
    assert hidden_map_recording.recorded_bytes(run.snapshot().details) == 5 * len(sample) * 128 * 2 + sample.nbytes
    _, y_val = validation_images(config, digits)
    labels = y_val[sample]
    predictions = [p[sample] for p in run.snapshot().details["val_predictions"]]
    built = hidden_map.build_map(activations, labels, predictions)
    assert built.points.shape == (5, len(sample), 2) and built.predictions.shape == (5, len(sample))
    assert built.separation[-1] > built.separation[0] + 0.02, built.separation
    assert "pull apart fastest in epoch" in hidden_map.separation_sentence(built.separation)


def test_a_cnn_records_its_last_feature_maps_averaged_down_to_512_numbers(digits, quick_config):
    run = TrainingRun(quick_config.replace(model="cnn", epochs=1), "keras")
    train(run, digits)
    activations, sample = recorded(run)
    assert run.snapshot().details[hidden_map_recording.LAYER_DETAIL] == "pool_1"  # the 8×8 digits get one conv block
    assert activations[0].shape == (len(sample), 4 * 4 * 32)  # small enough to keep whole
    # MNIST's CNN: 7×7 maps of 64 filters, averaged over a 2×2 grid of regions.
    maps = np.random.default_rng(0).random((3, 7, 7, 64), dtype=np.float32)
    rows = hidden_map_recording.features(maps)
    assert rows.shape == (3, 256)
    np.testing.assert_allclose(rows[:, 0], maps[:, :4, :4, 0].mean(axis=(1, 2)), rtol=1e-3)


def test_a_model_without_a_hidden_layer_records_nothing_and_says_why(digits, quick_config):
    config = quick_config.replace(hidden_layers=(), epochs=1)
    for kind, trainer in (("keras", train), ("baseline", train_baseline)):
        run = TrainingRun(config, kind)
        trainer(run, digits)
        assert run.status == FINISHED and recorded(run) == ([], None)
    with pytest.raises(hidden_map_recording.NoHiddenLayerError, match="no hidden layer"):
        hidden_map_recording.hidden_layer(run.snapshot().details["snapshot"])
    with pytest.raises(ValueError, match="after the first epoch"):
        hidden_map.build_map([], np.zeros(0))


def test_the_sample_and_the_projection_are_deterministic_for_a_seed():
    sample_indices = hidden_map_recording.sample_indices
    assert np.array_equal(sample_indices(5000, 7), sample_indices(5000, 7))
    assert not np.array_equal(sample_indices(5000, 7), sample_indices(5000, 8))
    assert len(sample_indices(5000, 7)) == 1000
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 300)
    activations = [(rng.normal(size=(300, 16)) + labels[:, None] * e).astype(np.float16) for e in range(3)]
    first, second = hidden_map.build_map(activations, labels), hidden_map.build_map(list(activations), labels.copy())
    np.testing.assert_array_equal(first.points, second.points)
    np.testing.assert_array_equal(first.separation, second.separation)
    # One projection for every epoch: the latest epoch's axes, whatever came before.
    alone = hidden_map.build_map(activations[-1:], labels)
    np.testing.assert_allclose(alone.points[0], first.points[-1], atol=1e-5)
    assert 0 < first.explained <= 1


def test_the_sentence_names_the_epochs_of_the_largest_rise():
    assert hidden_map.fastest_separation(np.array([0.05, 0.1, 0.3, 0.35])) == (2, 3)
    assert hidden_map.fastest_separation(np.array([0.3, 0.2])) is None
    assert "epoch 2–3" in hidden_map.separation_sentence(np.array([0.05, 0.1, 0.3, 0.35]))
    assert "did not pull further apart" in hidden_map.separation_sentence(np.array([0.3, 0.2]))
    assert "train more epochs" in hidden_map.separation_sentence(np.array([0.3]))


def test_a_flatten_only_model_has_no_hidden_layer():
    kernel = (np.zeros((4, 10), np.float32), np.zeros(10, np.float32))
    snapshot = ModelSnapshot(
        (2, 2), (LayerSnapshot("flatten", FLATTEN), LayerSnapshot("out", "Dense", kernel, "softmax"))
    )
    with pytest.raises(hidden_map_recording.NoHiddenLayerError):
        hidden_map_recording.hidden_layer(snapshot)


def test_the_separation_curve_labels_each_epoch_only_while_the_labels_fit():
    few = charts.separation_curve([0.1, 0.2, 0.3]).layout.xaxis
    assert few.dtick == 1 and few.tick0 == 1
    # 100 epochs (the sidebar's most): one label each overlapped into a smear; Plotly spaces them instead.
    many = charts.separation_curve(list(np.linspace(0.1, 0.2, 100))).layout.xaxis
    assert many.dtick is None and many.tickformat == "d" and many.rangemode == "nonnegative"


def test_the_map_says_its_size_in_kilobytes_or_megabytes():
    assert hidden_map.size_text(147_456) == "144 KB"
    assert hidden_map.size_text(14_746_624) == "14.1 MB"


def test_separation_is_zero_when_each_image_is_its_own_class():
    # A small upload's validation set: two images of two classes leave no silhouette to measure.
    rows = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    assert hidden_map.separation(rows, np.array([0, 1])) == 0.0
    assert hidden_map.separation(np.vstack([rows, rows]), np.array([0, 1, 0, 1])) == pytest.approx(1.0)

"""Mistakes, confusion-matrix cells, per-class scores and weight tiles, checked against plain computations."""

import numpy as np
import pytest
from sklearn import metrics

from core import charts
from core.config import TrainingConfig
from core.results.inspection import (
    activation_tiles,
    cell_examples,
    confident_mistakes,
    mistake_changes,
    most_confused_cell,
    per_class_table,
    ranked_mistakes,
    tile_mosaic,
    weight_tiles,
)
from core.training.evaluation import confusion_matrix, record_validation
from core.training.run import TrainingRun


@pytest.fixture
def predictions():
    """500 labels and probabilities from a model right about two times in three."""
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 10, 500)
    logits = rng.normal(size=(500, 10))
    logits[np.arange(500), y_true] += rng.choice([0.0, 4.0], size=500, p=[0.3, 0.7])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, probabilities


def test_confusion_matrix_and_per_class_scores_match_scikit_learn(predictions):
    y_true, probabilities = predictions
    y_pred = probabilities.argmax(axis=1)
    counts = confusion_matrix(y_true, y_pred, 10)
    np.testing.assert_array_equal(counts, metrics.confusion_matrix(y_true, y_pred, labels=range(10)))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=range(10), zero_division=0
    )
    rows = per_class_table(counts, [str(k) for k in range(10)])
    np.testing.assert_allclose([row["precision"] for row in rows], precision)
    np.testing.assert_allclose([row["recall"] for row in rows], recall)
    np.testing.assert_allclose([row["f1"] for row in rows], f1)
    assert [row["support"] for row in rows] == list(support)


def test_confident_mistakes_are_all_wrong_and_ranked_by_confidence(predictions):
    y_true, probabilities = predictions
    y_pred = probabilities.argmax(axis=1)
    mistakes = confident_mistakes(y_true, probabilities, limit=1000)
    assert len(mistakes) == int((y_pred != y_true).sum()) > 50
    assert all(m.true == y_true[m.index] != m.predicted == y_pred[m.index] for m in mistakes)
    confidences = [m.confidence for m in mistakes]
    assert confidences == sorted(confidences, reverse=True)
    assert confidences[0] == pytest.approx(probabilities[y_pred != y_true].max())
    top = confident_mistakes(y_true, probabilities, limit=5)
    assert top == mistakes[:5]


def test_mistakes_filter_by_true_or_predicted_class(predictions):
    y_true, probabilities = predictions
    y_pred = probabilities.argmax(axis=1)
    by_true = confident_mistakes(y_true, probabilities, true_class=3, limit=1000)
    assert {m.true for m in by_true} == {3} and len(by_true) == int(((y_true == 3) & (y_pred != 3)).sum())
    by_predicted = confident_mistakes(y_true, probabilities, predicted_class=3, limit=1000)
    assert {m.predicted for m in by_predicted} == {3}
    assert len(by_predicted) == int(((y_pred == 3) & (y_true != 3)).sum())


def test_each_epochs_answers_are_kept_compactly_and_give_the_same_mistakes(predictions):
    y_true, probabilities = predictions
    later = np.roll(probabilities, 1, axis=0) * 0.2 + probabilities * 0.8  # a second epoch, a little different
    run = TrainingRun(TrainingConfig(dataset="digits"))
    for epoch_probabilities in (probabilities, later):
        record_validation(run, y_true, epoch_probabilities, 10)
    details = run.snapshot().details
    assert len(details["val_predictions"]) == len(details["val_confidences"]) == 2
    for epoch, epoch_probabilities in enumerate((probabilities, later)):
        predicted, confidence = details["val_predictions"][epoch], details["val_confidences"][epoch]
        assert predicted.nbytes + confidence.nbytes == 4 * len(y_true)  # 4 bytes an image, not 40
        counts = details["val_confusion_matrices"][epoch]
        np.testing.assert_array_equal(counts, confusion_matrix(y_true, predicted, 10))
        from_record = ranked_mistakes(y_true, predicted, confidence, limit=1000)
        exact = confident_mistakes(y_true, epoch_probabilities, limit=1000)
        assert [m.index for m in from_record] != [] and {m.index for m in from_record} == {m.index for m in exact}
        assert [m.confidence for m in from_record] == pytest.approx([m.confidence for m in exact], abs=1e-3)

    changes = mistake_changes(y_true, *details["val_predictions"])
    wrong_before = details["val_predictions"][0] != y_true
    assert changes.wrong == int((details["val_predictions"][1] != y_true).sum())
    assert changes.wrong == int(wrong_before.sum()) - changes.fixed + changes.new
    assert changes.fixed > 0 and changes.new > 0


def test_cell_examples_are_the_cell_of_the_confusion_matrix(predictions):
    y_true, probabilities = predictions
    counts = confusion_matrix(y_true, probabilities.argmax(axis=1), 10)
    true_class, predicted_class = most_confused_cell(counts)
    assert true_class != predicted_class
    off_diagonal = counts - np.diag(np.diag(counts))
    assert counts[true_class, predicted_class] == off_diagonal.max()
    rows = cell_examples(y_true, probabilities, true_class, predicted_class, limit=1000)
    assert len(rows) == counts[true_class, predicted_class]
    assert all(y_true[i] == true_class and probabilities[i].argmax() == predicted_class for i in rows)
    assert len(cell_examples(y_true, probabilities, 2, 2, limit=4)) == 4
    assert most_confused_cell(np.diag([5, 5])) is None


def test_dense_weights_become_one_image_tile_per_unit():
    weights = np.random.default_rng(0).normal(size=(784, 128))
    tiles = weight_tiles(weights, (28, 28))
    assert tiles.shape == (64, 28, 28)
    np.testing.assert_allclose(tiles[5], weights[:, 5].reshape(28, 28), rtol=1e-6)
    assert weight_tiles(weights[:64, :10], (8, 8)).shape == (10, 8, 8)
    with pytest.raises(ValueError, match="784 inputs"):
        weight_tiles(weights, (8, 8))


def test_conv_filters_become_tiles_and_other_shapes_are_refused():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 1, 32))
    tiles = weight_tiles(kernel, (28, 28))
    assert tiles.shape == (32, 3, 3)
    np.testing.assert_allclose(tiles[7], kernel[:, :, 0, 7], rtol=1e-6)
    with pytest.raises(ValueError, match="Dense"):
        weight_tiles(np.zeros(5), (28, 28))


def test_activations_and_mosaics_keep_every_value_in_place():
    feature_maps = np.arange(4 * 4 * 3, dtype=np.float32).reshape(4, 4, 3)
    tiles = activation_tiles(feature_maps)
    assert tiles.shape == (3, 4, 4) and tiles[2, 1, 1] == feature_maps[1, 1, 2]
    units = activation_tiles(np.arange(10, dtype=np.float32))
    assert units.shape == (1, 3, 4) and np.isnan(units).sum() == 2 and np.nansum(units) == 45
    mosaic = tile_mosaic(tiles, columns=2, gap=1)
    assert mosaic.shape == (9, 9)
    np.testing.assert_array_equal(mosaic[5:, :4], tiles[2])
    assert np.isnan(mosaic[4]).all() and np.isnan(mosaic[5:, 5:]).all()


def test_pictures_are_rgb_images_of_the_right_size():
    tiles = np.random.default_rng(0).normal(size=(10, 8, 8))
    picture = charts.tile_grid_picture(tiles, columns=5, cell=3)
    assert picture.dtype == np.uint8 and picture.shape == ((2 * 9 - 1) * 3, (5 * 9 - 1) * 3, 3)
    zero = charts.tile_grid_picture(np.zeros((1, 2, 2)), cell=1)
    assert (zero == 255).all(), "zero weights are white"
    digit = charts.digit_picture(np.eye(8), side=112)
    assert digit.shape == (112, 112) and digit.max() == 255
    chart = charts.probability_bars({"Keras": np.full(10, 0.1), "MLP": np.eye(10)[3]}, [str(k) for k in range(10)])
    assert len(chart.data) == 20

"""The numpy forward pass: snapshots, the MLP, refusals; its agreement with Keras is in test_network_description."""

import numpy as np
import pytest

from core import libraries
from core.config import TrainingConfig
from core.training.inference import (
    LayerSnapshot,
    ModelSnapshot,
    UnsupportedModelError,
    forward,
    predict_probabilities,
    snapshot_mlp,
    snapshot_weights,
)
from core.training.run import FINISHED, TrainingRun

TOLERANCE = 1e-4


def keras_model(model: str, image_shape: tuple[int, int], activation: str):
    """An app model with random weights everywhere (biases too, so they are checked)."""
    libraries.load("keras")
    from core.training.models import build_model

    config = TrainingConfig(dataset="digits", model=model, activation=activation, hidden_layers=(32, 16), dropout=0.2)
    built = build_model(config, image_shape, 10)
    rng = np.random.default_rng(0)
    built.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in built.get_weights()])
    return built


def test_snapshot_is_a_copy_that_later_training_does_not_change():
    built = keras_model("dense", (8, 8), "relu")
    snapshot = snapshot_weights(built)
    before = snapshot.layers[1].weights[0].copy()
    built.set_weights([w + 1 for w in built.get_weights()])
    np.testing.assert_array_equal(snapshot.layers[1].weights[0], before)


def test_mlp_snapshot_matches_predict_proba(digits):
    from sklearn.neural_network import MLPClassifier

    x_train = digits.scaled(digits.pixels_train[:400]).reshape(400, -1)
    for activation in ("relu", "tanh", "logistic"):
        classifier = MLPClassifier((24, 12), activation=activation, max_iter=5, random_state=0)
        with pytest.warns(Warning):  # five iterations do not converge; that is the point of a quick test
            classifier.fit(x_train, digits.y_train[:400])
        snapshot = snapshot_mlp(classifier, digits.image_shape)
        expected = classifier.predict_proba(digits.x_test.reshape(len(digits.x_test), -1))
        np.testing.assert_allclose(predict_probabilities(snapshot, digits.x_test), expected, atol=TOLERANCE)


def test_training_stores_a_snapshot_that_reproduces_the_test_predictions(digits, quick_config):
    from core.training.baseline import train_baseline
    from core.training.engine import train

    for config, kind in (
        (quick_config, "keras"),
        (quick_config.replace(model="cnn", epochs=1), "keras"),
        (quick_config, "baseline"),
    ):
        run = TrainingRun(config, kind)
        (train if kind == "keras" else train_baseline)(run, digits)
        assert run.status == FINISHED
        snapshot = run.snapshot().details["snapshot"]
        np.testing.assert_allclose(
            predict_probabilities(snapshot, digits.x_test), run.test_probabilities, atol=TOLERANCE
        )


def test_wrong_input_shape_and_unknown_layers_are_refused_with_a_message():
    snapshot = ModelSnapshot((8, 8), (LayerSnapshot("flatten", "Flatten"),))
    with pytest.raises(ValueError, match=r"reads images of shape \(8, 8\)"):
        forward(snapshot, np.zeros((1, 28, 28)))
    odd = ModelSnapshot((2,), (LayerSnapshot("dense", "Dense", (np.eye(2),), activation="swish"),))
    with pytest.raises(UnsupportedModelError, match="swish"):
        forward(odd, np.zeros((1, 2)))

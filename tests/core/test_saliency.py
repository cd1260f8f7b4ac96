"""The numpy backward pass equals finite differences and Keras's own gradients; saliency says what is wrong."""

import numpy as np
import pytest

from core import libraries
from core.config import TrainingConfig
from core.data.images import BLANK_MESSAGE, ImageError
from core.results import saliency
from core.training.inference import (
    CONV2D,
    DENSE,
    DROPOUT,
    FLATTEN,
    MAX_POOLING2D,
    RESHAPE,
    LayerSnapshot,
    ModelSnapshot,
    backward,
    forward,
    snapshot_mlp,
    snapshot_weights,
)

# Against central differences in float64 (the snapshot's weights in float64): the step is 1e-4, so the
# difference quotient itself is good to about 1e-7 of the gradient's size; we ask for 1e-5.
FINITE_DIFFERENCE_TOLERANCE = 1e-5
# Against the backend's own gradient (jax.grad, tf.GradientTape) on the same float32 weights: float32
# rounding in two different orders.
KERAS_TOLERANCE = 1e-4


def dense(rng, name, inputs, units, activation):
    weights = (rng.normal(0, 0.5, (inputs, units)), rng.normal(0, 0.3, units))
    return LayerSnapshot(name, DENSE, weights, activation)


def small_dense(activation: str, rng) -> ModelSnapshot:
    layers = (
        LayerSnapshot("flatten", FLATTEN),
        dense(rng, "dense_1", 36, 12, activation),
        LayerSnapshot("dropout", DROPOUT),
        dense(rng, "dense_2", 12, 8, activation),
        dense(rng, "probabilities", 8, 10, "softmax"),
    )
    return ModelSnapshot((6, 6), layers)


def small_cnn(activation: str, rng, padding: str = "same") -> ModelSnapshot:
    conv_weights = (rng.normal(0, 0.5, (3, 3, 1, 4)), rng.normal(0, 0.3, 4))
    side = 6 if padding == "same" else 4
    layers = (
        LayerSnapshot("add_channel", RESHAPE, settings={"target_shape": (6, 6, 1)}),
        LayerSnapshot("conv", CONV2D, conv_weights, activation, {"padding": padding, "strides": (1, 1)}),
        LayerSnapshot("pool", MAX_POOLING2D, settings={"pool_size": (2, 2), "strides": (2, 2), "padding": "valid"}),
        LayerSnapshot("flatten", FLATTEN),
        dense(rng, "probabilities", (side // 2) ** 2 * 4, 10, "softmax"),
    )
    return ModelSnapshot((6, 6), layers)


def logits(snapshot: ModelSnapshot, images: np.ndarray) -> np.ndarray:
    """The output layer before its softmax, from the forward pass (what `backward` differentiates)."""
    hidden = forward(snapshot, images)[-2][1] if len(snapshot.layers) > 1 else images.reshape(len(images), -1)
    kernel, bias = snapshot.layers[-1].weights
    return hidden @ kernel + bias


def finite_differences(score, images: np.ndarray, step: float = 1e-4) -> np.ndarray:
    gradient = np.zeros_like(images)
    for index in np.ndindex(images.shape):
        up, down = images.copy(), images.copy()
        up[index] += step
        down[index] -= step
        # The forward pass reads images as float32: divide by the step the pixel really took.
        taken = float(np.float32(up[index])) - float(np.float32(down[index]))
        gradient[index] = (score(up) - score(down)) / taken
    return gradient


@pytest.mark.parametrize(
    ("build", "activation"),
    [
        (small_dense, "tanh"),
        (small_dense, "gelu"),
        (small_dense, "sigmoid"),
        (small_dense, "elu"),
        (small_cnn, "tanh"),
        (small_cnn, "elu"),
        (lambda activation, rng: small_cnn(activation, rng, "valid"), "gelu"),
    ],
)
def test_input_gradient_equals_finite_differences(build, activation):
    rng = np.random.default_rng(3)
    snapshot = build(activation, rng)
    images = rng.random((2, 6, 6))
    for class_index in (0, 7):
        seed = np.zeros((2, 10))
        seed[:, class_index] = 1.0
        ours = dict(backward(snapshot, images, seed))["input"]
        expected = finite_differences(lambda x, k=class_index: logits(snapshot, x)[:, k].sum(), images)
        scale = np.abs(expected).max()
        np.testing.assert_allclose(ours, expected, atol=FINITE_DIFFERENCE_TOLERANCE * scale)


def test_gradient_through_the_softmax_equals_finite_differences():
    rng = np.random.default_rng(4)
    snapshot = small_dense("tanh", rng)
    images = rng.random((1, 6, 6))
    seed = np.zeros((1, 10))
    seed[0, 2] = 1.0
    ours = dict(backward(snapshot, images, seed, through_output_activation=True))["input"]
    expected = finite_differences(lambda x: forward(snapshot, x)[-1][1][0, 2], images)
    np.testing.assert_allclose(ours, expected, atol=FINITE_DIFFERENCE_TOLERANCE * np.abs(expected).max())


def keras_model(model: str, image_shape, activation: str, hidden=(32, 16)):
    libraries.load("keras")
    from core.training.models import build_model

    config = TrainingConfig(dataset="digits", model=model, activation=activation, hidden_layers=hidden, dropout=0.2)
    built = build_model(config, image_shape, 10)
    rng = np.random.default_rng(0)
    built.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in built.get_weights()])
    return built


@pytest.mark.parametrize(
    ("model", "image_shape", "activation"),
    [("dense", (8, 8), "relu"), ("dense", (28, 28), "gelu"), ("cnn", (28, 28), "relu"), ("cnn", (8, 8), "elu")],
)
def test_input_gradient_equals_the_keras_backends_own_gradient(model, image_shape, activation):
    built = keras_model(model, image_shape, activation)
    images = np.random.default_rng(1).random((4, *image_shape), dtype=np.float32)
    snapshot = snapshot_weights(built)
    import keras

    body = keras.Model(built.inputs, built.layers[-2].output)
    kernel, bias = built.layers[-1].get_weights()
    for class_index in (3, 9):
        seed = np.zeros((4, 10), dtype=np.float32)
        seed[:, class_index] = 1.0
        scores = (
            (lambda x, k=class_index: (body(x, training=False) @ kernel + bias)[:, k], False),
            (lambda x, k=class_index: built(x, training=False)[:, k], True),
        )
        for score, through in scores:
            expected = backend_input_gradient(score, images)
            ours = dict(backward(snapshot, images, seed, through_output_activation=through))["input"]
            np.testing.assert_allclose(ours, expected, atol=KERAS_TOLERANCE * max(np.abs(expected).max(), 1e-3))


def backend_input_gradient(score, images: np.ndarray) -> np.ndarray:
    """d sum(score(images)) / d images, by the Keras backend in force (jax.grad or tf.GradientTape)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda x: jnp.sum(score(x)))(jnp.asarray(images)))
    import tensorflow as tf

    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(score(x))
    return tape.gradient(total, x).numpy()


def test_grad_cam_is_an_image_sized_non_negative_map_for_cnns_only():
    cnn = snapshot_weights(keras_model("cnn", (28, 28), "relu"))
    image = np.zeros((28, 28), dtype=np.float32)
    image[6:22, 12:16] = 1.0  # a "1"
    explanation = saliency.explain(cnn, image)
    assert explanation.grad_cam_layer == "conv_2"
    assert explanation.grad_cam.shape == (28, 28) and (explanation.grad_cam >= 0).all()
    assert explanation.gradient.shape == explanation.gradient_x_input.shape == (28, 28)
    # Gradient × input is zero where there is no ink, by definition.
    assert np.all(explanation.gradient_x_input[image == 0] == 0)
    dense = snapshot_weights(keras_model("dense", (28, 28), "relu"))
    assert saliency.explain(dense, image).grad_cam is None


def test_any_class_can_be_asked_about_and_the_sentence_says_which():
    snapshot = snapshot_weights(keras_model("dense", (8, 8), "relu"))
    image = np.random.default_rng(2).random((8, 8), dtype=np.float32)
    predicted = saliency.explain(snapshot, image)
    other = (predicted.predicted + 1) % 10
    why_not = saliency.explain(snapshot, image, other)
    assert why_not.class_index == other and why_not.predicted == predicted.predicted
    assert not np.allclose(why_not.gradient, predicted.gradient)
    names = [str(k) for k in range(10)]
    assert f"reads {names[predicted.predicted]}" in saliency.sentence(why_not, names)
    assert f"score of {names[other]}" in saliency.sentence(why_not, names)
    with pytest.raises(ValueError, match="Class 10 does not exist"):
        saliency.explain(snapshot, image, 10)


def test_the_baseline_mlp_is_explained_the_same_way(digits):
    from sklearn.neural_network import MLPClassifier

    x_train = digits.scaled(digits.pixels_train[:300]).reshape(300, -1)
    classifier = MLPClassifier((16,), max_iter=3, random_state=0)
    with pytest.warns(Warning):  # three iterations do not converge; that is the point of a quick test
        classifier.fit(x_train, digits.y_train[:300])
    snapshot = snapshot_mlp(classifier, digits.image_shape)
    explanation = saliency.explain(snapshot, digits.x_test[0])
    assert explanation.gradient.shape == digits.image_shape and explanation.grad_cam is None
    # For a one-hidden-layer relu MLP the logit's gradient is W1 · diag(active) · W2[:, k]: check it exactly.
    x = digits.x_test[0].reshape(-1)
    active = (x @ classifier.coefs_[0] + classifier.intercepts_[0]) > 0
    k = explanation.class_index
    expected = (classifier.coefs_[0] * active) @ classifier.coefs_[1][:, k]
    np.testing.assert_allclose(explanation.gradient.reshape(-1), expected, rtol=1e-4, atol=1e-6)


def test_blank_or_wrongly_sized_images_get_a_clear_message():
    snapshot = snapshot_weights(keras_model("dense", (8, 8), "relu"))
    with pytest.raises(ImageError, match="blank"):
        saliency.explain(snapshot, np.zeros((8, 8)))
    assert "blank" in BLANK_MESSAGE
    with pytest.raises(ImageError, match="reads 8×8 images; this one is 28×28"):
        saliency.explain(snapshot, np.ones((28, 28)))

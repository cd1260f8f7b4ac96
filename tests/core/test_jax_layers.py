"""core.training.jax_layers: Keras's MaxPooling2D and Conv2D in other forms compute what Keras computes."""

import numpy as np
import pytest

from core import libraries
from core.config import TrainingConfig


@pytest.fixture(scope="module")
def keras():
    libraries.load("keras")
    import keras

    return keras


def twins(keras, model_config: TrainingConfig, image_shape):
    """Two models from the same seed: Keras's own forms, and core.training.jax_layers' forms."""
    from core.training import models
    from core.training.jax_layers import use_fast_forms

    own = models.build_model(model_config, image_shape, 10)
    fast = models.build_model(model_config, image_shape, 10)
    return own, fast, use_fast_forms(fast)


@pytest.mark.parametrize("image_shape", [(28, 28), (8, 8), (15, 13)])
def test_the_cnn_gives_keras_outputs_and_gradients_in_the_fast_forms(keras, image_shape):
    own, fast, changed = twins(keras, TrainingConfig(model="cnn"), image_shape)
    blocks = 2 if min(image_shape) >= 16 else 1
    assert changed == 2 * blocks, "every conv block's convolution and pooling"
    images = np.random.default_rng(0).random((6, *image_shape), dtype=np.float32)
    assert np.allclose(own.predict(images, verbose=0), fast.predict(images, verbose=0), atol=1e-6)
    assert [type(layer) for layer in own.layers] == [type(layer) for layer in fast.layers], "still Keras's layers"
    assert fast.get_config() == own.get_config()
    if keras.backend.backend() == "jax":
        import jax

        def gradients(model):
            trainable = [v.value for v in model.trainable_variables]
            others = [v.value for v in model.non_trainable_variables]
            loss = lambda weights: jax.numpy.sum(model.stateless_call(weights, others, images)[0] ** 2)  # noqa: E731
            return jax.grad(loss)(trainable)

        for ours, theirs in zip(gradients(fast), gradients(own), strict=True):
            assert np.allclose(ours, theirs, atol=1e-6, rtol=1e-5)


def test_layers_of_other_shapes_keep_keras_forms(keras):
    from core.training.jax_layers import in_fast_form, use_fast_forms

    inputs = keras.Input((12, 12, 1))
    outputs = keras.layers.Conv2D(4, 5, padding="same")(inputs)  # not 3×3
    outputs = keras.layers.Conv2D(4, 3, strides=2)(outputs)  # strided, 'valid'
    outputs = keras.layers.MaxPooling2D(pool_size=3, strides=1)(outputs)  # overlapping windows
    outputs = keras.layers.MaxPooling2D(pool_size=2, padding="same")(outputs)  # padded windows
    model = keras.Model(inputs, outputs)
    assert use_fast_forms(model) == 0
    assert not any(in_fast_form(layer) for layer in model.layers)


def test_a_dense_network_is_left_as_it_is(keras):
    _, _, changed = twins(keras, TrainingConfig(model="dense"), (28, 28))
    assert changed == 0

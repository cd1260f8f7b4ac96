"""A run's predictions on JAX (core.training.jax_fit.DevicePredictions): what Keras's predict gives, for any
number of images, for every model of a network through one kept forward pass, and in the run's records."""

import numpy as np
import pytest

from core.config import TrainingConfig
from core.training.evaluation import PREDICT_BATCH_SIZE, cross_entropy
from core.training.run import TrainingRun


def fitted(config: TrainingConfig, image_shape, signature=None):
    """A model of `config` trained one epoch on random images by JaxFit, with its JaxFit."""
    from core.training import models
    from core.training.jax_fit import JaxFit

    model = models.build_model(config, image_shape, 10)
    models.compile_model(model, config, 10, jit_compile=True, steps_per_execution=1)
    rng = np.random.default_rng(config.seed)
    pixels = rng.integers(0, 256, (96, *image_shape), dtype=np.uint8)
    fit = JaxFit(
        model,
        pixels,
        rng.integers(0, 10, 96),
        batch_size=32,
        steps_per_update=2,
        pixel_max=255,
        seed=config.seed,
        signature=signature,
    )
    fit.fit(1)
    return model, fit


@pytest.mark.parametrize(("model", "image_shape"), [("dense", (8, 8)), ("cnn", (28, 28))])
def test_the_device_gives_what_keras_predicts_for_any_number_of_images(jax_fit, model, image_shape):
    from core.training.callbacks import KerasPredictions, mapped_layer

    network, fit = fitted(TrainingConfig(model=model, dropout=0.2), image_shape)
    layer = mapped_layer(network, 10)
    assert layer is not None
    on_device, by_keras = fit.predictions(layer), KerasPredictions(network, layer)
    rng = np.random.default_rng(1)
    # Fewer than a window, exactly a window, and more than one with a remainder (the last window padded).
    for count in (1, 37, PREDICT_BATCH_SIZE, 2 * PREDICT_BATCH_SIZE + 300):
        images = rng.random((count, *image_shape), dtype=np.float32)
        probabilities = on_device.probabilities(images)
        assert probabilities.shape == (count, 10)
        assert np.allclose(probabilities, by_keras.probabilities(images), atol=1e-6)
        hidden = on_device.hidden(images)
        assert hidden.shape[0] == count
        assert np.allclose(hidden, by_keras.hidden(images), atol=1e-5)
    assert on_device.probabilities(np.zeros((0, *image_shape), np.float32)).shape == (0, 10)


def test_validation_the_maps_sample_and_the_test_images_share_one_program(jax_fit):
    from core.training.callbacks import mapped_layer

    network, fit = fitted(TrainingConfig(hidden_layers=(16,)), (8, 8))
    predictions = fit.predictions(mapped_layer(network, 10))
    rng = np.random.default_rng(3)
    # The lesson's shapes: 6,000 validation images, a sample of 1,000 of them, 10,000 test images.
    for count in (6000, 1000, 10_000):
        predictions.probabilities(rng.random((count, 8, 8), dtype=np.float32))
    assert predictions.forward.window._cache_size() == 1, "one compiled program for every window"


def test_one_kept_forward_pass_serves_every_model_of_the_network_with_its_own_weights(jax_fit):
    from core.training.callbacks import KerasPredictions, mapped_layer
    from core.training.kept_loops import forget_loops, step_signature

    forget_loops()
    config = TrainingConfig(dropout=0.2, hidden_layers=(16,))  # dropout: a variable of its own in each model
    signature = step_signature(config, (8, 8), 10)
    first, first_fit = fitted(config, (8, 8), signature)
    second, second_fit = fitted(config.replace(seed=7), (8, 8), signature)
    layer = mapped_layer(second, 10)
    assert second_fit.loop is first_fit.loop, "the second run found the first run's loop"
    assert second_fit.predictions(layer).forward is first_fit.predictions(layer).forward
    images = np.random.default_rng(2).random((50, 8, 8), dtype=np.float32)
    for model, fit in ((first, first_fit), (second, second_fit)):
        assert np.allclose(
            fit.predictions(layer).probabilities(images), KerasPredictions(model, None).probabilities(images), atol=1e-6
        )
    assert not np.allclose(
        first_fit.predictions(None).probabilities(images), second_fit.predictions(None).probabilities(images)
    )
    forget_loops()


def test_a_runs_recorded_scores_are_its_models(jax_fit, digits, quick_config):
    from core.data.splits import prepare_data
    from core.training import hidden_map_recording
    from core.training.callbacks import KerasPredictions
    from core.training.engine import train

    run = TrainingRun(quick_config)
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == "finished", snap.message
    data = prepare_data(quick_config, digits)
    validation = run.model.predict(data.x_val, verbose=0)
    test = run.model.predict(data.x_test, verbose=0)
    assert snap.epochs[-1]["val_loss"] == pytest.approx(cross_entropy(data.y_val, validation), abs=1e-5)
    assert np.array_equal(snap.details["val_predictions"][-1], validation.argmax(axis=1))
    assert snap.test_metrics["accuracy"] == pytest.approx(float((test.argmax(axis=1) == data.y_test).mean()))
    assert snap.test_metrics["loss"] == pytest.approx(cross_entropy(data.y_test, test), abs=1e-5)
    recorded = snap.details[hidden_map_recording.ACTIVATIONS_DETAIL]
    assert len(recorded) == quick_config.epochs
    layer, sample = snap.details[hidden_map_recording.LAYER_DETAIL], snap.details[hidden_map_recording.SAMPLE_DETAIL]
    by_keras = hidden_map_recording.features(KerasPredictions(run.model, layer).hidden(data.x_val[sample]))
    assert np.allclose(recorded[-1].astype(np.float32), by_keras.astype(np.float32), atol=1e-2)

"""One description of the network (core.training.architecture), and everything that must agree with it.

For every preset: the Keras model has the described layers, output shapes and parameter counts; the numpy
forward pass gives Keras's own outputs, layer by layer, on random weights; the exported script builds the
same layers.
"""

import ast

import numpy as np
import pytest

from core import libraries
from core.config import ACTIVATIONS, HIDDEN_LAYERS_RANGE, TrainingConfig
from core.results.export import keras_script
from core.training.architecture import INPUT, describe_model, network_layers, total_parameters
from core.training.inference import forward, snapshot_weights

TOLERANCE = 1e-4
HIDDEN_UNITS = (48, 32, 24, 16)


def presets() -> list:
    """Dense with 0–4 hidden layers with and without dropout, each activation, and the CNN on three image sizes."""
    cases = []
    for count in range(HIDDEN_LAYERS_RANGE[0], HIDDEN_LAYERS_RANGE[1] + 1):
        for dropout in (0.0, 0.25):
            cases.append(({"hidden_layers": HIDDEN_UNITS[:count], "dropout": dropout}, (28, 28)))
    for activation in ACTIVATIONS:
        cases.append(({"activation": activation, "hidden_layers": (24, 12)}, (8, 8)))
        cases.append(({"model": "cnn", "activation": activation}, (28, 28)))
    # 8×8 digits get one conv block; 15×15 pools to 7×7 then 3×3, dropping the odd pixel each time.
    cases += [
        ({"model": "cnn", "dropout": 0.3}, (8, 8)),
        ({"model": "cnn", "dropout": 0.3, "activation": "tanh"}, (15, 15)),
    ]
    return [
        pytest.param(TrainingConfig(dataset="digits", **changes), shape, id=_name(changes, shape))
        for changes, shape in cases
    ]


def _name(changes: dict, shape: tuple[int, int]) -> str:
    parts = [f"{key}={value}" for key, value in changes.items()]
    return "-".join([f"{shape[0]}x{shape[1]}", *parts])


def random_keras_model(config: TrainingConfig, image_shape: tuple[int, int]):
    """The app's Keras model with random weights everywhere (biases too, so they are checked)."""
    libraries.load("keras")
    from core.training.models import build_model

    built = build_model(config, image_shape, 10)
    rng = np.random.default_rng(0)
    built.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in built.get_weights()])
    return built


def as_compared(rows: list[dict]) -> list[tuple]:
    return [(row["type"], row["output shape"], row["parameters"]) for row in rows if row["type"] != INPUT]


@pytest.mark.parametrize(("config", "image_shape"), presets())
def test_keras_builds_the_described_layers(config, image_shape):
    libraries.load("keras")
    from core.training.models import layer_table

    model = random_keras_model(config, image_shape)
    described = describe_model(config, image_shape, 10)
    keras_rows = layer_table(model)
    assert [r["layer"] for r in keras_rows] == [r["layer"] for r in described]
    assert as_compared(keras_rows) == as_compared(described)
    assert total_parameters(described) == model.count_params()


@pytest.mark.parametrize(("config", "image_shape"), presets())
def test_the_numpy_forward_pass_gives_keras_outputs_layer_by_layer(config, image_shape):
    import keras

    model = random_keras_model(config, image_shape)
    images = np.random.default_rng(1).random((12, *image_shape), dtype=np.float32)
    outputs = forward(snapshot_weights(model), images)
    assert [name for name, _ in outputs] == [layer.name for layer in network_layers(config, image_shape, 10)[1:]]
    # Every intermediate layer too, not only the probabilities; eager calls, no compiled predict.
    probe = keras.Model(model.input, [layer.output for layer in model.layers[1:]])
    for (name, ours), theirs in zip(outputs, probe(images, training=False), strict=True):
        np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(theirs), atol=TOLERANCE, err_msg=name)


@pytest.mark.parametrize(("config", "image_shape"), presets())
def test_the_exported_script_builds_the_described_layers(config, image_shape):
    libraries.load("keras")
    import keras
    from keras import layers

    from core.training.models import layer_table

    script = keras_script(config, image_shape=image_shape)
    statement = next(
        node
        for node in ast.parse(script).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "model"
    )
    scope = {"keras": keras, "layers": layers, "num_classes": 10}
    exec(compile(ast.Module([statement], type_ignores=[]), "<exported>", "exec"), scope)
    assert as_compared(layer_table(scope["model"])) == as_compared(describe_model(config, image_shape, 10))


def test_the_lesson_model_has_101_770_parameters():
    rows = describe_model(TrainingConfig(), (28, 28), 10)
    assert total_parameters(rows) == 784 * 128 + 128 + 128 * 10 + 10 == 101_770

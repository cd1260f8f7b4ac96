"""The network's one description: its layers for a config, with output shapes and parameter counts.

core.training.models builds the Keras model from these layers, core.results.export writes them out as a
script, and the pages show them as a table (before TensorFlow has loaded, and while another session trains,
when building a Keras model in the page's thread would race the worker). The numpy forward pass
(core.training.inference) runs the trained Keras model's own layers; tests/core/test_network_description.py
checks that Keras, numpy and the exported script agree with this description for every preset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import TrainingConfig

# Layer kinds, by their Keras class names: the app's dense network and its small CNN.
INPUT, RESHAPE, CONV2D, MAX_POOLING2D, FLATTEN, DENSE, DROPOUT = (
    "InputLayer",
    "Reshape",
    "Conv2D",
    "MaxPooling2D",
    "Flatten",
    "Dense",
    "Dropout",
)
KERNEL_SIZE = 3  # the CNN's 3×3 convolutions
POOL_SIZE = 2


@dataclass(frozen=True)
class Layer:
    """One layer: its name, its Keras class, Keras's own keyword arguments for it, and what it outputs."""

    name: str
    kind: str
    arguments: dict = field(default_factory=dict, hash=False)  # units, filters, kernel_size, activation, …
    output_shape: tuple[int, ...] = ()  # without the batch axis
    parameters: int = 0


def network_name(config: TrainingConfig) -> str:
    return "small_cnn" if config.model == "cnn" else "dense_network"


def network_layers(config: TrainingConfig, image_shape: tuple[int, int], num_classes: int) -> list[Layer]:
    """The lesson's dense network, or a small CNN, for images of `image_shape`: input first, softmax last."""
    height, width = image_shape
    layers = [Layer("image", INPUT, {"shape": (height, width)}, (height, width))]
    layers += _cnn_body(config, image_shape) if config.model == "cnn" else _dense_body(config, height * width)
    features = layers[-1].output_shape[-1]
    layers.append(_dense("probabilities", num_classes, "softmax", features))
    return layers


def cnn_blocks(image_shape: tuple[int, int]) -> tuple[int, ...]:
    """Filters of each conv block. Two small blocks reach about 99 % on MNIST; 8×8 digits get one
    block, as a second pooling would shrink them to 2×2."""
    return (32, 64) if min(image_shape) >= 16 else (32,)


def _dense_body(config: TrainingConfig, features: int) -> list[Layer]:
    layers = [Layer("flatten", FLATTEN, {}, (features,))]
    for index, units in enumerate(config.hidden_layers, start=1):
        layers.append(_dense(f"dense_{index}", units, config.activation, features))
        features = units
        if config.dropout > 0:
            layers.append(Layer(f"dropout_{index}", DROPOUT, {"rate": config.dropout}, (units,)))
    return layers


def _cnn_body(config: TrainingConfig, image_shape: tuple[int, int]) -> list[Layer]:
    height, width = image_shape
    channels = 1
    layers = [Layer("add_channel", RESHAPE, {"target_shape": (height, width, 1)}, (height, width, 1))]
    for index, filters in enumerate(cnn_blocks(image_shape), start=1):
        conv = {"filters": filters, "kernel_size": KERNEL_SIZE, "activation": config.activation, "padding": "same"}
        parameters = (KERNEL_SIZE * KERNEL_SIZE * channels + 1) * filters
        layers.append(Layer(f"conv_{index}", CONV2D, conv, (height, width, filters), parameters))
        # 'valid' pooling drops a last row or column that does not fill a window.
        height, width, channels = height // POOL_SIZE, width // POOL_SIZE, filters
        layers.append(Layer(f"pool_{index}", MAX_POOLING2D, {"pool_size": POOL_SIZE}, (height, width, channels)))
    features = height * width * channels
    layers.append(Layer("flatten", FLATTEN, {}, (features,)))
    if config.dropout > 0:
        layers.append(Layer("dropout", DROPOUT, {"rate": config.dropout}, (features,)))
    return layers


def _dense(name: str, units: int, activation: str, inputs: int) -> Layer:
    return Layer(name, DENSE, {"units": units, "activation": activation}, (units,), (inputs + 1) * units)


def describe_model(config: TrainingConfig, image_shape: tuple[int, int], num_classes: int) -> list[dict]:
    """Rows like model.summary(): layer, type, output shape, parameters."""
    return [layer_row(layer) for layer in network_layers(config, image_shape, num_classes)]


def layer_row(layer: Layer) -> dict:
    return {
        "layer": layer.name,
        "type": layer.kind,
        "output shape": str((None, *layer.output_shape)).replace("None", "batch"),
        "parameters": layer.parameters,
    }


def total_parameters(rows: list[dict]) -> int:
    return sum(row["parameters"] for row in rows)


def layer_markdown(rows: list[dict]) -> str:
    """The layer table as Markdown, which a page draws without a dataframe widget."""
    lines = ["| layer | type | output shape | parameters |", "|---|---|---|---:|"]
    lines += [f"| {r['layer']} | {r['type']} | {r['output shape']} | {r['parameters']:,} |" for r in rows]
    return "\n".join(lines)

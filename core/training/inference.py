"""A trained model as plain numpy weights, and its forward pass in numpy: predictions safe in any thread.

Keras's TensorFlow backend is not thread-safe, and another session's worker may be fitting while a page
predicts a drawn digit. So the worker copies the weights once, when training ends (snapshot_weights), and
pages run the copy through `forward`, which never touches Keras. The scikit-learn baseline is copied into
the same form (snapshot_mlp), so one forward pass, one activation view and one probability chart serve both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

# The layer kinds the numpy forward pass knows: every kind core.training.architecture describes.
from core.training.architecture import CONV2D, DENSE, DROPOUT, FLATTEN, MAX_POOLING2D, RESHAPE

# scikit-learn's names for the same activations.
MLP_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "identity": "linear", "softmax": "softmax"}


class UnsupportedModelError(ValueError):
    """The model has a layer or setting the numpy forward pass does not implement."""


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class LayerSnapshot:
    """One layer: its name and kind, the settings the forward pass needs, and copies of its weights."""

    name: str
    kind: str
    weights: tuple[np.ndarray, ...] = ()
    activation: str = "linear"
    settings: dict = field(default_factory=dict)  # pool_size, strides, padding, target_shape


@dataclass(frozen=True, eq=False)
class ModelSnapshot:
    """A trained model's layers in order, for images of input_shape (height, width)."""

    input_shape: tuple[int, ...]
    layers: tuple[LayerSnapshot, ...]

    @property
    def first_weighted_layer(self) -> LayerSnapshot | None:
        return next((layer for layer in self.layers if layer.kind in (DENSE, CONV2D)), None)


# --- Taking snapshots -----------------------------------------------------------------------------


def snapshot_weights(model) -> ModelSnapshot:
    """Copy a Keras model's layers and weights into numpy (call in the thread that trained it).

    Reads layers through get_config() and get_weights() only, so this module never imports Keras.
    """
    layers = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        config = layer.get_config()
        if kind not in (DENSE, CONV2D, MAX_POOLING2D, FLATTEN, RESHAPE, DROPOUT):
            raise UnsupportedModelError(f"Layer {layer.name!r} is a {kind}; the numpy forward pass has no {kind}.")
        settings = {key: config[key] for key in ("pool_size", "strides", "padding", "target_shape") if key in config}
        weights = tuple(np.array(w, dtype=np.float32) for w in layer.get_weights())
        activation = _activation_name(config.get("activation", "linear"))
        layers.append(LayerSnapshot(layer.name, kind, weights, activation, settings))
    return ModelSnapshot(tuple(model.input_shape[1:]), tuple(layers))


def snapshot_mlp(classifier, image_shape: tuple[int, int]) -> ModelSnapshot:
    """Copy a fitted scikit-learn MLPClassifier into the same form (Flatten, then Dense layers)."""
    hidden = MLP_ACTIVATIONS.get(classifier.activation)
    output = MLP_ACTIVATIONS.get(classifier.out_activation_)
    if hidden is None or output != "softmax":
        raise UnsupportedModelError(
            f"The MLP uses {classifier.activation} / {classifier.out_activation_}; expected a multi-class "
            "classifier (softmax output) with relu, tanh, logistic or identity hidden layers."
        )
    layers = [LayerSnapshot("flatten", FLATTEN)]
    count = len(classifier.coefs_)
    for index, (kernel, bias) in enumerate(zip(classifier.coefs_, classifier.intercepts_, strict=True), start=1):
        last = index == count
        name = "probabilities" if last else f"dense_{index}"
        weights = (np.array(kernel, dtype=np.float32), np.array(bias, dtype=np.float32))
        layers.append(LayerSnapshot(name, DENSE, weights, output if last else hidden))
    return ModelSnapshot(tuple(image_shape), tuple(layers))


def _activation_name(activation) -> str:
    # Keras 3 stores a string; a serialised function object is a dict with its name.
    if isinstance(activation, dict):
        activation = activation.get("config", {}).get("name") or activation.get("class_name", "linear")
    return str(activation or "linear")


# --- The forward pass -------------------------------------------------------------------------------


def forward(snapshot: ModelSnapshot, images: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Every layer's output for a batch of images: [(layer name, activations)], input first excluded.

    Dropout passes through unchanged, as in Keras's inference.
    """
    x = np.asarray(images, dtype=np.float32)
    if tuple(x.shape[1:]) != tuple(snapshot.input_shape):
        raise ValueError(
            f"The model reads images of shape {tuple(snapshot.input_shape)}; got a batch of shape {x.shape[1:]}."
        )
    outputs = []
    for layer in snapshot.layers:
        x = _apply(layer, x)
        outputs.append((layer.name, x))
    return outputs


def predict_probabilities(snapshot: ModelSnapshot, images: np.ndarray) -> np.ndarray:
    """Class probabilities, shape (images, classes): the last layer's output."""
    return forward(snapshot, images)[-1][1]


def _apply(layer: LayerSnapshot, x: np.ndarray) -> np.ndarray:
    if layer.kind == FLATTEN:
        return x.reshape(len(x), -1)
    if layer.kind == RESHAPE:
        return x.reshape(len(x), *layer.settings["target_shape"])
    if layer.kind == DROPOUT:
        return x
    if layer.kind == DENSE:
        return _activate(_dense(x, layer.weights), layer.activation)
    if layer.kind == CONV2D:
        return _activate(_conv2d(x, layer), layer.activation)
    if layer.kind == MAX_POOLING2D:
        return _max_pool(x, layer)
    raise UnsupportedModelError(f"Layer {layer.name!r} is a {layer.kind}; the numpy forward pass has no {layer.kind}.")


def _dense(x: np.ndarray, weights: tuple[np.ndarray, ...]) -> np.ndarray:
    out = x @ weights[0]
    return out + weights[1] if len(weights) > 1 else out


def _conv2d(x: np.ndarray, layer: LayerSnapshot) -> np.ndarray:
    """Stride-1 convolution (Keras's cross-correlation), 'same' or 'valid' padding, channels last."""
    kernel = layer.weights[0]
    kernel_height, kernel_width = kernel.shape[:2]
    if tuple(layer.settings.get("strides", (1, 1))) != (1, 1):
        strides = layer.settings["strides"]
        raise UnsupportedModelError(f"Layer {layer.name!r} has strides {strides}; only 1 is supported.")
    if layer.settings.get("padding", "valid") == "same":
        # Keras (like TensorFlow) puts the odd pixel of padding after, on the bottom and right.
        pad_height, pad_width = kernel_height - 1, kernel_width - 1
        rows = (pad_height // 2, pad_height - pad_height // 2)
        cols = (pad_width // 2, pad_width - pad_width // 2)
        x = np.pad(x, ((0, 0), rows, cols, (0, 0)))
    # (images, out_h, out_w, channels, kh, kw) windows, then one matrix product with the kernel.
    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel_height, kernel_width), axis=(1, 2))
    out = np.einsum("nhwcij,ijcf->nhwf", windows, kernel, optimize=True)
    return out + layer.weights[1] if len(layer.weights) > 1 else out


def _max_pool(x: np.ndarray, layer: LayerSnapshot) -> np.ndarray:
    pool_height, pool_width = layer.settings.get("pool_size", (2, 2))
    strides = tuple(layer.settings.get("strides") or (pool_height, pool_width))
    if strides != (pool_height, pool_width) or layer.settings.get("padding", "valid") != "valid":
        raise UnsupportedModelError(
            f"Layer {layer.name!r} pools with strides {strides} and padding {layer.settings.get('padding')}; "
            "only non-overlapping 'valid' pooling is supported."
        )
    count, height, width, channels = x.shape
    rows, cols = height // pool_height, width // pool_width
    # 'valid' drops the last row or column that does not fill a whole window.
    x = x[:, : rows * pool_height, : cols * pool_width]
    return x.reshape(count, rows, pool_height, cols, pool_width, channels).max(axis=(2, 4))


def _activate(x: np.ndarray, activation: str) -> np.ndarray:
    if activation == "linear":
        return x
    if activation == "relu":
        return np.maximum(x, 0.0)
    if activation == "tanh":
        return np.tanh(x)
    if activation == "sigmoid":
        return special.expit(x)
    if activation == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    if activation == "gelu":
        # Keras's "gelu" is the exact one (approximate=False): x·Φ(x).
        return 0.5 * x * (1.0 + special.erf(x / np.float32(np.sqrt(2.0))))
    if activation == "softmax":
        return special.softmax(x, axis=-1)
    raise UnsupportedModelError(f"The activation {activation!r} is not supported by the numpy forward pass.")


# --- The backward pass ------------------------------------------------------------------------------


def backward(
    snapshot: ModelSnapshot, images: np.ndarray, output_gradient: np.ndarray, through_output_activation: bool = False
) -> list[tuple[str, np.ndarray]]:
    """Gradients of Σ output_gradient · score for a batch: [("input", ∂/∂images), (layer name, ∂/∂its output), …].

    The score is the last layer's output before its activation (the class logits: saliency maps
    use them, since softmax couples every class to every other), or after it with
    through_output_activation. Reverse-mode by hand, layer by layer, mirroring `forward`: Dropout
    passes gradients through, max pooling sends each window's gradient to its first largest value
    (as TensorFlow does), ReLU's gradient at exactly 0 is 0.
    """
    x = np.asarray(images, dtype=np.float32)
    outputs = forward(snapshot, x)
    inputs = [x] + [output for _, output in outputs[:-1]]
    gradient = np.asarray(output_gradient, dtype=np.float32)
    gradients = []
    last = len(snapshot.layers) - 1
    for index in range(last, -1, -1):
        layer, layer_input, output = snapshot.layers[index], inputs[index], outputs[index][1]
        gradients.append((layer.name, gradient))
        skip_activation = index == last and not through_output_activation
        gradient = _apply_backward(layer, layer_input, output, gradient, skip_activation)
    gradients.append(("input", gradient))
    return gradients[::-1]


def _apply_backward(
    layer: LayerSnapshot, x: np.ndarray, y: np.ndarray, gradient: np.ndarray, skip_activation: bool
) -> np.ndarray:
    """∂/∂x from ∂/∂y for one layer (y = its output for input x)."""
    if layer.kind in (FLATTEN, RESHAPE):
        return gradient.reshape(x.shape)
    if layer.kind == DROPOUT:
        return gradient
    if layer.kind == MAX_POOLING2D:
        return _max_pool_backward(x, layer, gradient)
    if layer.kind in (DENSE, CONV2D):
        if not skip_activation:
            pre_activation = _dense(x, layer.weights) if layer.kind == DENSE else _conv2d(x, layer)
            gradient = _activation_backward(pre_activation, y, gradient, layer.activation)
        return gradient @ layer.weights[0].T if layer.kind == DENSE else _conv2d_backward(x, layer, gradient)
    raise UnsupportedModelError(f"Layer {layer.name!r} is a {layer.kind}; the numpy backward pass has no {layer.kind}.")


def _conv2d_backward(x: np.ndarray, layer: LayerSnapshot, gradient: np.ndarray) -> np.ndarray:
    """The transposed convolution: each kernel tap sends the output's gradient back to the pixels it read."""
    kernel = layer.weights[0]
    kernel_height, kernel_width = kernel.shape[:2]
    rows, cols = (0, 0), (0, 0)
    if layer.settings.get("padding", "valid") == "same":
        pad_height, pad_width = kernel_height - 1, kernel_width - 1
        rows = (pad_height // 2, pad_height - pad_height // 2)
        cols = (pad_width // 2, pad_width - pad_width // 2)
    count, height, width, channels = x.shape
    padded = np.zeros((count, height + sum(rows), width + sum(cols), channels), dtype=np.result_type(gradient, kernel))
    out_height, out_width = gradient.shape[1:3]
    for i in range(kernel_height):
        for j in range(kernel_width):
            padded[:, i : i + out_height, j : j + out_width] += gradient @ kernel[i, j].T
    return padded[:, rows[0] : rows[0] + height, cols[0] : cols[0] + width]


def _max_pool_backward(x: np.ndarray, layer: LayerSnapshot, gradient: np.ndarray) -> np.ndarray:
    pool_height, pool_width = layer.settings.get("pool_size", (2, 2))
    count, height, width, channels = x.shape
    rows, cols = height // pool_height, width // pool_width
    windows = x[:, : rows * pool_height, : cols * pool_width].reshape(
        count, rows, pool_height, cols, pool_width, channels
    )
    # (count, rows, cols, channels, pool_height · pool_width): argmax picks the first largest value.
    flat = windows.transpose(0, 1, 3, 5, 2, 4).reshape(count, rows, cols, channels, -1)
    winner = flat.argmax(axis=-1)[..., None] == np.arange(pool_height * pool_width)
    spread = (winner * gradient[..., None]).reshape(count, rows, cols, channels, pool_height, pool_width)
    result = np.zeros(x.shape, dtype=gradient.dtype)
    result[:, : rows * pool_height, : cols * pool_width] = spread.transpose(0, 1, 4, 2, 5, 3).reshape(
        count, rows * pool_height, cols * pool_width, channels
    )
    return result


def _activation_backward(z: np.ndarray, y: np.ndarray, gradient: np.ndarray, activation: str) -> np.ndarray:
    """∂/∂z from ∂/∂y, where y = activation(z)."""
    if activation == "linear":
        return gradient
    if activation == "relu":
        return gradient * (z > 0)
    if activation == "tanh":
        return gradient * (1.0 - y * y)
    if activation == "sigmoid":
        return gradient * y * (1.0 - y)
    if activation == "elu":
        return gradient * np.where(z > 0, 1.0, y + 1.0)
    if activation == "gelu":
        density = np.exp(-0.5 * z * z) / np.float32(np.sqrt(2.0 * np.pi))
        return gradient * (0.5 * (1.0 + special.erf(z / np.float32(np.sqrt(2.0)))) + z * density)
    if activation == "softmax":
        # The softmax Jacobian times a vector, without forming the Jacobian: y ⊙ (g − ⟨g, y⟩).
        return y * (gradient - (gradient * y).sum(axis=-1, keepdims=True))
    raise UnsupportedModelError(f"The activation {activation!r} is not supported by the numpy backward pass.")

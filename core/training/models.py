"""Keras models, optimizers and metrics built from a TrainingConfig (imported only once Keras is loaded)."""

from __future__ import annotations

import keras
from keras import layers, ops

from core.config import OPTIMIZER_TABLE, TrainingConfig
from core.training.architecture import network_layers, network_name


def build_model(config: TrainingConfig, image_shape: tuple[int, int], num_classes: int) -> keras.Model:
    """The lesson's dense network, or a small CNN, for images of `image_shape`: core.training.architecture's layers."""
    keras.utils.set_random_seed(config.seed)
    first, *rest = network_layers(config, image_shape, num_classes)
    inputs = keras.Input(name=first.name, **first.arguments)
    outputs = inputs
    for layer in rest:
        outputs = getattr(layers, layer.kind)(name=layer.name, **layer.arguments)(outputs)
    return keras.Model(inputs, outputs, name=network_name(config))


def build_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """Keras optimizer by the app's name (core.config.OPTIMIZER_TABLE), with the chosen learning rate."""
    optimizer = OPTIMIZER_TABLE[name]
    return getattr(keras.optimizers, optimizer.keras_class)(learning_rate=learning_rate, **optimizer.keras_arguments)


class MacroScore(keras.metrics.Metric):
    """Macro precision, recall or F1 over all classes, from a running confusion matrix.

    Keras's own Precision and Recall are binary metrics; this one works for 10 classes with either
    integer or one-hot labels, and every backend (it uses keras.ops only).
    """

    def __init__(self, which: str, num_classes: int, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name or which, **kwargs)
        self.which = which
        self.num_classes = num_classes
        self.counts = self.add_variable(shape=(num_classes, num_classes), initializer="zeros", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == self.num_classes:
            y_true = ops.argmax(y_true, axis=-1)  # one-hot labels
        y_true = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        y_pred = ops.argmax(y_pred, axis=-1)
        true_onehot = ops.one_hot(y_true, self.num_classes, dtype="float32")
        pred_onehot = ops.one_hot(y_pred, self.num_classes, dtype="float32")
        self.counts.assign_add(ops.matmul(ops.transpose(true_onehot), pred_onehot))

    def result(self):
        true_positives = ops.diagonal(self.counts)
        predicted = ops.sum(self.counts, axis=0)
        actual = ops.sum(self.counts, axis=1)
        precision = ops.divide_no_nan(true_positives, predicted)
        recall = ops.divide_no_nan(true_positives, actual)
        scores = {"precision": precision, "recall": recall}.get(self.which)
        if scores is None:
            scores = ops.divide_no_nan(2 * precision * recall, precision + recall)
        # Average over classes seen in labels or predictions (scikit-learn's "macro").
        present = ops.cast(ops.logical_or(predicted > 0, actual > 0), "float32")
        return ops.divide_no_nan(ops.sum(scores * present), ops.sum(present))

    def reset_state(self):
        self.counts.assign(ops.zeros((self.num_classes, self.num_classes)))

    def get_config(self):
        return {**super().get_config(), "which": self.which, "num_classes": self.num_classes}


def build_metrics(metric_names: tuple[str, ...], num_classes: int) -> list:
    """Keras metrics for the chosen names; "accuracy" lets Keras pick the right accuracy for the loss."""
    return [name if name == "accuracy" else MacroScore(name, num_classes) for name in metric_names]


def compile_model(model: keras.Model, config: TrainingConfig, num_classes: int, **speed) -> None:
    # Keywords, always: model.compile("adam", "loss", ["accuracy"]) would pass the metrics
    # list as loss_weights.
    model.compile(
        optimizer=build_optimizer(config.optimizer, config.learning_rate),
        loss=config.loss,
        metrics=build_metrics(config.metrics, num_classes),
        **speed,
    )


def layer_table(model: keras.Model) -> list[dict]:
    """model.summary() as rows: layer, type, output shape, parameters."""
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        shape = tuple(shape.shape) if shape is not None else ()
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": str(shape).replace("None", "batch"),
                "parameters": int(layer.count_params()),
            }
        )
    return rows


def parameter_count(model: keras.Model) -> int:
    return int(model.count_params())


def learning_rate_of(model: keras.Model) -> float:
    return float(ops.convert_to_numpy(model.optimizer.learning_rate))


def set_learning_rate(model: keras.Model, learning_rate: float) -> None:
    model.optimizer.learning_rate.assign(learning_rate)


# The .keras file is a zip archive; the app adds this member so a saved model says what it reads.
METADATA_MEMBER = "training_studio.json"


def save_model(model: keras.Model, path: str, metadata: dict) -> None:
    """Save a .keras file that also records the dataset, image size and class names it was trained on."""
    import json
    import zipfile

    model.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(METADATA_MEMBER, json.dumps(metadata, indent=2))


def load_model(path: str) -> tuple[keras.Model, dict]:
    """Load a .keras file saved by save_model: the model (uncompiled) and its metadata."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read(METADATA_MEMBER)) if METADATA_MEMBER in archive.namelist() else {}
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a Keras model saved by Training Studio ({error}).") from error
    model = keras.saving.load_model(path, compile=False)
    return model, metadata

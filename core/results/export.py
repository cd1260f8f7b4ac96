"""A run as a short standalone Keras script: the same data, model, compile and fit, to read and rerun.

Its sections (imports_code, data_code, model_code, compile_code, fit_code, …) are the one description of a
run as Keras code: the notebook export (core/results/notebook.py) puts the same sections into cells.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from core.config import EMBEDDED_DATASET, OPTIMIZER_TABLE, UPLOAD_DATASET, TrainingConfig
from core.training.architecture import network_layers

DATA_CODE = {
    "digits": """\
# scikit-learn's 8x8 digits, split as Training Studio splits them (a fixed test set).
digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(
    digits.images, digits.target, test_size=0.2, stratify=digits.target, random_state=0
)
# Scale images to the [0, 1] range (digits pixels go from 0 to 16).
x_train = (x_train / 16.0).astype("float32")
x_test = (x_test / 16.0).astype("float32")
""",
    "keras": """\
(x_train, y_train), (x_test, y_test) = keras.datasets.{name}.load_data()
# Scale images to the [0, 1] range.
x_train = (x_train / 255.0).astype("float32")
x_test = (x_test / 255.0).astype("float32")
""",
    "folder": """\
# Your own data: an .npz with x_train, y_train, x_test, y_test (like Keras's mnist.npz).
# Training Studio also reads a folder of MNIST IDX files; save it once as an .npz to use this script.
with np.load("{path}") as data:
    x_train, y_train, x_test, y_test = (data[key] for key in ("x_train", "y_train", "x_test", "y_test"))
num_classes = int(max(y_train.max(), y_test.max())) + 1
# Scale images to the [0, 1] range.
pixel_max = 255.0 if x_train.max() > 1 else 1.0
x_train = (x_train / pixel_max).astype("float32")
x_test = (x_test / pixel_max).astype("float32")
""",
}

# The exported script carries the app's own MacroScore class, copied from its source.
MODELS_SOURCE = Path(__file__).resolve().parents[1] / "training" / "models.py"
# Images the script's model reads when the caller does not say: the embedded digits are 8×8, MNIST's kind 28×28.
IMAGE_SHAPES = {EMBEDDED_DATASET: (8, 8)}
MNIST_SHAPE = (28, 28)


def keras_script(
    config: TrainingConfig,
    epochs: int | None = None,
    learning_rate_changed: bool = False,
    image_shape: tuple[int, int] | None = None,
) -> str:
    """A standalone script that trains `config` as the app did (epochs: how many the run trained)."""
    epochs = epochs or config.epochs
    parts = [
        _header(config, learning_rate_changed),
        imports_code(config),
        "\n# Model / data parameters\n",
        parameters_code(config, epochs),
        "\n\n" + macro_score_source() + "\n\n" if macro_metrics(config) else "",
        "\n# Load the data\n",
        data_code(config),
        split_code(config),
        model_code(config, image_shape),
        compile_code(config),
        fit_code(config),
    ]
    return "".join(parts)


def macro_metrics(config: TrainingConfig) -> list[str]:
    """The metrics the script computes with its own MacroScore class (Keras has no macro scores of its own)."""
    return [metric for metric in config.metrics if metric != "accuracy"]


def parameters_code(config: TrainingConfig, epochs: int) -> str:
    return (
        f"num_classes = 10\nbatch_size = {config.batch_size}\nepochs = {epochs}\n"
        f"validation_split = {config.validation_split!r}\nseed = {config.seed}\n"
    )


def _header(config: TrainingConfig, learning_rate_changed: bool) -> str:
    lines = [
        '"""',
        f"Train a {'small CNN' if config.model == 'cnn' else 'dense network'} on {config.dataset}, "
        "exported from Training Studio.",
        "",
        "Same data split, model, compile and fit settings as the run in the app. The app also passes",
        "jit_compile and steps_per_execution to compile() for speed; they do not change what is computed.",
    ]
    if learning_rate_changed:
        lines.append("The learning rate was changed by hand during the run; this script keeps it fixed.")
    return "\n".join([*lines, '"""', "", ""])


def imports_code(config: TrainingConfig, digits: bool = False) -> str:
    """The imports; digits: also scikit-learn's, for the embedded digits (whatever the run's dataset)."""
    macro = bool(macro_metrics(config))
    lines = ["import keras", "import numpy as np", "from keras import layers" + (", ops" if macro else "")]
    if config.dataset == "digits" or digits:
        lines += ["from sklearn.datasets import load_digits", "from sklearn.model_selection import train_test_split"]
    return "\n".join(lines) + "\n"


def data_code(config: TrainingConfig) -> str:
    if config.dataset == "digits":
        return DATA_CODE["digits"]
    if config.dataset in ("folder", UPLOAD_DATASET):
        return DATA_CODE["folder"].format(path="path/to/your/mnist.npz")
    return DATA_CODE["keras"].format(name=config.dataset)


def split_code(config: TrainingConfig) -> str:
    code = ""
    if config.subsample:
        code += (
            f"\n# Train on a seeded random subset of {config.subsample} images.\n"
            f"if len(x_train) > {config.subsample}:\n"
            f"    chosen = np.random.default_rng(seed).permutation(len(x_train))[:{config.subsample}]\n"
            "    x_train, y_train = x_train[chosen], y_train[chosen]\n"
        )
    if config.validation_split > 0:
        code += (
            "\n# Hold out a seeded random share of the training images for validation.\n"
            "order = np.random.default_rng(seed).permutation(len(x_train))\n"
            "num_val = min(round(len(x_train) * validation_split), len(x_train) - 1)\n"
            "x_val, y_val = x_train[order[:num_val]], y_train[order[:num_val]]\n"
            "x_train, y_train = x_train[order[num_val:]], y_train[order[num_val:]]\n"
        )
    code += 'print("x_train shape:", x_train.shape, "-", len(x_train), "train samples,", len(x_test), "test samples")\n'
    if config.loss == "categorical_crossentropy":
        code += "\n# Categorical cross-entropy wants one-hot labels: a row of 10 zeros with a single one.\n"
        targets = ["y_train", "y_test"] + (["y_val"] if config.validation_split > 0 else [])
        code += "".join(f"{y} = keras.utils.to_categorical({y}, num_classes)\n" for y in targets)
    return code


@cache
def macro_score_source() -> str:
    """The source of core.training.models.MacroScore, read without importing Keras."""
    source = MODELS_SOURCE.read_text(encoding="utf-8")
    found = next(
        node for node in ast.parse(source).body if isinstance(node, ast.ClassDef) and node.name == "MacroScore"
    )
    return ast.get_source_segment(source, found)


def model_code(
    config: TrainingConfig, image_shape: tuple[int, int] | None = None, shape_from_data: bool = False
) -> str:
    """The model, layer by layer from core.training.architecture.network_layers (image_shape: what it reads).

    shape_from_data: the input's shape is read from x_train, for code whose data may change (a notebook
    that falls back to the 8×8 digits where MNIST cannot be downloaded).
    """
    image_shape = image_shape or IMAGE_SHAPES.get(config.dataset, MNIST_SHAPE)
    first, *rest = network_layers(config, image_shape, num_classes=10)
    shape = _Code("x_train.shape[1:]") if shape_from_data else first.arguments["shape"]
    lines = ["\n# Build the model (the seed fixes the initial weights)", "keras.utils.set_random_seed(seed)"]
    lines += ["model = keras.Sequential(", "    ["]
    lines.append(f"        keras.Input(shape={shape!r}),")
    for layer in rest:
        arguments = dict(layer.arguments)
        if shape_from_data and "target_shape" in arguments:  # the channel axis added to whatever the data is
            arguments["target_shape"] = _Code("(*x_train.shape[1:], 1)")
        if layer is rest[-1]:
            arguments["units"] = _Code("num_classes")  # the data decides how many classes (a folder may hold more)
        lines.append(f"        layers.{layer.kind}({_keywords(arguments)}),")
    lines += ["    ]", ")", "model.summary()", ""]
    return "\n".join(lines)


def _keywords(arguments: dict) -> str:
    """Keyword arguments as Python source, strings in double quotes like the rest of the script."""
    return ", ".join(f"{key}={_literal(value)}" for key, value in arguments.items())


def _literal(value) -> str:
    return f'"{value}"' if isinstance(value, str) and not isinstance(value, _Code) else repr(value)


class _Code(str):
    """A name written into the script as code, not as a string."""

    def __repr__(self) -> str:
        return str(self)


def compile_code(config: TrainingConfig) -> str:
    metrics = ", ".join(
        ['"accuracy"' if m == "accuracy" else f'MacroScore("{m}", num_classes)' for m in config.metrics]
    )
    chosen = OPTIMIZER_TABLE[config.optimizer]
    arguments = {"learning_rate": config.learning_rate, **chosen.keras_arguments}
    optimizer = f"keras.optimizers.{chosen.keras_class}({_keywords(arguments)})"
    return (
        "\n# Compile: keywords always (a third positional argument would be loss_weights, not metrics)\n"
        "model.compile(\n"
        f"    optimizer={optimizer},\n"
        f'    loss="{config.loss}",\n'
        f"    metrics=[{metrics}],\n"
        ")\n"
    )


def fit_code(config: TrainingConfig, callbacks: Sequence[str] = ()) -> str:
    """The fit call and the test evaluation; callbacks: names of callbacks the caller defined (a live plot)."""
    fit_arguments = ["x_train", "y_train", "batch_size=batch_size", "epochs=epochs"]
    callbacks = list(callbacks)
    code = "\n# Train the model\n"
    if config.validation_split > 0:
        fit_arguments.append("validation_data=(x_val, y_val)")
    if config.early_stopping_patience:
        code += (
            "# Stop when the validation loss has not improved for a while, keeping the best weights.\n"
            "early_stopping = keras.callbacks.EarlyStopping(\n"
            f'    monitor="val_loss", patience={config.early_stopping_patience}, restore_best_weights=True\n'
            ")\n"
        )
        callbacks.append("early_stopping")
    if callbacks:
        fit_arguments.append(f"callbacks=[{', '.join(callbacks)}]")
    call = "model.fit(" + ", ".join(fit_arguments) + ")"
    if len(call) > 100:
        call = "model.fit(\n" + "".join(f"    {argument},\n" for argument in fit_arguments) + ")"
    code += call + "\n"
    return code + (
        "\n# Evaluate the trained model on the test images\n"
        "score = model.evaluate(x_test, y_test, verbose=0, return_dict=True)\n"
        'print("Test loss:", round(score["loss"], 4))\n'
        'print("Test accuracy:", round(score["accuracy"], 4))\n'
        if "accuracy" in config.metrics
        else "\n# Evaluate the trained model on the test images\n"
        "score = model.evaluate(x_test, y_test, verbose=0, return_dict=True)\n"
        'print("Test scores:", {name: round(value, 4) for name, value in score.items()})\n'
    )

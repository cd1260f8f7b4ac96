"""A run as a short standalone Keras script: the same data, model, compile and fit, to read and rerun.

Its sections (imports_code, data_code, model_code, compile_code, fit_code, …) are the one description of a
run as Keras code: the notebook export (core/results/notebook.py) puts the same sections into cells.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.config import TrainingConfig

OPTIMIZER_CODE = {
    "adam": "keras.optimizers.Adam(learning_rate={lr})",
    "sgd": "keras.optimizers.SGD(learning_rate={lr})",
    "sgd_momentum": "keras.optimizers.SGD(learning_rate={lr}, momentum=0.9)",
    "rmsprop": "keras.optimizers.RMSprop(learning_rate={lr})",
    "adagrad": "keras.optimizers.Adagrad(learning_rate={lr})",
    "adamw": "keras.optimizers.AdamW(learning_rate={lr})",
    "nadam": "keras.optimizers.Nadam(learning_rate={lr})",
}

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

MACRO_SCORE_CODE = '''\


class MacroScore(keras.metrics.Metric):
    """Macro precision, recall or F1 over all classes, from a running confusion matrix."""

    def __init__(self, which, num_classes, **kwargs):
        super().__init__(name=which, **kwargs)
        self.which, self.num_classes = which, num_classes
        self.counts = self.add_variable(shape=(num_classes, num_classes), initializer="zeros", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.argmax(y_true, axis=-1)  # one-hot labels
        true_onehot = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), (-1,)), self.num_classes)
        pred_onehot = ops.one_hot(ops.argmax(y_pred, axis=-1), self.num_classes)
        self.counts.assign_add(ops.matmul(ops.transpose(true_onehot), pred_onehot))

    def result(self):
        hits, predicted, actual = ops.diagonal(self.counts), ops.sum(self.counts, 0), ops.sum(self.counts, 1)
        precision, recall = ops.divide_no_nan(hits, predicted), ops.divide_no_nan(hits, actual)
        f1 = ops.divide_no_nan(2 * precision * recall, precision + recall)
        scores = {"precision": precision, "recall": recall, "f1": f1}[self.which]
        present = ops.cast(ops.logical_or(predicted > 0, actual > 0), "float32")
        return ops.divide_no_nan(ops.sum(scores * present), ops.sum(present))

    def reset_state(self):
        self.counts.assign(ops.zeros((self.num_classes, self.num_classes)))

'''


def keras_script(config: TrainingConfig, epochs: int | None = None, learning_rate_changed: bool = False) -> str:
    """A standalone script that trains `config` as the app did (epochs: how many the run trained)."""
    epochs = epochs or config.epochs
    macro = macro_metrics(config)
    parts = [
        _header(config, learning_rate_changed),
        imports_code(config),
        "\n# Model / data parameters\n",
        parameters_code(config, epochs),
        MACRO_SCORE_CODE if macro else "",
        "\n# Load the data\n",
        data_code(config),
        split_code(config),
        model_code(config),
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
    if config.dataset == "folder":
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


def model_code(config: TrainingConfig) -> str:
    lines = ["\n# Build the model (the seed fixes the initial weights)", "keras.utils.set_random_seed(seed)"]
    lines += ["model = keras.Sequential(", "    ["]
    lines.append("        keras.Input(shape=x_train.shape[1:]),")
    if config.model == "cnn":
        lines.append("        layers.Reshape((*x_train.shape[1:], 1)),  # add the channel axis")
        # Two conv blocks, or one for 8x8 digits (a second pooling would shrink them to 2x2).
        filters = (32,) if config.dataset == "digits" else (32, 64)
        for count in filters:
            lines.append(f'        layers.Conv2D({count}, 3, activation="{config.activation}", padding="same"),')
            lines.append("        layers.MaxPooling2D(2),")
        lines.append("        layers.Flatten(),")
        if config.dropout > 0:
            lines.append(f"        layers.Dropout({config.dropout!r}),")
    else:
        lines.append("        layers.Flatten(),")
        for units in config.hidden_layers:
            lines.append(f'        layers.Dense({units}, activation="{config.activation}"),')
            if config.dropout > 0:
                lines.append(f"        layers.Dropout({config.dropout!r}),")
    lines.append('        layers.Dense(num_classes, activation="softmax"),')
    lines += ["    ]", ")", "model.summary()", ""]
    return "\n".join(lines)


def compile_code(config: TrainingConfig) -> str:
    metrics = ", ".join(
        ['"accuracy"' if m == "accuracy" else f'MacroScore("{m}", num_classes)' for m in config.metrics]
    )
    optimizer = OPTIMIZER_CODE[config.optimizer].format(lr=repr(config.learning_rate))
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

"""A run as a short standalone Keras script: the same data, model, compile and fit, to read and rerun.

Its sections (imports_code, data_code, model_code, compile_code, fit_code, …) are the one description of a
run as Keras code: the notebook export (core/results/notebook.py) puts the same sections into cells.
"""

from __future__ import annotations

import ast
import json
import textwrap
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from core.config import EMBEDDED_DATASET, OPTIMIZER_TABLE, UPLOAD_DATASET, TrainingConfig
from core.data.datasets import DEBIAN_FASHION_MNIST, find_fashion_mnist_folder
from core.training.architecture import network_layers

DIGITS_CODE = """\
# scikit-learn's 8x8 digits, split as Training Studio splits them (a fixed test set).
digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(
    digits.images, digits.target, test_size=0.2, stratify=digits.target, random_state=0
)
"""

# The script's own reader of the run's files, so it runs without Training Studio: the formats the app reads.
LOAD_DATA_CODE = '''
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_data(path):
    """x_train, y_train, x_test, y_test from a folder of MNIST IDX files (or with an .npz), an .npz, or a .zip."""
    path = Path(path).expanduser()
    if path.is_dir():
        files = [idx_file(path, stem) for stem in IDX_FILES.values()]
        if all(files):
            return tuple(read_idx(file) for file in files)
        archives = [path / "mnist.npz"] if (path / "mnist.npz").is_file() else sorted(path.glob("*.npz"))
        if not archives:
            raise FileNotFoundError(f"{path} holds neither the four MNIST IDX files nor an .npz")
        path = archives[0]
    if path.suffix.lower() == ".zip":
        return read_class_folders(path)
    with np.load(path) as data:  # laid out like Keras's mnist.npz
        return tuple(data[key] for key in IDX_FILES)


def idx_file(folder, stem):
    """The IDX file `stem` in a folder: plain or gzipped, also spelt with a dot ("train-images.idx3-ubyte")."""
    dotted = stem.replace("-idx", ".idx")
    return next((folder / n for n in (stem, stem + ".gz", dotted, dotted + ".gz") if (folder / n).is_file()), None)


def read_idx(file):
    """An IDX file (MNIST's format) of bytes: two zeros, a type code, the number of dimensions, their sizes, values."""
    raw = file.read_bytes()
    if raw[:2] == b"\\x1f\\x8b":  # gzipped
        raw = gzip.decompress(raw)
    dimensions = raw[3]
    shape = struct.unpack(f">{dimensions}I", raw[4 : 4 + 4 * dimensions])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def read_class_folders(file, side=28, test_share=0.2, seed=0):
    """A .zip with a folder of images per class (the folders in name order are classes 0, 1, ...): greyscale
    images of side x side pixels, and a seeded share of them held out as the test set."""
    from PIL import Image  # Pillow is needed for a .zip of pictures only

    images, labels = [], []
    with zipfile.ZipFile(file) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
        classes = sorted({PurePosixPath(n).parent.name for n in names} - {""})
        for name in names:
            folder = PurePosixPath(name).parent.name
            if not folder or PurePosixPath(name).name.startswith("."):
                continue
            try:
                picture = Image.open(io.BytesIO(archive.read(name))).convert("L").resize((side, side))
            except OSError:  # not a picture (a README, a thumbnail cache)
                continue
            images.append(np.asarray(picture))
            labels.append(classes.index(folder))
    x, y = np.stack(images), np.array(labels)
    order = np.random.default_rng(seed).permutation(len(x))
    test = order[: max(1, round(len(x) * test_share))]
    train = order[len(test) :]
    return x[train], y[train], x[test], y[test]

'''
LOAD_DATA_IMPORTS = (
    "import gzip",
    "import io",
    "import struct",
    "import zipfile",
    "from pathlib import Path, PurePosixPath",
)

# MNIST and Fashion-MNIST: the run's local files when this machine has them, else Keras's download, else the
# bundled digits, as the app falls back.
STANDARD_DATA_CODE = """\
pixel_max = 255.0  # the brightest pixel of the images loaded
if DATA_DIR and Path(DATA_DIR).expanduser().exists():
    x_train, y_train, x_test, y_test = load_data(DATA_DIR)
    pixel_max = 255.0 if x_train.max() > 1 else 1.0
else:
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.{name}.load_data()
    except Exception as error:  # no network (and no Keras cache): the bundled digits train the same model
        print(f"{title} could not be downloaded ({{error}}); training on scikit-learn's 8x8 digits instead.")
{digits}        pixel_max = 16.0
"""

FOLDER_DATA_CODE = """\
if not Path(DATA_DIR).expanduser().exists():
    raise SystemExit(
        f"DATA_DIR {DATA_DIR!r} is not on this machine: set DATA_DIR at the top to your copy of the run's data "
        "(a folder of MNIST IDX files, an .npz like Keras's mnist.npz, or a .zip with a folder of images per class)."
    )
x_train, y_train, x_test, y_test = load_data(DATA_DIR)
num_classes = int(max(y_train.max(), y_test.max())) + 1
pixel_max = 255.0 if x_train.max() > 1 else 1.0
"""

# Where each dataset's files are looked for first, when the run named no folder of its own.
LOCAL_FOLDERS = {"fashion_mnist": DEBIAN_FASHION_MNIST}
DATA_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
DATA_WHERE = {
    "folder": "the run's own folder of MNIST IDX files, an .npz, or a .zip with a folder of images per class.",
    UPLOAD_DATASET: "the .zip of class folders you uploaded, or the prepared images (.npz) from its dataset card.",
    "mnist": "empty for Keras's download, or a folder of MNIST IDX files or an mnist.npz.",
    "fashion_mnist": "Debian's Fashion-MNIST IDX files (package dataset-fashion-mnist); where they are\n"
    "# missing, Keras downloads Fashion-MNIST.",
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
        # The data decides the input's shape: a run's folder, or the digits where a download fails.
        model_code(config, image_shape, shape_from_data=config.dataset != EMBEDDED_DATASET),
        compile_code(config),
        fit_code(config),
    ]
    return "".join(parts)


def macro_metrics(config: TrainingConfig) -> list[str]:
    """The metrics the script computes with its own MacroScore class (Keras has no macro scores of its own)."""
    return [metric for metric in config.metrics if metric != "accuracy"]


def parameters_code(config: TrainingConfig, epochs: int) -> str:
    """The named parameters at the top: where the data is (unless it is the bundled digits), then the fit's."""
    data_dir = data_path(config)
    lines = []
    if config.dataset != EMBEDDED_DATASET:
        lines.append(f"# Where the images are: {DATA_WHERE[config.dataset]}")
        lines.append(f"DATA_DIR = {json.dumps(str(data_dir or ''))}")
    lines += [
        f"num_classes = 10\nbatch_size = {config.batch_size}\nepochs = {epochs}",
        f"validation_split = {config.validation_split!r}\nseed = {config.seed}",
    ]
    return "\n".join(lines) + "\n"


def data_path(config: TrainingConfig) -> Path | None:
    """Where the run's images are: its own folder, or this machine's copy of its dataset (Debian's Fashion-MNIST)."""
    if config.dataset == UPLOAD_DATASET:
        return None  # an upload's data_dir is its private key in the server's memory, no path: the person says where
    if config.data_dir:
        return Path(config.data_dir).expanduser()
    if config.dataset == "fashion_mnist":
        return find_fashion_mnist_folder() or LOCAL_FOLDERS["fashion_mnist"]
    return None


def _header(config: TrainingConfig, learning_rate_changed: bool) -> str:
    lines = [
        '"""',
        f"Train a {'small CNN' if config.model == 'cnn' else 'dense network'} on {config.dataset}, "
        "exported from Training Studio.",
        "",
        "Same data split, model, compile and fit settings as the run in the app. The app also passes",
        "jit_compile and steps_per_execution to compile() for speed; they do not change what is computed.",
    ]
    if config.dataset != EMBEDDED_DATASET:
        lines += ["", "DATA_DIR, below, says where the images are: change it to train on a copy elsewhere."]
    if learning_rate_changed:
        lines.append("The learning rate was changed by hand during the run; this script keeps it fixed.")
    return "\n".join([*lines, '"""', "", ""])


def imports_code(config: TrainingConfig, digits: bool = False) -> str:
    """The imports; digits: also scikit-learn's, for the embedded digits (whatever the run's dataset)."""
    macro = bool(macro_metrics(config))
    reads_files = config.dataset != EMBEDDED_DATASET
    lines = [*(LOAD_DATA_IMPORTS if reads_files else ()), "", "import keras", "import numpy as np"]
    lines.append("from keras import layers" + (", ops" if macro else ""))
    if config.dataset in (EMBEDDED_DATASET, *DATA_TITLES) or digits:
        lines += ["from sklearn.datasets import load_digits", "from sklearn.model_selection import train_test_split"]
    return "\n".join(lines).lstrip() + "\n"


def data_code(config: TrainingConfig) -> str:
    """The data as the run had it: the digits, the run's own files, or its dataset's local copy or download."""
    if config.dataset == EMBEDDED_DATASET:
        return DIGITS_CODE + "\n# Scale images to the [0, 1] range (digits pixels go from 0 to 16).\n" + _scaled(16.0)
    if config.dataset in ("folder", UPLOAD_DATASET):
        code = FOLDER_DATA_CODE
    else:
        digits = textwrap.indent(DIGITS_CODE, " " * 8)
        code = STANDARD_DATA_CODE.format(name=config.dataset, title=DATA_TITLES[config.dataset], digits=digits)
    return LOAD_DATA_CODE + "\n" + code + "# Scale images to the [0, 1] range.\n" + _scaled("pixel_max")


def _scaled(pixel_max: float | str) -> str:
    return f'x_train = (x_train / {pixel_max}).astype("float32")\nx_test = (x_test / {pixel_max}).astype("float32")\n'


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

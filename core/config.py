"""Training settings: names, defaults and bounds in one place, with their validation."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

# Datasets the app knows by name. "folder" means a user-supplied folder of
# MNIST IDX files or an mnist.npz (see core.data.datasets); "upload" means images a person brought
# (core.data.uploads), held in the server's memory and named in data_dir by a private key.
DATASETS = {
    "mnist": "MNIST handwritten digits (28×28, 70,000 images)",
    "fashion_mnist": "Fashion-MNIST clothing (28×28, 70,000 images)",
    "digits": "scikit-learn digits (8×8, 1,797 images, always available)",
    "folder": "A folder of MNIST IDX files or an mnist.npz",
    "upload": "Your own images (a .zip of class folders, IDX files or an .npz)",
}
DEFAULT_DATASET = "mnist"
EMBEDDED_DATASET = "digits"
UPLOAD_DATASET = "upload"

MODELS = {
    "dense": "Dense network: Flatten → Dense layers → Dense(10, softmax)",
    "cnn": "Small CNN: Conv2D → MaxPool → Conv2D → MaxPool → Dense(10, softmax)",
}


@dataclass(frozen=True)
class Optimizer:
    """An optimizer the app offers: its label, the Keras class with its arguments besides the learning
    rate, and Keras's own default learning rate for it."""

    label: str
    keras_class: str
    default_learning_rate: float
    keras_arguments: dict = field(default_factory=dict, hash=False)


# Every optimizer, once: core.training.models builds them, core.results.export writes them, and
# core.training.baseline maps them onto scikit-learn's solvers.
OPTIMIZER_TABLE = {
    "adam": Optimizer("Adam", "Adam", 0.001),
    "sgd": Optimizer("SGD", "SGD", 0.01),
    "sgd_momentum": Optimizer("SGD with momentum (0.9)", "SGD", 0.01, {"momentum": 0.9}),
    "rmsprop": Optimizer("RMSprop", "RMSprop", 0.001),
    "adagrad": Optimizer("Adagrad", "Adagrad", 0.001),
    "adamw": Optimizer("AdamW", "AdamW", 0.001),
    "nadam": Optimizer("Nadam", "Nadam", 0.001),
}
OPTIMIZERS = {name: optimizer.label for name, optimizer in OPTIMIZER_TABLE.items()}
DEFAULT_LEARNING_RATES = {name: optimizer.default_learning_rate for name, optimizer in OPTIMIZER_TABLE.items()}

LOSSES = {
    "sparse_categorical_crossentropy": (
        "Labels stay as integers 0–9; the loss is −log of the probability the model gives the true class."
    ),
    "categorical_crossentropy": (
        "The same loss, with each label turned into a one-hot vector of 10 zeros and a single one."
    ),
}

METRICS = {
    "accuracy": "Share of images whose most probable class is the true one.",
    "precision": "Macro precision: of the images called class k, the share that are k, averaged over classes.",
    "recall": "Macro recall: of the images that are class k, the share found, averaged over classes.",
    "f1": "Macro F1: the harmonic mean of precision and recall, averaged over classes.",
}

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu")

# Bounds a person can choose within; anything outside is refused with a message.
EPOCHS_RANGE = (1, 100)
BATCH_SIZE_RANGE = (1, 4096)
LEARNING_RATE_RANGE = (1e-6, 10.0)
VALIDATION_SPLIT_RANGE = (0.0, 0.5)
HIDDEN_LAYERS_RANGE = (0, 4)
UNITS_RANGE = (1, 2048)
DROPOUT_RANGE = (0.0, 0.9)
SEED_RANGE = (0, 2**31 - 1)
BATCH_SIZES = (16, 32, 64, 128, 256, 512)

# The settings form (pages/settings_form.py, wherever a page draws it) and a link (core.links), which only
# chooses what the form can: their choices where narrower than the bounds above, their steps and formats.
UNIT_CHOICES = (16, 32, 64, 128, 256, 512)
SIDEBAR_DROPOUT_RANGE = (0.0, 0.5)
SIDEBAR_VALIDATION_SPLIT_RANGE = VALIDATION_SPLIT_RANGE
SLIDER_STEP = 0.05  # dropout and the validation split move in steps of this
LEARNING_RATE_STEP = 0.0001
LEARNING_RATE_FORMAT = "%.6f"  # six places, so the smallest rate LEARNING_RATE_RANGE allows still shows
EARLY_STOPPING_PATIENCE = 2  # epochs without a lower validation loss, when "stop early" is ticked
# Which models the Train button trains, by name (as in a link's ?train=) with the radio's label.
TRAIN_CHOICES = {
    "both": "Keras and the scikit-learn baseline",
    "keras": "Keras only",
    "baseline": "The baseline only",
}
DEFAULT_TRAIN_CHOICE = "both"
# The settings by name, in the form's terms and order: what a link, the form and the command line
# hand to config_from_settings. hidden_layers is a count with units the width of each; early_stopping
# a tick box; train which models the Train button trains (not part of a TrainingConfig).
SETTING_NAMES = (
    "dataset", "data_dir", "model", "hidden_layers", "units", "activation", "dropout", "optimizer",
    "learning_rate", "loss", "metrics", "epochs", "batch_size", "validation_split", "seed", "early_stopping",
    "train",
)  # fmt: skip
# Settings only the command line sets: early stopping's patience and a subsample of the training images.
COMMAND_LINE_SETTINGS = ("patience", "subsample")


class ConfigError(ValueError):
    """A setting is outside what the app accepts; the message says which and why."""


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run: data, model, compile and fit settings."""

    dataset: str = DEFAULT_DATASET
    data_dir: str | None = None
    model: str = "dense"
    hidden_layers: tuple[int, ...] = (128,)
    activation: str = "relu"
    dropout: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = DEFAULT_LEARNING_RATES["adam"]
    loss: str = "sparse_categorical_crossentropy"
    metrics: tuple[str, ...] = ("accuracy",)
    epochs: int = 5
    batch_size: int = 32
    validation_split: float = 0.1
    seed: int = 42
    early_stopping_patience: int | None = None
    subsample: int | None = None  # train on only this many training images (budgets, quick demos)

    def __post_init__(self) -> None:
        # Frozen dataclasses accept lists; keep tuples so configs stay hashable and comparable.
        object.__setattr__(self, "hidden_layers", tuple(int(u) for u in self.hidden_layers))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        validate(self)

    def replace(self, **changes) -> TrainingConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["hidden_layers"] = list(self.hidden_layers)
        data["metrics"] = list(self.metrics)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainingConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(unknown)}.")
        values = dict(data)
        for key in ("hidden_layers", "metrics"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def _check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"{name} must be a number between {low} and {high}; got {value!r}.")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}; got {value}.")


def _check_choice(name: str, value: str, choices) -> None:
    if value not in choices:
        raise ConfigError(f"Unknown {name} {value!r}; choose one of: {', '.join(choices)}.")


def validate(config: TrainingConfig) -> None:
    """Raise ConfigError naming the first setting that is out of bounds."""
    _check_choice("dataset", config.dataset, DATASETS)
    if config.dataset == "folder" and not config.data_dir:
        raise ConfigError("The 'folder' dataset needs data_dir: a folder of MNIST IDX files or an mnist.npz.")
    if config.dataset == UPLOAD_DATASET and not config.data_dir:
        raise ConfigError("Your own images: upload a .zip or .npz on Train first (or pass its path with --data-dir).")
    _check_choice("model", config.model, MODELS)
    _check_choice("activation", config.activation, ACTIVATIONS)
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    _check_choice("loss", config.loss, LOSSES)
    if not config.metrics:
        raise ConfigError("Choose at least one metric.")
    for metric in config.metrics:
        _check_choice("metric", metric, METRICS)
    if len(set(config.metrics)) != len(config.metrics):
        raise ConfigError("Each metric may be chosen once.")
    for name, value, bounds in (
        ("epochs", config.epochs, EPOCHS_RANGE),
        ("batch_size", config.batch_size, BATCH_SIZE_RANGE),
        ("seed", config.seed, SEED_RANGE),
    ):
        _check_range(name, value, bounds)
        if int(value) != value:
            raise ConfigError(f"{name} must be a whole number; got {value}.")
    _check_range("learning_rate", config.learning_rate, LEARNING_RATE_RANGE)
    _check_range("validation_split", config.validation_split, VALIDATION_SPLIT_RANGE)
    _check_range("dropout", config.dropout, DROPOUT_RANGE)
    _check_range("number of hidden layers", len(config.hidden_layers), HIDDEN_LAYERS_RANGE)
    for units in config.hidden_layers:
        _check_range("units per hidden layer", units, UNITS_RANGE)
    if config.early_stopping_patience is not None:
        _check_range("early_stopping_patience", config.early_stopping_patience, (1, EPOCHS_RANGE[1]))
        if config.validation_split == 0:
            raise ConfigError("Early stopping watches validation loss: set validation_split above 0.")
    if config.subsample is not None:
        _check_range("subsample", config.subsample, (10, 10_000_000))


def settings_of(config: TrainingConfig, train: str = DEFAULT_TRAIN_CHOICE) -> dict[str, object]:
    """A config as settings by name, in the form's terms: the inverse of config_from_settings.

    Layers of unequal width (only the command line makes them) come back as that many of the first's width.
    """
    values = {
        "dataset": config.dataset,
        "data_dir": config.data_dir or "",
        "model": config.model,
        "hidden_layers": len(config.hidden_layers),
        "units": config.hidden_layers[0] if config.hidden_layers else TrainingConfig.hidden_layers[0],
        "activation": config.activation,
        "dropout": config.dropout,
        "optimizer": config.optimizer,
        "learning_rate": config.learning_rate,
        "loss": config.loss,
        "metrics": list(config.metrics),
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "validation_split": config.validation_split,
        "seed": config.seed,
        "early_stopping": config.early_stopping_patience is not None,
        "train": train,
    }
    if config.early_stopping_patience not in (None, EARLY_STOPPING_PATIENCE):
        values["patience"] = config.early_stopping_patience
    if config.subsample is not None:
        values["subsample"] = config.subsample
    return values


def default_settings() -> dict[str, object]:
    """Every setting's starting value by name: TrainingConfig's defaults in the form's terms."""
    return settings_of(TrainingConfig())


def config_from_settings(values: Mapping[str, object]) -> TrainingConfig:
    """The one way settings by name (a link's, the form's, the command line's) become a TrainingConfig.

    A setting left out, or None, takes its default; the learning rate's default is its optimizer's.
    hidden_layers may also be the width of each layer in turn (the command line's 256,128).
    Raises ConfigError, naming the setting, when the values make no valid config.
    """
    unknown = sorted(set(values) - set(SETTING_NAMES) - set(COMMAND_LINE_SETTINGS))
    if unknown:
        raise ConfigError(f"Unknown setting(s): {', '.join(map(str, unknown))}.")
    chosen = default_settings() | {name: value for name, value in values.items() if value is not None}
    _check_choice("optimizer", chosen["optimizer"], OPTIMIZERS)
    if values.get("learning_rate") is None:
        chosen["learning_rate"] = DEFAULT_LEARNING_RATES[chosen["optimizer"]]
    patience = chosen.get("patience", EARLY_STOPPING_PATIENCE) if chosen["early_stopping"] else None
    try:
        return TrainingConfig(
            dataset=chosen["dataset"],
            data_dir=chosen["data_dir"] or None,
            model=chosen["model"],
            hidden_layers=_hidden_layers(chosen["hidden_layers"], chosen["units"]),
            activation=chosen["activation"],
            dropout=chosen["dropout"],
            optimizer=chosen["optimizer"],
            learning_rate=chosen["learning_rate"],
            loss=chosen["loss"],
            metrics=_metric_names(chosen["metrics"]),
            epochs=chosen["epochs"],
            batch_size=chosen["batch_size"],
            validation_split=chosen["validation_split"],
            seed=chosen["seed"],
            early_stopping_patience=patience,
            subsample=chosen.get("subsample"),
        )
    except ConfigError:
        raise
    except (TypeError, ValueError) as error:  # e.g. units that are not a number
        raise ConfigError(f"These settings make no training run: {error}.") from error


def _hidden_layers(layers: object, units: object) -> tuple[int, ...]:
    """A count of layers of `units` each, or already the width of each layer."""
    if isinstance(layers, (list, tuple)):
        return tuple(layers)
    _check_range("number of hidden layers", layers, HIDDEN_LAYERS_RANGE)
    if int(layers) != layers:
        raise ConfigError(f"The number of hidden layers must be a whole number; got {layers}.")
    return (units,) * int(layers)


def _metric_names(metrics: object) -> tuple[str, ...]:
    """Metric names, from a sequence or one comma-separated string."""
    if isinstance(metrics, str):
        return tuple(name.strip() for name in metrics.split(",") if name.strip())
    return tuple(metrics)

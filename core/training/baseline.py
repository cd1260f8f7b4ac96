"""The scikit-learn MLPClassifier baseline, trained epoch by epoch on the Keras run's data."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from core.config import OPTIMIZER_TABLE, TrainingConfig
from core.data.datasets import Dataset, scale_pixels
from core.data.splits import prepare_data
from core.training.evaluation import record_test, record_validation, scores_with_loss
from core.training.hidden_map_recording import (
    NoHiddenLayerError,
    hidden_features,
    hidden_layer,
    record_epoch,
    sample_indices,
)
from core.training.inference import snapshot_mlp
from core.training.run import FAILED, FINISHED, STOPPED, TrainingRun, stopped_message

LESSON_HIDDEN_LAYERS = (128,)
# Live updates per epoch: partial_fit is called on this many slices of the shuffled epoch.
SLICES_PER_EPOCH = 20
PREDICT_CHUNK = 8192
# scikit-learn's solvers by the Keras optimizer class they match (core.config.OPTIMIZER_TABLE names the class).
SOLVERS = {"Adam": "adam", "SGD": "sgd"}
ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic"}
# The baseline's products are one batch of images at a time, too small to share among cores: a second BLAS
# thread only waits, spinning, for a core that the Keras run, the pages and other sessions also want.
BLAS_THREADS = 1
# scikit-learn's per-call checks that the baseline's own inputs never need (train_baseline).
CHECKS_SKIPPED = {"assume_finite": True, "skip_parameter_validation": True}


@dataclass(frozen=True)
class BaselineSettings:
    """MLPClassifier arguments matched to a Keras config, and what could not be matched, in words."""

    parameters: dict
    notes: tuple[str, ...]


def baseline_settings(config: TrainingConfig) -> BaselineSettings:
    """Map the Keras settings onto MLPClassifier's, saying plainly where they differ."""
    notes = []
    hidden = config.hidden_layers
    if config.model == "cnn":
        hidden = LESSON_HIDDEN_LAYERS
        notes.append("A CNN has no MLP twin: the baseline uses the lesson's dense shape, one hidden layer of 128.")
    elif not hidden:
        notes.append("No hidden layers: the baseline is multinomial logistic regression, like the Keras model.")
    optimizer = OPTIMIZER_TABLE[config.optimizer]
    solver = SOLVERS.get(optimizer.keras_class, "adam")
    momentum = optimizer.keras_arguments.get("momentum", 0.0)
    if optimizer.keras_class not in SOLVERS:
        notes.append(f"scikit-learn has no {config.optimizer}: the baseline uses Adam with the same learning rate.")
    activation = ACTIVATIONS.get(config.activation, "relu")
    if config.activation not in ACTIVATIONS:
        notes.append(f"scikit-learn has no {config.activation} activation: the baseline uses relu.")
    if config.dropout > 0:
        notes.append("scikit-learn's MLP has no dropout: the baseline trains without it.")
    if config.loss == "categorical_crossentropy":
        notes.append("MLPClassifier always minimises cross-entropy on integer labels (the same loss).")
    parameters = {
        "hidden_layer_sizes": tuple(hidden) if hidden else (),
        "activation": activation,
        "solver": solver,
        "learning_rate_init": config.learning_rate,
        "batch_size": config.batch_size,
        "random_state": config.seed,
        # No L2 penalty: the Keras model has none, and the two losses must be the same to compare.
        "alpha": 0.0,
    }
    if solver == "sgd":
        parameters.update(momentum=momentum, nesterovs_momentum=False, learning_rate="constant")
    return BaselineSettings(parameters, tuple(notes))


def build_baseline(config: TrainingConfig):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(**baseline_settings(config).parameters)


def mlp_parameter_count(classifier) -> int:
    return int(sum(w.size for w in classifier.coefs_) + sum(b.size for b in classifier.intercepts_))


def train_baseline(
    run: TrainingRun,
    dataset: Dataset,
    extra_epochs: int | None = None,
    blas_threads: int | None = BLAS_THREADS,
    checks: bool = False,
) -> None:
    """Train the baseline epoch by epoch with partial_fit, recording into `run` as the Keras engine does.

    partial_fit keeps Adam's moments (and SGD's velocity) between calls, so slicing an epoch into
    SLICES_PER_EPOCH calls trains exactly like one pass, while Stop and the live chart get a say
    every slice. Training scores are measured on the whole training set at each epoch's end.
    blas_threads: the BLAS threads its products use (None: the library's own choice).
    checks: whether scikit-learn checks each call's inputs and settings (False: CHECKS_SKIPPED are skipped).
    """
    import sklearn
    from threadpoolctl import threadpool_limits

    # Each partial_fit call checks its arguments again: the settings are TrainingConfig's, checked once, and the
    # pixels are finite, so scikit-learn may skip both checks (the same computation, without them).
    skipped = {} if checks else CHECKS_SKIPPED
    with threadpool_limits(limits=blas_threads, user_api="blas"), sklearn.config_context(**skipped):
        _train_baseline(run, dataset, extra_epochs)


def _train_baseline(run: TrainingRun, dataset: Dataset, extra_epochs: int | None) -> None:
    config = run.config
    data = prepare_data(config, dataset)
    # Flat rows of bytes: each slice is scaled to [0, 1] as it is fed, so no float copy of the
    # whole training set exists (scikit-learn would keep one for the whole run).
    pixels_train = data.pixels_train.reshape(len(data.pixels_train), -1)
    x_val = data.x_val.reshape(len(data.x_val), -1)
    x_test = data.x_test.reshape(len(data.x_test), -1)
    classes = np.arange(data.num_classes)

    if run.model is None or not extra_epochs:
        run.model = build_baseline(config)
    initial_epoch = run.completed_epochs if extra_epochs else 0
    epochs = initial_epoch + (extra_epochs or config.epochs)
    slices = min(SLICES_PER_EPOCH, max(1, len(pixels_train) // config.batch_size))
    run.dataset_title = dataset.title
    run.mark_running(epochs, slices, f"Training the baseline on {len(pixels_train):,} images.")
    rng = np.random.default_rng(config.seed + initial_epoch)
    hidden_sample = sample_indices(len(x_val), config.seed)

    for epoch in range(initial_epoch + 1, epochs + 1):
        order = rng.permutation(len(pixels_train))
        slice_losses = []
        for step, part in enumerate(np.array_split(order, slices), start=1):
            if run.stop_requested:
                break
            _partial_fit(run.model, scale_pixels(pixels_train[part], data.pixel_max_raw), data.y_train[part], classes)
            slice_losses.append(run.model.loss_)
            run.record_batch(epoch, step, {"loss": float(np.mean(slice_losses))})
            if not math.isfinite(run.model.loss_):
                run.mark_finished(FAILED, _diverged(run.model.loss_, epoch, config.learning_rate))
                return
        if run.stop_requested:
            break
        run.parameter_count = mlp_parameter_count(run.model)
        train_probabilities = _predict_scaled(run.model, pixels_train, data.pixel_max_raw)
        logs = scores_with_loss(data.y_train, train_probabilities, data.num_classes, config.metrics)
        if len(x_val):
            logs.update(record_validation(run, data.y_val, run.model.predict_proba(x_val), data.num_classes))
        run.record_epoch(epoch, logs, config.learning_rate)
        run.set_detail("first_layer_weights", np.array(run.model.coefs_[0]))
        _record_hidden_map(run, data.x_val[hidden_sample], hidden_sample, data.image_shape)

    if run.completed_epochs == 0:
        run.mark_finished(STOPPED, "Stopped before the first epoch ended.")
        return
    record_test(run, data.y_test, run.model.predict_proba(x_test), data.num_classes)
    run.set_detail("snapshot", snapshot_mlp(run.model, data.image_shape))  # a copy, safe while it trains on
    done = run.completed_epochs
    if run.stop_requested:
        run.mark_finished(STOPPED, stopped_message(done))
    else:
        run.mark_finished(FINISHED, f"Finished {done} epochs.")


def _record_hidden_map(run: TrainingRun, images: np.ndarray, sample: np.ndarray, image_shape) -> None:
    """This epoch's last hidden layer for the map's sample of validation images (nothing without one)."""
    snapshot = snapshot_mlp(run.model, image_shape)
    try:
        layer = hidden_layer(snapshot)
    except NoHiddenLayerError:
        return
    if len(images):
        record_epoch(run, layer, sample, hidden_features(snapshot, images, layer))


def _predict_scaled(model, pixels: np.ndarray, pixel_max_raw: int) -> np.ndarray:
    """Class probabilities for rows of bytes, scaled a chunk at a time."""
    chunks = [
        model.predict_proba(scale_pixels(pixels[start : start + PREDICT_CHUNK], pixel_max_raw))
        for start in range(0, len(pixels), PREDICT_CHUNK)
    ]
    return np.concatenate(chunks)


def _partial_fit(model, x: np.ndarray, y: np.ndarray, classes: np.ndarray) -> None:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # One slice of one epoch is never "converged"; scikit-learn warns about it every call.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(x, y, classes=classes)


def _diverged(loss: float, epoch: int, learning_rate: float) -> str:
    return (
        f"The baseline's loss became {loss} in epoch {epoch}: training diverged. The learning rate "
        f"({learning_rate:g}) is probably too high; try one 10× smaller."
    )

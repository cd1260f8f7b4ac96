"""The Keras callback that carries live progress from model.fit into a TrainingRun."""

from __future__ import annotations

import math

import keras
import numpy as np

from core.training import hidden_map_recording
from core.training.evaluation import PREDICT_BATCH_SIZE, record_validation
from core.training.inference import UnsupportedModelError, snapshot_weights
from core.training.models import learning_rate_of, set_learning_rate
from core.training.run import TrainingRun

# Cross-entropy clips probabilities to [epsilon, 1 - epsilon] unless the backend can recover the
# logits (TensorFlow can, JAX cannot). There a diverged network never reaches NaN: its outputs are
# pinned at 0 and 1 and the loss sticks near -log(epsilon) ≈ 16. A running mean this high means most
# predictions are certain and wrong, which no learning run reaches.
SATURATED_LOSS = 0.75 * -math.log(keras.config.epsilon())


class LiveProgress(keras.callbacks.Callback):
    """Writes batch and epoch results into a TrainingRun, and applies the page's requests.

    Between batches it honours Stop and a new learning rate. Validation is scored here from one
    predict pass, which gives the loss, the chosen metrics, per-class F1 and a confusion matrix
    per epoch for the cost of Keras's own validation pass.
    """

    def __init__(self, run: TrainingRun, data, predictions) -> None:
        """predictions: KerasPredictions or core.training.jax_fit.DevicePredictions for the run's model."""
        super().__init__()
        self.run = run
        self.data = data
        self.predictions = predictions
        self.epoch = 0
        self.diverged_message: str | None = None
        self.hidden_sample = hidden_map_recording.sample_indices(len(data.x_val), run.config.seed)
        # One array for every epoch, so DevicePredictions puts it on the device once.
        self.hidden_images = data.x_val[self.hidden_sample] if predictions.hidden_layer else None

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch = epoch + 1

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        learning_rate = self.run.take_learning_rate_request()
        if learning_rate is not None:
            set_learning_rate(self.model, learning_rate)
            self.run.record_learning_rate_change(self.epoch, batch, learning_rate)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        logs = logs or {}
        loss = float(logs.get("loss", 0.0))
        if not math.isfinite(loss) or loss >= SATURATED_LOSS:
            self.diverged_message = (
                f"The loss became {loss} in epoch {self.epoch}: training diverged. The learning rate "
                f"({learning_rate_of(self.model):g}) is probably too high; try one 10× smaller."
            )
            self.model.stop_training = True
        elif self.run.stop_requested:
            self.model.stop_training = True
        self.run.record_batch(self.epoch, batch + 1, logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if logs is None or self.diverged_message:
            return
        if len(self.data.x_val):
            # Injected into Keras's logs, so EarlyStopping and History see val_* as usual.
            logs.update(self._validation_scores())
        self.run.record_epoch(epoch + 1, logs, learning_rate_of(self.model))
        self.run.set_detail("first_layer_weights", first_layer_weights(self.model))
        if self.hidden_images is not None:
            rows = self.predictions.hidden(self.hidden_images)
            layer = self.predictions.hidden_layer
            hidden_map_recording.record_epoch(self.run, layer, self.hidden_sample, hidden_map_recording.features(rows))

    def _validation_scores(self) -> dict[str, float]:
        probabilities = self.predictions.probabilities(self.data.x_val)
        return record_validation(self.run, self.data.y_val, probabilities, self.data.num_classes)


def mapped_layer(model: keras.Model, validation_count: int) -> str | None:
    """The hidden layer whose map a run records (core.training.hidden_map_recording), by name.

    None when there is nothing to map: no validation images, no hidden layer, or a layer the numpy copy lacks.
    """
    if not validation_count:
        return None
    try:
        return hidden_map_recording.hidden_layer(snapshot_weights(model))
    except (hidden_map_recording.NoHiddenLayerError, UnsupportedModelError):
        return None


class KerasPredictions:
    """What a model outputs for image arrays, and its hidden layer's rows: Keras's `predict`, on any backend.

    On JAX the engine uses core.training.jax_fit.DevicePredictions, with the same interface."""

    def __init__(self, model: keras.Model, hidden_layer: str | None) -> None:
        self.model = model
        self.hidden_layer = hidden_layer
        # Built once a run: a race fits one epoch a call, and a probe per fit compiled its own predict
        # program (a race of 3 × 10 digits epochs took 1.35× the same runs alone).
        self.probe = keras.Model(model.inputs, model.get_layer(hidden_layer).output) if hidden_layer else None

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return self.model.predict(images, batch_size=PREDICT_BATCH_SIZE, verbose=0)

    def hidden(self, images: np.ndarray) -> np.ndarray:
        return self.probe.predict(images, batch_size=PREDICT_BATCH_SIZE, verbose=0)


def first_layer_weights(model: keras.Model) -> np.ndarray | None:
    """The first Dense or Conv2D kernel, copied, so pages can draw the features forming."""
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            return np.array(layer.get_weights()[0])
    return None


class EarlyStoppingAcrossFits(keras.callbacks.EarlyStopping):
    """Keras's EarlyStopping for a run fitted over several model.fit calls (a race fits one epoch a call).

    Keras resets its patience and best weights when each fit begins, and puts the best weights back
    when each fit ends; here both happen once: at the first fit, and when the engine calls end().
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._begun = False

    def on_train_begin(self, logs=None) -> None:
        if not self._begun:
            super().on_train_begin(logs)
            self._begun = True

    def on_train_end(self, logs=None) -> None:
        pass  # see end()

    def end(self) -> None:
        super().on_train_end()

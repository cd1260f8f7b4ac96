"""The training engine: compile and fit a Keras model, reporting every step into a TrainingRun."""

from __future__ import annotations

import math

import numpy as np

from core import libraries
from core.config import TrainingConfig
from core.data.datasets import Dataset
from core.data.splits import PreparedData, prepare_data
from core.training.evaluation import record_test
from core.training.inference import snapshot_weights
from core.training.kept_loops import note_trained, run_shapes, step_signature
from core.training.run import FAILED, FINISHED, STOPPED, TrainingRun, stopped_message

# Batch updates reach the page at least this often per epoch, whatever steps_per_execution is.
MIN_UPDATES_PER_EPOCH = 20
MAX_STEPS_PER_EXECUTION = 50
# From this many training steps in a run, XLA's compile time is repaid on TensorFlow (speed_settings).
XLA_MIN_STEPS = 4000


def training_batches(data: PreparedData, labels: np.ndarray, batch_size: int, seed: int):
    """The training images as a tf.data pipeline, shuffled each epoch, each batch scaled to [0, 1]
    as it is drawn.

    Keras's own path for numpy arrays copies the whole float32 array into a tensor: for
    Fashion-MNIST that is 188 MB more than these bytes (47 MB), plus the float copy itself.
    Keras accepts a tf.data pipeline with either backend.
    """
    import tensorflow as tf

    images, targets = tf.constant(data.pixels_train), tf.constant(labels)
    scale = float(data.pixel_max_raw)

    def batch(indices):
        return tf.cast(tf.gather(images, indices), tf.float32) / scale, tf.gather(targets, indices)

    order = tf.data.Dataset.range(len(data.pixels_train)).shuffle(len(data.pixels_train), seed=seed)
    return order.batch(batch_size).map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def speed_settings(steps_per_epoch: int, epochs: int = 1, backend: str = "tensorflow") -> dict:
    """Compile options that make Keras fast on a CPU without changing what it computes, by the run's size.

    XLA (jit_compile) fuses each step into one kernel: compiling it costs TensorFlow seconds of CPU once,
    and each step then costs less. A small run (the embedded digits) never earns its compile back and a
    large one (Fashion-MNIST) does (bench/explore.py compares both), so XLA only from XLA_MIN_STEPS steps
    on. JAX always compiles with XLA (its jit_compile=False runs eagerly, far slower), and is indifferent
    to steps_per_execution. steps_per_execution runs several steps per call from Python; the batch
    callback fires once per call, so the steps are capped to keep at least MIN_UPDATES_PER_EPOCH live
    updates in every epoch. Thread settings measure no faster.
    """
    steps = max(1, min(MAX_STEPS_PER_EXECUTION, steps_per_epoch // MIN_UPDATES_PER_EPOCH))
    jit = backend == "jax" or steps_per_epoch * epochs >= XLA_MIN_STEPS
    return {"jit_compile": jit, "steps_per_execution": steps}


def steps_per_update(train_images: int, batch_size: int) -> int:
    """The steps each live update of a run on JAX trains (core.training.jax_fit.JaxFit): as many as leave
    MIN_UPDATES_PER_EPOCH updates in every epoch.

    Not capped at MAX_STEPS_PER_EXECUTION: between two chunks the device waits for Python (the logs, the
    callbacks, the state), so fewer chunks train faster. The lesson run (1,688 steps an epoch, 84 a chunk
    against 50) took 0.97× the time in 8 alternated fresh processes. On TensorFlow, steps_per_execution
    84 took 1.12× the time of 50 (4 rounds), so speed_settings keeps its cap.
    """
    return max(1, math.ceil(train_images / batch_size) // MIN_UPDATES_PER_EPOCH)


def labels_for_loss(y: np.ndarray, loss: str, num_classes: int) -> np.ndarray:
    """Integer labels for the sparse loss; one-hot rows for categorical cross-entropy."""
    if loss == "categorical_crossentropy":
        return np.eye(num_classes, dtype="float32")[y]
    return y


def train(run: TrainingRun, dataset: Dataset, extra_epochs: int | None = None) -> None:
    """Train run.config (or continue run.model for extra_epochs), recording everything in `run`.

    Returns when training ends: finished, stopped on request, or failed (a NaN loss). Any other
    exception propagates to the job runner, which marks the run failed with its message.
    """
    trainer = RunTrainer(run, dataset, extra_epochs)
    trainer.fit()
    trainer.finish()


class RunTrainer:
    """One run, prepared once (data, model, callbacks), then fitted one or more epochs per call.

    train() fits all epochs in one call; a race (core.training.race) fits several RunTrainers one
    epoch at a time in turn. Each keeps its own model, optimizer state, shuffled pipeline and
    early-stopping state, so an epoch trained here is the same wherever the other epochs ran.
    """

    def __init__(
        self,
        run: TrainingRun,
        dataset: Dataset,
        extra_epochs: int | None = None,
        data: PreparedData | None = None,
    ) -> None:
        """`data` may be shared by runs with the same split (dataset, seed, validation_split, subsample)."""
        libraries.load("keras")
        import keras

        from core.training import models
        from core.training.callbacks import EarlyStoppingAcrossFits, LiveProgress

        config = run.config
        self.run = run
        self.data = data = data or prepare_data(config, dataset)
        steps_per_epoch = max(1, math.ceil(len(data.pixels_train) / config.batch_size))
        initial_epoch = run.completed_epochs if extra_epochs else 0
        self.epochs = initial_epoch + (extra_epochs or config.epochs)
        self.next_epoch = initial_epoch
        # Same seed and settings, same curves; a continued run reseeds by its starting epoch.
        keras.utils.set_random_seed(config.seed + initial_epoch)

        if run.model is None or not extra_epochs:
            run.model = models.build_model(config, data.image_shape, data.num_classes)
            speed = speed_settings(steps_per_epoch, self.epochs - initial_epoch, keras.backend.backend())
            models.compile_model(run.model, config, data.num_classes, **speed)
        self.model = run.model
        run.dataset_title = dataset.title
        run.parameter_count = models.parameter_count(run.model)
        run.mark_running(self.epochs, steps_per_epoch, f"Training on {len(data.pixels_train):,} images.")

        # What a run's compiled programs are kept by (core.training.kept_loops): noted once trained (fit).
        self.programs = (
            step_signature(config, data.image_shape, data.num_classes),
            run_shapes(len(data.pixels_train), len(data.x_val), config.batch_size),
        )
        predictions = self._feed(config, initial_epoch)
        self.progress = LiveProgress(run, data, predictions)
        self.early_stopping = None
        if config.early_stopping_patience and len(data.x_val):
            self.early_stopping = EarlyStoppingAcrossFits(
                monitor="val_loss", patience=config.early_stopping_patience, restore_best_weights=True
            )
        self.callbacks = [self.progress] + ([self.early_stopping] if self.early_stopping else [])
        self._ended_early = False

    def _feed(self, config: TrainingConfig, initial_epoch: int) -> object:
        """Set up the training batches (on JAX, the kept loop's device fit); returns what scores the validation
        images, the hidden map's sample and the test images: on JAX the kept loop's forward pass, compiled for
        these arrays while the first epoch trains."""
        import keras

        from core.training.callbacks import KerasPredictions, mapped_layer

        data = self.data
        labels = labels_for_loss(data.y_train, config.loss, data.num_classes)
        # One shuffle for the whole run: it goes on to the next order with every epoch, however many
        # fit calls the epochs are spread over.
        self.batches = self.device_fit = None
        hidden_layer = mapped_layer(self.model, len(data.x_val))
        if keras.backend.backend() != "jax":
            self.batches = training_batches(data, labels, config.batch_size, seed=config.seed + initial_epoch)
            return KerasPredictions(self.model, hidden_layer)
        from core.training.jax_fit import JaxFit

        self.device_fit = JaxFit(
            self.model,
            data.pixels_train,
            labels,
            batch_size=config.batch_size,
            steps_per_update=steps_per_update(len(data.pixels_train), config.batch_size),
            pixel_max=data.pixel_max_raw,
            seed=config.seed + initial_epoch,
            signature=self.programs[0],
        )
        return self.device_fit.predictions(hidden_layer, expected=(data.x_val, data.x_test))

    @property
    def done(self) -> bool:
        """No epoch left: all trained, early stopping or divergence ended it, or Stop was pressed."""
        return self._ended_early or self.next_epoch >= self.epochs or self.run.stop_requested

    def fit(self, epochs: int | None = None) -> None:
        """Fit `epochs` more epochs (all that remain by default); does nothing once done."""
        if self.done:
            return
        until = self.epochs if epochs is None else min(self.epochs, self.next_epoch + epochs)
        if self.device_fit:
            self.device_fit.fit(until, initial_epoch=self.next_epoch, callbacks=self.callbacks)
            if not self.model.stop_training:  # whole epochs, each with its last batch and its validation
                note_trained(*self.programs)
        else:
            self._fit_keras(until)
        self.next_epoch = until
        # Set by early stopping, a NaN loss or Stop; fit clears it when it starts, never when it ends.
        self._ended_early = bool(self.model.stop_training)

    def _fit_keras(self, until: int) -> None:
        self.model.fit(
            self.batches,
            epochs=until,
            initial_epoch=self.next_epoch,
            callbacks=self.callbacks,
            shuffle=False,  # the pipeline shuffles each epoch itself
            verbose=0,
        )

    def finish(self) -> None:
        """End the run: best weights back (early stopping), test scores, weights snapshot, final status."""
        if self.early_stopping:
            self.early_stopping.end()
        _finish(self.run, self.data, self.progress)


def _finish(run: TrainingRun, data: PreparedData, progress) -> None:
    if progress.diverged_message:
        run.mark_finished(FAILED, progress.diverged_message)
        return
    probabilities = progress.predictions.probabilities(data.x_test)
    record_test(run, data.y_test, probabilities, data.num_classes)
    run.set_detail("snapshot", snapshot_weights(run.model))  # numpy copy: pages predict without Keras
    done = run.completed_epochs
    if run.stop_requested:
        run.mark_finished(STOPPED, stopped_message(done))
    elif done < run.snapshot().total_epochs:
        run.mark_finished(FINISHED, f"Early stopping ended training after {done} epochs (best weights kept).")
    else:
        run.mark_finished(FINISHED, f"Finished {done} epochs.")

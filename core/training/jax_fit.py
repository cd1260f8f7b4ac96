"""Keras's fit on the JAX backend, with the training images on the device and each live update one jitted loop.

Keras's own fit on JAX draws every batch from a data adapter in Python, converts it and calls one
jitted step per `steps_per_execution` batches. For the lesson run that costs more than the maths:
the engine on JAX took 1.37× the time of a hand-written JAX loop (bench/lesson_speed.py). Here the
byte images and the labels go to the device once; each chunk of steps between two live updates is
one call of a jitted `lax.fori_loop` that gathers its batches by index, scales them and runs Keras's
own `model.train_step` (the model's loss, optimizer and metrics, exactly as compiled; max pooling
and convolutions in the forms of core.training.jax_layers, which XLA runs fast in a loop). Between
chunks the state is written back to the model's variables, so callbacks see the model as in fit:
Stop, a new learning rate, early stopping, validation and the hidden-layer map work unchanged. The
programs the first epoch's end needs (its last, smaller batch and the forward pass's windows) are
compiled in a thread while the device trains its first chunks.

The loop follows `keras.Model.fit`'s order of callbacks: train begin; per epoch metrics reset,
epoch begin, batch begin/end around every chunk (a batch-end's index is the chunk's last step, as
with steps_per_execution), epoch end with the epoch's metric results; train end. A callback that
sets `model.stop_training` ends the epoch after the current chunk and the run after that epoch.
"""

from __future__ import annotations

import contextlib
import json
import threading

import jax
import keras
import numpy as np

from core.training.evaluation import PREDICT_BATCH_SIZE
from core.training.jax_layers import use_fast_forms
from core.training.kept_loops import chunk_steps, kept_loop

# Image arrays a run's predictions keep on the device (validation, the hidden map's sample, test).
KEPT_IMAGE_ARRAYS = 4


class TrainingLoop:
    """One jitted loop of Keras's own `train_step`, traced through the first model of its structure.

    `model.train_step` on JAX is stateless: it takes every variable's value as its state and returns
    the new values. Two models of one structure (layers, loss, metrics and optimizer alike; their
    weights, learning rate and seeds are variables, so part of that state) therefore compute the same
    function, and one loop serves both. Tracing it is a large part of a first point's wait, so, kept
    by the run's step signature (core.training.kept_loops), it is traced once per network and
    process, so the warm-up's loop serves the visitor's first run, and a race's variants share one.
    """

    def __init__(self, model: keras.Model, pixel_max: float, structure: str) -> None:
        """structure: structure_key(model, pixel_max), which a model must match to use this loop."""
        self.model = model
        self.pixel_max = float(pixel_max)
        self.structure = structure
        self.steps = jax.jit(self._train_steps)
        self.no_logs = None  # zeros shaped like a step's logs, the loop's first carry: made on first use
        self.forwards: dict[str | None, ForwardPass] = {}  # by hidden layer: see forward()
        # One tracer at a time: the first call of a shape traces through self.model. A call of a shape
        # already compiled takes no lock; calls dispatch asynchronously, so none waits for computing.
        self.lock = threading.Lock()
        self.compiled: set[tuple] = set()  # the (images, labels, chunk) shapes whose program is compiled

    def _scaled(self, pixels):
        return pixels.astype("float32") / self.pixel_max

    def _step(self, state, images, labels, batch):
        """One of Keras's own training steps (loss, gradients, optimizer, metrics) on the images at `batch`."""
        logs, state = self.model.train_step(state, (self._scaled(images[batch]), labels[batch]))
        return state, logs

    def _train_steps(self, state, no_logs, images, labels, indices, count):
        """model.train_step over batches indices[0..count-1]; the state and the last step's logs."""
        step = lambda i, carry: self._step(carry[0], images, labels, indices[i])  # noqa: E731
        return jax.lax.fori_loop(0, count, step, (state, no_logs))

    def __call__(self, state, images, labels, chunk: np.ndarray, used: int):
        shapes = (images.shape, labels.shape, chunk.shape)
        if shapes in self.compiled:
            return self.steps(state, self.no_logs, images, labels, chunk, np.int32(used))
        with self.lock:
            self._make_no_logs()
            result = self.steps(state, self.no_logs, images, labels, chunk, np.int32(used))
            self.compiled.add(shapes)
            return result

    def compile_ahead(self, state, images, labels, chunk_shape: tuple[int, int]) -> None:
        """Trace and compile the loop for chunks of `chunk_shape` without running it: a call then dispatches at once."""
        shapes = (images.shape, labels.shape, tuple(chunk_shape))
        with self.lock:
            if shapes in self.compiled:
                return
            self._make_no_logs()
            chunk = np.zeros(chunk_shape, "int32")
            self.steps.trace(state, self.no_logs, images, labels, chunk, np.int32(0)).lower().compile()
            self.compiled.add(shapes)

    def _make_no_logs(self) -> None:
        if self.no_logs is None:
            # A step's logs are the metrics' results (Keras's compute_metrics): their shapes, without
            # tracing the step itself a second time (18 ms of a fresh process's first run).
            shapes = jax.eval_shape(self.model.get_metrics_result)
            self.no_logs = jax.tree.map(lambda shape: np.zeros(shape.shape, shape.dtype), shapes)

    def forward(self, hidden_layer: str | None) -> ForwardPass:
        """The network's forward pass, with `hidden_layer`'s output too: traced through self.model, kept here."""
        with self.lock:
            if hidden_layer not in self.forwards:
                self.forwards[hidden_layer] = ForwardPass(self.model, hidden_layer)
            return self.forwards[hidden_layer]


class ForwardPass:
    """A network's outputs, and one hidden layer's, for a window of image rows: one jitted program a window size.

    Keras's `predict` draws every batch through a data adapter in Python, and its programs are traced
    anew for each model; a jitted forward pass on images already on the device does without both, several
    times faster for the lesson's validation images (bench/lesson_speed.py). Like the training
    loop, this pass is stateless (the weights are its arguments), so one serves every model of the
    network's structure, traced once per process. A window is PREDICT_BATCH_SIZE rows, or the power
    of two that holds a smaller array (DevicePredictions), so the validation images, the hidden map's
    sample and the test images share one program, or two for the digits.
    """

    def __init__(self, model: keras.Model, hidden_layer: str | None) -> None:
        outputs = [model.output] + ([model.get_layer(hidden_layer).output] if hidden_layer else [])
        self.net = keras.Model(model.inputs, outputs, name=f"{model.name}_outputs")
        # Where each of the pass's weights stands among the model's: a model of the same structure has its
        # weights in the same order (the training loop relies on it too), though not always of the same names.
        self.trainable_places = _places(self.net.trainable_variables, model.trainable_variables)
        self.non_trainable_places = _places(self.net.non_trainable_variables, model.non_trainable_variables)
        self.window = jax.jit(self._window)
        self.lock = threading.Lock()  # a first call of a window shape traces through self.net
        self.compiled: set[tuple] = set()  # the window shapes and types whose program is compiled

    def __call__(self, trainable: list, non_trainable: list, windows: list[jax.Array]) -> list[list[jax.Array]]:
        """The outputs for each window (dispatched asynchronously: the lock covers tracing, not computing)."""
        with self.lock:
            outputs = [self.window(trainable, non_trainable, window) for window in windows]
            self.compiled.update((window.shape, window.dtype) for window in windows)
        return outputs

    def compile_ahead(self, trainable: list, non_trainable: list, window_shape: tuple, dtype) -> None:
        """Trace and compile the pass for windows of this shape and type without running it."""
        with self.lock:
            if (window_shape, dtype) in self.compiled:
                return
            window = jax.device_put(np.zeros(window_shape, dtype))  # as the windows are: on the device
            self.window.trace(trainable, non_trainable, window).lower().compile()
            self.compiled.add((window.shape, window.dtype))

    def _window(self, trainable, non_trainable, rows):
        outputs, _ = self.net.stateless_call(trainable, non_trainable, rows)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]  # Keras unwraps a single output

    def values(self, model: keras.Model) -> tuple[list, list]:
        """`model`'s weights in the order the pass takes them."""
        trainable, non_trainable = model.trainable_variables, model.non_trainable_variables
        return [trainable[i].value for i in self.trainable_places], [
            non_trainable[i].value for i in self.non_trainable_places
        ]


def window_rows(count: int) -> int:
    """The rows of each window an array of `count` images is predicted in: PREDICT_BATCH_SIZE, or the power of
    two that holds a smaller array (so arrays of many sizes share a few programs)."""
    return min(PREDICT_BATCH_SIZE, 1 << (max(count, 1) - 1).bit_length())


def _places(variables: list, among: list) -> list[int]:
    index = {id(variable): place for place, variable in enumerate(among)}
    return [index[id(variable)] for variable in variables]


class DevicePredictions:
    """What a run's model outputs for image arrays, and its hidden layer's rows, through a kept ForwardPass.

    The same interface as core.training.callbacks.KerasPredictions. Each array goes to the device once
    (the run predicts the same validation images every epoch), kept by identity while the run holds it.
    """

    def __init__(
        self, forward: ForwardPass, model: keras.Model, hidden_layer: str | None, expected: tuple[np.ndarray, ...] = ()
    ) -> None:
        """expected: image arrays the run will ask about, whose windows compile_ahead() compiles."""
        self.forward = forward
        self.model = model
        self.hidden_layer = hidden_layer
        self.expected = expected
        self._on_device: dict[int, tuple[np.ndarray, list[jax.Array]]] = {}

    def compile_ahead(self) -> None:
        """Compile the forward pass for the expected arrays' windows, without running it."""
        trainable, non_trainable = self.forward.values(self.model)
        for images in (images for images in self.expected if len(images)):
            shape = (window_rows(len(images)), *images.shape[1:])
            self.forward.compile_ahead(trainable, non_trainable, shape, np.dtype(images.dtype))

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return self._outputs(images)[0]

    def hidden(self, images: np.ndarray) -> np.ndarray:
        """The hidden layer's output for `images` (only when the pass was made with a hidden layer)."""
        return self._outputs(images)[1]

    def _device_windows(self, images: np.ndarray) -> list[jax.Array]:
        """`images` on the device in windows of one shape, the last one padded with zeros."""
        kept = self._on_device.get(id(images))
        if kept is not None and kept[0] is images:
            return kept[1]
        rows, size = max(len(images), 1), window_rows(len(images))
        windows = []
        for start in range(0, rows, size):
            window = images[start : start + size]
            if len(window) < size:
                window = np.concatenate([window, np.zeros((size - len(window), *images.shape[1:]), images.dtype)])
            windows.append(jax.device_put(window))
        while len(self._on_device) >= KEPT_IMAGE_ARRAYS:
            del self._on_device[next(iter(self._on_device))]
        # The array itself is kept with its windows, so its id is not reused while the entry stands.
        self._on_device[id(images)] = (images, windows)
        return windows

    def _outputs(self, images: np.ndarray) -> list[np.ndarray]:
        windows = self._device_windows(images)
        outputs = self.forward(*self.forward.values(self.model), windows)
        columns = [np.concatenate([np.asarray(output) for output in column]) for column in zip(*outputs, strict=True)]
        return [column[: len(images)] for column in columns]


def structure_key(model: keras.Model, pixel_max: float) -> str:
    """What a model's training step computes, as text: its layers and compile settings without the
    values that are variables in JAX's state (the learning rate) or names Keras numbers per model.
    A kept loop serves a model only if their keys are equal, whatever the step signature says."""
    compile_config = model.get_compile_config()
    optimizer = compile_config["optimizer"]
    if isinstance(optimizer, dict):
        optimizer = {**optimizer, "config": dict(optimizer.get("config", {}))}
        optimizer["config"].pop("name", None)
        if isinstance(optimizer["config"].get("learning_rate"), (int, float)):  # a schedule stays in
            optimizer["config"].pop("learning_rate")
    compiled = {**compile_config, "optimizer": optimizer}
    for not_in_the_step in ("steps_per_execution", "jit_compile", "run_eagerly"):
        compiled.pop(not_in_the_step, None)
    # Anything Keras cannot write as JSON keys by its repr: a miss at worst (a new loop), never a wrong one.
    return json.dumps([model.get_config(), compiled, float(pixel_max)], sort_keys=True, default=repr)


class JaxFit:
    """One run's fitting loop on the JAX backend; fit() may be called again for more epochs (races, train more)."""

    def __init__(
        self,
        model: keras.Model,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        batch_size: int,
        steps_per_update: int,
        pixel_max: float,
        seed: int,
        signature: tuple | None = None,
    ) -> None:
        """signature: the run's step signature (core.training.kept_loops.step_signature), under which
        its loop is kept and found; None traces a loop of its own."""
        if keras.backend.backend() != "jax":
            raise RuntimeError("JaxFit needs the JAX backend (KERAS_BACKEND=jax).")
        self.model = model
        self.count = len(images)
        self.batch_size = batch_size
        self.full_steps = self.count // batch_size
        self.last_batch = self.count - self.full_steps * batch_size  # the epoch's last, smaller batch (0: none)
        self.steps_per_update = chunk_steps(self.full_steps, steps_per_update)
        # One shuffling generator for the run: every epoch draws the next order, over however many fit calls.
        self.shuffle = np.random.default_rng(seed)
        self.ahead: list[DevicePredictions] = []  # predictions whose programs _compile_ahead compiles
        self.compiling_ahead: threading.Thread | None = None
        self.images = jax.device_put(images)
        self.labels = jax.device_put(labels)
        # Keras builds the compiled loss and metrics (and their variables) from a first batch, as fit does.
        first = np.arange(min(batch_size, self.count))
        model._symbolic_build(data_batch=(images[first].astype("float32"), labels[first]))
        use_fast_forms(model)
        structure = structure_key(model, pixel_max)
        make = lambda: TrainingLoop(model, pixel_max, structure)  # noqa: E731
        if signature is None:
            self.loop = make()
        else:
            self.loop = kept_loop(signature, make, lambda loop: loop.structure == structure)

    def predictions(self, hidden_layer: str | None, expected: tuple[np.ndarray, ...] = ()) -> DevicePredictions:
        """The run's predictions through the kept loop's forward pass (with `hidden_layer`'s rows, if any);
        the windows of the `expected` arrays are compiled while the first epoch trains."""
        predictions = DevicePredictions(self.loop.forward(hidden_layer), self.model, hidden_layer, expected)
        self.ahead.append(predictions)
        return predictions

    def _train_chunk(self, state, chunk: np.ndarray, used: int):
        return self.loop(state, self.images, self.labels, chunk, used)

    def _variables(self) -> tuple[list, list, list, list]:
        """The model's variables in the groups model.train_step takes its state in."""
        model = self.model
        optimizer = model.optimizer.variables
        return model.trainable_variables, model.non_trainable_variables, optimizer, model.metrics_variables

    def _state(self, groups):
        return tuple([variable.value for variable in group] for group in groups)

    def _write(self, groups, state) -> None:
        for group, values in zip(groups, state, strict=True):
            for variable, value in zip(group, values, strict=True):
                variable.assign(value)

    def _chunks(self, order: np.ndarray):
        """(first step, batches as a (steps_per_update, batch) index array, batches used) for one epoch."""
        size, per = self.batch_size, self.steps_per_update
        full = order[: self.full_steps * size].reshape(self.full_steps, size).astype("int32")
        for begin in range(0, self.full_steps, per):
            chunk = full[begin : begin + per]
            used = len(chunk)
            if used < per:  # padded to one shape, so every chunk reuses one compiled loop
                chunk = np.concatenate([chunk, np.zeros((per - used, size), "int32")])
            yield begin, chunk, used
        if self.last_batch:  # as Keras trains it
            yield self.full_steps, order[self.full_steps * size :][None].astype("int32"), 1

    def _compile_ahead(self, state) -> None:
        """Compile the programs the first epoch's end needs, in a thread, while the device trains its chunks.

        Traced when the epoch reached them, the last, smaller batch's program and the validation's forward
        pass kept the device idle for 0.075 s and 0.025 s of a fresh process's lesson run (6 % and 2 % of
        its fit). Called once a run (fit: after its first chunk); compiled already, nothing is. A failure
        here shows when the program is used.
        """

        def compile_ahead() -> None:
            with contextlib.suppress(Exception):
                if self.last_batch:
                    self.loop.compile_ahead(state, self.images, self.labels, (1, self.last_batch))
                for predictions in self.ahead:
                    predictions.compile_ahead()

        self.compiling_ahead = threading.Thread(target=compile_ahead, name="compile-ahead", daemon=True)
        self.compiling_ahead.start()

    def fit(self, epochs: int, initial_epoch: int = 0, callbacks=()) -> None:
        """Train epochs initial_epoch..epochs-1 (0-based, as model.fit counts them)."""
        model = self.model
        callback_list = keras.callbacks.CallbackList(list(callbacks), model=model)
        model.stop_training = False
        callback_list.on_train_begin()
        logs: dict[str, float] = {}
        # Listed once a fit: Keras walks the layers for each list, 0.1 ms a chunk that the device waits for.
        groups = self._variables()
        for epoch in range(initial_epoch, epochs):
            model.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            for begin, chunk, used in self._chunks(self.shuffle.permutation(self.count)):
                callback_list.on_train_batch_begin(begin)
                state = self._state(groups)  # read after the callback: it may have set a new learning rate
                state, step_logs = self._train_chunk(state, chunk, used)
                if self.compiling_ahead is None:  # the run's first chunk is dispatched
                    self._compile_ahead(state)
                self._write(groups, state)
                logs = {name: float(value) for name, value in step_logs.items()}
                callback_list.on_train_batch_end(begin + used - 1, logs)
                if model.stop_training:
                    break
            epoch_logs = dict(logs)  # the metrics' results over the epoch so far, as fit's epoch logs
            callback_list.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        model.optimizer.finalize_variable_values(model.trainable_weights)
        callback_list.on_train_end(logs)

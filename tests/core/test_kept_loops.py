"""Kept training loops (core.training.kept_loops, core.training.jax_fit): runs of one network share one
traced loop, train exactly as with a loop of their own, and a step signature names what the loop computes."""

import dataclasses
import threading

import pytest

from core import libraries
from core.config import TrainingConfig
from core.data.splits import prepare_data
from core.training import kept_loops
from core.training.kept_loops import step_signature
from core.training.run import TrainingRun
from tests.polling import stop_at_first

# For every TrainingConfig field, another value: a change of a STEP field makes another training step,
# a change of any other field only other values (the step's state or data) or other data.
OTHER_VALUES = {
    "dataset": "fashion_mnist",
    "data_dir": "/somewhere",
    "model": "cnn",
    "hidden_layers": (64,),
    "activation": "tanh",
    "dropout": 0.3,
    "optimizer": "sgd",
    "learning_rate": 0.05,
    "loss": "categorical_crossentropy",
    "metrics": ("accuracy", "f1"),
    "epochs": 9,
    "batch_size": 64,
    "validation_split": 0.2,
    "seed": 3,
    "early_stopping_patience": 2,
    "subsample": 500,
}
STEP = {"model", "hidden_layers", "activation", "dropout", "optimizer", "loss", "metrics"}


def trained(config, dataset) -> tuple[TrainingRun, list[float]]:
    from core.training.engine import train

    run = TrainingRun(config)
    train(run, dataset)
    snap = run.snapshot()
    assert snap.status == "finished", snap.message
    return run, [row["loss"] for row in snap.epochs] + [snap.test_metrics["accuracy"]]


def test_a_kept_loop_trains_a_run_as_a_loop_of_its_own_would(jax_fit, digits, quick_config):
    # Another learning rate, seed and dropout than the run below: all three are state, not the loop's constants.
    first = quick_config.replace(learning_rate=0.01, seed=7, dropout=0.2)
    later = quick_config.replace(learning_rate=0.002, seed=42, dropout=0.2)
    kept_loops.forget_loops()
    first_run, _ = trained(first, digits)
    later_run, on_the_kept_loop = trained(later, digits)
    kept = kept_loops.kept_loops()
    assert len(kept) == 1 and kept[0].model is first_run.model, "the later run used the first run's loop"
    assert later_run.model is not first_run.model
    assert kept_loops.trained_shapes(step_signature(later, digits.image_shape, digits.num_classes)) is not None

    kept_loops.forget_loops()
    _, alone = trained(later, digits)
    assert on_the_kept_loop == pytest.approx(alone, rel=1e-6), "the same curves and test score as with its own loop"
    assert on_the_kept_loop != pytest.approx(trained(first, digits)[1], rel=1e-3), "the learning rate was the run's"


def test_every_setting_either_makes_another_step_or_is_the_steps_state_or_data(jax_fit, digits, quick_config):
    from core.training import models

    assert set(OTHER_VALUES) == {field.name for field in dataclasses.fields(TrainingConfig)}, "a new setting"

    def structure(config: TrainingConfig, pixel_max=digits.pixel_max_raw) -> str:
        model = models.build_model(config, digits.image_shape, digits.num_classes)
        models.compile_model(model, config, digits.num_classes, jit_compile=True, steps_per_execution=2)
        return jax_fit.structure_key(model, pixel_max)

    base = quick_config.replace(early_stopping_patience=None)
    signature, key = step_signature(base, digits.image_shape, digits.num_classes), structure(base)
    for name, value in OTHER_VALUES.items():
        other = base.replace(**{name: value})
        same_signature = step_signature(other, digits.image_shape, digits.num_classes) == signature
        assert same_signature == (name not in STEP), name
        assert (structure(other) == key) == same_signature, f"{name}: the loop's own key agrees with the signature"
    assert step_signature(base, (28, 28), 10) != signature, "the image size is in the network"
    assert structure(base, pixel_max=255) != key, "the images' scale is in the loop: a kept loop of another is not used"


def test_the_process_keeps_a_bounded_number_of_loops(jax_fit, digits, quick_config):
    kept_loops.forget_loops()
    for units in range(8, 8 + kept_loops.MAX_KEPT_LOOPS + 3):
        signature = step_signature(quick_config.replace(hidden_layers=(units,)), digits.image_shape, 10)
        newest = kept_loops.kept_loop(signature, lambda units=units: f"loop {units}", lambda loop: True)
    assert kept_loops.kept_loops()[-1] is newest and len(kept_loops.kept_loops()) == kept_loops.MAX_KEPT_LOOPS
    dropped = step_signature(quick_config.replace(hidden_layers=(8,)), digits.image_shape, 10)
    assert kept_loops.trained_shapes(dropped) is None, "the oldest loop was dropped"
    refused = kept_loops.kept_loop(signature, lambda: "a new loop", lambda loop: False)
    assert refused == kept_loops.kept_loops()[-1] == "a new loop", "a loop that does not fit is replaced"
    kept_loops.forget_loops()


def test_a_run_notes_the_shapes_it_trained_as_the_estimate_counts_them(jax_fit, digits, quick_config):
    from core.training import estimate as cost_model

    kept_loops.forget_loops()
    config = quick_config.replace(validation_split=0.2, batch_size=64)
    sizes = len(digits.pixels_train), digits.image_shape, digits.num_classes
    signature, shapes = cost_model.run_programs(config, *sizes)
    assert kept_loops.trained_shapes(signature) is None, "no loop yet"
    trained(config, digits)
    assert kept_loops.trained_shapes(signature) == {shapes}, "the engine noted what the estimate looks up"
    trained(config.replace(batch_size=32, seed=5), digits)
    assert len(kept_loops.trained_shapes(signature)) == 2, "another batch size: other programs, noted too"

    # A run stopped in its first epoch has not trained its last batch (compiled ahead or not): not noted.
    stopped = TrainingRun(config.replace(batch_size=16))
    stop_at_first(stopped, "batch")
    from core.training.engine import train

    train(stopped, digits)
    assert len(kept_loops.trained_shapes(signature)) == 2
    kept_loops.forget_loops()
    assert kept_loops.trained_shapes(signature) is None


def test_a_dropped_or_replaced_loop_forgets_its_shapes(quick_config, digits):
    kept_loops.forget_loops()
    first = step_signature(quick_config, digits.image_shape, 10)
    kept_loops.kept_loop(first, lambda: "loop", lambda loop: True)
    kept_loops.note_trained(first, (100, 10, 32))
    assert kept_loops.trained_shapes(first) == {(100, 10, 32)}
    kept_loops.kept_loop(first, lambda: "another loop", lambda loop: False)
    assert kept_loops.trained_shapes(first) == set(), "a new loop has compiled nothing yet"
    no_loop = step_signature(quick_config.replace(hidden_layers=(9,)), digits.image_shape, 10)
    kept_loops.note_trained(no_loop, (1, 1, 1))
    assert kept_loops.trained_shapes(no_loop) is None, "shapes are noted only on a kept loop"
    kept_loops.forget_loops()


def test_the_cache_folders_index_says_which_runs_programs_it_holds(tmp_path, monkeypatch, quick_config, digits):
    monkeypatch.setenv(libraries.COMPILE_CACHE_ENV, str(tmp_path))
    signature = step_signature(quick_config, digits.image_shape, 10)
    assert not kept_loops.programs_on_disk(signature, (100, 10, 32)), "an empty folder holds nothing of ours"
    kept_loops.note_trained(signature, (100, 10, 32))  # no loop kept (another process's run): still on disk
    kept_loops.note_trained(signature, (100, 10, 32))
    assert kept_loops.programs_on_disk(signature, (100, 10, 32))
    assert not kept_loops.programs_on_disk(signature, (100, 10, 64)), "other shapes, other programs"
    index = tmp_path / kept_loops.PROGRAMS_INDEX
    assert len(index.read_text().split()) == 1, "each network and shapes once"
    index.write_bytes(b"\x00\xff garbage")  # a damaged index: nothing matches, nothing breaks
    assert not kept_loops.programs_on_disk(signature, (100, 10, 32))
    monkeypatch.setenv(libraries.COMPILE_CACHE_ENV, str(tmp_path / "gone" / "deeper"))
    kept_loops.note_trained(signature, (100, 10, 32))  # a folder that is not there: ignored
    assert not kept_loops.programs_on_disk(signature, (100, 10, 32))
    monkeypatch.setenv(libraries.COMPILE_CACHE_ENV, "off")
    assert not kept_loops.programs_on_disk(signature, (100, 10, 32))


def test_the_loop_is_called_with_the_shapes_the_estimate_counts_as_programs(jax_fit, digits, quick_config, monkeypatch):
    """XLA compiles a program per shape the loop is called with; the estimate counts them (loop_programs)."""
    from core.training import estimate as cost_model
    from core.training.engine import steps_per_update

    calls = set()
    original = jax_fit.TrainingLoop.__call__

    def recording(loop, state, images, labels, chunk, used):
        calls.add((len(images), *chunk.shape))
        return original(loop, state, images, labels, chunk, used)

    monkeypatch.setattr(jax_fit.TrainingLoop, "__call__", recording)
    counted = {}
    for batch_size in (32, 64, 48):
        config = quick_config.replace(batch_size=batch_size)
        _, shapes = cost_model.run_programs(config, len(digits.pixels_train), digits.image_shape, digits.num_classes)
        calls.clear()
        trained(config, digits)
        counted[batch_size] = kept_loops.loop_programs(shapes, steps_per_update(shapes[0], batch_size))
        assert calls == counted[batch_size], batch_size
    assert len(counted[64] - counted[32]) == 1, "the digits' last batch is 13 images at 32 and at 64"
    assert len(counted[48] - counted[32]) == 2


def test_the_first_epochs_end_is_compiled_in_a_thread_while_its_first_chunks_train(
    jax_fit, digits, quick_config, monkeypatch
):
    """Traced when the epoch reached them, the last, smaller batch's program and the forward pass that scores
    validation and test kept the device idle (JaxFit._compile_ahead). Traced ahead, in a thread, the epoch's
    calls find them compiled and trace nothing."""
    kept_loops.forget_loops()
    traced = []  # (thread, rows) of every trace of Keras's train_step and of the forward pass
    step, call = jax_fit.TrainingLoop._step, jax_fit.TrainingLoop.__call__
    window, predict = jax_fit.ForwardPass._window, jax_fit.ForwardPass.__call__

    def noting_step(loop, state, images, labels, batch):
        traced.append(("step", threading.current_thread().name, batch.shape[0]))
        return step(loop, state, images, labels, batch)

    def noting_window(forward, trainable, non_trainable, rows):
        traced.append(("forward", threading.current_thread().name, rows.shape[0]))
        return window(forward, trainable, non_trainable, rows)

    def join_compile_ahead():  # the digits' epochs are short: wait for it, as the lesson's need not
        for thread in threading.enumerate():
            if thread.name == "compile-ahead":
                thread.join()

    def last_batch_after_it(loop, state, images, labels, chunk, used):
        if chunk.shape[1] != quick_config.batch_size:
            join_compile_ahead()
        return call(loop, state, images, labels, chunk, used)

    def predicting_after_it(forward, *arguments):
        join_compile_ahead()
        return predict(forward, *arguments)

    monkeypatch.setattr(jax_fit.TrainingLoop, "_step", noting_step)
    monkeypatch.setattr(jax_fit.ForwardPass, "_window", noting_window)
    monkeypatch.setattr(jax_fit.TrainingLoop, "__call__", last_batch_after_it)
    monkeypatch.setattr(jax_fit.ForwardPass, "__call__", predicting_after_it)
    trained(quick_config, digits)
    data = prepare_data(quick_config, digits)
    last_batch = len(data.pixels_train) % quick_config.batch_size
    assert last_batch, "the digits' epoch ends with a smaller batch"
    windows = {jax_fit.window_rows(len(data.x_val)), jax_fit.window_rows(len(data.x_test))}
    assert len(windows) == 2, "the digits' validation and test images need two window sizes"
    main = threading.current_thread().name
    assert traced[:2] == [("step", main, quick_config.batch_size), ("step", "compile-ahead", last_batch)]
    assert sorted(traced[2:]) == [("forward", "compile-ahead", rows) for rows in sorted(windows)]

    traced.clear()
    trained(quick_config.replace(seed=3), digits)
    assert traced == [], "a kept loop's next run compiles nothing, ahead or not"

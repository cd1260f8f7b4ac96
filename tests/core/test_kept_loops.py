"""core.training.jax_fit's kept loops: runs of one structure share one traced loop and train as if alone."""

import pytest

from core import libraries
from core.training.run import TrainingRun


@pytest.fixture(scope="module")
def jax_fit():
    libraries.load("keras")
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("the kept loops are the JAX backend's (tests/core/test_backends.py covers both backends)")
    from core.training import jax_fit

    return jax_fit


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
    jax_fit._kept_loops.clear()
    first_run, _ = trained(first, digits)
    later_run, on_the_kept_loop = trained(later, digits)
    kept = list(jax_fit._kept_loops.values())
    assert len(kept) == 1 and kept[0].model is first_run.model, "the later run used the first run's loop"
    assert later_run.model is not first_run.model

    jax_fit._kept_loops.clear()
    _, alone = trained(later, digits)
    assert on_the_kept_loop == pytest.approx(alone, rel=1e-6), "the same curves and test score as with its own loop"
    assert on_the_kept_loop != pytest.approx(trained(first, digits)[1], rel=1e-3), "the learning rate was the run's"


def test_runs_share_a_loop_only_when_their_step_is_the_same(jax_fit, digits, quick_config):
    from core.training import models

    def structure(config, pixel_max=digits.pixel_max_raw):
        model = models.build_model(config, digits.image_shape, digits.num_classes)
        models.compile_model(model, config, digits.num_classes, jit_compile=True, steps_per_execution=2)
        return jax_fit.structure_key(model, pixel_max)

    same = structure(quick_config)
    assert structure(quick_config.replace(learning_rate=0.05, seed=3, epochs=9, batch_size=64)) == same
    for other in (
        quick_config.replace(hidden_layers=(64,)),
        quick_config.replace(activation="tanh"),
        quick_config.replace(dropout=0.3),
        quick_config.replace(optimizer="sgd"),
        quick_config.replace(loss="categorical_crossentropy"),
        quick_config.replace(metrics=("accuracy", "f1")),
        quick_config.replace(model="cnn"),
    ):
        assert structure(other) != same, other
    assert structure(quick_config, pixel_max=255) != same, "the images' scale is in the loop"


def test_the_process_keeps_a_bounded_number_of_loops(jax_fit, digits, quick_config):
    from core.training import models

    jax_fit._kept_loops.clear()
    for units in range(8, 8 + jax_fit.MAX_KEPT_LOOPS + 3):
        config = quick_config.replace(hidden_layers=(units,))
        model = models.build_model(config, digits.image_shape, digits.num_classes)
        models.compile_model(model, config, digits.num_classes)
        newest = jax_fit.loop_for(model, digits.pixel_max_raw)
    assert len(jax_fit._kept_loops) == jax_fit.MAX_KEPT_LOOPS
    assert list(jax_fit._kept_loops.values())[-1] is newest

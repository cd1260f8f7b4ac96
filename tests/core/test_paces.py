"""Measured paces (core.training.paces): a run trained here notes its seconds per epoch, and the next
estimate of its network (core.training.estimate) goes by them rather than by the FLOP count alone."""

from types import SimpleNamespace

import pytest

from core import libraries
from core.config import TrainingConfig
from core.results.experiments import RunStore, saving_job
from core.training import estimate as cost_model
from core.training.estimate import note_run
from core.training.paces import (
    COMPILE_FACTOR_RANGE,
    COMPILE_RATIOS_KEPT,
    MIN_COMPILE_SAID_SECONDS,
    OUTSIDE_CLOCK,
    PACES_KEPT,
    RUN_END,
    SAVE,
    Estimate,
    compile_factor,
    epoch_pace,
    forget_paces,
    latest,
    note_compile,
    note_pace,
    paces_of,
    steps_pace,
)
from core.training.run import TrainingRun

SPEED = 50e9  # FLOP/s, fixed: the count must not depend on this machine's calibration


def ended(epochs, seconds: float, batches=(), steps_per_epoch: int = 0):
    """A run's snapshot as note_run reads it: its epoch records and live updates, and its clock at the end."""
    return SimpleNamespace(
        epochs=tuple(epochs),
        batches=tuple(batches),
        steps_per_epoch=steps_per_epoch,
        total_epochs=max(1, len(epochs)),
        elapsed_seconds=seconds,
    )


def said(total_seconds: float = 0.0, compiled=("", 0.0, 0.0), counted: float = 0.0, shapes=(10, 2, 32), backend="jax"):
    """An estimate as note_run measures a run by it: its total, its compile as (case, seconds said, seconds fitted)
    and its FLOP count's seconds per epoch, of the network ("network",)."""
    case, seconds, fitted = compiled
    return Estimate(
        seconds_per_epoch=0.0,
        total_seconds=total_seconds,
        memory_mb=0.0,
        train_images=shapes[0],
        epochs=1,
        compile_seconds=seconds,
        compile_case=case,
        fitted_compile_seconds=fitted,
        counted_seconds_per_epoch=counted,
        backend=backend,
        signature=("network",),
        shapes=shapes,
    )


def programs_of(config: TrainingConfig, dataset) -> tuple:
    """(step signature, run_shapes) of a run of `config` on `dataset` (core.training.estimate.run_programs)."""
    return cost_model.run_programs(config, len(dataset.pixels_train), dataset.image_shape, dataset.num_classes)


def train_as_a_press(run: TrainingRun, dataset, extra_epochs: int | None = None) -> None:
    """Train `run` as a press of Train does: estimated, trained by its job, which measures the estimate."""
    from core.jobs.start import estimates_of
    from core.jobs.training_job import training_job

    (run.estimate,) = estimates_of([(run.kind, run.config.replace(epochs=extra_epochs or run.config.epochs))], dataset)
    training_job([run], dataset, extra_epochs)()


def test_the_pace_is_taken_between_epoch_ends_and_needs_two_of_them():
    assert epoch_pace([]) is None
    assert epoch_pace([{"epoch": 1, "seconds": 4.0}]) is None, "the first epoch's time includes compiling"
    epochs = [{"epoch": 1, "seconds": 4.0}, {"epoch": 2, "seconds": 5.0}, {"epoch": 3, "seconds": 5.5}]
    assert epoch_pace(epochs) == pytest.approx(0.75), "programs run before: from the first epoch's end"
    assert epoch_pace(epochs, compiled=True) == pytest.approx(0.5), "compiled: its second epoch left out too"
    assert epoch_pace(epochs[:2], compiled=True) == pytest.approx(1.0), "two epochs: the second's"


def test_a_one_epoch_runs_pace_is_its_later_steps_rate_for_the_epochs_steps():
    # 400 steps: compiling and the first executions in the first updates, then 1 ms a step.
    updates = [{"epoch": 1, "step": step, "seconds": 0.5 + step * 0.001} for step in range(40, 401, 40)]
    updates[0]["seconds"] = 2.0  # (a first update late: compiling) does not count
    assert steps_pace(updates, 400) == pytest.approx(0.4), "1 ms a step, 400 steps"
    assert steps_pace(updates, 100) is None, "an epoch of few steps: its steps are not most of it"
    assert steps_pace(updates[:4], 400) is None, "too few updates to take a rate from"
    epochs = [{"epoch": 1, "seconds": 3.0}]
    note_run(ended(epochs, 3.1, updates, 400), said(3.0, ("new network", 2.0, 2.0), shapes=(12800, 1000, 32)))
    assert paces_of("jax", ("network",)) == {(12800, 1000, 32): pytest.approx(0.4)}
    assert compile_factor("jax", "new network") == pytest.approx((3.0 - 0.4) / 2.0), "its first epoch less its pace"


def test_a_trained_one_epoch_run_of_many_steps_notes_its_pace(digits):
    libraries.load("keras")
    config = TrainingConfig(dataset="digits", epochs=1, batch_size=4, metrics=("accuracy",))
    signature, shapes = cost_model.run_programs(
        config, len(digits.pixels_train), digits.image_shape, digits.num_classes
    )
    run = TrainingRun(config)
    train_as_a_press(run, digits)
    snap = run.snapshot()
    assert snap.steps_per_epoch >= 200 and len(snap.epochs) == 1
    assert paces_of(libraries.backend_in_force(), signature) == {shapes: steps_pace(snap.batches, snap.steps_per_epoch)}
    assert 0 < paces_of(libraries.backend_in_force(), signature)[shapes] < snap.epochs[0]["seconds"]


def test_measured_shapes_are_taken_as_measured_others_scaled_as_the_networks_measured_ones():
    def counted(shapes):
        return shapes[0] / 1000

    def pace(measured, shapes):
        seconds, basis = cost_model.measured_pace(measured, shapes, counted)
        return pytest.approx(seconds), basis

    assert pace({}, (2000, 500, 32)) == (2.0, cost_model.COUNTED), "nothing measured: counted"
    measured = {(1000, 500, 32): 3.0}
    assert pace(measured, (1000, 500, 32)) == (3.0, cost_model.MEASURED)
    assert pace(measured, (2000, 500, 32)) == (6.0, cost_model.SCALED), "3× the count"
    measured[(4000, 500, 32)] = 4.0  # 1× the count: the median of 3× and 1× is 2×
    assert pace(measured, (2000, 500, 32)) == (4.0, cost_model.SCALED)


def estimate(config: TrainingConfig, dataset) -> cost_model.Estimate:
    return cost_model.estimate(config, len(dataset.pixels_train), dataset.image_shape, dataset.num_classes, SPEED)


def counted(monkeypatch, config: TrainingConfig, dataset) -> float:
    """What the FLOP count alone says per epoch for `config` now: the same estimate, no pace looked up."""
    with monkeypatch.context() as patched:
        patched.setattr(cost_model, "paces_of", lambda backend, signature: {})
        return estimate(config, dataset).seconds_per_epoch


def trained_digits(digits, epochs: int):
    """A digits run of `epochs` trained as a press does, with its config, step signature, run_shapes and backend."""
    libraries.load("keras")
    config = TrainingConfig(dataset="digits", epochs=epochs, batch_size=32, metrics=("accuracy",))
    signature, shapes = cost_model.run_programs(
        config, len(digits.pixels_train), digits.image_shape, digits.num_classes
    )
    run = TrainingRun(config)
    train_as_a_press(run, digits)
    return run, config, signature, shapes, libraries.backend_in_force()


def test_a_trained_run_notes_its_pace_and_the_next_estimate_of_its_network_goes_by_it(digits, monkeypatch):
    run, config, signature, shapes, backend = trained_digits(digits, epochs=3)
    snap = run.snapshot()
    assert snap.status == "finished", snap.message
    compiled = run.estimate.fitted_compile_seconds >= MIN_COMPILE_SAID_SECONDS  # its second epoch left out too
    pace = epoch_pace(snap.epochs, compiled)
    assert pace is not None and pace > 0
    assert paces_of(backend, signature) == {shapes: pytest.approx(pace)}, "noted by network and shapes"
    note_pace(backend, signature, shapes, 0.0)  # not a pace: ignored
    assert paces_of(backend, signature) == {shapes: pytest.approx(pace)}

    # The same network and shapes, another seed, rate and epoch count: at the measured pace.
    again = estimate(config.replace(seed=9, learning_rate=0.003, epochs=7), digits)
    assert again.seconds_per_epoch == pytest.approx(pace)
    end = (
        latest(RUN_END, backend, signature) or 0.0
    ) or cost_model.RUN_END_SECONDS  # measured by runs that compiled nothing
    assert again.total_seconds == pytest.approx(again.start_seconds + again.compile_seconds + 7 * pace + end)
    # Another batch size of the same network: its count, scaled as the trained run's count was.
    other_batch = config.replace(batch_size=64)
    ratio = pace / counted(monkeypatch, config, digits)
    assert estimate(other_batch, digits).seconds_per_epoch == pytest.approx(
        counted(monkeypatch, other_batch, digits) * ratio
    )
    # Another network is counted: this network's pace says nothing about it.
    other_network = config.replace(hidden_layers=(48,))
    assert estimate(other_network, digits).seconds_per_epoch == pytest.approx(
        counted(monkeypatch, other_network, digits)
    )


def test_a_continued_run_notes_no_pace_its_epochs_span_the_pause(digits):
    run, _, signature, shapes, backend = trained_digits(digits, epochs=2)
    first = paces_of(backend, signature)[shapes]
    run.prepare_more_epochs(2)
    train_as_a_press(run, digits, extra_epochs=2)
    assert run.snapshot().status == "finished" and len(run.snapshot().epochs) == 4
    assert paces_of(backend, signature)[shapes] == first


def test_a_run_of_one_epoch_notes_no_pace(digits):
    _, _, signature, _, backend = trained_digits(digits, epochs=1)
    assert paces_of(backend, signature) == {}


def test_a_run_that_compiled_notes_its_pace_from_its_second_epoch_on():
    epochs = [{"epoch": 1, "seconds": 1.0}, {"epoch": 2, "seconds": 1.5}, {"epoch": 3, "seconds": 1.6}]
    note_run(ended(epochs, 1.7), said(1.0, ("new shapes", 0.6, 0.6)))
    assert paces_of("jax", ("network",)) == {(10, 2, 32): pytest.approx(0.1)}, "its second epoch left out"
    forget_paces()
    note_run(ended(epochs, 1.7), said(0.2, ("kept loop", 0.03, 0.03)))
    assert paces_of("jax", ("network",)) == {(10, 2, 32): pytest.approx(0.3)}, "compiled nothing: all but the first"


def test_the_pace_is_the_median_of_the_latest_runs_so_one_slow_run_does_not_decide_it():
    for seconds in (0.3, 0.9, 0.32):  # the second run shared the cores with a busy neighbour
        note_pace("jax", ("network",), (10, 2, 32), seconds)
    assert paces_of("jax", ("network",)) == {(10, 2, 32): pytest.approx(0.32)}
    for seconds in (0.5,) * PACES_KEPT:  # the machine itself slowed down: the latest runs' pace takes over
        note_pace("jax", ("network",), (10, 2, 32), seconds)
    assert paces_of("jax", ("network",)) == {(10, 2, 32): pytest.approx(0.5)}


def test_the_warm_up_measures_the_pace_of_the_default_runs_estimate(digits):
    from core.jobs.start import WARM_UP_EPOCHS, warm_up

    config = TrainingConfig(dataset="digits", metrics=("accuracy",))
    signature, shapes = cost_model.run_programs(
        config, len(digits.pixels_train), digits.image_shape, digits.num_classes
    )
    run = warm_up(config, digits)
    epochs = run.snapshot().epochs
    assert len(epochs) == WARM_UP_EPOCHS, "the digits' epochs are short enough to measure a pace"
    compiled = run.estimate.fitted_compile_seconds >= MIN_COMPILE_SAID_SECONDS  # not when an earlier test kept its loop
    pace = epoch_pace(epochs, compiled)
    assert paces_of(libraries.backend_in_force(), signature) == {shapes: pytest.approx(pace)}
    said = estimate(config.replace(seed=7), digits)
    assert said.pace_basis == cost_model.MEASURED and said.seconds_per_epoch == pytest.approx(pace)


def test_a_warm_up_whose_epochs_are_long_trains_one_and_notes_no_pace(digits, monkeypatch):
    from core.jobs import start

    monkeypatch.setattr(start, "WARM_UP_PACE_SECONDS", 0.0)  # as MNIST's 0.6 s epochs are
    config = TrainingConfig(dataset="digits", metrics=("accuracy",))
    signature, _ = programs_of(config, digits)
    assert len(start.warm_up(config, digits).snapshot().epochs) == 1
    assert paces_of(libraries.backend_in_force(), signature) == {}


def test_compiles_are_scaled_as_the_latest_measured_ones_of_their_case_compared_with_their_estimates():
    assert compile_factor("jax", "new shapes") == 1.0, "nothing measured: as fitted"
    note_compile("jax", "kept loop", 0.03, 0.5)  # a kept loop's few hundredths: noise, not counted
    assert compile_factor("jax", "kept loop") == 1.0
    for said, measured in ((1.0, 2.0), (0.5, 1.5), (2.0, 3.0)):  # 2×, 3×, 1.5×
        note_compile("jax", "new shapes", said, measured)
    assert compile_factor("jax", "new shapes") == pytest.approx(2.0), "the median"
    assert compile_factor("tensorflow", "new shapes") == 1.0, "by backend"
    note_compile("jax", "new network", 1.0, 1.2)
    assert compile_factor("jax", "new network") == pytest.approx(1.2), "by case"
    assert compile_factor("jax", "shapes on disk") == pytest.approx(1.75), "a case not measured: all of them"
    for _ in range(COMPILE_RATIOS_KEPT):
        note_compile("jax", "new shapes", 1.0, 100.0)
    assert compile_factor("jax", "new shapes") == COMPILE_FACTOR_RANGE[1], "only the latest count, within bounds"


def test_a_run_measures_its_compile_as_its_first_epoch_less_one_epoch():
    epochs = [{"epoch": 1, "seconds": 2.5}, {"epoch": 2, "seconds": 3.0}, {"epoch": 3, "seconds": 3.5}]
    compiled = ("new network", 1.0, 1.0)  # (case, said, fitted): not scaled yet
    note_run(ended(epochs, 3.6), said(2.0, compiled))
    assert compile_factor("jax", "new network") == pytest.approx(2.0), "(2.5 - 0.5) / 1.0: the second epoch's end on"
    assert latest(RUN_END, "jax", ("network",)) is None, "its end may have compiled the predict program too"
    kept = ("kept loop", 0.03, 0.03)  # compiled nothing: its end is the end of every later run
    note_run(ended(epochs, 3.6), said(1.6, kept))
    assert latest(RUN_END, "jax", ("network",)) == pytest.approx(0.1), "after its last epoch: 3.6 - 3.5"
    assert latest(RUN_END, "jax", ("another network",)) is None
    forget_paces()
    # One epoch: the estimate's epoch stands in for the pace, (2.0 - 1.0) / 1 epoch.
    note_run(ended(epochs[:1], 2.6), said(2.0, compiled))
    assert compile_factor("jax", "new network") == pytest.approx(1.5)
    forget_paces()
    note_run(ended(epochs, 3.6), said(2.0))  # an estimate that says nothing of compiling
    assert compile_factor("jax", "new network") == 1.0


def test_a_run_that_compiled_nothing_measures_its_time_outside_its_clock_for_the_next_estimate(digits, tmp_path):
    epochs = [{"epoch": 1, "seconds": 2.5}, {"epoch": 2, "seconds": 3.0}, {"epoch": 3, "seconds": 3.5}]
    note_run(ended(epochs, 3.6), said(2.0, ("new network", 1.0, 1.0)), job_seconds=4.6)
    assert latest(OUTSIDE_CLOCK, "jax", ("network",)) is None, "its model's first build is not every run's"
    note_run(ended(epochs, 3.6), said(1.6, ("kept loop", 0.03, 0.03)), job_seconds=3.65)
    assert latest(OUTSIDE_CLOCK, "jax", ("network",)) == pytest.approx(0.05), "3.65 in its job, 3.6 on its clock"
    assert latest(OUTSIDE_CLOCK, "jax", ("another network",)) is None

    # A digits run trained as a press does: the next estimate of its network counts what it measured, and what
    # saving it took once a saving job has saved one.
    _, config, signature, _, backend = trained_digits(digits, epochs=2)
    run, *_ = trained_digits(digits, epochs=2)  # the first may have compiled; this one compiled nothing
    outside = latest(OUTSIDE_CLOCK, backend, signature)
    assert outside is not None and outside >= 0
    fitted_save = cost_model.KERAS_OUTSIDE_CLOCK.save_seconds
    assert estimate(config, digits).start_seconds == pytest.approx(outside + fitted_save)
    saving_job(lambda: None, [run], RunStore(tmp_path))()
    saved = latest(SAVE, backend, signature)
    assert saved is not None and saved > 0
    assert estimate(config, digits).start_seconds == pytest.approx(outside + saved)
    forget_paces()
    pixels = len(digits.pixels_train) * digits.pixels_train[0].size
    costs = cost_model.KERAS_OUTSIDE_CLOCK
    fitted = costs.seconds + costs.seconds_per_pixel * pixels + costs.save_seconds
    assert estimate(config, digits).start_seconds == pytest.approx(fitted), "none measured: as fitted"


def test_a_compile_is_measured_against_its_fitted_time_so_factors_do_not_compound():
    epochs = [{"epoch": 1, "seconds": 1.1}, {"epoch": 2, "seconds": 1.2}, {"epoch": 3, "seconds": 1.3}]
    # Said 0.5 s: the fitted 1.0 s scaled by an earlier run's 0.5. It took 1.0 s: as fitted, so the factor is 1,
    # not the 2 that measured / said would give (and the next estimate would then say 2.0 s).
    scaled = ("new shapes", 0.5, 1.0)
    note_run(ended(epochs, 1.4), said(0.8, scaled))
    assert compile_factor("jax", "new shapes") == pytest.approx(1.0)


def test_the_estimate_scales_its_compile_by_the_measured_factor_of_its_case(digits):
    config = TrainingConfig(dataset="digits", metrics=("accuracy",))
    backend = libraries.backend_in_force()
    before = estimate(config, digits)
    assert before.compile_case, "every estimate names its case"
    note_compile(backend, before.compile_case, 1.0, 2.0)
    after = estimate(config, digits)
    assert after.compile_seconds == pytest.approx(2 * before.compile_seconds)
    assert after.fitted_compile_seconds == before.fitted_compile_seconds, "what the next compile is measured against"
    assert after.total_seconds - after.compile_seconds == pytest.approx(before.total_seconds - before.compile_seconds)


def test_the_warm_up_is_estimated_so_its_compile_calibrates_the_next_estimates(digits):
    from core.jobs.start import warm_up

    libraries.load("keras")
    run = warm_up(TrainingConfig(dataset="digits", metrics=("accuracy",)), digits)
    found = run.estimate
    case, seconds, fitted = found.compile_case, found.compile_seconds, found.fitted_compile_seconds
    assert case and seconds > 0 and found.total_seconds > seconds
    if fitted >= MIN_COMPILE_SAID_SECONDS:  # not when this test's process kept the loop of an earlier test
        snap = run.snapshot()
        one_epoch = epoch_pace(snap.epochs) or (found.total_seconds - seconds) / len(snap.epochs)
        expected = (snap.epochs[0]["seconds"] - one_epoch) / fitted
        low, high = COMPILE_FACTOR_RANGE
        assert compile_factor(libraries.backend_in_force(), case) == pytest.approx(min(high, max(low, expected)))


def test_a_network_not_measured_is_counted_then_scaled_as_the_latest_runs_compared_with_their_counts(digits):
    from core.training.paces import COUNT_FACTOR_RANGE, count_factor

    backend = libraries.backend_in_force()
    other = TrainingConfig(dataset="digits", hidden_layers=(48,), metrics=("accuracy",))
    counted_only = estimate(other, digits)
    assert counted_only.pace_basis == cost_model.COUNTED and count_factor(backend) is None, "no run measured yet"
    epochs = [{"epoch": 1, "seconds": 1.0}, {"epoch": 2, "seconds": 1.5}, {"epoch": 3, "seconds": 2.0}]
    # Another network's run: 0.5 s an epoch where its count said 2.0 s.
    note_run(ended(epochs, 2.1), said(counted=2.0, backend=backend))
    assert count_factor(backend) == pytest.approx(0.25)
    scaled = estimate(other, digits)
    assert scaled.pace_basis == cost_model.MACHINE
    assert scaled.seconds_per_epoch == pytest.approx(0.25 * counted_only.seconds_per_epoch)
    assert scaled.counted_seconds_per_epoch == pytest.approx(counted_only.seconds_per_epoch), "what it is measured by"
    for _ in range(5):
        note_run(ended(epochs, 2.1), said(counted=0.001, backend=backend))
    assert count_factor(backend) == COUNT_FACTOR_RANGE[1], "the latest runs only, within bounds"


def test_every_basis_of_an_estimates_pace_has_its_words_on_the_train_page():
    from core.results.lesson_texts import PACE_BASIS

    assert set(PACE_BASIS) == {cost_model.MEASURED, cost_model.SCALED, cost_model.MACHINE, cost_model.COUNTED}
    assert PACE_BASIS[cost_model.COUNTED] == "", "a counted estimate says nothing more"


def baseline_of(config: TrainingConfig, dataset) -> Estimate:
    sizes = len(dataset.pixels_train), dataset.image_shape, dataset.num_classes
    return cost_model.baseline_estimate(config, *sizes, flops_per_second=SPEED, test_images=len(dataset.pixels_test))


def test_a_baseline_run_notes_its_pace_and_the_next_baseline_estimate_goes_by_it(digits):
    config = TrainingConfig(dataset="digits", epochs=3, metrics=("accuracy",))
    assert baseline_of(config, digits).pace_basis == cost_model.COUNTED, "nothing trained yet"
    run = TrainingRun(config, "baseline")
    train_as_a_press(run, digits)
    again = baseline_of(config.replace(seed=5, epochs=4), digits)
    assert again.pace_basis == cost_model.MEASURED
    assert again.seconds_per_epoch == pytest.approx(epoch_pace(run.snapshot().epochs))


def test_before_a_baseline_has_trained_here_its_count_stands_alone(digits):
    from core.training.paces import note_count

    config = TrainingConfig(dataset="digits", metrics=("accuracy",))
    counted_only = baseline_of(config, digits)
    note_count(libraries.backend_in_force(), 2.0)  # the Keras runs took twice their counts: not the baseline's
    after_keras = baseline_of(config, digits)
    assert after_keras.pace_basis == cost_model.COUNTED
    assert after_keras.seconds_per_epoch == pytest.approx(counted_only.seconds_per_epoch)
    note_count(cost_model.BASELINE, 2.0)  # a baseline's own runs did
    assert baseline_of(config, digits).pace_basis == cost_model.MACHINE

"""Measured paces (core.training.paces): a run trained here notes its seconds per epoch, and the next
estimate of its network (core.jobs.budget) goes by them rather than by the FLOP count alone."""

import pytest

from core import libraries
from core.config import TrainingConfig
from core.jobs import budget
from core.training.paces import epoch_pace, note_pace, paces_of
from core.training.run import TrainingRun

SPEED = 50e9  # FLOP/s, fixed: the count must not depend on this machine's calibration


def test_the_pace_is_taken_between_epoch_ends_and_needs_two_of_them():
    assert epoch_pace([]) is None
    assert epoch_pace([{"epoch": 1, "seconds": 4.0}]) is None, "the first epoch's time includes compiling"
    epochs = [{"epoch": 1, "seconds": 4.0}, {"epoch": 2, "seconds": 5.0}, {"epoch": 3, "seconds": 6.5}]
    assert epoch_pace(epochs) == pytest.approx(1.25)


def test_measured_shapes_are_taken_as_measured_others_scaled_as_the_networks_measured_ones():
    def counted(shapes):
        return shapes[0] / 1000

    assert budget.measured_pace({}, (2000, 500, 32), counted) == pytest.approx(2.0), "nothing measured: counted"
    measured = {(1000, 500, 32): 3.0}
    assert budget.measured_pace(measured, (1000, 500, 32), counted) == 3.0
    assert budget.measured_pace(measured, (2000, 500, 32), counted) == pytest.approx(6.0), "3× the count"
    measured[(4000, 500, 32)] = 4.0  # 1× the count: the median of 3× and 1× is 2×
    assert budget.measured_pace(measured, (2000, 500, 32), counted) == pytest.approx(4.0)


def estimate(config: TrainingConfig, dataset) -> budget.Estimate:
    return budget.estimate(config, len(dataset.pixels_train), dataset.image_shape, dataset.num_classes, SPEED)


def counted(monkeypatch, config: TrainingConfig, dataset) -> float:
    """What the FLOP count alone says per epoch for `config` now: the same estimate, no pace looked up."""
    with monkeypatch.context() as patched:
        patched.setattr(budget, "paces_of", lambda backend, signature: {})
        return estimate(config, dataset).seconds_per_epoch


def test_a_trained_run_notes_its_pace_and_the_next_estimate_of_its_network_goes_by_it(digits, monkeypatch):
    from core.training.engine import train

    libraries.load("keras")
    config = TrainingConfig(dataset="digits", epochs=3, batch_size=32, metrics=("accuracy",))
    signature, shapes = budget.run_programs(config, len(digits.pixels_train), digits.image_shape, digits.num_classes)
    backend = libraries.backend_in_force()

    run = TrainingRun(config)
    train(run, digits)
    snap = run.snapshot()
    assert snap.status == "finished", snap.message
    pace = epoch_pace(snap.epochs)
    assert pace is not None and pace > 0
    assert paces_of(backend, signature) == {shapes: pytest.approx(pace)}, "noted by network and shapes"
    note_pace(backend, signature, shapes, 0.0)  # not a pace: ignored
    assert paces_of(backend, signature) == {shapes: pytest.approx(pace)}

    # The same network and shapes, another seed, rate and epoch count: at the measured pace.
    again = estimate(config.replace(seed=9, learning_rate=0.003, epochs=7), digits)
    assert again.seconds_per_epoch == pytest.approx(pace)
    assert again.total_seconds == pytest.approx(again.compile_seconds + 7 * pace)
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
    from core.training.engine import train

    libraries.load("keras")
    config = TrainingConfig(dataset="digits", epochs=2, batch_size=32, metrics=("accuracy",))
    signature, shapes = budget.run_programs(config, len(digits.pixels_train), digits.image_shape, digits.num_classes)
    backend = libraries.backend_in_force()
    run = TrainingRun(config)
    train(run, digits)
    first = paces_of(backend, signature)[shapes]
    run.prepare_more_epochs(2)
    train(run, digits, extra_epochs=2)
    assert run.snapshot().status == "finished" and len(run.snapshot().epochs) == 4
    assert paces_of(backend, signature)[shapes] == first


def test_a_run_of_one_epoch_notes_no_pace(digits):
    from core.training.engine import warm_up

    config = TrainingConfig(dataset="digits", metrics=("accuracy",))
    signature, _ = budget.run_programs(config, len(digits.pixels_train), digits.image_shape, digits.num_classes)
    warm_up(config, digits)
    assert paces_of(libraries.backend_in_force(), signature) == {}

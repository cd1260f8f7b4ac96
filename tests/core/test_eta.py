"""The time left (core.training.eta): a run's own pace leaves out compiling before the first batch; a press
counts the runs still to train by their estimates."""

from types import SimpleNamespace

import pytest

from core.training.eta import seconds_left as seconds_left_of_runs
from core.training.paces import Estimate


def seconds_left(snap):
    """The time left of one run."""
    return seconds_left_of_runs([snap])


def snapshot(batches, epochs=(), elapsed=None, total_epochs=5, steps_per_epoch=10, status="running", estimate=None):
    return SimpleNamespace(
        status=status,
        estimate=estimate,
        batches=tuple(batches),
        epochs=tuple(epochs),
        steps_per_epoch=steps_per_epoch,
        total_epochs=total_epochs,
        elapsed_seconds=elapsed if elapsed is not None else batches[-1]["seconds"],
    )


def test_compiling_before_the_first_batch_does_not_inflate_what_is_left():
    # 4 s compiling, then 0.1 s a step: 40 of the 50 steps remain after step 10 at 5 s.
    batches = [{"epoch": 1, "step": step, "seconds": 4.0 + 0.1 * step} for step in range(1, 11)]
    assert abs(seconds_left(snapshot(batches)) - 4.0) < 0.01


def test_the_first_epochs_end_counts_once_as_it_also_compiled_the_passes_to_come():
    # Epoch 1: steps of 0.1 s, then its end took 1 s (6 s → 7 s): its validation pass, and compiling the
    # programs every later pass reuses. Epoch 2 has begun.
    batches = [{"epoch": 1, "step": step, "seconds": 5.0 + 0.1 * step} for step in range(1, 11)]
    batches += [{"epoch": 2, "step": step, "seconds": 7.0 + 0.1 * step} for step in range(1, 6)]
    left = seconds_left(snapshot(batches, epochs=[{"epoch": 1, "seconds": 7.0}]))
    assert abs(left - (35 * 0.1 + 1.0)) < 0.2  # the steps to come, and that end's time once


def test_after_two_epochs_the_time_between_epoch_ends_sets_the_pace():
    epochs = [{"epoch": 1, "seconds": 7.0}, {"epoch": 2, "seconds": 9.0}]
    batches = [{"epoch": 1, "step": 10, "seconds": 6.0}, {"epoch": 3, "step": 5, "seconds": 10.0}]
    # 2.5 epochs to go at 2 s an epoch, and the test pass (epoch 1's end took 1 s after its last batch).
    assert abs(seconds_left(snapshot(batches, epochs=epochs)) - 6.0) < 0.01


def test_the_latest_epoch_end_counts_not_the_first_which_also_compiled():
    # Epoch 1's end took 1 s after its last batch (compiling the predict step), epoch 2's only 0.2 s.
    epochs = [{"epoch": 1, "seconds": 7.0}, {"epoch": 2, "seconds": 9.0}]
    batches = [{"epoch": 1, "step": 10, "seconds": 6.0}, {"epoch": 2, "step": 10, "seconds": 8.8}]
    batches += [{"epoch": 3, "step": 5, "seconds": 10.0}]
    # 2.5 epochs to go at 2 s an epoch, and the test pass at epoch 2's 0.2 s.
    assert abs(seconds_left(snapshot(batches, epochs=epochs)) - 5.2) < 0.01


def test_nothing_is_said_before_the_pace_is_known_and_nothing_is_left_once_the_run_is_over():
    one = [{"epoch": 1, "step": 1, "seconds": 4.0}]
    assert seconds_left(snapshot(one)) is None
    batches = [*one, {"epoch": 1, "step": 5, "seconds": 5.0}]
    assert seconds_left(snapshot(batches, status="finished")) == 0.0


def estimated(seconds: float) -> Estimate:
    return Estimate(seconds_per_epoch=seconds / 5, total_seconds=seconds, memory_mb=1.0, train_images=100, epochs=5)


def test_a_press_counts_the_runs_still_to_train_by_their_estimates():
    batches = [{"epoch": 1, "step": step, "seconds": 4.0 + 0.1 * step} for step in range(1, 11)]
    keras = snapshot(batches, estimate=estimated(9.0))
    baseline = snapshot((), elapsed=0.0, status="queued", estimate=estimated(12.0))
    assert seconds_left_of_runs([keras, baseline]) == pytest.approx(4.0 + 12.0), "its own pace, then the estimate"
    done = snapshot(batches, status="finished", estimate=estimated(9.0))
    assert seconds_left_of_runs([done, baseline]) == pytest.approx(12.0)
    assert seconds_left_of_runs([snapshot((), elapsed=0.0, status="queued")]) is None, "no estimate to go by"


def test_before_its_pace_is_known_a_run_has_what_is_left_of_its_estimate():
    one = [{"epoch": 1, "step": 1, "seconds": 4.0}]
    assert seconds_left(snapshot(one, elapsed=5.0, estimate=estimated(9.0))) == pytest.approx(4.0)
    assert seconds_left(snapshot(one, elapsed=12.0, estimate=estimated(9.0))) == 0.0, "never below nothing"

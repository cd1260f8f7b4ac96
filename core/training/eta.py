"""How long runs have left: a running run's by its own pace, a waiting one's by its estimate.

The first batch arrives only after the training step is compiled (most of a small run's time), so
elapsed time over progress would count that compiling again for every step still to come. Here the
pace leaves the compiling out: once two epochs have ended, the time between their ends (steps and
validation pass alike); before that, the time per step since the first batch, plus what the latest
epoch's end took after its last batch, once: the first epoch's end also compiles the programs of the
passes to come, so it is not counted for every end still to come. After the last epoch the run scores
its test images, about one validation pass more. Before its pace is known, a run has what is left of
its estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.training.paces import epoch_pace
from core.training.run import QUEUED, RUNNING, RunSnapshot

# The pace needs this much of the run behind it to be worth showing.
MIN_SPAN_SECONDS = 0.3
MIN_STEPS = 2


def seconds_left(snapshots: Sequence[RunSnapshot]) -> float | None:
    """Seconds these runs still need, trained in turn (one press: Keras, then the baseline; or a race's
    variants); None while one of them has neither a pace nor an estimate to go by."""
    total = 0.0
    for snap in snapshots:
        left = _run_seconds_left(snap)
        if left is None:
            return None
        total += left
    return total


def _run_seconds_left(snap: RunSnapshot) -> float | None:
    """One run's: none once it has ended, its estimate while it waits, its own pace while it runs."""
    if snap.status == QUEUED:
        return snap.estimate.total_seconds if snap.estimate else None
    if snap.status != RUNNING:
        return 0.0
    left = _seconds_left_by_pace(snap)
    if left is None and snap.estimate:
        return max(0.0, snap.estimate.total_seconds - snap.elapsed_seconds)
    return left


def _seconds_left_by_pace(snap: RunSnapshot) -> float | None:
    """What a running run still needs at the pace of its own batches and epochs; None while that is unknown."""
    if len(snap.batches) < 2 or snap.steps_per_epoch <= 0:
        return None
    steps = snap.steps_per_epoch
    last = snap.batches[-1]
    done = _steps_done(last, steps)
    to_do = snap.total_epochs * steps - done
    since_last = snap.elapsed_seconds - last["seconds"]
    epochs = snap.epochs
    # What an epoch's end (its validation pass) takes after its last batch: the latest epoch's, since
    # the first one's also compiled the predict step.
    epoch_end = _end_after_last_batch(snap, epochs)
    per_epoch = epoch_pace(epochs)
    if per_epoch is not None:
        return max(0.0, to_do / steps * per_epoch + epoch_end - since_last)
    first = snap.batches[0]
    span = last["seconds"] - first["seconds"] - (epoch_end if last["epoch"] > first["epoch"] else 0.0)
    if span < MIN_SPAN_SECONDS or done - _steps_done(first, steps) < MIN_STEPS:
        return None
    pace = span / (done - _steps_done(first, steps))  # seconds per step, the epoch end left out
    return max(0.0, to_do * pace + epoch_end - since_last)


def _end_after_last_batch(snap: RunSnapshot, epochs: Sequence[dict]) -> float:
    """Seconds from the last batch of the latest ended epoch that has batches on record to its end."""
    for epoch in reversed(epochs):
        in_epoch = [point["seconds"] for point in snap.batches if point["epoch"] == epoch["epoch"]]
        if in_epoch:
            return max(0.0, epoch["seconds"] - max(in_epoch))
    return 0.0


def _steps_done(point: dict, steps_per_epoch: int) -> int:
    return (point["epoch"] - 1) * steps_per_epoch + point["step"]

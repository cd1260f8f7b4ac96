"""How long a running run has left, from the pace of its own batches since the first one.

The first batch arrives only after the training step is compiled (most of a small run's time), so
elapsed time over progress counts that compiling again for every step still to come: on the digits
it said "about 15 s left" 4 s into a 7 s run. The pace since the first batch has no compiling in
it, and once an epoch has ended it includes the validation pass too.
"""

from __future__ import annotations

# The pace needs this much of the run behind it (after the first batch) to be worth showing.
MIN_SPAN_SECONDS = 0.3
MIN_STEPS = 2


def seconds_left(snap) -> float | None:
    """Seconds the run still needs, or None while its pace is not yet known (a RunSnapshot in, a number out)."""
    if snap.status != "running" or len(snap.batches) < 2 or snap.steps_per_epoch <= 0:
        return None
    first, last = snap.batches[0], snap.batches[-1]
    done_first, done_last = _steps_done(first, snap.steps_per_epoch), _steps_done(last, snap.steps_per_epoch)
    span = last["seconds"] - first["seconds"]
    if span < MIN_SPAN_SECONDS or done_last - done_first < MIN_STEPS:
        return None
    pace = span / (done_last - done_first)  # seconds per step, validation passes included once one has run
    since_last = snap.elapsed_seconds - last["seconds"]
    return max(0.0, (snap.total_epochs * snap.steps_per_epoch - done_last) * pace - since_last)


def _steps_done(point: dict, steps_per_epoch: int) -> int:
    return (point["epoch"] - 1) * steps_per_epoch + point["step"]

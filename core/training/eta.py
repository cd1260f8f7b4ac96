"""How long a running run has left, from the pace of its own batches and epochs.

The first batch arrives only after the training step is compiled (most of a small run's time), so
elapsed time over progress counts that compiling again for every step still to come: on the digits
it said "about 15 s left" 4 s into a 7 s run. Here the pace leaves the compiling out: once two
epochs have ended, the time between their ends (steps and validation pass alike); before that, the
time per step since the first batch, plus what the first epoch's end took after its last batch, once:
besides its validation pass it compiled the programs of the passes to come (Fashion-MNIST on JAX:
0.126 s, against 0.007–0.008 s for each later end; counted for every end still to come, as it was,
"left" said +85 to +137 % until the second epoch ended, twelfth session). After two epochs, the time
between their ends counts the validation passes, and the latest end counts once for the test images.
"""

from __future__ import annotations

from core.training.paces import epoch_pace

# The pace needs this much of the run behind it to be worth showing.
MIN_SPAN_SECONDS = 0.3
MIN_STEPS = 2


def seconds_left(snap) -> float | None:
    """Seconds the run still needs, or None while its pace is not yet known (a RunSnapshot in, a number out)."""
    if snap.status != "running" or len(snap.batches) < 2 or snap.steps_per_epoch <= 0:
        return None
    steps = snap.steps_per_epoch
    last = snap.batches[-1]
    done = _steps_done(last, steps)
    to_do = snap.total_epochs * steps - done
    since_last = snap.elapsed_seconds - last["seconds"]
    epochs = snap.epochs
    # What an epoch's end (its validation pass) takes after its last batch: the latest epoch's, since
    # the first one's also compiled the predict step (and said +51 % at 75 % of a 4.5 s run).
    epoch_end = _end_after_last_batch(snap, epochs)
    # After the last epoch the run scores its test images: about one validation pass more.
    per_epoch = epoch_pace(epochs)
    if per_epoch is not None:
        return max(0.0, to_do / steps * per_epoch + epoch_end - since_last)
    first = snap.batches[0]
    span = last["seconds"] - first["seconds"] - (epoch_end if last["epoch"] > first["epoch"] else 0.0)
    if span < MIN_SPAN_SECONDS or done - _steps_done(first, steps) < MIN_STEPS:
        return None
    pace = span / (done - _steps_done(first, steps))  # seconds per step, the epoch end left out
    return max(0.0, to_do * pace + epoch_end - since_last)


def _end_after_last_batch(snap, epochs) -> float:
    """Seconds from the last batch of the latest ended epoch that has batches on record to its end."""
    for epoch in reversed(epochs):
        in_epoch = [point["seconds"] for point in snap.batches if point["epoch"] == epoch["epoch"]]
        if in_epoch:
            return max(0.0, epoch["seconds"] - max(in_epoch))
    return 0.0


def _steps_done(point: dict, steps_per_epoch: int) -> int:
    return (point["epoch"] - 1) * steps_per_epoch + point["step"]

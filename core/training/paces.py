"""What this process's runs measured, for the next estimate: seconds per epoch by network and array
shapes, and how long compiling took against what the estimate said.

The estimate before a run (core.jobs.budget) counts FLOPs at numpy's speed on this machine, plus
overheads and compile times fitted in one session. A shared machine's speed moves by more than that
between sessions: Fashion-MNIST's lesson run, estimated the same, took 2.7–4.4 s in one session and
1.8–2.3 s in the next (+60–75 % said), and the digits' compiles took 1.5–2.5× what the session before
had measured. A run that has trained here says how fast this machine is now, so each run trained
alone notes what it measured (note_run, from core.training.engine.train), and the estimate uses it:
the same network and shapes at their pace, the same network at other shapes scaled by it, and every
compile scaled by how the latest ones compared with their estimates. Keras-free.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from collections.abc import Sequence

# Measured seconds per epoch, by (backend, step signature) and then run_shapes (core.training.kept_loops).
_paces: dict[tuple, dict[tuple, float]] = {}
_lock = threading.Lock()
# Networks whose paces are kept, the most recently noted last; each holds a few shapes.
MAX_NETWORKS = 32
# What a run took after its last epoch (its test images scored, its weights copied), by (backend, signature),
# as the latest run that compiled nothing measured it: a network's first run also compiles its predict
# program then (the digits' warm-up: 0.3 s, against 0.04 s for the runs after it).
_ends: dict[tuple, float] = {}
# The latest runs' measured compile over the estimate's, by (backend, case) and by (backend, None) for all
# cases: their median scales the next estimate of the case.
_compile_ratios: dict[tuple, deque] = {}
COMPILE_RATIOS_KEPT = 5
# The latest runs' measured pace over their FLOP count's (core.jobs.budget.Estimate.counted_seconds_per_epoch),
# whatever their network, by backend: a network not measured here yet is counted, then scaled by their median
# (count_factor). The count's per-step and per-epoch costs are fitted on one session's machine
# (core.jobs.budget.JAX_COSTS): before their refit, Fashion-MNIST's and the digits' runs took a third of it.
_count_ratios: dict[str, deque] = {}
COUNT_RATIOS_KEPT = 5
COUNT_FACTOR_RANGE = (1 / 5, 5.0)
# Compiles the estimate puts below this are a kept loop's few hundredths of a second: their ratio is noise.
MIN_COMPILE_SAID_SECONDS = 0.2
COMPILE_FACTOR_RANGE = (1 / 3, 3.0)
# From this many epoch records on, the pace of a run that compiled leaves out its second epoch too (epoch_pace).
SETTLED_FROM_EPOCHS = 3
# A run of one epoch takes its pace from its live updates (steps_pace) when its epoch has this many steps
# (Fashion-MNIST's and MNIST's 1,688 at batch 32), from at least this many updates (20 or more an epoch).
MIN_STEPS_FOR_STEPS_PACE = 200
MIN_UPDATES_FOR_STEPS_PACE = 8


def epoch_pace(epochs: list[dict], compiled: bool = False) -> float | None:
    """Seconds per epoch from a run's epoch records ({"epoch", "seconds"}), between the ends of its first
    and latest epochs: the first epoch's own time also counts compiling. A run that `compiled` counts
    from its second epoch's end when it has three or more: its second epoch is the first executions of
    the programs it compiled (the digits: 0.037–0.052 s, against 0.015–0.024 s for a second epoch of
    programs run before, and 0.007 s for the epochs after). None below two epochs."""
    if len(epochs) < 2 or epochs[-1]["epoch"] <= epochs[0]["epoch"]:
        return None
    start = epochs[1] if compiled and len(epochs) >= SETTLED_FROM_EPOCHS else epochs[0]
    return (epochs[-1]["seconds"] - start["seconds"]) / (epochs[-1]["epoch"] - start["epoch"])


def steps_pace(batches: Sequence[dict], steps_per_epoch: int) -> float | None:
    """Seconds per epoch from a one-epoch run's live updates ({"epoch", "step", "seconds"}): its steps from
    its middle update to its last, at their rate, for all the epoch's steps. The first updates count
    compiling and the first executions. What follows the last update (the validation pass, which on a
    first epoch compiles its own program) is left out: Fashion-MNIST's later epochs spend 0.007 s there,
    against 0.19 s in their 1,688 steps. None for an epoch of fewer than MIN_STEPS_FOR_STEPS_PACE steps
    (the digits' 41: their steps are not most of an epoch) or with too few updates to take a rate from."""
    updates = [batch for batch in batches if batch["epoch"] == 1]
    if steps_per_epoch < MIN_STEPS_FOR_STEPS_PACE or len(updates) < MIN_UPDATES_FOR_STEPS_PACE:
        return None
    middle, last = updates[len(updates) // 2], updates[-1]
    if last["step"] <= middle["step"] or last["seconds"] <= middle["seconds"]:
        return None
    return (last["seconds"] - middle["seconds"]) / (last["step"] - middle["step"]) * steps_per_epoch


def note_pace(backend: str, signature: tuple, shapes: tuple, seconds_per_epoch: float) -> None:
    """A run of this network and these shapes trained its epochs at `seconds_per_epoch` (the latest counts)."""
    if not seconds_per_epoch > 0:
        return
    with _lock:
        network = (backend, signature)
        known = _paces.pop(network, {})
        known[shapes] = seconds_per_epoch
        _paces[network] = known  # the most recently noted last
        while len(_paces) > MAX_NETWORKS:
            del _paces[next(iter(_paces))]


def paces_of(backend: str, signature: tuple) -> dict[tuple, float]:
    """The measured seconds per epoch of this network on `backend`, by run_shapes (empty: none measured)."""
    with _lock:
        return dict(_paces.get((backend, signature), {}))


def end_seconds(backend: str, signature: tuple) -> float:
    """What this network's latest run that compiled nothing took after its last epoch here (0: none measured)."""
    with _lock:
        return _ends.get((backend, signature), 0.0)


def note_compile(backend: str, case: str, fitted_seconds: float, measured_seconds: float) -> None:
    """A run's compiling, of the estimate's `case` (core.jobs.budget.EngineCosts.compile_case), took
    measured_seconds where the estimate's fitted time for it, before any scaling, is fitted_seconds."""
    if fitted_seconds < MIN_COMPILE_SAID_SECONDS:
        return
    ratio = max(0.0, measured_seconds) / fitted_seconds
    with _lock:
        for key in ((backend, case), (backend, None)):  # the case's own, and all of the backend's
            _compile_ratios.setdefault(key, deque(maxlen=COMPILE_RATIOS_KEPT)).append(ratio)


def compile_factor(backend: str, case: str) -> float:
    """What to scale an estimate's compile of `case` by on `backend`: how the latest such compiles compared
    with their estimates, else the latest of any case (1: none measured)."""
    with _lock:
        ratios = list(_compile_ratios.get((backend, case)) or _compile_ratios.get((backend, None), ()))
    low, high = COMPILE_FACTOR_RANGE
    return min(high, max(low, statistics.median(ratios))) if ratios else 1.0


def count_factor(backend: str) -> float | None:
    """What to scale a FLOP count of seconds per epoch by on `backend`: the median of the latest runs'
    measured paces over their counts, within COUNT_FACTOR_RANGE (None: no run measured yet)."""
    with _lock:
        ratios = list(_count_ratios.get(backend, ()))
    if not ratios:
        return None
    low, high = COUNT_FACTOR_RANGE
    return min(high, max(low, statistics.median(ratios)))


def note_run(
    backend: str,
    signature: tuple,
    shapes: tuple,
    epochs: list[dict],
    total_epochs: int,
    run_seconds: float,
    estimated_seconds: float | None = None,
    estimated_compile: tuple[str, float, float] | None = None,
    batches: Sequence[dict] = (),
    steps_per_epoch: int = 0,
    counted_seconds_per_epoch: float | None = None,
) -> None:
    """A run trained alone has ended, after run_seconds by its clock (its epoch records, {"epoch",
    "seconds"}, from its first epoch): note its pace (epoch_pace, where a run estimated to compile is one
    that compiled; for a run of one epoch, steps_pace from its live updates, `batches`). When it was
    estimated (core.jobs.start; estimated_compile is (case, seconds said, seconds fitted), as
    core.jobs.budget.Estimate has them), note its compile against the fitted seconds: its first epoch's
    end less one epoch at its pace (the estimate's, without one); or, if it was to compile nothing, what it
    took after its last epoch. And with counted_seconds_per_epoch, what the FLOP count said per epoch, note
    how its pace compared with it (count_factor)."""
    # Estimated to compile (its fitted compile above a kept loop's hundredths): its second epoch runs slowly too.
    compiled = estimated_compile is not None and estimated_compile[2] >= MIN_COMPILE_SAID_SECONDS
    pace = epoch_pace(epochs, compiled)
    if pace is None and len(epochs) == 1:
        pace = steps_pace(batches, steps_per_epoch)
    if pace is not None:
        note_pace(backend, signature, shapes, pace)
        if counted_seconds_per_epoch:
            with _lock:
                ratios = _count_ratios.setdefault(backend, deque(maxlen=COUNT_RATIOS_KEPT))
                ratios.append(pace / counted_seconds_per_epoch)
    if estimated_seconds is None or estimated_compile is None or not epochs or epochs[0]["epoch"] != 1:
        return
    case, said, fitted = estimated_compile
    if not compiled and run_seconds >= epochs[-1]["seconds"]:
        with _lock:
            _ends[backend, signature] = run_seconds - epochs[-1]["seconds"]
    one_epoch = pace if pace is not None else (estimated_seconds - said) / max(1, total_epochs)
    note_compile(backend, case, fitted, epochs[0]["seconds"] - one_epoch)


def forget_paces() -> None:
    with _lock:
        _paces.clear()
        _ends.clear()
        _compile_ratios.clear()
        _count_ratios.clear()

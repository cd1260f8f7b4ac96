"""What a run is expected to cost (Estimate), and what this process's runs measured: the paces the next estimate learns.

The cost model (core.training.estimate) counts FLOPs at numpy's speed on this machine, plus overheads and
compile times fitted on one machine. A shared machine's speed moves by more than that from hour to hour,
so each run trained alone notes here what it measured (core.training.estimate.note_run), and the next
estimate goes by it: the same network and shapes at their pace, the same network at other shapes scaled
by it, any other network scaled as the latest runs compared with their counts, and every compile scaled
as the latest ones compared with theirs. Keras-free and import-free, so the run record can carry an Estimate.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

# Estimate.pace_basis: what its seconds per epoch come from (core.training.estimate.measured_pace).
MEASURED, SCALED, MACHINE, COUNTED = "measured", "scaled", "machine", "counted"


@dataclass(frozen=True)
class Estimate:
    """What a run, or a press of several runs, is expected to cost here, and what it is measured by once trained."""

    seconds_per_epoch: float
    total_seconds: float
    memory_mb: float
    train_images: int
    epochs: int
    # once per run, in its press but outside its clock: before it (its split, its model built), after it, and
    # its record and model saved
    start_seconds: float = 0.0
    compile_seconds: float = 0.0  # once per run, before the first step
    compile_case: str = ""  # which of the cost model's compile cases it is
    # compile_seconds as fitted, before the latest measured compiles scaled it: what a run's compile is measured
    # against (note_compile), so one measured ratio does not compound into the next.
    fitted_compile_seconds: float = 0.0
    pace_basis: str = COUNTED  # what seconds_per_epoch comes from
    # What the FLOP count alone says per epoch: a run measures the count by it (count_factor).
    counted_seconds_per_epoch: float = 0.0
    end_seconds: float = 0.0  # once, after the last epoch (the test images scored)
    epoch_overhead_seconds: float = 0.0  # of seconds_per_epoch, whatever the images
    # Once per run for fewer images (a subsample: other array shapes, so programs compiled for the full data
    # do not serve it); None: as compile_seconds.
    subsample_compile_seconds: float | None = None
    # Whose pace it is (a Keras backend, or the baseline's) and what it is kept by: the step signature and the
    # run's array shapes (core.training.kept_loops.step_signature, run_shapes). None for a press of several runs.
    backend: str = ""
    signature: tuple | None = None
    shapes: tuple | None = None


# Measured seconds per epoch, by (backend, step signature) and then run_shapes (core.training.kept_loops): the
# latest PACES_KEPT runs', whose median is the pace, so one run slowed by a busy neighbour does not decide the next
# estimate alone.
_paces: dict[tuple, dict[tuple, deque]] = {}
PACES_KEPT = 3
_lock = threading.Lock()
# Networks whose paces are kept, the most recently noted last; each holds a few shapes.
MAX_NETWORKS = 32
# A network's once-a-run costs, as its latest run measured them, by (cost, backend, step signature):
# - RUN_END: after its last epoch (its test images scored, its weights copied), by a run that compiled nothing
#   (a network's first run also compiles its predict program then);
# - OUTSIDE_CLOCK: in its job but outside its clock (core.training.run's fit time): its split and model before
#   the clock, whatever follows it; by a run that compiled nothing, as RUN_END;
# - SAVE: its record and model saved after its job (core.results.experiments.SavingJob), inside its press.
RUN_END, OUTSIDE_CLOCK, SAVE = "run end", "outside clock", "save"
_latest: dict[tuple, float] = {}
# The latest runs' measured compile over the estimate's, by (backend, case) and by (backend, None) for all
# cases: their median scales the next estimate of the case.
_compile_ratios: dict[tuple, deque] = {}
COMPILE_RATIOS_KEPT = 5
# The latest runs' measured pace over their FLOP count's (Estimate.counted_seconds_per_epoch), whatever their
# network, by backend: a network not measured here yet is counted, then scaled by their median (count_factor).
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


def epoch_pace(epochs: Sequence[dict], compiled: bool = False) -> float | None:
    """Seconds per epoch from a run's epoch records ({"epoch", "seconds"}), between the ends of its first
    and latest epochs: the first epoch's own time also counts compiling. A run that `compiled` counts
    from its second epoch's end when it has three or more: its second epoch is the first executions of
    the programs it compiled, slower than the epochs after it. None below two epochs."""
    if len(epochs) < 2 or epochs[-1]["epoch"] <= epochs[0]["epoch"]:
        return None
    start = epochs[1] if compiled and len(epochs) >= SETTLED_FROM_EPOCHS else epochs[0]
    return (epochs[-1]["seconds"] - start["seconds"]) / (epochs[-1]["epoch"] - start["epoch"])


def steps_pace(batches: Sequence[dict], steps_per_epoch: int) -> float | None:
    """Seconds per epoch from a one-epoch run's live updates ({"epoch", "step", "seconds"}): its steps from
    its middle update to its last, at their rate, for all the epoch's steps. The first updates count
    compiling and the first executions; what follows the last update (the validation pass, which on a
    first epoch compiles its own program) is left out. None for an epoch of fewer than
    MIN_STEPS_FOR_STEPS_PACE steps (their steps are not most of an epoch) or with too few updates."""
    updates = [batch for batch in batches if batch["epoch"] == 1]
    if steps_per_epoch < MIN_STEPS_FOR_STEPS_PACE or len(updates) < MIN_UPDATES_FOR_STEPS_PACE:
        return None
    middle, last = updates[len(updates) // 2], updates[-1]
    if last["step"] <= middle["step"] or last["seconds"] <= middle["seconds"]:
        return None
    return (last["seconds"] - middle["seconds"]) / (last["step"] - middle["step"]) * steps_per_epoch


def note_pace(backend: str, signature: tuple, shapes: tuple, seconds_per_epoch: float) -> None:
    """A run of this network and these shapes trained its epochs at `seconds_per_epoch`."""
    if not seconds_per_epoch > 0:
        return
    with _lock:
        network = (backend, signature)
        known = _paces.pop(network, {})
        known.setdefault(shapes, deque(maxlen=PACES_KEPT)).append(seconds_per_epoch)
        _paces[network] = known  # the most recently noted last
        while len(_paces) > MAX_NETWORKS:
            del _paces[next(iter(_paces))]


def paces_of(backend: str, signature: tuple) -> dict[tuple, float]:
    """The measured seconds per epoch of this network on `backend`, by run_shapes: the median of the latest
    PACES_KEPT runs' (empty: none measured)."""
    with _lock:
        return {shapes: statistics.median(kept) for shapes, kept in _paces.get((backend, signature), {}).items()}


def note_latest(cost: str, backend: str, signature: tuple, seconds: float) -> None:
    """A run of this network measured `seconds` of its once-a-run `cost` (RUN_END, OUTSIDE_CLOCK, SAVE)."""
    with _lock:
        _latest[cost, backend, signature] = max(0.0, seconds)


def latest(cost: str, backend: str, signature: tuple) -> float | None:
    """This network's once-a-run `cost` as its latest run measured it here (None: none measured)."""
    with _lock:
        return _latest.get((cost, backend, signature))


def note_compile(backend: str, case: str, fitted_seconds: float, measured_seconds: float) -> None:
    """A run's compiling, of the estimate's `case` (Estimate.compile_case), took measured_seconds where the
    estimate's fitted time for it, before any scaling, is fitted_seconds."""
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


def note_count(backend: str, ratio: float) -> None:
    """A run's measured pace was `ratio` times what its FLOP count said."""
    with _lock:
        _count_ratios.setdefault(backend, deque(maxlen=COUNT_RATIOS_KEPT)).append(ratio)


def count_factor(backend: str) -> float | None:
    """What to scale a FLOP count of seconds per epoch by on `backend`: the median of the latest runs'
    measured paces over their counts, within COUNT_FACTOR_RANGE (None: no run measured yet)."""
    with _lock:
        ratios = list(_count_ratios.get(backend, ()))
    if not ratios:
        return None
    low, high = COUNT_FACTOR_RANGE
    return min(high, max(low, statistics.median(ratios)))


def forget_paces() -> None:
    """Forget every measurement (a test's fresh start)."""
    with _lock:
        _paces.clear()
        _latest.clear()
        _compile_ratios.clear()
        _count_ratios.clear()

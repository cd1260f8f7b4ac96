"""What a press of Train will cost here, before it starts: the engines' cost models, and what their runs teach them.

A Keras run's estimate counts the model's floating-point operations per image (core.training.architecture,
no Keras) and divides by this machine's measured speed: one calibration batch of the model's largest matrix
product, timed in numpy. That needs no Keras, so it is safe in a page's thread while another session trains,
and costs milliseconds. Training costs about three forward passes (forward, plus gradients for inputs and
weights), less the first layer's gradient for its inputs (the images need none); XLA's fused kernels run at
about numpy's BLAS speed on a CPU. What the count misses (the step loop, each epoch's set-up, compiling) is
EngineCosts, fitted by bench/estimate_shapes.py. The scikit-learn baseline is counted the same way, with its
own overheads (bench/estimate_press.py prints what refits them). A run trained alone measures its estimate
(note_run), and the next estimates learn from it (core.training.paces).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core import libraries
from core.config import TrainingConfig
from core.data.splits import run_sizes
from core.training.architecture import CONV2D, DENSE, network_layers
from core.training.baseline import SLICES_PER_EPOCH, baseline_settings
from core.training.engine import speed_settings, steps_per_update
from core.training.hidden_map_recording import SAMPLE_SIZE
from core.training.kept_loops import (
    kept_loops,
    loop_programs,
    programs_on_disk,
    run_shapes,
    step_signature,
    trained_shapes,
)
from core.training.paces import (
    COUNTED,
    MACHINE,
    MEASURED,
    MIN_COMPILE_SAID_SECONDS,
    OUTSIDE_CLOCK,
    RUN_END,
    SAVE,
    SCALED,
    Estimate,
    compile_factor,
    count_factor,
    epoch_pace,
    latest,
    note_compile,
    note_count,
    note_latest,
    note_pace,
    paces_of,
    steps_pace,
)
from core.training.run import RunSnapshot

# Forward + backward (gradients for the inputs and for the weights) ≈ 3 forward passes.
TRAINING_PASSES = 3
# The baseline's paces and count ratios are kept under this name, beside the Keras backends' (core.training.paces).
BASELINE = "sklearn"
FLOAT_BYTES = 4
# Weights, their gradients and Adam's two moments.
COPIES_OF_WEIGHTS = 4
# Activations are kept for the backward pass, in a couple of forms.
COPIES_OF_ACTIVATIONS = 3
CALIBRATION_TRIES = 20
MB = 1024 * 1024
# A run estimated below this is said "under 0.5 s" (run_duration_text): watched on its page, such a run takes up
# to twice what it takes unwatched, as the page draws its first point beside it.
SHORT_RUN_SECONDS = 0.5

# Keras's convolutions on TensorFlow, in multiples of numpy's products of the same FLOPs (bench/cnn_speed.py).
CONV_SLOWDOWN = 5.5


@dataclass(frozen=True)
class EngineCosts:
    """What the FLOP count misses, fitted to the engine's measured times on one backend and setting:
    per step (the step loop, the live callback), per epoch (the validation pass's set-up, the hidden
    map), and once (compiling or tracing the step and predict programs)."""

    compile_seconds: float
    seconds_per_step: float
    seconds_per_epoch: float
    conv_slowdown: float = CONV_SLOWDOWN
    # Which of engine_costs' cases the compile is: runs measure each case's estimate (core.training.paces).
    compile_case: str = ""


# TensorFlow with XLA, for runs of many steps (core.training.engine.speed_settings); bench/estimate_shapes.py refits it.
TENSORFLOW_XLA = EngineCosts(compile_seconds=4.0, seconds_per_step=0.0011, seconds_per_epoch=0.2, compile_case="xla")
# TensorFlow without XLA, for small runs: tracing costs less than compiling; bench/estimate_shapes.py refits it.
TENSORFLOW_GRAPH = EngineCosts(
    compile_seconds=2.0, seconds_per_step=0.0016, seconds_per_epoch=0.2, compile_case="graph"
)
# JAX (core.training.jax_fit) compiling a process's first network with no cache to load from; its convolutions,
# products of patches (core.training.jax_layers), run nearer the FLOP floor. bench/estimate_shapes.py refits it.
JAX_COSTS = EngineCosts(
    compile_seconds=1.2, seconds_per_step=0.00004, seconds_per_epoch=0.003, conv_slowdown=2.5, compile_case="no cache"
)
# Once per run on JAX when XLA's compiled-program cache holds this network's programs for these shapes
# (core.training.kept_loops.programs_on_disk); bench/estimate_shapes.py refits it.
JAX_KEPT_COMPILE_SECONDS = 0.25
# The same for a process's first run, which also builds Keras's first model; bench/estimate_shapes.py refits it.
JAX_FIRST_RUN_COMPILE_SECONDS = 0.9
# A network and shapes whose programs are not in the cache, in a warm process; bench/estimate_shapes.py refits it.
JAX_NEW_NETWORK_COMPILE_SECONDS = 1.2
# A run whose training loop this process keeps traced starts at once (core.training.kept_loops).
JAX_KEPT_LOOP_COSTS = dataclasses.replace(JAX_COSTS, compile_seconds=0.01, compile_case="kept loop")
# Each program a kept loop compiles for shapes it has not trained (core.training.kept_loops.loop_programs);
# bench/estimate_shapes.py refits it.
JAX_LOOP_PROGRAM_COMPILE_SECONDS = 0.55
# A validation split the kept forward pass has not scored (a new window size); bench/estimate_shapes.py refits it.
JAX_NEW_VALIDATION_COMPILE_SECONDS = 0.05
# New shapes whose programs an earlier process left in the cache folder; bench/estimate_shapes.py refits it.
JAX_SHAPES_ON_DISK_SECONDS = 0.25
# After a Keras run's last epoch (its test images scored, its weights copied), until a run that compiled
# nothing has measured it here (core.training.paces.RUN_END); bench/estimate_shapes.py refits it.
RUN_END_SECONDS = 0.005

# The baseline's FLOPs (scikit-learn's float32 products, one BLAS thread), in multiples of the calibration's time;
# bench/estimate_press.py prints its runs' paces over this count, to refit it by.
BASELINE_FLOP_SLOWDOWN = 2.5
# Each of the baseline's steps beside its FLOPs (scikit-learn's batch indexing, its Python);
# bench/estimate_press.py prints its runs' paces over this count, to refit it by.
BASELINE_SECONDS_PER_STEP = 0.00025
# Each step's Adam update, per weight (a few elementwise passes); bench/estimate_press.py's paces refit it.
BASELINE_SECONDS_PER_WEIGHT_STEP = 3e-9
# Each baseline epoch's set-up beside its scoring passes (records, weight copies); bench/estimate_press.py's paces
# refit it.
BASELINE_SECONDS_PER_EPOCH = 0.025


@dataclass(frozen=True)
class OutsideClockCosts:
    """A run's time in its press but outside its clock, as fitted, until a run of its network has measured it
    here (core.training.paces.OUTSIDE_CLOCK and SAVE): once (its model built), per pixel of its images (its
    split's copies), and its record (and model) saved. bench/estimate_press.py prints what runs measured."""

    seconds: float
    seconds_per_pixel: float
    save_seconds: float


KERAS_OUTSIDE_CLOCK = OutsideClockCosts(seconds=0.005, seconds_per_pixel=1.5e-9, save_seconds=0.012)
BASELINE_OUTSIDE_CLOCK = OutsideClockCosts(seconds=0.004, seconds_per_pixel=4e-10, save_seconds=0.001)


def engine_costs(
    steps_per_epoch: int,
    epochs: int,
    backend: str | None = None,
    signature: tuple | None = None,
    shapes: tuple | None = None,
    planned: Collection[tuple] = (),
) -> EngineCosts:
    """The engine's overheads for a run of this size on `backend` (the one in force by default).

    signature, shapes: the run's step signature and run_shapes (core.training.kept_loops), to know
    whether its loop is kept and has trained such a run (None: not asked). planned: (signature, shapes)
    of the runs that train before it in the same job (a race's earlier variants)."""
    backend = backend or libraries.backend_in_force()
    if backend != "jax":
        return TENSORFLOW_XLA if speed_settings(steps_per_epoch, epochs, backend)["jit_compile"] else TENSORFLOW_GRAPH
    trained = _shapes_trained(signature, planned) if signature is not None else None
    if trained is not None:
        return _kept_loop_costs(signature, shapes, trained)
    if not libraries.compiled_programs_kept():
        return JAX_COSTS
    on_disk = signature is None or shapes is None or programs_on_disk(signature, shapes)
    once = JAX_KEPT_COMPILE_SECONDS if on_disk else JAX_NEW_NETWORK_COMPILE_SECONDS
    case = "network on disk" if on_disk else "new network"
    if not kept_loops():  # the process's first run builds Keras's first model and loads more
        once += JAX_FIRST_RUN_COMPILE_SECONDS - JAX_KEPT_COMPILE_SECONDS
        case += ", first run"
    # compiled, its epochs are as fast
    return dataclasses.replace(JAX_KEPT_LOOP_COSTS, compile_seconds=once, compile_case=case)


def _kept_loop_costs(signature: tuple, shapes: tuple | None, trained: set[tuple]) -> EngineCosts:
    """A kept loop's costs: nothing to compile for shapes it has trained, a program per new shape else."""
    if shapes is None or shapes in trained:
        return JAX_KEPT_LOOP_COSTS
    compiled = set().union(*(_loop_programs(known) for known in trained))
    validated = any(known[1] == shapes[1] for known in trained)
    once = len(_loop_programs(shapes) - compiled) * JAX_LOOP_PROGRAM_COMPILE_SECONDS
    once += 0 if validated else JAX_NEW_VALIDATION_COMPILE_SECONDS
    case = "new shapes"
    if programs_on_disk(signature, shapes):
        once, case = JAX_SHAPES_ON_DISK_SECONDS, "shapes on disk"
    # then as fast as the loop
    return dataclasses.replace(JAX_KEPT_LOOP_COSTS, compile_seconds=once, compile_case=case)


def _loop_programs(shapes: tuple) -> set[tuple]:
    """core.training.kept_loops.loop_programs of a run of these run_shapes, as the engine chunks its epochs."""
    train_images, _, batch_size = shapes
    return loop_programs(shapes, steps_per_update(train_images, batch_size))


def _shapes_trained(signature: tuple, planned: Collection[tuple]) -> set[tuple] | None:
    """The run_shapes the loop for `signature` will have trained, by now or by the planned runs; None: no loop."""
    kept = trained_shapes(signature)
    earlier = {shapes for planned_signature, shapes in planned if planned_signature == signature}
    if kept is None and not earlier:
        return None
    return (kept or set()) | earlier


def flops_per_image(config: TrainingConfig, image_shape: tuple[int, int], num_classes: int) -> float:
    """Multiply-adds ×2 of one forward pass, from the model's layer table."""
    return sum(flops_by_kind(config, image_shape, num_classes))


def flops_by_kind(
    config: TrainingConfig, image_shape: tuple[int, int], num_classes: int, passes: int = 1
) -> tuple[float, float]:
    """FLOPs per image in Dense products and in convolutions, which run at different speeds: of one forward
    pass, or of `passes` (TRAINING_PASSES: a training step) less the first weighted layer's gradient for its
    inputs, which no step computes (the lesson model: 2 passes of its 784×128 product, not 3)."""
    dense = conv = 0.0
    first = True
    for layer in network_layers(config, image_shape, num_classes):
        if layer.kind == DENSE:
            flops = 2 * layer.parameters
        elif layer.kind == CONV2D:
            height, width, _ = layer.output_shape
            # Same padding: each output pixel costs the kernel's weights once.
            flops = 2 * layer.parameters * height * width
        else:
            continue
        flops *= passes - 1 if first and passes > 1 else passes
        first = False
        if layer.kind == DENSE:
            dense += flops
        else:
            conv += flops
    return dense, conv


@lru_cache(maxsize=1)
def machine_flops_per_second() -> float:
    """This machine's matrix-product speed, from one timed calibration batch (best of a few)."""
    rng = np.random.default_rng(0)
    batch, inputs, units = 128, 784, 128  # the lesson model's first layer, one batch
    left = rng.random((batch, inputs), dtype=np.float32)
    right = rng.random((inputs, units), dtype=np.float32)
    best = math.inf
    # Best of many short tries (a few ms each): on a shared machine one of them finds the cores free.
    for _ in range(CALIBRATION_TRIES):
        started = time.perf_counter()
        for _ in range(10):
            left @ right
        best = min(best, (time.perf_counter() - started) / 10)
    return 2 * batch * inputs * units / max(best, 1e-9)


def estimate(
    config: TrainingConfig,
    num_images: int,
    image_shape: tuple[int, int],
    num_classes: int,
    flops_per_second: float | None = None,
    backend: str | None = None,
    planned: Collection[tuple] = (),
) -> Estimate:
    """A Keras run's expected seconds per epoch, for the whole run, and its own memory (beyond the app's).

    planned: (step signature, run_shapes) of runs that train before this one in its job (estimates_in_turn)."""
    speed = flops_per_second or machine_flops_per_second()
    backend = backend or libraries.backend_in_force()
    train_images, validation = run_sizes(config, num_images)
    signature = step_signature(config, image_shape, num_classes)
    shapes = run_shapes(train_images, validation, config.batch_size)
    steps = math.ceil(train_images / config.batch_size)
    costs = engine_costs(steps, config.epochs, backend, signature, shapes, planned)
    unseen = run_shapes(-1, -1, config.batch_size)  # what a subsample's shapes are to every cache: new
    subsample_costs = engine_costs(steps, config.epochs, backend, signature, unseen, planned)
    # Compiles, as fitted, scaled as this process's latest measured ones compared (core.training.paces).
    once = costs.compile_seconds * compile_factor(backend, costs.compile_case)
    subsample_once = subsample_costs.compile_seconds * compile_factor(backend, subsample_costs.compile_case)
    dense, conv = flops_by_kind(config, image_shape, num_classes)
    dense_trained, conv_trained = flops_by_kind(config, image_shape, num_classes, TRAINING_PASSES)
    # in numpy-speed FLOPs
    forward, training = dense + costs.conv_slowdown * conv, dense_trained + costs.conv_slowdown * conv_trained

    def counted(run: tuple) -> float:  # seconds per epoch of run_shapes `run`, by the FLOP count
        trained, validated, batch = run
        flops = training * trained + forward * validated
        return flops / speed + math.ceil(trained / batch) * costs.seconds_per_step + costs.seconds_per_epoch

    seconds_per_epoch, pace_basis = measured_pace(paces_of(backend, signature), shapes, counted, count_factor(backend))
    end = latest(RUN_END, backend, signature) or RUN_END_SECONDS
    start = _outside_clock(backend, signature, KERAS_OUTSIDE_CLOCK, num_images * math.prod(image_shape))
    return Estimate(
        seconds_per_epoch=seconds_per_epoch,
        total_seconds=start + once + seconds_per_epoch * config.epochs + end,
        memory_mb=memory_mb(config, train_images + validation, image_shape, num_classes),
        train_images=train_images,
        epochs=config.epochs,
        start_seconds=start,
        compile_seconds=once,
        compile_case=costs.compile_case,
        fitted_compile_seconds=costs.compile_seconds,
        pace_basis=pace_basis,
        counted_seconds_per_epoch=counted(shapes),
        end_seconds=end,
        epoch_overhead_seconds=costs.seconds_per_epoch,
        subsample_compile_seconds=subsample_once,
        backend=backend,
        signature=signature,
        shapes=shapes,
    )


def measured_pace(
    measured: dict[tuple, float], shapes: tuple, counted: Callable[[tuple], float], machine_factor: float | None = None
) -> tuple[float, str]:
    """Seconds per epoch of a run of these run_shapes, and their basis: as MEASURED for them here
    (core.training.paces), else counted(shapes) SCALED as this network's other measured shapes were
    (the median of their ratios), else counted(shapes) scaled by machine_factor, how this server's latest
    runs of any network compared with their counts (MACHINE; core.training.paces.count_factor), else
    COUNTED(shapes) alone."""
    if shapes in measured:
        return measured[shapes], MEASURED
    counted_here = counted(shapes)
    ratios = [seconds / counted(other) for other, seconds in measured.items() if counted(other) > 0]
    if ratios:
        return counted_here * statistics.median(ratios), SCALED
    if machine_factor is not None:
        return counted_here * machine_factor, MACHINE
    return counted_here, COUNTED


def run_programs(config: TrainingConfig, num_images: int, image_shape: tuple[int, int], num_classes: int) -> tuple:
    """(step signature, run_shapes): what decides which of a run's programs are already compiled here."""
    train_images, validation = run_sizes(config, num_images)
    return step_signature(config, image_shape, num_classes), run_shapes(train_images, validation, config.batch_size)


def baseline_estimate(
    config: TrainingConfig,
    num_images: int,
    image_shape: tuple[int, int],
    num_classes: int,
    flops_per_second: float | None = None,
    test_images: int | None = None,
) -> Estimate:
    """The scikit-learn baseline's run (core.training.baseline), counted as Keras's is: FLOPs at this
    machine's speed, scikit-learn's own overheads per step and epoch, and what its earlier runs measured here."""
    speed = flops_per_second or machine_flops_per_second()
    train_images, validation = run_sizes(config, num_images)
    hidden = baseline_settings(config).parameters["hidden_layer_sizes"]
    widths = [image_shape[0] * image_shape[1], *hidden, num_classes]
    products = list(itertools.pairwise(widths))
    weights = sum(inputs * outputs + outputs for inputs, outputs in products)
    forward = sum(2 * inputs * outputs for inputs, outputs in products)
    # The first layer computes no gradient for the images (TRAINING_PASSES less one for it).
    training = TRAINING_PASSES * forward - 2 * products[0][0] * products[0][1]
    signature = (BASELINE, tuple(widths), baseline_settings(config).parameters["solver"])
    shapes = run_shapes(train_images, validation, config.batch_size)
    scored = min(validation, SAMPLE_SIZE)  # the hidden map's sample

    def counted(run: tuple) -> float:  # seconds per epoch of run_shapes `run`, by the FLOP count
        trained, validated, batch = run
        steps = _baseline_steps(trained, batch)
        flops = training * trained + forward * (trained + validated + min(validated, scored))
        per_step = BASELINE_SECONDS_PER_STEP + weights * BASELINE_SECONDS_PER_WEIGHT_STEP
        return flops * BASELINE_FLOP_SLOWDOWN / speed + steps * per_step + BASELINE_SECONDS_PER_EPOCH

    # Before a baseline has trained here its count stands alone: it is already in this machine's measured matrix
    # speed, and how the Keras runs compare with their own count says nothing of scikit-learn's.
    machine_factor = count_factor(BASELINE)
    seconds_per_epoch, pace_basis = measured_pace(paces_of(BASELINE, signature), shapes, counted, machine_factor)
    tested = validation if test_images is None else test_images
    end = latest(RUN_END, BASELINE, signature) or forward * tested * BASELINE_FLOP_SLOWDOWN / speed
    start = _outside_clock(BASELINE, signature, BASELINE_OUTSIDE_CLOCK, num_images * math.prod(image_shape))
    return Estimate(
        seconds_per_epoch=seconds_per_epoch,
        total_seconds=start + seconds_per_epoch * config.epochs + end,
        memory_mb=((train_images + validation) * (widths[0] + 8) * 2 + weights * FLOAT_BYTES * COPIES_OF_WEIGHTS) / MB,
        train_images=train_images,
        epochs=config.epochs,
        start_seconds=start,
        pace_basis=pace_basis,
        counted_seconds_per_epoch=counted(shapes),
        end_seconds=end,
        epoch_overhead_seconds=BASELINE_SECONDS_PER_EPOCH,
        backend=BASELINE,
        signature=signature,
        shapes=shapes,
    )


def _outside_clock(backend: str, signature: tuple, fitted: OutsideClockCosts, pixels: int) -> float:
    """A run's time in its press outside its clock, its save included: as its network's latest runs measured
    them here, else as fitted for images of `pixels` pixels in all."""
    measured, saved = latest(OUTSIDE_CLOCK, backend, signature), latest(SAVE, backend, signature)
    start = fitted.seconds + fitted.seconds_per_pixel * pixels if measured is None else measured
    return start + (fitted.save_seconds if saved is None else saved)


def _baseline_steps(train_images: int, batch_size: int) -> int:
    """scikit-learn's batches in one baseline epoch: each partial_fit slice is cut into batches of its own."""
    slices = min(SLICES_PER_EPOCH, max(1, train_images // batch_size))
    size, larger = divmod(train_images, slices)
    return larger * math.ceil((size + 1) / batch_size) + (slices - larger) * math.ceil(size / batch_size)


def estimates_in_turn(
    runs: Sequence[tuple[str, TrainingConfig]],
    num_images: int,
    image_shape: tuple[int, int],
    num_classes: int,
    test_images: int | None = None,
) -> list[Estimate]:
    """Each of the (kind, config) runs one job trains in turn (Keras and the baseline, or a race's variants):
    a later Keras run compiles nothing an earlier one has."""
    found, planned = [], []
    for kind, config in runs:
        if kind == "baseline":
            found.append(baseline_estimate(config, num_images, image_shape, num_classes, test_images=test_images))
            continue
        found.append(estimate(config, num_images, image_shape, num_classes, planned=tuple(planned)))
        planned.append((found[-1].signature, found[-1].shapes))
    return found


def whole(found: Sequence[Estimate], at_once: bool = False) -> Estimate:
    """One estimate of several runs trained in one press: every run's time; their memory together when the
    runs are all live `at_once` (a race's variants), else the largest (Keras, then the baseline)."""
    if len(found) == 1:
        return found[0]
    memory = [e.memory_mb for e in found]
    return Estimate(
        seconds_per_epoch=sum(e.seconds_per_epoch for e in found),
        total_seconds=sum(e.total_seconds for e in found),
        memory_mb=sum(memory) if at_once else max(memory),
        train_images=found[0].train_images,
        epochs=max(e.epochs for e in found),
        start_seconds=sum(e.start_seconds for e in found),
        compile_seconds=sum(e.compile_seconds for e in found),
        pace_basis=found[0].pace_basis,
        end_seconds=sum(e.end_seconds for e in found),
        epoch_overhead_seconds=sum(e.epoch_overhead_seconds for e in found),
        subsample_compile_seconds=sum(
            e.compile_seconds if e.subsample_compile_seconds is None else e.subsample_compile_seconds for e in found
        ),
    )


def memory_mb(config: TrainingConfig, images: int, image_shape: tuple[int, int], num_classes: int) -> float:
    """The run's copies of the data, the weights with their optimizer state, and one batch's activations."""
    layers = network_layers(config, image_shape, num_classes)
    pixels = image_shape[0] * image_shape[1]
    # The seeded split copies the images (bytes) and labels, and the training pipeline holds them
    # once more as tensors (core.training.engine.training_batches).
    data = images * (pixels + 8) * 2
    weights = sum(layer.parameters for layer in layers) * FLOAT_BYTES * COPIES_OF_WEIGHTS
    activations = sum(math.prod(layer.output_shape) for layer in layers) * config.batch_size * FLOAT_BYTES
    return (data + weights + activations * COPIES_OF_ACTIVATIONS) / MB


def note_run(snap: RunSnapshot, said: Estimate, job_seconds: float | None = None) -> None:
    """A run trained alone, in one fit, has ended: note what it measured against what `said` estimated, for
    the next estimates (core.training.paces). Its pace (epoch_pace, where a run estimated to compile is one
    that compiled; a one-epoch run's from its live updates), that pace against the FLOP count's, and its
    compile: its first epoch's end less one epoch at its pace; or, if it was to compile nothing, its end and
    its time outside its clock (of `job_seconds`, its whole time in its job, when given)."""
    if said.signature is None or said.shapes is None:  # a press of several runs is measured run by run
        return
    epochs = list(snap.epochs)
    compiled = said.fitted_compile_seconds >= MIN_COMPILE_SAID_SECONDS
    pace = epoch_pace(epochs, compiled)
    if pace is None and len(epochs) == 1:
        pace = steps_pace(snap.batches, snap.steps_per_epoch)
    if pace is not None:
        note_pace(said.backend, said.signature, said.shapes, pace)
        if said.counted_seconds_per_epoch:
            note_count(said.backend, pace / said.counted_seconds_per_epoch)
    if not epochs or epochs[0]["epoch"] != 1:
        return
    if not compiled and snap.elapsed_seconds >= epochs[-1]["seconds"]:
        note_latest(RUN_END, said.backend, said.signature, snap.elapsed_seconds - epochs[-1]["seconds"])
        if job_seconds is not None:
            note_latest(OUTSIDE_CLOCK, said.backend, said.signature, job_seconds - snap.elapsed_seconds)
    before_epochs = said.start_seconds + said.compile_seconds
    one_epoch = pace if pace is not None else (said.total_seconds - before_epochs) / max(1, snap.total_epochs)
    note_compile(said.backend, said.compile_case, said.fitted_compile_seconds, epochs[0]["seconds"] - one_epoch)


def duration_text(seconds: float) -> str:
    """A duration as a person reads it: "under 0.1 s", "0.4 s", "5 s", "40 s", "about 7 minutes"."""
    if seconds < 0.1:
        return "under 0.1 s"
    if seconds < 0.95:  # a warm server trains the digits' 5 epochs in a few tenths of a second
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{round(seconds)} s"
    return f"about {round(seconds / 60)} minutes"


def run_duration_text(seconds: float) -> str:
    """A whole run's estimated duration as the page says it: below SHORT_RUN_SECONDS, as a bound."""
    return f"under {SHORT_RUN_SECONDS} s" if seconds < SHORT_RUN_SECONDS else duration_text(seconds)


def memory_text(memory_mb: float) -> str:
    """A memory size as a person reads it: "under 1 MB", "160 MB", "1.4 GB"."""
    if memory_mb < 1:
        return "under 1 MB"
    if memory_mb < 1024:
        return f"{memory_mb:,.0f} MB"
    return f"{memory_mb / 1024:,.1f} GB"

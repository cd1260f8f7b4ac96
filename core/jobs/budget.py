"""Time and memory a run will need, estimated before it starts, and what to change to fit a budget.

The estimate counts the model's floating-point operations per image (from core.training.architecture, no
Keras) and divides by this machine's measured speed: one calibration batch of the model's largest
matrix product, timed in numpy. That needs no Keras, so it is safe in a page's thread while another
session trains, and costs milliseconds. Training costs about three forward passes (forward, plus
gradients for inputs and weights), less the first layer's gradient for its inputs (the images need none);
XLA's fused kernels run at about numpy's BLAS speed on a CPU.
"""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core import libraries
from core.config import EPOCHS_RANGE, TrainingConfig
from core.data.splits import run_sizes
from core.jobs.runner import positive_from_environment
from core.training.architecture import CONV2D, DENSE, network_layers
from core.training.engine import speed_settings, steps_per_update
from core.training.kept_loops import (
    kept_loops,
    loop_programs,
    programs_on_disk,
    run_shapes,
    step_signature,
    trained_shapes,
)
from core.training.paces import compile_factor, count_factor, end_seconds, paces_of

TIME_BUDGET_ENV = "TRAINING_STUDIO_TIME_BUDGET_SECONDS"
MEMORY_BUDGET_ENV = "TRAINING_STUDIO_MEMORY_BUDGET_MB"
# Forward + backward (gradients for the inputs and for the weights) ≈ 3 forward passes.
TRAINING_PASSES = 3


# Keras's convolutions on TensorFlow run this many times slower here than numpy's products of the same
# FLOPs (bench/cnn_speed.py: the CNN preset's epoch at 5.6× its FLOP floor; issue 14 saw 7–15×).
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


# TensorFlow with XLA (issue 2: Fashion-MNIST, lesson model, batch 32, 5 epochs in 13.4 s, of which the
# FLOPs are under a third); small runs train without XLA (core.training.engine.speed_settings), where
# tracing costs less than compiling and each step a little more (the embedded digits: 2.3–3.8 s of CPU).
TENSORFLOW_XLA = EngineCosts(compile_seconds=4.0, seconds_per_step=0.0011, seconds_per_epoch=0.2, compile_case="xla")
TENSORFLOW_GRAPH = EngineCosts(
    compile_seconds=2.0, seconds_per_step=0.0016, seconds_per_epoch=0.2, compile_case="graph"
)
# JAX (core.training.jax_fit): Fashion-MNIST's lesson run in 3.8 s with its programs kept from an earlier
# run, 6.3 s compiling them all; the digits in 1.0–1.3 s in a new process with programs kept, 3.6 s the first time.
# Its convolutions, as products of patches (core.training.jax_layers), run at 1.4–3.3× the FLOP floor
# (bench/cnn_speed.py: the CNN preset's epoch in about 4 s; 11.3 s with XLA's own pooling and convolution).
# Once compiled, every case's epochs run alike. Twelfth session, 15 networks, batch sizes and datasets, the pace of
# their epochs after the first (the digits 0.007–0.035 s, Fashion-MNIST 0.075–0.96 s): 0.05 ms a step and 7.5 ms
# an epoch beside the FLOPs at numpy's speed; within ±30 % for 12 of them. The per-step and per-epoch costs fitted
# in earlier sessions (0.25 ms, 60 ms) were 3–10× what today's device loop spends, and a ratio measured on the
# digits' runs (all overhead) then scaled Fashion-MNIST's (mostly FLOPs) to a fifth. Fourteenth session, the
# validation scored on the device and 20 chunks an epoch instead of 34: 24 runs (the digits and Fashion-MNIST, three
# networks, batch 16 to 128) fitted 0.04 ms a step and 3 ms an epoch, 19 within ±30 % against 13 with the twelfth
# session's figures, which counted the digits' epochs twice what they took (the machine's factor then halved
# Fashion-MNIST's first count: said 0.66 s for 1.12 s).
# Compiling every program of a process's first network, with no cache to load from: the digits' warm-up, 1.15–1.25 s
# (twelfth session; 0.46–0.49× the 2.5 s fitted in the second). Fitted at that, the warm-up's measured ratio no longer
# scales other networks' first compiles, which it falls back on (core.training.paces.compile_factor), down by half:
# Fashion-MNIST's first run after the digits' warm-up compiled 1.0–1.3 s, said 0.55 s.
JAX_COSTS = EngineCosts(
    compile_seconds=1.2, seconds_per_step=0.00004, seconds_per_epoch=0.003, conv_slowdown=2.5, compile_case="no cache"
)
# Once per run on JAX when XLA's compiled-program cache holds this network's programs for these shapes
# (core.training.kept_loops.programs_on_disk): a warm process traces the run's loop and loads them; the
# process's first run also builds Keras's first model (0.25 s) and loads more (the digits: 1.1–1.3 s in all).
JAX_KEPT_COMPILE_SECONDS = 0.25  # the digits' 5 epochs of a network on disk: 0.3 s in a warm process
JAX_FIRST_RUN_COMPILE_SECONDS = 0.9
# A network and shapes whose programs are not in the cache (core.training.kept_loops.programs_on_disk), in a
# process with others there: the digits' 5 epochs took 1.2–1.6 s by the run's clock, against 0.85 s said.
JAX_NEW_NETWORK_COMPILE_SECONDS = 1.2
# A run whose training loop this process keeps traced (core.training.kept_loops: an earlier run of the
# same network and shapes, or the server's warm-up) starts at once: the digits' 5 epochs in 0.10–0.17 s
# in all (the run's own clock), their first point 0.04 s after Train. Thirteenth session, the forward pass
# kept too (core.training.jax_fit.ForwardPass): 0.034–0.036 s in all, the first epoch 0.007–0.008 s longer
# than the others; at 0.03 s, the digits' runs after the warm-up were said +55 to +84 %.
JAX_KEPT_LOOP_COSTS = dataclasses.replace(JAX_COSTS, compile_seconds=0.01, compile_case="kept loop")
# A kept loop meeting shapes it has not trained (core.training.kept_loops.run_shapes) compiles a program for
# each shape it is called with anew (core.training.kept_loops.loop_programs): 0.45–0.65 s each, the digits' and
# Fashion-MNIST's alike (twelfth session). A new batch size compiles one or two: the digits' batch 16 and 64
# one (1,293 images leave the same last batch of 13 as batch 32 does), 0.55–0.66 s in all; Fashion-MNIST's
# batch 64 two, 1.0–1.4 s. A new split changes the training array, so both: the digits' 1.06–1.13 s.
JAX_LOOP_PROGRAM_COMPILE_SECONDS = 0.55
# A validation split the loop has not scored: its forward pass (core.training.jax_fit.ForwardPass) may compile a
# program for a new window size (the window is 1,024 images, or the power of two that holds fewer): a few hundredths.
# Counted by the validation images, not the window, so a new split of the same window is a few hundredths over.
JAX_NEW_VALIDATION_COMPILE_SECONDS = 0.05
# The same, with those shapes' programs in the cache folder (an earlier process compiled them): 0.15–0.4 s.
JAX_SHAPES_ON_DISK_SECONDS = 0.25


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
    if backend == "jax":
        trained = _shapes_trained(signature, planned) if signature is not None else None
        if trained is not None:
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
    return TENSORFLOW_XLA if speed_settings(steps_per_epoch, epochs, backend)["jit_compile"] else TENSORFLOW_GRAPH


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


# After a run's last epoch, its test images scored and its weights copied, until one that compiled nothing has
# measured it here (core.training.paces.end_seconds). The digits' runs took 0.04–0.05 s on JAX with Keras's
# predict (ninth session), 0.0015 s with the kept forward pass (core.training.jax_fit.ForwardPass, thirteenth);
# Fashion-MNIST's 10,000 test images 0.016–0.025 s. Said at 0.05 s, the digits' first run after the warm-up
# (0.04 s in all) was said +135 %.
RUN_END_SECONDS = 0.005
# Estimate.pace_basis: what its seconds per epoch come from (measured_pace).
MEASURED, SCALED, MACHINE, COUNTED = "measured", "scaled", "machine", "counted"
# A run estimated below this is said "under 0.5 s" (run_duration_text): watched on its page, such a run takes up
# to twice what it takes unwatched, as the page draws its first point beside it. The digits' default run right
# after the warm-up, estimated 0.09 s, took 0.12–0.22 s in the browser; 0.08–0.11 s in bench/estimate_shapes.py.
SHORT_RUN_SECONDS = 0.5
FLOAT_BYTES = 4
# Weights, their gradients and Adam's two moments.
COPIES_OF_WEIGHTS = 4
# Activations are kept for the backward pass, in a couple of forms.
COPIES_OF_ACTIVATIONS = 3
MIN_SUBSAMPLE = 10
CALIBRATION_TRIES = 20
MB = 1024 * 1024


@dataclass(frozen=True)
class Estimate:
    """What a run is expected to cost here."""

    seconds_per_epoch: float
    total_seconds: float
    memory_mb: float
    train_images: int
    epochs: int
    compile_seconds: float = JAX_COSTS.compile_seconds  # once per run, before the first step
    compile_case: str = ""  # EngineCosts.compile_case
    # compile_seconds as fitted, before the latest measured compiles scaled it: what a run's compile is measured
    # against (core.training.paces.note_compile), so one measured ratio does not compound into the next.
    fitted_compile_seconds: float = JAX_COSTS.compile_seconds
    pace_basis: str = COUNTED  # what seconds_per_epoch comes from (measured_pace)
    # What the FLOP count alone says per epoch: a run measures the count by it (core.training.paces.count_factor).
    counted_seconds_per_epoch: float = 0.0
    end_seconds: float = RUN_END_SECONDS  # once, after the last epoch (the test images scored)
    epoch_overhead_seconds: float = JAX_COSTS.seconds_per_epoch  # of seconds_per_epoch, whatever the images
    # Once per run for fewer images (a subsample: other array shapes, so programs compiled for the full data
    # do not serve it); None: as compile_seconds.
    subsample_compile_seconds: float | None = None


@dataclass(frozen=True)
class Limits:
    """A host's budget for one run; None means no limit."""

    seconds: float | None = None
    memory_mb: float | None = None


@dataclass(frozen=True)
class Fix:
    """A change of settings that brings the run within the budget; the page offers it as a button."""

    label: str
    reason: str
    epochs: int | None = None
    subsample: int | None = None


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
    # Best of many short tries (about 3 ms each): on a shared machine one of them finds the cores free.
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
    """Expected seconds per epoch, for the whole run, and the run's own memory (beyond the app's).

    planned: (step signature, run_shapes) of runs that train before this one in its job (estimates_in_turn)."""
    speed = flops_per_second or machine_flops_per_second()
    backend = backend or libraries.backend_in_force()
    train_images, validation = run_sizes(config, num_images)
    images = train_images + validation
    dense, conv = flops_by_kind(config, image_shape, num_classes)
    dense_trained, conv_trained = flops_by_kind(config, image_shape, num_classes, TRAINING_PASSES)
    steps = math.ceil(train_images / config.batch_size)
    signature, shapes = run_programs(config, num_images, image_shape, num_classes)
    costs = engine_costs(steps, config.epochs, backend, signature, shapes, planned)
    unseen = run_shapes(-1, -1, config.batch_size)  # what a subsample's shapes are to every cache: new
    subsample_costs = engine_costs(steps, config.epochs, backend, signature, unseen, planned)
    # Compiles, fitted in one session, as this process's latest measured ones compared (core.training.paces).
    once = costs.compile_seconds * compile_factor(backend, costs.compile_case)
    subsample_once = subsample_costs.compile_seconds * compile_factor(backend, subsample_costs.compile_case)
    # in numpy-speed FLOPs
    forward, training = dense + costs.conv_slowdown * conv, dense_trained + costs.conv_slowdown * conv_trained

    def counted(run: tuple) -> float:  # seconds per epoch of run_shapes `run`, by the FLOP count
        trained, validated, batch = run
        flops = training * trained + forward * validated
        return flops / speed + math.ceil(trained / batch) * costs.seconds_per_step + costs.seconds_per_epoch

    seconds_per_epoch, pace_basis = measured_pace(paces_of(backend, signature), shapes, counted, count_factor(backend))
    end = end_seconds(backend, signature) or RUN_END_SECONDS
    return Estimate(
        seconds_per_epoch=seconds_per_epoch,
        total_seconds=once + seconds_per_epoch * config.epochs + end,
        memory_mb=memory_mb(config, images, image_shape, num_classes),
        train_images=train_images,
        epochs=config.epochs,
        compile_seconds=once,
        compile_case=costs.compile_case,
        fitted_compile_seconds=costs.compile_seconds,
        pace_basis=pace_basis,
        counted_seconds_per_epoch=counted(shapes),
        end_seconds=end,
        epoch_overhead_seconds=costs.seconds_per_epoch,
        subsample_compile_seconds=subsample_once,
    )


def measured_pace(
    measured: dict[tuple, float], shapes: tuple, counted, machine_factor: float | None = None
) -> tuple[float, str]:
    """Seconds per epoch of a run of these run_shapes, and their basis: as MEASURED for them here
    (core.training.paces), else counted(shapes) SCALED as this network's other measured shapes were
    (the median of their ratios), else counted(shapes) scaled by machine_factor, how this server's latest
    runs of any network compared with their counts (MACHINE; core.training.paces.count_factor), else
    COUNTED(shapes) alone.

    By the run's own clock, Fashion-MNIST's lesson run said +60–75 % on a kept loop when counted, one
    session after the count was fitted (bench/README.md, ninth session)."""
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


def estimates_in_turn(
    configs: Sequence[TrainingConfig], num_images: int, image_shape: tuple[int, int], num_classes: int
) -> list[Estimate]:
    """estimate() of runs trained in one job (a race's variants): a later one compiles nothing an earlier one has."""
    found, planned = [], []
    for config in configs:
        found.append(estimate(config, num_images, image_shape, num_classes, planned=tuple(planned)))
        planned.append(run_programs(config, num_images, image_shape, num_classes))
    return found


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


def duration_text(seconds: float) -> str:
    """A duration as a person reads it: "under 0.1 s", "0.4 s", "5 s", "40 s", "about 7 minutes"."""
    if seconds < 0.1:
        return "under 0.1 s"
    if seconds < 0.95:  # a warm server trains the digits' 5 epochs in about 0.3 s
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


def limits_from_environment(environ: dict | None = None) -> Limits:
    """$TRAINING_STUDIO_TIME_BUDGET_SECONDS and $TRAINING_STUDIO_MEMORY_BUDGET_MB (hosted use)."""
    environ = os.environ if environ is None else environ
    seconds = positive_from_environment(environ, TIME_BUDGET_ENV, None)
    return Limits(seconds, positive_from_environment(environ, MEMORY_BUDGET_ENV, None))


def fixes(found: Estimate, limits: Limits, num_images: int) -> list[Fix]:
    """Ways to fit the budget, most faithful first: fewer epochs, then fewer images."""
    offers = []
    # What no epoch count changes: compiling, once per model (a race compiles one model per variant), and
    # the run's end (its test images scored).
    once = found.total_seconds - found.seconds_per_epoch * found.epochs
    if limits.seconds and found.total_seconds > limits.seconds:
        over = f"about {found.total_seconds:.0f} s, over this server's budget of {limits.seconds:.0f} s"
        epochs = int((limits.seconds - once) // found.seconds_per_epoch)
        if EPOCHS_RANGE[0] <= epochs < found.epochs:
            offers.append(Fix(f"Train {epochs} epochs instead", f"{found.epochs} epochs take {over}.", epochs=epochs))
        # Only the time spent on images shrinks with fewer of them: not compiling, nor each epoch's set-up;
        # and fewer images are new shapes, which may compile more than the full data (a kept loop's do not).
        fixed = once + found.epoch_overhead_seconds * found.epochs
        compiled = found.compile_seconds
        subsample_once = found.subsample_compile_seconds if found.subsample_compile_seconds is not None else compiled
        share = (limits.seconds - fixed - max(0.0, subsample_once - compiled)) / (found.total_seconds - fixed)
        images = _subsample(num_images, share) if share > 0 else None
        if images:
            offers.append(Fix(f"Train on {images:,} images instead", f"The full data takes {over}.", subsample=images))
        if not offers:  # not even one epoch of a few images fits: say so, with no button
            offers.append(Fix("", f"This run takes {over}. Choose a smaller model or a larger batch size."))
    if limits.memory_mb and found.memory_mb > limits.memory_mb:
        share = limits.memory_mb / found.memory_mb
        images = _subsample(num_images, share)
        reason = (
            f"This run needs about {found.memory_mb:,.1f} MB, over this server's {limits.memory_mb:,.1f} MB budget."
        )
        if images and not any(fix.subsample and fix.subsample <= images for fix in offers):
            offers.append(Fix(f"Train on {images:,} images instead", reason, subsample=images))
        elif not images:
            offers.append(Fix("", reason + " Choose a smaller model or batch size."))
    return offers


def _subsample(num_images: int, share: float) -> int | None:
    # A margin of 10 %: the estimate is an estimate.
    images = int(num_images * share * 0.9)
    return images if MIN_SUBSAMPLE <= images < num_images else None

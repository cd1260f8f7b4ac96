"""The engine against plain `model.fit` defaults and the scikit-learn baseline, side by side in one run.

    python bench/train_speed.py                 # Fashion-MNIST 60k, lesson model, batch 32, 5 epochs
    python bench/train_speed.py --repeat 2      # each variant twice, interleaved (noisy machines)
    python bench/train_speed.py --quick         # embedded digits, 2 epochs, in one process (smoke run)
    python bench/train_speed.py --dataset digits --variants engine,baseline --warm   # as on a warm server

Each variant trains in its own fresh process (same data, seed, epochs and batch size), so import
time and peak memory belong to that variant alone and no variant warms caches for another (with
--warm, each process first trains its own variant once, untimed, as the app's server has):

- plain:    build the lesson model, compile with Keras defaults, `model.fit` with the validation data;
- engine:   `core.training.engine.train` through a TrainingRun, as the app does: live callback, per-epoch
            validation scores, the engine's compile options (`core.training.engine.speed_settings`);
- baseline: `core.training.baseline.train_baseline`, scikit-learn's MLP on the same split;
- baseline_control: the same baseline as scikit-learn runs it by default, the control its speed is measured
            against: the BLAS library's own thread count instead of the baseline's one thread
            (`core.training.baseline.BLAS_THREADS`), and every check of each call (`CHECKS_SKIPPED`);
- jax_loop: bench/jax_loop.py, the hand-written JAX loop (the lesson run's anchor; needs KERAS_BACKEND=jax
            only in that Keras stays out of its way).

"Seconds" is the wall time from "Train pressed" (data split, model built) to a trained model scored
on the test images; "first point" is the time from "Train pressed" to the first batch result.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = ("plain", "engine", "baseline", "baseline_control", "jax_loop")
# The default press trains Keras and then the baseline; the baseline is measured against its control alternately.
PRESS_VARIANTS = "engine,baseline,baseline_control"
TARGET_RATIO = 0.5
TARGET_ACCURACY_POINTS = 0.5


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The training the benchmarks measure (shared with bench/backends.py): the lesson on Fashion-MNIST by default."""
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model", default="dense", help="dense (the lesson's) or cnn")
    parser.add_argument("--subsample", type=int, default=None, help="train on this many of the images")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_arguments(parser)
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated; the default press against its control: {PRESS_VARIANTS}",
    )
    parser.add_argument("--repeat", type=int, default=1, help="run every variant this many times, interleaved")
    parser.add_argument("--quick", action="store_true", help="digits, 2 epochs, plain and engine in this process")
    parser.add_argument("--compile", default=None, help="JSON compile options for the plain variant (exploring)")
    parser.add_argument(
        "--speed", default=None, help="JSON compile options for the engine, replacing speed_settings (exploring)"
    )
    parser.add_argument("--backend", default=None, help="Keras backend of the child processes (tensorflow, jax)")
    parser.add_argument(
        "--warm", action="store_true", help="each process trains the variant once, untimed, first (a warm server)"
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.dataset, args.epochs, args.variants = "digits", 2, "plain,engine"
    return args


def training_config(args: argparse.Namespace):
    from core.config import TrainingConfig

    # The lesson's model and optimizer (TrainingConfig's defaults), accuracy only.
    return TrainingConfig(
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        metrics=("accuracy",),
        model=getattr(args, "model", "dense"),
        subsample=getattr(args, "subsample", None),
    )


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads): less noisy than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def measure(variant: str, args: argparse.Namespace) -> dict:
    """Train one variant in this process and return its numbers."""
    from core import libraries

    imported = time.perf_counter()
    libraries.load("keras")
    import keras

    import_seconds = time.perf_counter() - imported
    from core.data.datasets import load_dataset

    dataset = load_dataset(args.dataset)
    config = training_config(args)
    train = {
        "plain": train_plain,
        "engine": train_engine,
        "baseline": train_baseline,
        "baseline_control": train_baseline_control,
        "jax_loop": train_jax_loop,
    }
    train = train[variant]
    if getattr(args, "warm", False):  # as the app's server is once it has warmed up (and once any visitor has trained)
        train(config, dataset, args)
    cpu_before = cpu_seconds()
    result = train(config, dataset, args)
    return {
        "cpu_seconds": cpu_seconds() - cpu_before,
        "variant": variant,
        "backend": "scikit-learn" if variant.startswith("baseline") else keras.backend.backend(),
        "import_seconds": import_seconds,
        "process_seconds": time.perf_counter() - STARTED,
        "peak_rss_mb": peak_rss_mb(),
        "train_images": result.pop("train_images"),
        **result,
    }


def train_plain(config, dataset, args) -> dict:
    """The lesson's model with Keras's defaults: compile(optimizer, loss, metrics) and fit."""
    import keras
    import numpy as np

    from core.data.splits import prepare_data
    from core.training import models
    from core.training.engine import labels_for_loss
    from core.training.evaluation import PREDICT_BATCH_SIZE

    pressed = time.perf_counter()
    first_batch: list[float] = []

    class FirstBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if not first_batch:
                first_batch.append(time.perf_counter() - pressed)

    data = prepare_data(config, dataset)
    x_train = dataset.scaled(data.pixels_train)  # float32 in [0, 1], as a Keras tutorial feeds fit
    keras.utils.set_random_seed(config.seed)
    model = models.build_model(config, data.image_shape, data.num_classes)
    options = json.loads(args.compile) if args.compile else {}
    model.compile(
        optimizer=models.build_optimizer(config.optimizer, config.learning_rate),
        loss=config.loss,
        metrics=["accuracy"],
        **options,
    )
    fit_started = time.perf_counter()
    model.fit(
        x_train,
        labels_for_loss(data.y_train, config.loss, data.num_classes),
        validation_data=(data.x_val, labels_for_loss(data.y_val, config.loss, data.num_classes)),
        batch_size=config.batch_size,
        epochs=config.epochs,
        callbacks=[FirstBatch()],
        verbose=0,
    )
    fit_seconds = time.perf_counter() - fit_started
    probabilities = model.predict(data.x_test, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == data.y_test))
    return {
        "seconds": time.perf_counter() - pressed,
        "fit_seconds": fit_seconds,
        "first_point_seconds": first_batch[0] if first_batch else None,
        "test_accuracy": accuracy,
        "updates_per_epoch": None,
        "train_images": len(x_train),
        "compile": options,
    }


def train_jax_loop(config, dataset, args) -> dict:
    """bench/jax_loop.py, the lesson run's anchor."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from jax_loop import train_jax_loop as train

    return train(config, dataset, args)


def train_engine(config, dataset, args) -> dict:
    """core.training.engine.train through a TrainingRun, as the Train page runs it (in a worker thread)."""
    from core.training import engine
    from core.training.engine import train
    from core.training.run import TrainingRun

    if args.speed:  # exploring: these options instead of the engine's own choice
        engine.speed_settings = lambda *_, **__: json.loads(args.speed)
    run = TrainingRun(config)
    estimate = _estimated_seconds(config, dataset)
    lefts: list[tuple[float, float | None]] = []
    seconds, first_point = train_watched(train, run, dataset, lefts)
    snap = run.snapshot()
    if snap.status != "finished":
        raise RuntimeError(f"The engine's run ended {snap.status}: {snap.message}")
    measured = _measured(snap, seconds, first_point, config, dataset, _engine_compile_options(run))
    return {**measured, "estimate_seconds": estimate, "left_errors": _left_errors(lefts, snap.fit_seconds)}


def _estimated_seconds(config, dataset) -> float:
    """What the Train page tells the user beforehand of a Keras run (core.training.estimate.estimate)."""
    from core.training.estimate import estimate

    return estimate(config, len(dataset.pixels_train), dataset.image_shape, dataset.num_classes).total_seconds


def _left_errors(lefts, fit_seconds: float) -> dict:
    """The "left" figure's error against the time the run then took, at a quarter, half and three quarters.

    Each entry is (elapsed, core.training.eta.seconds_left); the error is (said − actual) / actual.
    """
    errors = {}
    for share in (0.25, 0.5, 0.75):
        moment = next(((t, left) for t, left in lefts if t >= share * fit_seconds and left is not None), None)
        if moment is None:
            continue
        elapsed, left = moment
        actual = max(fit_seconds - elapsed, 1e-6)
        errors[f"{share:.0%}"] = round((left - actual) / actual, 3)
    return errors


def train_baseline(config, dataset, args, blas_threads: int | None = None, checks: bool = False) -> dict:
    """core.training.baseline.train_baseline: scikit-learn's MLP on the same split, epoch by epoch; with
    `blas_threads`, that many BLAS threads instead of the baseline's own (None: its own), and with `checks`,
    scikit-learn's checks of every call."""
    from core.training.baseline import BLAS_THREADS
    from core.training.baseline import train_baseline as fit_baseline
    from core.training.run import TrainingRun

    threads = BLAS_THREADS if blas_threads is None else blas_threads

    def fit(run, dataset) -> None:
        fit_baseline(run, dataset, blas_threads=threads, checks=checks)

    run = TrainingRun(config, kind="baseline")
    seconds, first_point = train_watched(fit, run, dataset)
    return _measured(run.snapshot(), seconds, first_point, config, dataset, {})


def train_baseline_control(config, dataset, args) -> dict:
    """The baseline's control: as many BLAS threads as the library chooses (its threadpool's own limit), and
    every check scikit-learn makes."""
    from threadpoolctl import threadpool_info

    library_threads = max((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1)
    return train_baseline(config, dataset, args, blas_threads=library_threads, checks=True)


def _measured(snap, seconds: float, first_point: float, config, dataset, compile_options: dict) -> dict:
    """One variant's row: the same measures for the engine and the baseline."""
    return {
        "seconds": seconds,
        "fit_seconds": snap.fit_seconds,
        "first_point_seconds": first_point,
        "test_accuracy": snap.test_metrics["accuracy"],
        "updates_per_epoch": _updates_per_epoch(snap),
        "epoch_seconds": [row["seconds"] for row in snap.epochs],
        "train_images": _train_images(config, dataset),
        "compile": compile_options,
    }


def train_watched(train, run, dataset, lefts: list | None = None) -> tuple[float, float | None]:
    """Train in a worker thread, as the app does; return total seconds and seconds to the first batch point.

    With `lefts`, also note four times a second what the "left" figures say (as a page polls).
    """
    from core.training.eta import seconds_left

    pressed = time.perf_counter()
    worker = threading.Thread(target=train, args=(run, dataset), name="bench-train")
    worker.start()
    first_point = None
    while worker.is_alive() and first_point is None:
        if run.snapshot().batches:
            first_point = time.perf_counter() - pressed
        else:
            time.sleep(0.005)
    while lefts is not None and worker.is_alive():
        snap = run.snapshot()
        if snap.status == "running":
            lefts.append((snap.elapsed_seconds, seconds_left([snap])))
        worker.join(0.25)  # not a sleep: a run that ends meanwhile is timed when it ends, not at the next look
    worker.join()
    return time.perf_counter() - pressed, first_point


def _updates_per_epoch(snap) -> float | None:
    points = [p for p in snap.batches if p["epoch"] == 1]
    return float(len(points)) if points else None


def _train_images(config, dataset) -> int:
    from core.data.splits import run_indices

    return len(run_indices(config, len(dataset.pixels_train))[0])


def _engine_compile_options(run) -> dict:
    model = run.model
    return {"jit_compile": bool(model.jit_compile), "steps_per_execution": int(model.steps_per_execution)}


def run_child(variant: str, args: argparse.Namespace, env: dict | None = None) -> dict:
    """Measure one variant in a fresh Python process and return its JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", variant]
    command += ["--dataset", args.dataset, "--epochs", str(args.epochs)]
    command += ["--batch-size", str(args.batch_size), "--seed", str(args.seed)]
    command += ["--model", getattr(args, "model", "dense")]
    if getattr(args, "subsample", None):
        command += ["--subsample", str(args.subsample)]
    if args.compile:
        command += ["--compile", args.compile]
    if args.speed:
        command += ["--speed", args.speed]
    if getattr(args, "warm", False):
        command += ["--warm"]
    backend = {"KERAS_BACKEND": args.backend} if args.backend else {}
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **backend, **(env or {})}
    finished = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"The {variant} variant failed (exit {finished.returncode}):\n{finished.stderr[-2000:]}")
    return json.loads(lines[-1])


def machine_line() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {sys.version.split()[0]}"


def print_table(results: list[dict]) -> None:
    header = f"{'variant':<16} {'backend':<12} {'seconds':>8} {'CPU s':>7} {'fit s':>7} {'1st point':>9}"
    header += f" {'test acc':>8} {'updates/ep':>10} {'import s':>8} {'peak RSS':>9}"
    print(header)
    for row in results:
        first = row["first_point_seconds"]
        updates = row["updates_per_epoch"]
        print(
            f"{row['variant']:<16} {row['backend']:<12} {row['seconds']:>8.1f} {row['cpu_seconds']:>7.1f}"
            f" {row['fit_seconds']:>7.1f}"
            f" {f'{first:.2f} s' if first is not None else '-':>9} {row['test_accuracy']:>8.4f}"
            f" {f'{updates:.0f}' if updates else '-':>10} {row['import_seconds']:>8.1f}"
            f" {row['peak_rss_mb']:>6.0f} MB"
        )


def median_of(results: list[dict], variant: str, key: str) -> float | None:
    values = sorted(row[key] for row in results if row["variant"] == variant)
    return values[len(values) // 2] if values else None


def ratio_lines(results: list[dict]) -> list[str]:
    """The summary the issue asks for: engine against plain, and the baseline beside them."""
    lines = []
    plain, engine = median_of(results, "plain", "seconds"), median_of(results, "engine", "seconds")
    if plain and engine:
        points = 100 * (median_of(results, "engine", "test_accuracy") - median_of(results, "plain", "test_accuracy"))
        meets = engine / plain <= TARGET_RATIO and abs(points) <= TARGET_ACCURACY_POINTS
        cpu = median_of(results, "engine", "cpu_seconds") / median_of(results, "plain", "cpu_seconds")
        lines.append(
            f"ratio engine/plain: {engine / plain:.2f}x wall, {cpu:.2f}x CPU (target <= {TARGET_RATIO}x), "
            f"test accuracy {points:+.2f} points (target within {TARGET_ACCURACY_POINTS}): "
            f"{'meets' if meets else 'misses'} the target"
        )
    for row in results:
        if row.get("estimate_seconds"):
            said = row["estimate_seconds"]
            lefts = ", ".join(f"at {share} {error:+.0%}" for share, error in row["left_errors"].items())
            lines.append(
                f"{row['backend']} engine: estimated {said:.1f} s beforehand, took {row['seconds']:.1f} s "
                f"({said / row['seconds'] - 1:+.0%}); 'left' figure error {lefts or 'not shown'} (target ±30%)"
            )
    baseline = median_of(results, "baseline", "seconds")
    if baseline and engine:
        lines.append(f"ratio baseline/engine: {baseline / engine:.2f}x (scikit-learn MLP on the same split)")
    control = median_of(results, "baseline_control", "seconds")
    if baseline and control:
        points = 100 * (
            median_of(results, "baseline", "test_accuracy") - median_of(results, "baseline_control", "test_accuracy")
        )
        lines.append(
            f"ratio baseline/baseline_control: {baseline / control:.2f}x wall (one BLAS thread and no repeated checks, "
            f"against scikit-learn's defaults, alternated), test accuracy {points:+.2f} points"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args)))
        return 0
    variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    print(f"Machine: {machine_line()}")
    print(f"Data: {args.dataset}, lesson model, batch {args.batch_size}, {args.epochs} epochs, seed {args.seed}")
    results = []
    for _ in range(args.repeat):
        for variant in variants:
            result = measure(variant, args) if args.quick else run_child(variant, args)
            results.append(result)
            print(f"  {variant}: {result['seconds']:.1f} s, test accuracy {result['test_accuracy']:.4f}", flush=True)
    print_table(results)
    for line in ratio_lines(results):
        print(line)
    if args.quick:
        print("(quick run: compile time dominates on the small digits; the targets are for Fashion-MNIST)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

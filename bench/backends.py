"""The same training on Keras's TensorFlow and JAX backends, side by side in one run, against the matmul limit.

    python bench/backends.py                    # Fashion-MNIST 60k, lesson model, batch 32, 5 epochs
    python bench/backends.py --quick            # embedded digits, 2 epochs

For each backend (a fresh process each: Keras fixes its backend at import) it trains the plain
`model.fit` defaults and the engine (bench/train_speed.py's variants) and prints time, test
accuracy, import time and peak memory. The matmul limit is measured here too: numpy times the
exact matrix products of one training step (forward and backward) and of the validation and test
passes, and their sum over all epochs is the least time any backend could take on this machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_speed  # noqa: E402  (bench/ is not a package: scripts run as `python bench/x.py`)

from core.training.evaluation import PREDICT_BATCH_SIZE  # noqa: E402

BACKENDS = ("tensorflow", "jax")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    train_speed.add_training_arguments(parser)
    parser.add_argument("--variants", default="plain,engine", help="comma-separated: plain,engine")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--quick", action="store_true", help="digits, 2 epochs")
    parser.add_argument("--matmul-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shapes", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.dataset, args.epochs = "digits", 2
    args.compile = None
    return args


def step_products(batch: int, layer_sizes: list[int]) -> list[tuple[int, int, int]]:
    """(m, k, n) of every matrix product in one training step of a dense network, forward and backward."""
    products = []
    for index, (inputs, outputs) in enumerate(itertools.pairwise(layer_sizes)):
        products.append((batch, inputs, outputs))  # forward: activations · kernel
        products.append((inputs, batch, outputs))  # kernel gradient: activationsᵀ · output gradient
        if index > 0:  # the first layer needs no gradient for its input images
            products.append((batch, outputs, inputs))  # input gradient: output gradient · kernelᵀ
    return products


def forward_products(batch: int, layer_sizes: list[int]) -> list[tuple[int, int, int]]:
    return [(batch, inputs, outputs) for inputs, outputs in itertools.pairwise(layer_sizes)]


def seconds_per_product(m: int, k: int, n: int) -> float:
    """The best of several timings of one float32 (m×k)·(k×n) product in numpy."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    repeats = max(3, int(2e8 / (2 * m * k * n)))  # about 0.2 GFLOP per timing
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeats):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - started) / repeats)
    return best


def matmul_child(shapes: dict) -> dict:
    """Runs in a process with the numpy BLAS set up as on a user's machine (see matmul_limit)."""
    from threadpoolctl import threadpool_info

    times = {}
    for key in ("step", "predict", "validation_tail", "test_tail"):
        times[key] = sum(seconds_per_product(*product) for product in shapes[key])
    m, k, n = shapes["step"][0]
    reference = seconds_per_product(m, k, n)
    blas = [
        f"{info['internal_api']} {info['version']} {info.get('architecture')}, {info['num_threads']} threads"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {**times, "gflops": 2 * m * k * n / reference / 1e9, "reference_shape": [m, k, n], "blas": blas}


def matmul_limit(args: argparse.Namespace, layer_sizes: list[int], counts: dict) -> dict:
    """Least seconds for the run's matrix products, from numpy timings of its exact shapes.

    OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are set on this workplace's machines to keep old OpenBLAS
    builds correct; they slow a current numpy, so the limit is measured in a process without them.
    """
    shapes = {
        "step": step_products(args.batch_size, layer_sizes),
        "predict": forward_products(PREDICT_BATCH_SIZE, layer_sizes),
    }
    for name in ("validation", "test"):
        shapes[f"{name}_tail"] = forward_products(max(1, counts[f"{name}_images"] % PREDICT_BATCH_SIZE), layer_sizes)
    environment = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    command = [sys.executable, str(Path(__file__).resolve()), "--matmul-child", "--shapes", json.dumps(shapes)]
    finished = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    timed = json.loads(finished.stdout.splitlines()[-1])

    def predict_seconds(name: str) -> float:
        return counts[f"{name}_images"] // PREDICT_BATCH_SIZE * timed["predict"] + timed[f"{name}_tail"]

    steps = -(-counts["train_images"] // args.batch_size)
    per_epoch = steps * timed["step"] + predict_seconds("validation")
    return {**timed, "seconds": args.epochs * per_epoch + predict_seconds("test")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.matmul_child:
        print(json.dumps(matmul_child(json.loads(args.shapes))))
        return 0
    print(f"Machine: {train_speed.machine_line()}")
    print(f"Data: {args.dataset}, lesson model, batch {args.batch_size}, {args.epochs} epochs, seed {args.seed}")
    results = []
    for backend in [name.strip() for name in args.backends.split(",") if name.strip()]:
        for variant in [name.strip() for name in args.variants.split(",") if name.strip()]:
            try:
                result = train_speed.run_child(variant, args, env={"KERAS_BACKEND": backend})
            except RuntimeError as error:  # JAX is optional: say so and go on with the other backend
                print(f"  {backend} {variant}: not measured ({str(error).strip().splitlines()[-1]})")
                continue
            results.append(result)
            seconds, accuracy = result["seconds"], result["test_accuracy"]
            print(f"  {backend} {variant}: {seconds:.1f} s, test accuracy {accuracy:.4f}", flush=True)
    if not results:
        return 1
    config = train_speed.training_config(args)
    image_pixels = 28 * 28 if args.dataset != "digits" else 8 * 8
    layer_sizes = [image_pixels, *config.hidden_layers, 10]
    train_images = results[0]["train_images"]
    validation_images = round(train_images * config.validation_split / (1 - config.validation_split))
    test_images = 10_000 if args.dataset != "digits" else 360
    counts = {"train_images": train_images, "validation_images": validation_images, "test_images": test_images}
    limit = matmul_limit(args, layer_sizes, counts)
    train_speed.print_table(results)
    m, k, n = limit["reference_shape"]
    print(
        f"matmul limit: {limit['seconds']:.1f} s for {args.epochs} epochs (numpy {limit['gflops']:.0f} GFLOP/s "
        f"for {m}x{k}·{k}x{n}; {', '.join(limit['blas'])})"
    )
    for row in results:
        print(f"ratio {row['backend']} {row['variant']} / matmul limit: {row['seconds'] / limit['seconds']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

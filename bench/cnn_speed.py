"""The CNN preset's epoch against the floor of its FLOPs, and against what the Train page estimates beforehand.

    python bench/cnn_speed.py [--subsample 8000] [--epochs 3] [--dataset fashion_mnist]

The FLOPs are counted here, layer by layer (core.training.estimate.flops_per_image, which the estimate
uses): each convolution's multiply-adds at every output pixel, each Dense product, ×3 for a training
step (forward, gradients for inputs and weights), one forward pass per validation image. The floor
is those FLOPs at numpy's matrix-product speed measured in this run, between the trainings
(core.training.estimate's calibration, 128×784 by 784×128). Also printed: numpy on the very products a
convolution becomes (im2col: (batch·H·W) × (9·channels) by (9·channels) × filters), which run far
below that speed (k = 9 or 288 is thin for BLAS).
The epoch time is the engine's own (a fresh process; epochs after the first, so no compiling), and
the estimate is core.training.estimate.estimate's seconds per epoch for the same settings.

Target: an epoch within 4× of the floor; until then the estimate says how long it takes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_speed

TARGET_RATIO = 4.0


def product_shapes(config, image_shape, num_classes) -> list[tuple[int, int, int, int]]:
    """(m, k, n, times) of one training step's forward products, as GEMMs (convolutions by im2col)."""
    from core.training.architecture import CONV2D, DENSE, network_layers

    shapes, channels = [], 1
    for layer in network_layers(config, image_shape, num_classes):
        if layer.kind == CONV2D:
            height, width, filters = layer.output_shape
            shapes.append((config.batch_size * height * width, 9 * channels, filters, 1))
        elif layer.kind == DENSE:
            units = layer.output_shape[-1]
            shapes.append((config.batch_size, (layer.parameters - units) // units, units, 1))
        if len(layer.output_shape) == 3:
            channels = layer.output_shape[2]
    return shapes


def numpy_seconds(m: int, k: int, n: int) -> float:
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(3):
            a @ b
        best = min(best, (time.perf_counter() - started) / 3)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    train_speed.add_training_arguments(parser)
    parser.set_defaults(model="cnn", subsample=8000, epochs=3)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    args.compile, args.speed, args.backend = None, None, None
    from core.data.datasets import load_dataset
    from core.training.estimate import (
        TRAINING_PASSES,
        estimate,
        flops_by_kind,
        flops_per_image,
        machine_flops_per_second,
    )

    config = train_speed.training_config(args)
    dataset = load_dataset(args.dataset)
    found = estimate(config, len(dataset.pixels_train), dataset.image_shape, dataset.num_classes)
    forward = flops_per_image(config, dataset.image_shape, dataset.num_classes)
    training = sum(flops_by_kind(config, dataset.image_shape, dataset.num_classes, TRAINING_PASSES))
    rows, floors = [], []
    im2col = []
    for _ in range(args.repeat):  # alternated: the floor is timed between the runs, under the same load
        machine_flops_per_second.cache_clear()
        speed = machine_flops_per_second()
        floors.append(epoch_flops(forward, training, found, config) / speed)
        im2col.append(im2col_seconds(config, dataset, found))
        rows.append(train_speed.run_child("engine", args))
        print(f"  engine: epochs {', '.join(f'{s:.1f}' for s in rows[-1]['epoch_seconds'])} s", flush=True)
    floor = statistics.median(floors)
    epochs = [b - a for row in rows for a, b in zip(row["epoch_seconds"], row["epoch_seconds"][1:], strict=False)]
    epoch = statistics.median(epochs)
    print(f"CNN preset, {args.dataset}, {found.train_images:,} training images, batch {args.batch_size}")
    print(f"FLOPs: {forward / 1e6:.1f} MFLOP forward per image, {training / 1e6:.1f} per training image")
    per_epoch = epoch_flops(forward, training, found, config) / 1e9
    print(f"FLOPs per epoch: {per_epoch:.0f} GFLOP; at numpy's speed here: {floor:.2f} s")
    print(f"numpy on the im2col shapes themselves: {statistics.median(im2col):.2f} s per epoch")
    print(f"epoch (after the first): {epoch:.2f} s, {epoch / floor:.1f}x the FLOP floor (target <= {TARGET_RATIO}x)")
    said = found.seconds_per_epoch
    print(f"estimate beforehand: {said:.2f} s per epoch ({said / epoch - 1:+.0%})")
    print("test accuracy:", ", ".join(f"{row['test_accuracy']:.4f}" for row in rows))
    return 0


def epoch_flops(forward: float, training: float, found, config) -> float:
    """One epoch's FLOPs: a training step's per training image (core.training.estimate.flops_by_kind), one forward
    pass per validation image."""
    validation = round(found.train_images * config.validation_split / (1 - config.validation_split))
    return training * found.train_images + validation * forward


def im2col_seconds(config, dataset, found) -> float:
    """One epoch's products, as numpy runs them in their own shapes: training steps ×3, plus validation."""
    import math

    from core.training.estimate import TRAINING_PASSES

    step = sum(numpy_seconds(m, k, n) * times for m, k, n, times in product_shapes(config, dataset.image_shape, 10))
    steps = math.ceil(found.train_images / config.batch_size)
    validation = round(found.train_images * config.validation_split / (1 - config.validation_split))
    return steps * step * TRAINING_PASSES + validation / config.batch_size * step


if __name__ == "__main__":
    sys.exit(main())

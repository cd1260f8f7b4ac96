"""What recording the hidden map costs a run: the engine with the map's probe against the engine without it.

    python bench/hidden_map_cost.py                       # Fashion-MNIST, 20,000 images, 3 epochs, dense and CNN
    python bench/hidden_map_cost.py --dataset digits      # the embedded digits (a smoke run)

Each pair trains the same config twice in this process, alternating which goes first, with the
per-epoch probe of 1,000 validation images on and off (off: the engine finds no layer to map).
Prints the ratio of fit times (with / without) per pair and their median, and the map's bytes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import libraries
from core.config import TrainingConfig
from core.data.datasets import load_dataset
from core.training import hidden_map_recording
from core.training.run import TrainingRun


def timed_run(config: TrainingConfig, dataset, with_map: bool) -> tuple[float, int]:
    from core.training import callbacks, engine

    original = callbacks.mapped_layer
    if not with_map:
        callbacks.mapped_layer = lambda model, count: None
    try:
        run = TrainingRun(config, "keras")
        started = time.perf_counter()
        engine.train(run, dataset)
        return time.perf_counter() - started, hidden_map_recording.recorded_bytes(run.snapshot().details)
    finally:
        callbacks.mapped_layer = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--subsample", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=2)
    args = parser.parse_args()
    libraries.load("keras")
    data_dir = args.data_dir if args.dataset in ("fashion_mnist", "mnist") else None
    dataset = load_dataset(args.dataset, data_dir)
    for model in ("dense", "cnn"):
        config = TrainingConfig(
            dataset=args.dataset, data_dir=data_dir, model=model, epochs=args.epochs, subsample=args.subsample
        )
        timed_run(config, dataset, True)  # warm-up: XLA compiles, caches fill
        ratios = []
        for pair in range(args.pairs):
            order = (True, False) if pair % 2 == 0 else (False, True)
            seconds = {with_map: timed_run(config, dataset, with_map) for with_map in order}
            ratios.append(seconds[True][0] / seconds[False][0])
            print(f"{model} pair {pair + 1}: with map {seconds[True][0]:.2f} s, without {seconds[False][0]:.2f} s")
        kept = seconds[True][1]
        print(f"{model}: with / without = {statistics.median(ratios):.3f} (median of {args.pairs}); map {kept:,} bytes")


if __name__ == "__main__":
    main()

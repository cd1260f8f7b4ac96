"""The lesson run on both backends against the hand-written JAX loop and the matmul floor, in one run.

    python bench/lesson_speed.py [--repeat 2] [--seeds 42,43] [--warm] [--backends jax] [--batch-size 40]

Fashion-MNIST, 54,000 training images, the lesson's network, batch 32, 5 epochs. Each round runs,
each in a fresh process and alternating: the engine on TensorFlow, the engine on JAX, and
bench/jax_loop.py (one jitted lax.scan per epoch, Adam written out: the anchor). It prints fit
seconds, the engine's ratio to the anchor on each backend (target ≤ 1.0× on the faster one, and
≤ 1.25× for the default backend), live updates per epoch (target ≥ 20), test accuracy against the
seed-to-seed spread of the anchor, and every row's ratio to the matmul floor (numpy timing the run's
exact matrix products; bench/backends.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends
import train_speed

ROWS = (("engine", "tensorflow"), ("engine", "jax"), ("jax_loop", "jax"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    train_speed.add_training_arguments(parser)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default: --seed); spread of accuracy")
    parser.add_argument("--backends", default="tensorflow,jax", help="the engine's backends (the anchor always runs)")
    parser.add_argument(
        "--warm", action="store_true", help="each process trains its variant once, untimed, first (a warm server)"
    )
    args = parser.parse_args(argv)
    args.compile, args.speed, args.backend = None, None, None
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    print(f"Machine: {train_speed.machine_line()}")
    print(f"Data: {args.dataset}, lesson model, batch {args.batch_size}, {args.epochs} epochs, seeds {seeds}")
    results = []
    for round_number in range(args.repeat):
        for seed in seeds:
            args.seed = seed
            for variant, backend in ROWS:
                if variant == "engine" and backend not in args.backends.split(","):
                    continue
                row = train_speed.run_child(variant, args, env={"KERAS_BACKEND": backend})
                row["round"], row["seed"], row["label"] = round_number, seed, f"{variant}/{backend}"
                results.append(row)
                print(f"  {row['label']} seed {seed}: fit {row['fit_seconds']:.1f} s", flush=True)
    floor = matmul_floor(args, results[0]["train_images"])
    print(f"{'variant':<20} {'seed':>4} {'fit s':>6} {'/anchor':>7} {'/floor':>6} {'updates/ep':>10} {'test acc':>8}")
    # Each row against the anchor of its own round and seed: trained next to it, on the machine as it was then.
    anchors = {(r["round"], r["seed"]): r["fit_seconds"] for r in results if r["label"] == "jax_loop/jax"}
    for row in results:
        updates = f"{row['updates_per_epoch']:.0f}" if row["updates_per_epoch"] else "-"
        row["ratio"] = row["fit_seconds"] / anchors[row["round"], row["seed"]]
        print(
            f"{row['label']:<20} {row['seed']:>4} {row['fit_seconds']:>6.2f} "
            f"{row['ratio']:>7.2f} {row['fit_seconds'] / floor:>6.1f} "
            f"{updates:>10} {row['test_accuracy']:>8.4f}"
        )
    print(f"matmul floor: {floor:.2f} s (the run's matrix products, forward and backward, timed in numpy)")
    for label in sorted({r["label"] for r in results if r["label"].startswith("engine/")}):
        rows = [r for r in results if r["label"] == label]
        fits, ratios = [r["fit_seconds"] for r in rows], [r["ratio"] for r in rows]
        print(
            f"median {label} / anchor: {statistics.median(fits) / statistics.median(anchors.values()):.2f}x "
            f"(spread {min(fits):.2f}–{max(fits):.2f} s); round by round {statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}–{max(ratios):.2f})"
        )
    accuracies = {r["label"]: [] for r in results}
    for row in results:
        accuracies[row["label"]].append(row["test_accuracy"])
    for label, values in accuracies.items():
        print(f"test accuracy {label}: {min(values):.4f}–{max(values):.4f}")
    return 0


def matmul_floor(args: argparse.Namespace, train_images: int) -> float:
    config = train_speed.training_config(args)
    layer_sizes = [28 * 28, *config.hidden_layers, 10]
    validation = round(train_images * config.validation_split / (1 - config.validation_split))
    counts = {"train_images": train_images, "validation_images": validation, "test_images": 10_000}
    return backends.matmul_limit(args, layer_sizes, counts)["seconds"]


if __name__ == "__main__":
    sys.exit(main())

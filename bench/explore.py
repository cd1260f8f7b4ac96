"""What makes Keras fast here: compile options, threads and batch sizes, each in a fresh process, in one run.

    python bench/explore.py                     # Fashion-MNIST 60k, lesson model, 5 epochs
    python bench/explore.py --backends jax --only spe

Every row is bench/train_speed.py's plain variant (model.fit, no live callback) with the compile
options and environment shown, so the rows differ only in what is being tried. Batch sizes other
than 32 change the training itself (fewer, larger steps): they show the per-epoch cost of the
batch size a person picks, not a setting the engine may change.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_speed

FAST = {"jit_compile": True, "steps_per_execution": 50}
# (group, label, compile options, environment, batch size)
TRIALS = {
    "tensorflow": [
        ("compile", "Keras defaults", {}, {}, 32),
        ("compile", "jit_compile", {"jit_compile": True}, {}, 32),
        ("compile", "steps_per_execution=50", {"steps_per_execution": 50}, {}, 32),
        ("compile", "jit_compile + steps_per_execution=50", FAST, {}, 32),
        ("spe", "jit_compile + steps_per_execution=10", {**FAST, "steps_per_execution": 10}, {}, 32),
        ("spe", "jit_compile + steps_per_execution=25", {**FAST, "steps_per_execution": 25}, {}, 32),
        ("spe", "jit_compile + steps_per_execution=100", {**FAST, "steps_per_execution": 100}, {}, 32),
        ("threads", "fast, 1 intra-op thread", FAST, {"TF_NUM_INTRAOP_THREADS": "1"}, 32),
        ("threads", "fast, 1 inter-op thread", FAST, {"TF_NUM_INTEROP_THREADS": "1"}, 32),
        (
            "threads",
            "fast, 2 intra-op, 1 inter-op",
            FAST,
            {"TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "1"},
            32,
        ),
        ("batch", "fast, batch 64", FAST, {}, 64),
        ("batch", "fast, batch 128", FAST, {}, 128),
    ],
    "jax": [
        ("compile", "Keras defaults (JAX jits by default)", {}, {}, 32),
        ("compile", "steps_per_execution=50", FAST, {}, 32),
        ("spe", "steps_per_execution=10", {**FAST, "steps_per_execution": 10}, {}, 32),
        ("spe", "steps_per_execution=25", {**FAST, "steps_per_execution": 25}, {}, 32),
        ("spe", "steps_per_execution=100", {**FAST, "steps_per_execution": 100}, {}, 32),
        ("threads", "fast, XLA CPU 1 thread", FAST, {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}, 32),
        ("batch", "fast, batch 64", FAST, {}, 64),
        ("batch", "fast, batch 128", FAST, {}, 128),
    ],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--only", help="comma-separated groups: compile,spe,threads,batch")
    args = parser.parse_args(argv)
    groups = set(args.only.split(",")) if args.only else None
    print(f"Machine: {train_speed.machine_line()}")
    print(f"Data: {args.dataset}, lesson model, {args.epochs} epochs, seed {args.seed}; plain model.fit per row")
    print(f"{'backend':<11} {'trial':<40} {'batch':>5} {'wall s':>7} {'CPU s':>6} {'s/epoch':>7} {'test acc':>8}")
    for backend in args.backends.split(","):
        for group, label, options, environment, batch_size in TRIALS[backend]:
            if groups and group not in groups:
                continue
            trial = argparse.Namespace(
                dataset=args.dataset,
                epochs=args.epochs,
                batch_size=batch_size,
                seed=args.seed,
                compile=json.dumps(options),
            )
            try:
                row = train_speed.run_child("plain", trial, env={"KERAS_BACKEND": backend, **environment})
            except RuntimeError as error:
                print(f"{backend:<11} {label:<40} failed: {str(error).strip().splitlines()[-1]}")
                continue
            print(
                f"{backend:<11} {label:<40} {batch_size:>5} {row['seconds']:>7.1f} {row['cpu_seconds']:>6.1f}"
                f" {row['fit_seconds'] / args.epochs:>7.2f} {row['test_accuracy']:>8.4f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

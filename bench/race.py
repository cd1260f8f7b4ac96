"""A race of 3 variants (interleaved, one epoch each in turn) against the same 3 runs trained one after another.

Each trial runs in a fresh process, the two kinds alternating (race, one-after-another, one-after-another,
race, …), so neither warms the other's caches. Prints wall and CPU seconds per trial and the race's
ratio to the control (target ≤ 1.1×). With --ray, also the same race on a local Ray cluster of 3
one-CPU workers, one variant per worker (core.jobs.race_job.submit_race).

    python bench/race.py [--epochs 10] [--dataset digits] [--repeat 2] [--ray]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPEC = "optimizer=adam,sgd,rmsprop"


def trial(mode: str, dataset_name: str, epochs: int, subsample: int | None) -> dict:
    """One measurement in this process: `mode` is "race", "sequential" or "ray"."""
    from core import libraries
    from core.config import TrainingConfig
    from core.data.datasets import load_dataset
    from core.training.engine import train
    from core.training.race import new_race, parse_vary, train_race

    libraries.load("keras")
    dataset = load_dataset(dataset_name)
    base = TrainingConfig(dataset=dataset_name, epochs=epochs, subsample=subsample)
    race = new_race(parse_vary(SPEC), base)
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "race":
        train_race(race.runs, dataset)
    elif mode == "sequential":
        for run in race.runs:
            train(run, dataset)
    else:
        from core.jobs.race_job import submit_race
        from core.jobs.ray_jobs import RayJobRunner
        from tests.ray.local_cluster import LocalCluster

        cluster = LocalCluster(workers=3).start()
        try:
            runner = RayJobRunner(cluster.address)
            cluster.wait_for_cpus()
            wall, cpu = time.perf_counter(), time.process_time()  # the cluster's start is not the race's
            submit_race(runner, race, dataset)
            runner.wait_idle()
            return _result(race, time.perf_counter() - wall, time.process_time() - cpu)
        finally:
            cluster.stop()
    return _result(race, time.perf_counter() - wall, time.process_time() - cpu)


def _result(race, seconds: float, cpu: float) -> dict:
    snaps = race.snapshots()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "statuses": [snap.status for snap in snaps],
        "test_accuracy": [snap.test_metrics.get("accuracy") for snap in snaps],
    }


def measure(mode: str, args) -> dict:
    command = [sys.executable, __file__, "--trial", mode, "--epochs", str(args.epochs), "--dataset", args.dataset]
    if args.subsample:
        command += ["--subsample", str(args.subsample)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--subsample", type=int)
    parser.add_argument("--repeat", type=int, default=2, help="trials of each kind, alternating")
    parser.add_argument("--ray", action="store_true", help="also race on a local Ray cluster of 3 workers")
    parser.add_argument("--trial", choices=("race", "sequential", "ray"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trial:
        print(json.dumps(trial(args.trial, args.dataset, args.epochs, args.subsample)))
        return
    print(f"{SPEC} on {args.dataset}, {args.epochs} epochs each, {args.repeat} trial(s) of each kind")
    found: dict[str, list[dict]] = {"race": [], "sequential": []}
    for index in range(args.repeat):
        order = ("race", "sequential") if index % 2 == 0 else ("sequential", "race")
        for mode in order:
            result = measure(mode, args)
            found[mode].append(result)
            accuracy = " ".join(f"{a:.3f}" for a in result["test_accuracy"] if a is not None)
            print(f"  {mode:<10} {result['seconds']:7.1f} s wall  {result['cpu']:7.1f} s CPU  test accuracy {accuracy}")
    race_wall = statistics.median(r["seconds"] for r in found["race"])
    alone_wall = statistics.median(r["seconds"] for r in found["sequential"])
    race_cpu = statistics.median(r["cpu"] for r in found["race"])
    alone_cpu = statistics.median(r["cpu"] for r in found["sequential"])
    ratios = f"{race_wall / alone_wall:.2f}× wall, {race_cpu / alone_cpu:.2f}× CPU"
    print(f"race / one after another: {ratios} (target ≤ 1.10×)")
    same = all(r["test_accuracy"] == found["race"][0]["test_accuracy"] for r in found["race"] + found["sequential"])
    print(f"same test accuracies raced and alone: {same}")
    if args.ray:
        result = measure("ray", args)
        print(f"  {'ray':<10} {result['seconds']:7.1f} s wall")
        print(f"3 Ray workers / race in-process: {result['seconds'] / race_wall:.2f}× wall")


if __name__ == "__main__":
    main()

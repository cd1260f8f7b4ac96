"""Runs finished per minute for N people pressing Train together: in-process vs a local Ray cluster.

Starts a real Ray cluster on loopback (a head and WORKERS one-CPU worker nodes, as the tests do),
submits the same N jobs to each runner, and prints both throughputs side by side, their ratio, the
time to the first chart point on Ray (cold: a new worker imports TensorFlow; warm: a worker reused),
and the CPU-seconds one run costs, from which the README's capacity plan is worked out.

    python bench/ray_throughput.py [--users 6] [--epochs 3] [--dataset digits] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core import libraries
from core.config import TrainingConfig
from core.data.datasets import load_dataset
from core.jobs.runner import JobRunner
from core.jobs.training_job import training_job
from core.training.run import FINISHED, TrainingRun
from tests.ray.local_cluster import LocalCluster


def run_room(runner, users: int, epochs: int, dataset) -> dict:
    """Submit one Keras job per user at once; time until all finish and until each first point."""
    jobs = []
    started = time.perf_counter()
    for user in range(users):
        runs = [TrainingRun(TrainingConfig(dataset=dataset.name, epochs=epochs, seed=user), "keras")]
        runner.submit(runs, training_job(runs, dataset))
        jobs.append(runs[0])
    first_points: dict[int, float] = {}
    while not runner.wait_idle(timeout=0.05):
        for index, run in enumerate(jobs):
            if index not in first_points and run.snapshot().batches:
                first_points[index] = time.perf_counter() - started
    seconds = time.perf_counter() - started
    finished = sum(run.status == FINISHED for run in jobs)
    fit = [run.snapshot().fit_seconds or 0.0 for run in jobs]
    return {
        "seconds": seconds,
        "per_minute": 60 * finished / seconds,
        "finished": finished,
        "first_point": min(first_points.values(), default=float("nan")),
        "fit_seconds": sum(fit) / len(fit),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--workers", type=int, default=2, help="one-CPU worker nodes in the local cluster")
    args = parser.parse_args()

    libraries.load("keras")
    dataset = load_dataset(args.dataset)
    print(f"{args.users} users, {args.epochs} epochs of {dataset.title}, {os.cpu_count()} cores on this machine")

    in_process = run_room(JobRunner(), args.users, args.epochs, dataset)
    print(f"in-process   : {in_process['per_minute']:6.1f} runs/min ({in_process['seconds']:.1f} s for all)")

    cluster = LocalCluster(workers=args.workers).start()
    try:
        from core.jobs.ray_jobs import RayJobRunner

        runner = RayJobRunner(cluster.address, max_concurrent=args.workers)
        cluster.wait_for_cpus()
        cold = run_room(runner, args.users, args.epochs, dataset)
        warm = run_room(runner, args.users, args.epochs, dataset)
    finally:
        cluster.stop()
    print(f"Ray, cold    : {cold['per_minute']:6.1f} runs/min ({cold['seconds']:.1f} s, new workers)")
    print(f"Ray, warm    : {warm['per_minute']:6.1f} runs/min ({warm['seconds']:.1f} s)")
    print(f"ratio warm Ray / in-process: {warm['per_minute'] / in_process['per_minute']:.2f}×")
    print(f"first chart point on Ray: cold {cold['first_point']:.1f} s, warm {warm['first_point']:.1f} s")
    print(f"in-process first chart point: {in_process['first_point']:.1f} s")
    per_run = warm["seconds"] * args.workers / max(warm["finished"], 1)
    print(f"cost of one run on Ray: {per_run:.1f} worker-CPU-seconds (fit alone {warm['fit_seconds']:.1f} s)")
    for room in (30, 100, 1000):
        for wait_minutes in (1, 5):
            workers = -(-room * per_run // (60 * wait_minutes))
            print(f"  room of {room:>4}, everyone done within {wait_minutes} min: {int(workers)} one-CPU workers")


if __name__ == "__main__":
    main()

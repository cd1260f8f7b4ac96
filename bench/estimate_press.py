"""The Train page's estimate of a whole press against the press's measured time, for each choice of models.

    python bench/estimate_press.py                 # the digits, Fashion-MNIST and its IDX folder; 5 epochs; two rounds
    python bench/estimate_press.py --rounds 1 --epochs 3

One process does what a server does: it loads the libraries, trains the warm-up run
(core.jobs.start.warm_up_default_run), then, round after round, presses Train on each dataset with each
"models to train" choice (both, keras, baseline), one press at a time, as one visitor after another.
Before each press it takes the estimate the page shows (core.jobs.start.press_estimate); the press then
runs on a job runner as the page's does (core.jobs.start.start_runs), and its time is the wall time from
the press until every run of it has ended. Each row prints the estimate, the time, and the error; the
summary prints the share of presses within ±30 % (target: at least 90 %). Each press's runs teach the
estimates after them (core.training.paces), as on a server. The last column is each run's measured pace over
its FLOP count: the factor by which the cost model's constants (core.training.estimate) are off here now; and
what its network's latest runs took outside their clock and to save, the fitted start and save constants' measure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.30
TARGET_SHARE = 0.9
FASHION_FOLDER = "/usr/share/datasets/fashion-mnist"
CHOICES = ("both", "keras", "baseline")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="presses of every dataset and choice, this many times")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--datasets", default="digits,fashion_mnist,folder", help="comma-separated")
    parser.add_argument("--folder", default=FASHION_FOLDER, help="the IDX folder the 'folder' dataset reads")
    return parser.parse_args(argv)


def press(config, dataset, choice: str) -> tuple[float, float, str]:
    """(estimated seconds, measured seconds, each run's measured pace over its FLOP count) of one press of Train."""
    from core.jobs.runner import JobRunner
    from core.jobs.start import new_runs, press_estimate, start_runs

    said = press_estimate(config, dataset, choice).total_seconds
    runner = JobRunner()
    started = time.perf_counter()
    runs = start_runs(runner, new_runs(config, choice), dataset)
    runner.wait_idle()
    took = time.perf_counter() - started
    failed = [run.snapshot().message for run in runs if run.status not in ("finished", "stopped")]
    if failed:
        raise RuntimeError(f"A press failed: {failed}")
    return said, took, " ".join(pace_over_count(run) for run in runs)


def pace_over_count(run) -> str:
    """A run's measured seconds per epoch over what its FLOP count said (core.training.paces.Estimate): the
    factor its cost model's constants are off by on this machine now, to refit them by."""
    from core.training.paces import OUTSIDE_CLOCK, SAVE, epoch_pace, latest

    pace = epoch_pace(run.snapshot().epochs)
    counted = run.estimate.counted_seconds_per_epoch
    factor = f"{run.kind} {pace / counted:.2f}" if pace and counted else f"{run.kind} -"
    # What its network's latest runs took outside their clock and to save (estimate.KERAS_OUTSIDE_CLOCK and the like).
    network = run.estimate.backend, run.estimate.signature
    outside, saved = latest(OUTSIDE_CLOCK, *network), latest(SAVE, *network)
    return (
        factor
        + (f" (outside {outside:.3f} s" if outside is not None else " (outside -")
        + (f", save {saved:.3f} s)" if saved is not None else ", save -)")
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The presses' runs are saved as the app saves them, into a folder of their own.
    os.environ.setdefault("TRAINING_STUDIO_RUNS_DIR", tempfile.mkdtemp(prefix="estimate-press-runs-"))
    from core import libraries
    from core.config import TrainingConfig
    from core.data.datasets import load_dataset
    from core.jobs.start import warm_up_default_run

    libraries.load("keras")
    warm_up_default_run()
    datasets = {}
    for name in args.datasets.split(","):
        data_dir = args.folder if name == "folder" else None
        datasets[name] = (load_dataset(name, data_dir), data_dir)
    rows = []
    print(f"{'round':>5} {'dataset':<14} {'models':<9} {'said s':>8} {'took s':>8} {'error':>7}  pace/count")
    for round_number in range(1, args.rounds + 1):
        for name, (dataset, data_dir) in datasets.items():
            for choice in CHOICES:
                config = TrainingConfig(dataset=name, data_dir=data_dir, epochs=args.epochs)
                said, took, factors = press(config, dataset, choice)
                error = said / took - 1
                rows.append(error)
                mark = "" if abs(error) <= TARGET else " (off)"
                row = f"{round_number:>5} {name:<14} {choice:<9} {said:>8.2f} {took:>8.2f} {error:>+7.0%}{mark}"
                row += f"  {factors}"
                print(row, flush=True)
    within = sum(abs(error) <= TARGET for error in rows)
    share = within / len(rows)
    print(f"within ±{TARGET:.0%}: {within} of {len(rows)} presses ({share:.0%}; target {TARGET_SHARE:.0%})")
    return 0 if share >= TARGET_SHARE else 1


if __name__ == "__main__":
    raise SystemExit(main())

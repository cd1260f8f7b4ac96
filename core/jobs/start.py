"""The one way a run starts: make its records, queue the training job, save what finishes.

The Train page, the Lesson, workshop rooms and races (start_race) all start runs here, so saving to the run
folder (core.results.experiments) and the waiting line's estimates are never forgotten by a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.config import TRAIN_CHOICES, TrainingConfig
from core.data.datasets import Dataset
from core.jobs import budget
from core.jobs.race_job import submit_race
from core.jobs.runner import DEFAULT_PRIORITY
from core.jobs.training_job import training_job
from core.results.experiments import RunStore, saving_job
from core.training.race import Race
from core.training.run import TrainingRun

KINDS = ("keras", "baseline")  # in the order one job trains them


def new_runs(config: TrainingConfig, train: str = "both", label: str | None = None) -> list[TrainingRun]:
    """The run records one press of Train makes; `train` is one of core.config.TRAIN_CHOICES."""
    if train not in TRAIN_CHOICES:
        raise ValueError(f"Unknown choice of models {train!r}; expected one of {', '.join(TRAIN_CHOICES)}.")
    kinds = [kind for kind in KINDS if train in (kind, "both")]
    return [TrainingRun(config, kind, label=_label(label, kind, len(kinds))) for kind in kinds]


def start_runs(
    runner: Any,
    runs: Sequence[TrainingRun],
    dataset: Dataset,
    *,
    extra_epochs: int | None = None,
    store: RunStore | None = None,
    priority: int = DEFAULT_PRIORITY,
) -> list[TrainingRun]:
    """Queue `runs` (new, or finished ones to continue for `extra_epochs`) on `runner`; returns them.

    The job trains them in order in a worker and then saves each finished run (record and model).
    """
    runs = list(runs)
    for run in runs:
        if extra_epochs:
            run.prepare_more_epochs(extra_epochs)
        planned = run.config.replace(epochs=extra_epochs or run.config.epochs)
        images = len(dataset.pixels_train)
        run.estimated_seconds = budget.estimate(planned, images, dataset.image_shape, dataset.num_classes).total_seconds
    preload = "keras" if any(run.kind == "keras" for run in runs) else "sklearn"
    job = saving_job(training_job(runs, dataset, extra_epochs), runs, store)
    runner.submit(runs, job, preload=preload, priority=priority)
    return runs


def start_run(
    runner: Any,
    config: TrainingConfig,
    dataset: Dataset,
    train: str = "both",
    *,
    label: str | None = None,
    store: RunStore | None = None,
    priority: int = DEFAULT_PRIORITY,
) -> list[TrainingRun]:
    """Start training `config` on `dataset`: new run records, queued on `runner`, saved when done."""
    return start_runs(runner, new_runs(config, train, label), dataset, store=store, priority=priority)


def start_race(
    runner: Any,
    race: Race,
    dataset: Dataset,
    *,
    store: RunStore | None = None,
    priority: int = DEFAULT_PRIORITY,
) -> Race:
    """Queue every variant of `race` (core.training.race.new_race) on `runner`; each is saved when it ends.

    Each variant carries its own estimate, so the line's waiting times count the whole race.
    """
    found = budget.estimates_in_turn(
        [run.config for run in race.runs], len(dataset.pixels_train), dataset.image_shape, dataset.num_classes
    )
    for run, estimate in zip(race.runs, found, strict=True):
        run.estimated_seconds = estimate.total_seconds
    submit_race(runner, race, dataset, wrap=lambda job, runs: saving_job(job, runs, store), priority=priority)
    return race


def _label(label: str | None, kind: str, count: int) -> str | None:
    """A caller's label names the Keras run; with both models the baseline's says whose it is."""
    if label is None:
        return None
    return label if kind == "keras" or count == 1 else f"{label} (baseline)"

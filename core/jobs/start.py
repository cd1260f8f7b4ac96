"""The one way a run starts: make its records, queue the training job, save what finishes.

The Train page, the Lesson, workshop rooms and races (start_race) all start runs here, so saving to the run
folder (core.results.experiments) and the waiting line's estimates are never forgotten by a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import libraries
from core.config import TRAIN_CHOICES, TrainingConfig
from core.data.datasets import Dataset
from core.jobs.race_job import race_estimates, submit_race
from core.jobs.runner import DEFAULT_PRIORITY
from core.jobs.training_job import training_job
from core.results.experiments import RunStore, saving_job
from core.training.estimate import estimates_in_turn, whole
from core.training.paces import Estimate
from core.training.race import Race
from core.training.run import TrainingRun

KINDS = ("keras", "baseline")  # in the order one job trains them
# The warm-up's epochs: the first compiles, the second runs slowly (the first executions after compiling),
# the third is the pace of the epochs after it (core.training.paces.epoch_pace).
WARM_UP_EPOCHS = 3
# The most the warm-up's epochs after its first may take in all: the digits' fit, MNIST's and Fashion-MNIST's do not.
WARM_UP_PACE_SECONDS = 0.2


def new_runs(config: TrainingConfig, train: str = "both", label: str | None = None) -> list[TrainingRun]:
    """The run records one press of Train makes; `train` is one of core.config.TRAIN_CHOICES."""
    kinds = kinds_to_train(train)
    return [TrainingRun(config, kind, label=_label(label, kind, len(kinds))) for kind in kinds]


def kinds_to_train(train: str) -> list[str]:
    """The kinds of run one press trains, in turn; `train` is one of core.config.TRAIN_CHOICES."""
    if train not in TRAIN_CHOICES:
        raise ValueError(f"Unknown choice of models {train!r}; expected one of {', '.join(TRAIN_CHOICES)}.")
    return [kind for kind in KINDS if train in (kind, "both")]


def press_estimate(config: TrainingConfig, dataset: Dataset, train: str = "both") -> Estimate:
    """What one press of Train costs here: each run it trains (core.training.estimate), in turn."""
    return whole(estimates_of([(kind, config) for kind in kinds_to_train(train)], dataset))


def estimates_of(runs: Sequence[tuple[str, TrainingConfig]], dataset: Dataset) -> list[Estimate]:
    """The estimate of each (kind, config) run trained in turn on `dataset`."""
    sizes = len(dataset.pixels_train), dataset.image_shape, dataset.num_classes
    return estimates_in_turn(runs, *sizes, test_images=len(dataset.pixels_test))


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
    planned = [(run.kind, run.config.replace(epochs=extra_epochs or run.config.epochs)) for run in runs]
    for run, found in zip(runs, estimates_of(planned, dataset), strict=True):
        run.estimate = found  # the line's waiting times and the progress line's time left count it
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
    for run, found in zip(race.runs, race_estimates(race, dataset), strict=True):
        run.estimate = found
    submit_race(runner, race, dataset, wrap=lambda job, runs: saving_job(job, runs, store), priority=priority)
    return race


def warm_up(config: TrainingConfig, dataset: Dataset) -> TrainingRun:
    """Compile `config`'s programs on `dataset` before anyone presses Train: train whole epochs
    (warm_up_epochs), validate and test, as a run does. Nothing is saved; the run is returned, finished.

    On JAX a run's programs are kept in memory and on disk (core.libraries), so the person's own run
    of these settings then starts without compiling (bench/train_speed.py). Its traced training loop is
    kept too (core.training.jax_fit.TrainingLoop), so the person's run of any learning rate or seed starts
    without tracing either. Whole epochs, not a first update: the epoch's end and its last, smaller
    batch compile programs of their own, which would otherwise fall to the person's first run.
    Estimated and trained as any run is (core.jobs.training_job): how long its compile took against the
    estimate scales the next estimates', and its epochs after the second measure the pace the person's
    first run is estimated by (core.training.estimate.note_run).
    """
    run = TrainingRun(config.replace(epochs=warm_up_epochs(config, dataset)), label="warm-up")
    (run.estimate,) = estimates_of([(run.kind, run.config)], dataset)
    training_job([run], dataset)()
    return run


def warm_up_epochs(config: TrainingConfig, dataset: Dataset) -> int:
    """WARM_UP_EPOCHS where its epochs after the first are estimated to take at most WARM_UP_PACE_SECONDS in
    all (the digits); else one: a server's first visitor may press Train while it trains, and a run of larger
    data is then estimated by its counted pace."""
    (one_epoch,) = estimates_of([("keras", config.replace(epochs=1))], dataset)
    per_epoch = one_epoch.seconds_per_epoch
    return WARM_UP_EPOCHS if per_epoch * (WARM_UP_EPOCHS - 1) <= WARM_UP_PACE_SECONDS else 1


def warm_up_default_run() -> TrainingRun | None:
    """warm_up() for the run the Train page starts with (its default dataset, or the offline fallback).

    JAX only: on TensorFlow it would be a second fit in the process, which that backend does not allow.
    """
    from core.data.datasets import load_dataset_or_fallback

    libraries.load("keras")
    if libraries.backend_in_force() != "jax":
        return None
    config = TrainingConfig()
    dataset, _ = load_dataset_or_fallback(config.dataset)
    return warm_up(config.replace(dataset=dataset.name), dataset)


def _label(label: str | None, kind: str, count: int) -> str | None:
    """A caller's label names the Keras run; with both models the baseline's says whose it is."""
    if label is None:
        return None
    return label if kind == "keras" or count == 1 else f"{label} (baseline)"

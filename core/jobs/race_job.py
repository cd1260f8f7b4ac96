"""A race as a job: one interleaved job in this process, or one job per variant on a Ray cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.data.datasets import Dataset
from core.jobs.runner import DEFAULT_PRIORITY, JobRunner
from core.jobs.training_job import TrainingJobSpec, job_spec, training_job
from core.training.estimate import estimates_in_turn, whole
from core.training.paces import Estimate
from core.training.race import Race, train_race
from core.training.run import TrainingRun


class RaceJob:
    """A job for core.jobs.runner.JobRunner: train a race's runs interleaved, epoch by epoch in turn.

    One job holds one of the runner's slots, so the rule of one fit at a time per process still holds.
    `spec` describes its data as a TrainingJob's does (the variants' settings travel with the runs).
    """

    def __init__(self, runs: Sequence[TrainingRun], dataset: Dataset) -> None:
        self.runs = list(runs)
        self.dataset = dataset

    @property
    def spec(self) -> TrainingJobSpec:
        return job_spec(self.dataset, self.runs[0].config)

    def __call__(self) -> None:
        train_race(self.runs, self.dataset)


Wrap = Callable[[Callable[[], None], Sequence[TrainingRun]], Callable[[], None]]


def submit_race(
    runner,
    race: Race,
    dataset: Dataset,
    wrap: Wrap | None = None,
    parallel: bool | None = None,
    priority: int = DEFAULT_PRIORITY,
) -> None:
    """Queue `race` on `runner`; returns at once.

    In this process (a JobRunner) the race is one RaceJob. A runner that trains elsewhere (Ray's)
    gets one ordinary training job per variant, which its workers train in parallel; the variants
    then share initial weights through their common seed only. `wrap(job, runs)` wraps each job
    (e.g. core.results.experiments.saving_job, so every variant is saved). `priority` is the line's
    (core.jobs.runner.PRESENTER_PRIORITY puts a workshop presenter's race ahead of the room's tries).
    """
    wrap = wrap or (lambda job, runs: job)
    if parallel is None:
        parallel = not isinstance(runner, JobRunner)
    if parallel:
        for run in race.runs:
            runner.submit([run], wrap(training_job([run], dataset), [run]), priority=priority)
    else:
        runner.submit(race.runs, wrap(RaceJob(race.runs, dataset), race.runs), priority=priority)


def race_estimates(race: Race, dataset: Dataset) -> list[Estimate]:
    """Each variant's estimate, in the order the race trains them: variants of one network and shapes compile
    once, in the first one (as in this process's RaceJob)."""
    runs = [("keras", run.config) for run in race.runs]
    sizes = len(dataset.pixels_train), dataset.image_shape, dataset.num_classes
    return estimates_in_turn(runs, *sizes, test_images=len(dataset.pixels_test))


def race_estimate(race: Race, dataset: Dataset) -> Estimate:
    """What the whole race costs here: every variant's time, and their memory together (all live at once).

    Slightly high on memory: the variants share one split of the data, counted here once per variant.
    """
    return whole(race_estimates(race, dataset), at_once=True)

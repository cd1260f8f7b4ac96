"""A training job: the runs of one press of Train (Keras, then the baseline), trained in turn."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.config import UPLOAD_DATASET, TrainingConfig
from core.data.datasets import Dataset
from core.data.uploads import npz_bytes
from core.training.baseline import train_baseline
from core.training.engine import train
from core.training.estimate import note_run
from core.training.run import STOPPED, TrainingRun


@dataclass(frozen=True)
class TrainingJobSpec:
    """A training job as plain data (the runs' settings travel with the runs), for runners that
    train in another process, such as core.jobs.ray_jobs: the worker loads the dataset by name itself."""

    dataset_name: str
    data_dir: str | None = None
    extra_epochs: int | None = None
    # Uploaded images live in this process's memory alone: they travel with the job, as an .npz's bytes.
    own_images: bytes | None = field(default=None, repr=False)


def job_spec(dataset: Dataset, config: TrainingConfig, extra_epochs: int | None = None) -> TrainingJobSpec:
    """How another process finds a job's data: a folder by its directory, named datasets by their name,
    uploaded images by their bytes."""
    data_dir = config.data_dir if config.dataset == dataset.name else None
    own_images = npz_bytes(dataset) if dataset.name == UPLOAD_DATASET else None
    return TrainingJobSpec(dataset.name, data_dir, extra_epochs, own_images)


class TrainingJob:
    """A job for core.jobs.runner.JobRunner: train each run in turn (Keras, then the baseline).

    Calling it trains in this process; `spec` describes the same job as data for other runners.
    """

    def __init__(self, runs, dataset: Dataset, extra_epochs: int | None = None) -> None:
        self.runs = list(runs)
        self.dataset = dataset
        self.extra_epochs = extra_epochs

    @property
    def spec(self) -> TrainingJobSpec:
        return job_spec(self.dataset, self.runs[0].config, self.extra_epochs)

    def __call__(self) -> None:
        runs, dataset, extra_epochs = self.runs, self.dataset, self.extra_epochs
        for waiting in runs[1:]:
            waiting.set_message(f"Starts when {runs[0].label} has finished.")
        for run in runs:
            if run.stop_requested:
                run.mark_finished(STOPPED, "Stopped before it started.")
                continue
            began = time.monotonic()
            if run.kind == "baseline":
                train_baseline(run, dataset, extra_epochs)
            else:
                train(run, dataset, extra_epochs)
            note_measured(run, extra_epochs, time.monotonic() - began)


def note_measured(run: TrainingRun, extra_epochs: int | None, job_seconds: float) -> None:
    """Measure the run's estimate by what it took, `job_seconds` in all, for the next estimates
    (core.training.estimate.note_run).

    Only a run trained from its start: a continued run's epochs span the pause and the new fit's compiling."""
    if run.estimate is not None and not extra_epochs:
        note_run(run.snapshot(), run.estimate, job_seconds)


def training_job(runs, dataset: Dataset, extra_epochs: int | None = None) -> TrainingJob:
    """A job for core.jobs.runner.JobRunner (or core.jobs.ray_jobs.RayJobRunner): train each run in turn."""
    return TrainingJob(runs, dataset, extra_epochs)

"""Trainings on a real local Ray cluster through the app's job runner: curves, Stop, a dying worker."""

import os
import signal

import numpy as np
import pytest

from core.config import TrainingConfig
from core.jobs.choice import choose_job_runner
from core.jobs.ray_jobs import apply_events, forward_to
from core.jobs.runner import JobRunner
from core.jobs.training_job import training_job
from core.training.run import FAILED, FINISHED, RUNNING, STOPPED, TrainingRun
from tests.polling import poll_until
from tests.ray.local_cluster import free_port

JOB_TIMEOUT_SECONDS = 120
# A run still training when the test stops or kills it, however fast the machine: a warm JAX worker ran the
# default network's 60 digits epochs in under a second, before the stop reached it. Two 1024-unit layers take
# about 0.1 s an epoch here (10 s for the 100); each test below ends it after its first epoch or batch.
LONG_RUN = TrainingConfig(dataset="digits", epochs=100, hidden_layers=(1024, 1024))


def test_a_workers_events_replayed_into_an_app_run_give_the_same_record(digits):
    from core.training.baseline import train_baseline

    config = TrainingConfig(dataset="digits", epochs=2, metrics=("accuracy", "f1"), seed=3)
    events = []
    worker_run = TrainingRun(config, "baseline")
    forward_to(events, worker_run, 0)
    train_baseline(worker_run, digits)
    app_run = TrainingRun(config, "baseline")
    apply_events([app_run], events)

    worker, app = worker_run.snapshot(), app_run.snapshot()
    assert app.status == FINISHED and app.message == worker.message
    assert [row["val_f1"] for row in app.epochs] == [row["val_f1"] for row in worker.epochs]
    assert [point["loss"] for point in app.batches] == [point["loss"] for point in worker.batches]
    assert app.test_metrics == worker.test_metrics
    np.testing.assert_array_equal(app.details["test_confusion_matrix"], worker.details["test_confusion_matrix"])
    assert app.dataset_title == digits.title and app.parameter_count == worker.parameter_count
    np.testing.assert_array_equal(app_run.test_probabilities, worker_run.test_probabilities)
    assert app_run.model.predict(digits.x_test[:5].reshape(5, -1)).shape == (5,)


def test_several_trainings_at_once_each_keep_their_own_settings(ray_runner, digits):
    settings = [
        TrainingConfig(dataset="digits", epochs=2, seed=1),
        TrainingConfig(dataset="digits", epochs=3, seed=2, metrics=("accuracy", "f1")),
        TrainingConfig(dataset="digits", epochs=2, seed=3, hidden_layers=(32,)),
    ]
    jobs = []
    for config in settings:
        runs = [TrainingRun(config, "keras")] + ([TrainingRun(config, "baseline")] if config.seed == 2 else [])
        ray_runner.submit(runs, training_job(runs, digits))
        jobs.append(runs)
    # Two worker CPUs, two slots: the third job waits in the app's line, with a visible place.
    assert ray_runner.position(jobs[2][0]) is not None

    seen_live = set()
    while not ray_runner.wait_idle(timeout=0.2):
        for index, runs in enumerate(jobs):
            snap = runs[0].snapshot()
            if snap.status == RUNNING and snap.batches:
                seen_live.add(index)
    assert seen_live, "no batch point reached the app while a job was still running"

    for config, runs in zip(settings, jobs, strict=True):
        for run in runs:
            snap = run.snapshot()
            assert snap.status == FINISHED, snap.message
            assert snap.config == config and [row["epoch"] for row in snap.epochs] == list(range(1, config.epochs + 1))
            assert set(config.metrics) | {"loss"} <= set(snap.epochs[-1])
            assert ("val_f1" in snap.epochs[-1]) == ("f1" in config.metrics)
            assert snap.test_metrics["accuracy"] > 0.5
            assert run.test_probabilities.shape == (len(digits.x_test), 10)
    keras_run = jobs[2][0]
    assert keras_run.parameter_count == 8 * 8 * 32 + 32 + 32 * 10 + 10
    predicted = keras_run.model.predict(digits.x_test, verbose=0)
    np.testing.assert_allclose(predicted, keras_run.test_probabilities, atol=1e-5)

    # "Train more" continues the same model on the cluster; the curves go on where they ended.
    first = jobs[0]
    first[0].prepare_more_epochs(1)
    ray_runner.submit(first, training_job(first, digits, extra_epochs=1))
    assert ray_runner.wait_idle(timeout=JOB_TIMEOUT_SECONDS)
    snap = first[0].snapshot()
    assert snap.status == FINISHED and [row["epoch"] for row in snap.epochs] == [1, 2, 3]
    assert snap.epochs[2]["loss"] < snap.epochs[0]["loss"]


def test_stop_ends_a_ray_run_and_keeps_its_model(ray_runner, digits):
    runs = [TrainingRun(LONG_RUN.replace(seed=4), "keras")]
    ray_runner.submit(runs, training_job(runs, digits))
    poll_until(lambda: runs[0].completed_epochs >= 1, JOB_TIMEOUT_SECONDS, "the Ray job has finished an epoch")
    ray_runner.cancel(runs)
    assert ray_runner.wait_idle(timeout=JOB_TIMEOUT_SECONDS)
    snap = runs[0].snapshot()
    assert snap.status == STOPPED and "the model is kept" in snap.message, snap.message
    assert 1 <= len(snap.epochs) < LONG_RUN.epochs and runs[0].model is not None


def test_a_worker_that_dies_fails_its_run_clearly_and_the_next_run_works(ray_runner, digits):
    runs = [TrainingRun(LONG_RUN.replace(seed=5), "keras")]
    ray_runner.submit(runs, training_job(runs, digits))
    poll_until(lambda: runs[0].snapshot().batches, JOB_TIMEOUT_SECONDS, "the Ray job has sent a batch point")
    worker = ray_runner.worker_of(runs[0])
    os.kill(worker.pid, signal.SIGKILL)
    assert ray_runner.wait_idle(timeout=JOB_TIMEOUT_SECONDS)
    snap = runs[0].snapshot()
    assert snap.status == FAILED, snap.message
    assert "stopped unexpectedly" in snap.message and "Press Train" in snap.message

    again = [TrainingRun(TrainingConfig(dataset="digits", epochs=1, seed=5), "keras")]
    ray_runner.submit(again, training_job(again, digits))
    assert ray_runner.wait_idle(timeout=JOB_TIMEOUT_SECONDS)
    assert again[0].status == FINISHED, again[0].snapshot().message


def test_the_configuration_picks_ray_and_sizes_the_line_by_the_clusters_cpus(ray_runner, ray_cluster):
    choice = choose_job_runner({"RAY_ADDRESS": ray_cluster.address})
    assert type(choice.runner).__name__ == "RayJobRunner" and choice.notice is None
    assert choice.runner.slots == 2 and "Ray cluster" in choice.description


def test_an_unreachable_cluster_falls_back_to_in_process_with_a_notice():
    address = f"127.0.0.1:{free_port()}"
    choice = choose_job_runner({"RAY_ADDRESS": address})
    assert isinstance(choice.runner, JobRunner)
    assert address in choice.notice and "could not be reached" in choice.notice and "ray start --head" in choice.notice


@pytest.mark.parametrize(
    "environ, expected_notice",
    [
        ({}, None),
        ({"TRAINING_STUDIO_RUNNER": "in-process", "RAY_ADDRESS": "x:1"}, None),
        ({"TRAINING_STUDIO_RUNNER": "gpu"}, "not a runner"),
    ],
)
def test_without_ray_in_the_configuration_jobs_run_in_process(environ, expected_notice):
    choice = choose_job_runner(environ)
    assert isinstance(choice.runner, JobRunner)
    assert (choice.notice is None) if expected_notice is None else (expected_notice in choice.notice)


def test_a_wrapped_job_keeps_its_wrapper_on_ray_with_the_training_swapped(digits, quick_config):
    from core.jobs.ray_jobs import _in_place_of_training
    from core.results.experiments import SavingJob

    runs = [TrainingRun(quick_config, "keras")]
    wrapped = SavingJob(training_job(runs, digits), runs)
    remote = _in_place_of_training(wrapped, lambda: None)
    assert isinstance(remote, SavingJob) and remote.runs == runs and remote.job is not wrapped.job
    assert wrapped.spec.dataset_name == "digits"  # the wrapper passes the job's description through
    assert _in_place_of_training(training_job(runs, digits), print) is print


def test_a_race_on_ray_trains_its_variants_at_once_each_saved_with_its_own_setting(ray_runner, digits, tmp_path):
    from core.jobs.start import start_race
    from core.results.experiments import RunStore
    from core.training.race import new_race, parse_vary

    race = new_race(parse_vary("optimizer=adam,sgd"), LONG_RUN.replace(seed=6))
    store = RunStore(tmp_path)
    start_race(ray_runner, race, digits, store=store)

    # One job per variant on two one-CPU workers: both train at the same time, each on its own worker, each
    # past its first epoch (a cold worker's start takes seconds); then the race is stopped.
    together = set()
    while not ray_runner.wait_idle(timeout=0.05):
        workers = [ray_runner.worker_of(run) for run in race.runs]
        if not together and all(workers) and all(run.completed_epochs >= 1 for run in race.runs):
            together = {worker.pid for worker in workers}
            race.request_stop()
    assert len(together) == 2, "the variants were never trained on two workers at the same time"

    snapshots = race.snapshots()
    assert [snap.status for snap in snapshots] == [STOPPED, STOPPED], [snap.message for snap in snapshots]
    assert [snap.config.optimizer for snap in snapshots] == ["adam", "sgd"]
    assert all(1 <= len(snap.epochs) < LONG_RUN.epochs for snap in snapshots), [len(s.epochs) for s in snapshots]
    assert snapshots[0].epochs[-1]["loss"] != snapshots[1].epochs[-1]["loss"], "each variant trained its own model"
    saved = {path.stem for path in tmp_path.glob("*.json")}
    assert {run.run_id for run in race.runs} <= saved, "every variant of a race is saved like any run"

"""Faults in the engine and the job line: each ends in a clear message and the line keeps serving."""

from __future__ import annotations

import os
import socket
import threading
import time

import numpy as np
import pytest

from core.config import TrainingConfig
from core.data import datasets as data
from core.data.datasets import DatasetFileError, DatasetUnavailable, load_dataset, load_dataset_or_fallback
from core.data.splits import run_indices
from core.jobs.choice import choose_job_runner
from core.jobs.runner import (
    TRAINING_NICENESS,
    JobRunner,
    OwnerWatchdog,
    job_runner_from_environment,
    max_concurrent_from_environment,
    orphan_seconds_from_environment,
)
from core.jobs.training_job import training_job
from core.training.run import CANCELLED, FAILED, FINISHED, QUEUED, RUNNING, STOPPED, TrainingRun, stopped_message
from tests.polling import poll_until


@pytest.fixture(autouse=True)
def fresh_dataset_cache():
    data.clear_dataset_cache()
    yield
    data.clear_dataset_cache()


def test_a_corrupt_cached_mnist_names_the_file_and_says_what_to_do(tmp_path, monkeypatch):
    cache = tmp_path / "datasets"
    cache.mkdir()
    (cache / "mnist.npz").write_bytes(b"PK\x03\x04 this archive was cut short")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DatasetFileError) as error:
        load_dataset("mnist")
    assert "mnist.npz" in str(error.value) and "Delete" in str(error.value)
    with pytest.raises(DatasetFileError, match=r"mnist\.npz"):  # a broken file is no reason to use other data
        load_dataset_or_fallback("mnist")


def test_no_network_and_no_cache_falls_back_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def refuse(*args, **kwargs):
        raise OSError("Network is unreachable")

    # The network is down: every new connection fails at once.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(DatasetUnavailable) as error:
        load_dataset("mnist")
    assert "Could not download MNIST" in str(error.value) and "Connect to the internet" in str(error.value)


def test_a_folder_with_images_of_the_wrong_shape_is_refused_by_name(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=rng.integers(0, 255, (20, 3, 300), dtype=np.uint8),  # 3×300: not an MNIST-like image
        y_train=np.zeros(20, dtype=np.uint8),
        x_test=rng.integers(0, 255, (5, 3, 300), dtype=np.uint8),
        y_test=np.zeros(5, dtype=np.uint8),
    )
    with pytest.raises(DatasetFileError) as error:
        load_dataset("folder", str(tmp_path))
    assert "mnist.npz" in str(error.value) and "3×300" in str(error.value)


def test_a_worker_raising_mid_epoch_fails_its_run_and_the_line_goes_on(digits, quick_config, monkeypatch):
    from core.training.callbacks import LiveProgress

    original = LiveProgress.on_epoch_end

    def explode_in_epoch_two(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("disk full while saving the epoch")
        original(self, epoch, logs)

    monkeypatch.setattr(LiveProgress, "on_epoch_end", explode_in_epoch_two)
    runner = JobRunner()
    broken = TrainingRun(quick_config.replace(epochs=3))
    runner.submit([broken], training_job([broken], digits))
    assert runner.wait_idle(60)
    snap = broken.snapshot()
    assert snap.status == FAILED and "RuntimeError: disk full while saving the epoch" in snap.message
    assert len(snap.epochs) == 1, "the epoch before the fault is kept"

    monkeypatch.setattr(LiveProgress, "on_epoch_end", original)
    healthy = TrainingRun(quick_config)
    runner.submit([healthy], training_job([healthy], digits))
    assert runner.wait_idle(60)
    assert healthy.status == FINISHED


def test_the_limit_on_trainings_at_once_comes_from_the_environment():
    assert max_concurrent_from_environment({}) == 1
    assert max_concurrent_from_environment({"TRAINING_STUDIO_MAX_CONCURRENT": "3"}) == 3
    assert orphan_seconds_from_environment({"TRAINING_STUDIO_ORPHAN_SECONDS": "2.5"}) == 2.5
    for bad in ("0", "-1", "many"):
        with pytest.raises(ValueError, match="TRAINING_STUDIO_MAX_CONCURRENT must be a positive int"):
            max_concurrent_from_environment({"TRAINING_STUDIO_MAX_CONCURRENT": bad})


def test_the_training_threads_niceness_comes_from_the_environment_and_applies_to_the_job():
    assert job_runner_from_environment({}).niceness == TRAINING_NICENESS
    runner = job_runner_from_environment({"TRAINING_STUDIO_TRAINING_NICENESS": "3"})
    seen = []
    run = TrainingRun(TrainingConfig(dataset="digits"))

    def job():
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        run.mark_finished(FINISHED, "done")

    runner.submit([run], job, preload="charts")
    assert runner.wait_idle(30)
    # The job's thread runs at the host's niceness (a process's niceness can only go up unprivileged).
    assert seen == [max(3, os.getpriority(os.PRIO_PROCESS, 0))]
    for bad in ("-1", "20", "low"):
        with pytest.raises(ValueError, match="TRAINING_STUDIO_TRAINING_NICENESS must be a whole number from 0 to 19"):
            job_runner_from_environment({"TRAINING_STUDIO_TRAINING_NICENESS": bad})
    # The app's line: a bad setting is a notice, and training goes on with the defaults.
    choice = choose_job_runner({"TRAINING_STUDIO_TRAINING_NICENESS": "high", "TRAINING_STUDIO_MAX_CONCURRENT": "2"})
    assert choice.runner.niceness == TRAINING_NICENESS and choice.runner.max_concurrent == 1
    assert "TRAINING_STUDIO_TRAINING_NICENESS must be a whole number" in choice.notice


def test_two_at_once_when_the_limit_is_two():
    runner = JobRunner(max_concurrent=2)
    release = threading.Event()
    runs = [TrainingRun(TrainingConfig(dataset="digits")) for _ in range(3)]

    def job_for(run):
        def job():
            run.mark_running(1, 1)
            release.wait(5)
            run.mark_finished(FINISHED, "done")

        return job

    for run in runs:
        runner.submit([run], job_for(run), preload="charts")
    poll_until(lambda: runner.counts()["running"] >= 2, 30, "two jobs are running")
    assert [run.status for run in runs] == [RUNNING, RUNNING, QUEUED]
    assert runner.position(runs[2]) == 1
    release.set()
    assert runner.wait_idle(10)


class FakeSessions:
    """Which owners are connected, as a test sets it."""

    def __init__(self) -> None:
        self.connected: set[str] = set()

    def __call__(self, owner: str) -> bool:
        return owner in self.connected


def test_the_watchdog_cancels_the_runs_of_an_owner_gone_past_the_grace():
    cancelled = []
    sessions = FakeSessions()
    sessions.connected = {"alice", "bob"}
    watchdog = OwnerWatchdog(cancelled.extend, sessions, grace_seconds=5, interval=3600)
    alice, bob = TrainingRun(TrainingConfig(dataset="digits")), TrainingRun(TrainingConfig(dataset="digits"))
    watchdog.watch([alice], "alice")
    watchdog.watch([alice], "alice")  # idempotent: pages call it on every redraw
    watchdog.watch([bob], "bob")
    assert watchdog.watched() == 2

    sessions.connected = {"bob"}
    assert watchdog.check(now=100.0) == [], "gone, but within the grace"
    sessions.connected = {"alice", "bob"}
    assert watchdog.check(now=103.0) == [], "back within the grace (a reconnect): kept"
    sessions.connected = {"bob"}
    watchdog.check(now=110.0)
    assert watchdog.check(now=115.0) == [alice]
    assert cancelled == [alice] and watchdog.watched() == 1


def test_the_watchdog_forgets_ended_runs_and_its_thread_ends_when_idle():
    sessions = FakeSessions()
    sessions.connected = {"carol"}
    watchdog = OwnerWatchdog(lambda runs: None, sessions, grace_seconds=0, interval=0.05)
    run = TrainingRun(TrainingConfig(dataset="digits"))
    watchdog.watch([run], "carol")
    run.mark_finished(FINISHED, "done")
    poll_until(lambda: not watchdog.watched(), 30, "the watchdog has let go of the finished run")
    assert watchdog.watched() == 0
    time.sleep(0.2)
    assert not watchdog.polling, "an idle app does not poll"


def test_a_closed_session_cancels_its_queued_and_its_running_training():
    runner = JobRunner(max_concurrent=1)
    sessions = FakeSessions()
    sessions.connected = {"dave", "erin"}
    watchdog = OwnerWatchdog(runner.cancel, sessions, grace_seconds=0.1, interval=0.05)
    started = threading.Event()

    def long_job(run):
        def job():
            run.mark_running(100, 1)
            started.set()
            while not run.stop_requested:
                time.sleep(0.01)
            run.mark_finished(STOPPED, stopped_message(0))

        return job

    running, queued = TrainingRun(TrainingConfig(dataset="digits")), TrainingRun(TrainingConfig(dataset="digits"))
    runner.submit([running], long_job(running), preload="charts")
    assert started.wait(5)
    runner.submit([queued], long_job(queued), preload="charts")
    watchdog.watch([running], "dave")
    watchdog.watch([queued], "erin")
    sessions.connected = {"dave"}  # erin closed her tab while waiting
    poll_until(lambda: queued.status == CANCELLED, 30, "the closed session's queued run is cancelled")
    assert queued.status == CANCELLED and running.status == RUNNING
    sessions.connected = set()  # dave closed his tab while training
    assert runner.wait_idle(5)
    assert running.status == STOPPED


def test_finished_runs_keep_no_training_arrays(digits, quick_config):
    import gc

    runs = [TrainingRun(quick_config), TrainingRun(quick_config, "baseline")]
    runner = JobRunner()
    runner.submit(runs, training_job(runs, digits))
    assert runner.wait_idle(60)
    gc.collect()
    train_images = len(run_indices(quick_config, len(digits.pixels_train))[0])
    # The seeded split's copies (prepare_data) are gone once the run ends: only the cached dataset
    # itself (shared, read-only) and what the pages need (model, test probabilities) remain.
    kept = [
        array
        for array in gc.get_objects()
        if isinstance(array, np.ndarray) and array.ndim >= 1 and array.shape[0] == train_images
    ]
    assert kept == [], f"{len(kept)} training-sized array(s) outlived the run"
    assert all(run.status == FINISHED and run.test_probabilities is not None for run in runs)

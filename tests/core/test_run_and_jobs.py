"""The run record and the job line: thread-safe snapshots, queue places, cancel, failures."""

import threading
import time

from core.config import TrainingConfig
from core.jobs.runner import JobRunner
from core.training.run import CANCELLED, FAILED, FINISHED, QUEUED, RUNNING, TrainingRun
from tests.polling import poll_until


def make_run() -> TrainingRun:
    return TrainingRun(TrainingConfig(dataset="digits", epochs=3))


def test_snapshot_is_a_consistent_copy():
    run = make_run()
    run.mark_running(3, 10)
    run.record_batch(1, 5, {"loss": 1.5, "accuracy": 0.5})
    snap = run.snapshot()
    run.record_epoch(1, {"loss": 1.0, "accuracy": 0.7, "val_loss": float("nan")})
    assert snap.epochs == () and len(run.snapshot().epochs) == 1
    assert run.snapshot().epochs[0]["val_loss"] is None, "NaN becomes None, which JSON can carry"
    assert 0 < run.snapshot().progress <= 1 / 3 + 1e-9


def test_batch_points_are_thinned_to_a_bounded_number():
    run = make_run()
    run.mark_running(1, 6000)
    for step in range(1, 6001):
        run.record_batch(1, step, {"loss": 1.0})
    assert 55 <= len(run.snapshot().batches) <= 61


def test_one_job_at_a_time_and_the_rest_wait_in_line():
    runner = JobRunner(max_concurrent=1)
    release = threading.Event()
    runs = [make_run() for _ in range(3)]
    order = []

    def job_for(run):
        def job():
            run.mark_running(1, 1)
            order.append(run.run_id)
            release.wait(5)
            run.mark_finished(FINISHED, "done")

        return job

    for run in runs:
        runner.submit([run], job_for(run), preload="charts")
    poll_until(lambda: runs[0].status == RUNNING, 30, "the first job is running")
    assert runner.position(runs[0]) is None
    assert runner.position(runs[1]) == 1 and runner.position(runs[2]) == 2
    assert "place 2" in runs[2].snapshot().message
    runner.cancel([runs[2]])
    assert runs[2].status == CANCELLED
    release.set()
    assert runner.wait_idle(10)
    assert order == [runs[0].run_id, runs[1].run_id]
    assert runs[1].status == FINISHED


def test_a_job_that_raises_marks_its_runs_failed_and_the_runner_goes_on():
    runner = JobRunner()
    broken, healthy = make_run(), make_run()

    def explode():
        broken.mark_running(1, 1)
        raise RuntimeError("worker died mid-epoch")

    runner.submit([broken], explode, preload="charts")
    runner.submit([healthy], lambda: healthy.mark_finished(FINISHED, "ok"), preload="charts")
    assert runner.wait_idle(10)
    assert broken.status == FAILED and "worker died mid-epoch" in broken.snapshot().message
    assert healthy.status == FINISHED


def test_a_new_run_waits_queued_with_a_message():
    run = make_run()
    assert run.status == QUEUED and run.snapshot().message


def test_elapsed_time_stops_when_the_run_ends_and_continues_with_train_more():
    # Bounded by the wall time around each stretch, measured here: no figure that a loaded machine could miss.
    run = make_run()
    before = time.monotonic()
    run.mark_running(3, 10)
    time.sleep(0.05)
    run.mark_finished(FINISHED, "done")
    first_stretch = time.monotonic() - before
    first = run.snapshot()
    time.sleep(0.05)
    assert run.snapshot().elapsed_seconds == first.elapsed_seconds == first.fit_seconds
    assert 0.05 <= first.fit_seconds <= first_stretch
    run.prepare_more_epochs(2)
    time.sleep(0.05)  # time between the runs is not training time
    before = time.monotonic()
    run.mark_running(5, 10)
    time.sleep(0.05)
    run.mark_finished(FINISHED, "done again")
    second_stretch = time.monotonic() - before
    assert first.fit_seconds + 0.05 <= run.snapshot().fit_seconds <= first.fit_seconds + second_stretch

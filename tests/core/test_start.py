"""One way to start a run (core.jobs.start): records made, job queued, finished runs saved."""

import threading

import pytest

from core.jobs.runner import DEFAULT_PRIORITY, PRESENTER_PRIORITY, JobRunner
from core.jobs.start import estimates_of, new_runs, press_estimate, start_run, start_runs
from core.results.experiments import RunStore
from core.training.paces import Estimate
from core.training.run import FINISHED, QUEUED, TrainingRun


def test_start_run_trains_keras_then_the_baseline_and_saves_both(digits, quick_config, tmp_path):
    runner, store = JobRunner(), RunStore(tmp_path / "saved")
    runs = start_run(runner, quick_config, digits, "both", store=store)
    assert [run.kind for run in runs] == ["keras", "baseline"]
    assert runner.wait_idle(timeout=120)
    assert [run.status for run in runs] == [FINISHED, FINISHED]
    saved = {record["run_id"] for record in store.load().records}
    assert saved == {run.run_id for run in runs}
    assert store.model_path(runs[0].run_id).exists()


def test_training_more_epochs_through_start_runs_continues_and_saves_again(digits, quick_config, tmp_path):
    runner, store = JobRunner(), RunStore(tmp_path / "saved")
    (run,) = start_run(runner, quick_config, digits, "baseline", store=store)
    assert runner.wait_idle(timeout=120)
    start_runs(runner, [run], digits, extra_epochs=1, store=store)
    assert runner.wait_idle(timeout=120)
    assert run.completed_epochs == quick_config.epochs + 1
    assert len(store.load().records[0]["history"]) == quick_config.epochs + 1


def test_the_models_to_train_are_a_named_choice(quick_config):
    assert [run.kind for run in new_runs(quick_config, "keras")] == ["keras"]
    assert [run.kind for run in new_runs(quick_config, "baseline")] == ["baseline"]
    labelled = new_runs(quick_config, "both", label="Ada")
    assert [run.label for run in labelled] == ["Ada", "Ada (baseline)"]
    with pytest.raises(ValueError, match="Unknown choice of models 'all'; expected one of both, keras, baseline"):
        new_runs(quick_config, "all")


def test_each_run_carries_the_budget_estimate(digits, quick_config):
    runner = JobRunner()
    release = threading.Event()
    blocker = TrainingRun(quick_config)
    runner.submit([blocker], release.wait, preload="sklearn")
    runs = start_run(runner, quick_config, digits, "baseline")
    assert runs[0].estimate is not None and runs[0].estimate.total_seconds > 0
    assert runs[0].snapshot().estimate == runs[0].estimate, "pages read it from the run's snapshot"
    assert runs[0].status == QUEUED
    release.set()
    assert runner.wait_idle(timeout=120)


def blocked_runner():
    """A runner whose one slot is held by a job that waits for the returned event."""
    from core.config import TrainingConfig

    runner, release = JobRunner(), threading.Event()
    runner.submit([TrainingRun(TrainingConfig(dataset="digits"))], release.wait, preload="sklearn")
    return runner, release


def test_a_presenters_job_goes_ahead_of_the_rooms_tries_but_not_of_its_own_kind():
    from core.config import TrainingConfig

    runner, release = blocked_runner()
    config = TrainingConfig(dataset="digits")
    first, second, presenter, later = (TrainingRun(config) for _ in range(4))
    for run, priority in ((first, DEFAULT_PRIORITY), (second, DEFAULT_PRIORITY), (presenter, PRESENTER_PRIORITY)):
        runner.submit([run], lambda: None, preload="sklearn", priority=priority)
    runner.submit([later], lambda: None, preload="sklearn", priority=PRESENTER_PRIORITY)
    assert [runner.position(run) for run in (presenter, later, first, second)] == [1, 2, 3, 4]
    release.set()
    assert runner.wait_idle(timeout=30)


def test_the_wait_before_a_start_adds_up_the_estimates_ahead():
    from core.config import TrainingConfig

    runner, release = blocked_runner()
    config = TrainingConfig(dataset="digits")
    waiting = [TrainingRun(config) for _ in range(3)]
    for run, seconds in zip(waiting, (10.0, 20.0, 5.0), strict=True):
        run.estimate = Estimate(
            seconds_per_epoch=seconds, total_seconds=seconds, memory_mb=1.0, train_images=1, epochs=1
        )
        runner.submit([run], lambda: None, preload="sklearn")
    # The blocking job has no estimate: it counts as 0 s.
    assert [runner.seconds_until_start(run) for run in waiting] == [0.0, 10.0, 30.0]
    assert runner.seconds_until_start(TrainingRun(config)) is None
    release.set()
    assert runner.wait_idle(timeout=30)


def test_start_race_saves_every_variant_and_a_presenters_race_goes_ahead(digits, quick_config, tmp_path):
    from core.jobs.start import start_race
    from core.training.race import PRESETS, new_race

    runner, release = blocked_runner()
    store = RunStore(tmp_path / "saved")
    tries = [TrainingRun(quick_config) for _ in range(2)]
    for run in tries:
        runner.submit([run], lambda: None, preload="sklearn")
    race = start_race(
        runner, new_race(PRESETS["optimizers"].spec, quick_config), digits, store=store, priority=PRESENTER_PRIORITY
    )
    assert [runner.position(run) for run in race.runs] == [1, 1, 1]  # one interleaved job, first in line
    assert all(run.estimate.total_seconds > 0 for run in race.runs)
    race_seconds = sum(run.estimate.total_seconds for run in race.runs)
    assert runner.seconds_until_start(tries[0]) >= race_seconds * (1 - 1e-9)  # give or take a float's rounding
    release.set()
    assert runner.wait_idle(timeout=180)
    assert [run.status for run in race.runs] == [FINISHED] * 3
    saved = {record["run_id"] for record in store.load().records}
    assert saved == {run.run_id for run in race.runs}


def test_a_press_is_estimated_whole_keras_then_the_baseline(digits, quick_config):
    keras, baseline = estimates_of([("keras", quick_config), ("baseline", quick_config)], digits)
    both = press_estimate(quick_config, digits, "both")
    assert both.total_seconds == pytest.approx(keras.total_seconds + baseline.total_seconds)
    assert both.memory_mb == pytest.approx(max(keras.memory_mb, baseline.memory_mb)), "one after the other"
    assert press_estimate(quick_config, digits, "keras").total_seconds == pytest.approx(keras.total_seconds)
    assert press_estimate(quick_config, digits, "baseline").total_seconds == pytest.approx(baseline.total_seconds)
    assert baseline.backend == "sklearn" and baseline.total_seconds > 0

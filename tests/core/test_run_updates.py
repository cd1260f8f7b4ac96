"""One stream of run updates: every change to a TrainingRun is an update that a second record can follow."""

import threading

import numpy as np
import pytest

from core.training.run import (
    BATCH,
    ENDED,
    EPOCH,
    FINISHED,
    STOPPED,
    RunUpdate,
    TrainingRun,
    replay_updates,
    wait_for_a_point,
)


def comparable(run: TrainingRun) -> dict:
    """A snapshot as plain values (arrays as lists), without the run id and the version."""
    snap = run.snapshot()
    values = {name: getattr(snap, name) for name in snap.__dataclass_fields__ if name not in ("run_id", "details")}
    values["details"] = {key: np.asarray(value).tolist() for key, value in snap.details.items()}
    return values


def followed(run: TrainingRun) -> list[RunUpdate]:
    updates: list[RunUpdate] = []
    run.follow(updates.append)
    return updates


def test_a_run_rebuilt_from_its_updates_equals_the_keras_original(digits, quick_config):
    from core.training.engine import train

    run = TrainingRun(quick_config.replace(metrics=("accuracy", "f1")))
    updates = followed(run)
    train(run, digits)
    copy = replay_updates(TrainingRun(run.config, run.kind), updates)
    assert run.status == FINISHED and copy.status == FINISHED
    assert comparable(copy) == comparable(run)
    assert copy.version == run.version == len(updates)
    assert {update.kind for update in updates} >= {BATCH, EPOCH, ENDED}


def test_a_run_rebuilt_from_its_updates_equals_the_baseline_original_after_training_more(digits, quick_config):
    from core.training.baseline import train_baseline

    run = TrainingRun(quick_config, "baseline")
    updates = followed(run)
    train_baseline(run, digits)
    run.prepare_more_epochs(1)
    train_baseline(run, digits, extra_epochs=1)
    copy = replay_updates(TrainingRun(run.config, run.kind), updates)
    assert len(copy.snapshot().epochs) == 3
    assert comparable(copy) == comparable(run)


def test_history_updates_carry_a_runs_epochs_and_details_to_a_new_record():
    run = TrainingRun(TrainingRunConfig())
    run.mark_running(2, 4)
    run.record_epoch(1, {"loss": 0.5})
    run.set_detail("weights", np.ones(3))
    run.mark_finished(STOPPED, "Stopped.")
    elsewhere = replay_updates(TrainingRun(run.config), run.history_updates())
    assert elsewhere.completed_epochs == 1
    assert elsewhere.snapshot().epochs[0]["loss"] == 0.5
    np.testing.assert_array_equal(elsewhere.snapshot().details["weights"], np.ones(3))


def test_followers_see_updates_in_order_and_can_stop_following():
    run = TrainingRun(TrainingRunConfig())
    seen = []
    unfollow = run.follow(lambda update: seen.append(update.kind))
    run.mark_running(1, 10)
    run.record_batch(1, 1, {"loss": 1.0})
    unfollow()
    run.record_batch(1, 2, {"loss": 0.9})
    assert seen == ["started", "batch"]
    assert run.version == 3


def test_a_snapshot_is_shared_until_the_next_update():
    run = TrainingRun(TrainingRunConfig())
    first, second = run.snapshot(), run.snapshot()
    assert first is second
    run.set_message("Now this.")
    assert run.snapshot() is not first and run.snapshot().message == "Now this."
    assert run.snapshot().version == first.version + 1


def test_an_unknown_update_is_refused_with_the_kinds_it_knows():
    with pytest.raises(ValueError, match=r"Unknown run update 'explode'.*batch"):
        RunUpdate("explode", {})


def test_writers_in_many_threads_never_lose_an_update():
    run = TrainingRun(TrainingRunConfig())
    copy = TrainingRun(run.config)
    run.follow(copy.apply)
    run.mark_running(1, 4000)

    def write(offset: int) -> None:
        for step in range(offset, 4000, 4):
            run.record_batch(1, step + 1, {"loss": 1.0 / (step + 1)})

    threads = [threading.Thread(target=write, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert copy.version == run.version == 4001
    assert copy.snapshot().batches == run.snapshot().batches


def TrainingRunConfig():
    from core.config import TrainingConfig

    return TrainingConfig(dataset="digits")


def test_waiting_for_a_point_wakes_on_the_runs_update_and_lets_go_of_them(quick_config):
    quiet, training = TrainingRun(quick_config), TrainingRun(quick_config, kind="baseline")
    training.mark_running(2, 10)
    writer = threading.Timer(0.2, training.record_batch, (1, 1, {"loss": 2.0}))
    writer.start()
    woken = threading.Event()
    waiter = threading.Thread(target=lambda: woken.set() if wait_for_a_point([quiet, training], 60) else None)
    waiter.start()
    waiter.join(60)
    assert woken.is_set() and not waiter.is_alive(), "it returned True, woken by the point, long before 60 s"
    assert training._followers == [] and quiet._followers == [], "it stops following the runs"
    assert wait_for_a_point([training], 60), "a run that has a point already: at once"


def test_waiting_for_a_point_ends_at_its_timeout_or_when_the_runs_end_without_one(quick_config):
    run = TrainingRun(quick_config)
    run.mark_running(2, 10)
    assert wait_for_a_point([run], 0.05) is False
    threading.Timer(0.2, run.mark_finished, (STOPPED, "Stopped.")).start()
    assert wait_for_a_point([run], 60) is False, "ended without a point: no point to wait for"
    assert run.snapshot().status == STOPPED


def test_a_stop_request_is_an_update_every_follower_sees_until_the_run_ends():
    from core.config import TrainingConfig
    from core.training.run import STOPPING, stopped_message

    run = TrainingRun(TrainingConfig(dataset="digits", epochs=3))
    run.mark_running(total_epochs=3, steps_per_epoch=10)
    updates = followed(run)
    copy = TrainingRun(run.config, run_id=run.run_id)
    run.follow(copy.apply)
    run.request_stop()
    run.request_stop()  # a second press says nothing new
    assert [update.kind for update in updates] == [STOPPING]
    assert run.stop_requested and run.snapshot().stopping and copy.snapshot().stopping
    assert run.snapshot().is_active, "it trains on until its next batch"
    run.mark_finished(STOPPED, stopped_message(2))
    assert not run.snapshot().stopping and not copy.snapshot().stopping
    assert run.snapshot().message == "Stopped after 2 epochs; the model is kept."
    assert stopped_message(1) == "Stopped after 1 epoch; the model is kept."
    run.request_stop()  # an ended run has nothing to stop
    assert [update.kind for update in updates] == [STOPPING, ENDED]
    run.prepare_more_epochs(2)
    assert not run.snapshot().stopping and not run.stop_requested

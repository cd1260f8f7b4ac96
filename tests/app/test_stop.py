"""Stop answers in the press's own script run, and a run that ends while the page draws never leaves Train disabled.

The runs here have no worker: the test plays the worker's part (mark_running, record_epoch,
mark_finished), so each moment of a Stop is reached on purpose, not by timing.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.config import TrainingConfig
from core.training.race import PRESETS, new_race
from core.training.run import RUNNING, STOPPED, TrainingRun, stopped_message
from pages.session import Keys
from tests.app.test_pages import button, open_page, progress_text

CONFIG = TrainingConfig(dataset="digits", epochs=5)


def running_run(run: TrainingRun | None = None) -> TrainingRun:
    """A run one epoch in, as its worker leaves it between two batches."""
    run = run or TrainingRun(CONFIG)
    run.mark_running(total_epochs=5, steps_per_epoch=10)
    run.record_batch(1, 10, {"loss": 1.0, "accuracy": 0.6})
    run.record_epoch(1, {"loss": 1.0, "accuracy": 0.6, "val_loss": 1.1, "val_accuracy": 0.55})
    run.record_batch(2, 3, {"loss": 0.8, "accuracy": 0.7})
    return run


def train_page_with(run: TrainingRun) -> AppTest:
    at = open_page("pages/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.session_state[Keys.KERAS_RUN] = run
    at.run()
    return at


def stop_button(at: AppTest, key: str = Keys.TRAIN_STOP):
    """Stop, or the disabled "Stopping…" that stands in for it (a button of its own key)."""
    return next(b for b in at.button if str(b.key).startswith(key))


def test_stop_says_stopping_in_the_press_own_script_run_then_stopped_after_n_epochs():
    run = running_run()
    at = train_page_with(run)
    assert not stop_button(at).disabled and stop_button(at).label == "Stop"
    assert button(at, "Train").disabled

    stop_button(at).click().run()  # one script run: the press's own
    assert not at.exception, at.exception
    assert run.stop_requested
    assert stop_button(at).label == "Stopping…" and stop_button(at).disabled, "no second press"
    assert "stopping at the next batch" in progress_text(at)
    assert button(at, "Train").disabled, "still training until the next batch"

    run.mark_finished(STOPPED, stopped_message(run.completed_epochs))  # the worker, at its next batch
    at.run()
    assert "Stopped after 1 epoch; the model is kept" in progress_text(at)
    assert stop_button(at).label == "Stop" and stop_button(at).disabled
    assert not button(at, "Train").disabled


def test_stop_the_race_says_stopping_for_every_variant_in_the_press_own_run():
    race = new_race(PRESETS["optimizers"].spec, CONFIG)
    for variant in race.runs:
        running_run(variant)
    at = open_page("pages/train.py")
    at.session_state[Keys.RACE] = race
    at.run()
    stop_button(at, Keys.RACE_STOP).click().run()
    assert not at.exception, at.exception
    assert stop_button(at, Keys.RACE_STOP).label == "Stopping…" and stop_button(at, Keys.RACE_STOP).disabled
    assert progress_text(at).count("stopping at the next batch") == len(race.runs)
    for variant in race.runs:
        variant.mark_finished(STOPPED, stopped_message(1))
    at.run()
    assert progress_text(at).count("Stopped after 1 epoch") == len(race.runs)


class EndsWhenLookedAt(TrainingRun):
    """A run whose worker ends it right after the page's first look, whichever way the page looks:
    the moment between the page deciding its buttons and the live area setting its timer."""

    def _end_once(self) -> None:
        if self._status == RUNNING:
            self.mark_finished(STOPPED, stopped_message(self.completed_epochs))

    @property
    def status(self) -> str:
        status = super().status
        self._end_once()
        return status

    def snapshot(self):
        snapshot = super().snapshot()
        self._end_once()
        return snapshot


def test_a_run_that_ends_between_the_page_look_and_the_live_area_still_enables_train():
    run = running_run(EndsWhenLookedAt(CONFIG))
    at = open_page("pages/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.session_state[Keys.KERAS_RUN] = run
    at.run()  # one run of the page, with no timer firing (AppTest has none): it must rerun itself
    assert not at.exception, at.exception
    assert run.status == STOPPED
    assert "Stopped after 1 epoch" in progress_text(at)
    assert not button(at, "Train").disabled, "the page redrew its buttons once the run had ended"

"""A room's screens agree: the presenter's and a participant's step 6 read the same run in the same sentences."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import TrainingConfig
from core.results import lesson
from core.training.run import FINISHED, TrainingRun
from pages.resources import room_registry
from pages.session import Keys
from tests.app.test_rooms import open_page, presenter_with_room

# Validation loss bottoms out at epoch 5 and then rises while training loss keeps falling: overfitting.
VAL_LOSSES = (0.9, 0.6, 0.45, 0.38, 0.35, 0.36, 0.39, 0.43)


@pytest.fixture(autouse=True)
def fresh_rooms():
    room_registry.clear()
    yield
    room_registry.clear()


def epochs_run(epochs: int, total: int = len(VAL_LOSSES)) -> TrainingRun:
    """A Keras run on the digits `epochs` epochs in, written as its worker would, without training."""
    run = TrainingRun(TrainingConfig(dataset="digits", epochs=total))
    run.dataset_title = "scikit-learn digits"
    run.mark_running(total_epochs=total, steps_per_epoch=10)
    for epoch, val_loss in enumerate(VAL_LOSSES[:epochs], start=1):
        row = {"loss": 1.0 / epoch, "accuracy": 0.8 + 0.02 * epoch, "val_loss": val_loss}
        run.record_epoch(epoch, {**row, "val_accuracy": 0.78 + 0.02 * min(epoch, 5)})
    return run


def sentences(at: AppTest) -> list[str]:
    """Step 6's reading: its bullet lists and its advice, in order."""
    bullets = [m.value for m in at.markdown if m.value.startswith("- ")]
    return bullets + [i.value for i in at.info]


def test_presenter_and_participant_read_a_finished_run_in_the_same_sentences():
    presenter, code = presenter_with_room()
    room = room_registry().get(code)
    run = epochs_run(len(VAL_LOSSES))
    run.set_test_metrics({"accuracy": 0.91})
    run.mark_finished(FINISHED, f"Finished {len(VAL_LOSSES)} epochs.")
    presenter.session_state[Keys.KERAS_RUN] = run
    room.present_runs(presenter.session_state[Keys.ROOM_PRESENTED][1], [run])
    presenter.query_params["step"] = "6"
    presenter.switch_page("pages/lesson.py").run()
    viewer = open_page("pages/room.py", {"code": code})
    assert not presenter.exception and not viewer.exception
    assert room.view().step == 6

    said = sentences(presenter)
    assert any("This is overfitting" in sentence for sentence in said), said
    assert sentences(viewer) == said


def test_while_it_trains_each_screen_says_which_moment_it_reads():
    # Two screens redrawn a moment apart: one has read 7 epochs, the other 8. Neither is a verdict.
    earlier, later = epochs_run(7).snapshot(), epochs_run(8).snapshot()
    earlier_said = [*lesson.reading(earlier), lesson.early_stopping_advice(earlier)]
    later_said = [*lesson.reading(later), lesson.early_stopping_advice(later)]
    assert earlier_said[0].startswith("So far, 7 of 8 epochs") and later_said[0].startswith("So far, 8 of 8 epochs")
    assert not any(sentence.startswith("No overfitting in these") for sentence in earlier_said + later_said)

"""The room's handwriting in AppTest: a presenter and participants on one room registry draw, score and moderate.

AppTest cannot draw on the canvas component, so the canvas (pages.room_handwriting.draw_canvas) hands back
an offline-made digit as the canvas would, white on black.
"""

import numpy as np
import pytest

from core.config import TrainingConfig
from core.data.datasets import load_dataset
from core.data.handwriting import synthetic_digits
from core.jobs.start import start_run
from core.results import lesson_texts as texts
from core.rooms import RoomError
from pages import room_handwriting
from pages.resources import job_runner, room_registry
from pages.session import Keys
from tests.app.test_rooms import button, everything, open_page, presenter_with_room
from tests.handwriting_drawings import canvas_of
from tests.polling import poll_until

DIGITS, LABELS = synthetic_digits(40, style="bundled", seed=6)


@pytest.fixture(autouse=True)
def fresh_rooms():
    room_registry.clear()
    yield
    room_registry.clear()


@pytest.fixture
def canvas(monkeypatch):
    """The canvas draws `canvas["digit"]` (the test sets it to the participant's prompt before Send)."""
    drawn = {"digit": 0}
    monkeypatch.setattr(
        room_handwriting, "draw_canvas", lambda key: canvas_of(DIGITS[list(LABELS).index(drawn["digit"])])
    )
    return drawn


def presenter_model_in(room, secret: str) -> None:
    """The presenter's trained model: a baseline on the digits, presented to the room."""
    runs = start_run(job_runner(), TrainingConfig(dataset="digits", epochs=2), load_dataset("digits"), "baseline")
    poll_until(lambda: not runs[0].snapshot().is_active, 120, "the presenter's baseline has finished")
    room.present_runs(secret, runs)


def send(viewer, room, canvas) -> None:
    canvas["digit"] = room.handwriting_prompt(viewer.session_state[Keys.ROOM_PARTICIPANT_ID])
    assert f"### Draw a {canvas['digit']}" in [m.value for m in viewer.markdown]
    button(viewer, "Send").click().run()
    assert not viewer.exception, viewer.exception


def test_a_room_draws_the_big_screen_scores_and_the_presenter_removes_one(canvas):
    presenter, code = presenter_with_room()
    room = room_registry().get(code)
    secret = presenter.session_state[Keys.ROOM_PRESENTED][1]
    first, second = open_page("pages/room.py", {"code": code}), open_page("pages/room.py", {"code": code})
    assert not any(b.label == "Send" for b in first.button)  # nothing to draw until the presenter collects
    button(presenter, "Collect the room's handwriting").click().run()
    presenter_model_in(room, secret)

    first.run()
    for _ in range(3):
        send(first, room, canvas)
    second.run()
    for _ in range(2):
        send(second, room, canvas)
    counts = room.drawing_counts()
    assert counts.sum() == 5 and counts.max() == 1  # each prompt a digit nobody had drawn or been asked for

    mine = [line for line in everything(first).splitlines() if line.startswith("The model read ")]
    assert len(mine) == 1 and mine[0].endswith("of your 3.")  # only this participant's own score
    assert not any("of your 2" in line for line in everything(first).splitlines())
    assert not any(b.label == "Remove this drawing" for b in first.button)
    with pytest.raises(RoomError, match="Only the presenter"):
        room.remove_drawing(first.session_state.get(Keys.ROOM_PRESENTED), room.drawings()[0].drawing_id)

    presenter.run()
    text = everything(presenter)
    assert "5 drawings from 2 people" in text
    metrics = {m.label: m.value for m in presenter.metric}
    assert metrics["On the room's handwriting"].endswith("%") and metrics["On its test set"].endswith("%")
    assert "of the room's 5 drawings right" in text

    removed = room.drawings()[-1].drawing_id
    presenter.selectbox(key=Keys.ROOM_HANDWRITING_REMOVE).select(removed)
    button(presenter, "Remove this drawing").click().run()
    assert removed not in [d.drawing_id for d in room.drawings()]
    assert "4 drawings from 2 people" in everything(presenter)

    # Teach it our handwriting: enough drawings, then more epochs with part of them; the board shows before and after.
    pool, pool_labels = synthetic_digits(200, style="fonts", seed=8)
    second_id = second.session_state[Keys.ROOM_PARTICIPANT_ID]
    for turn in range(30):
        wanted = room.handwriting_prompt(second_id)
        room.submit_drawing(second_id, pool[np.flatnonzero(pool_labels == wanted)[turn // 10]])
    presenter.run()
    assert texts.HANDWRITING_QUESTION in [s.value for s in presenter.subheader]
    assert texts.HANDWRITING_TEACH_NEXT in everything(presenter)
    button(presenter, "Teach it our handwriting").click().run()
    assert not presenter.error, presenter.error[0].value
    poll_until(lambda: not room.fine_tune.run.snapshot().is_active, 120, "the taught model has finished")
    presenter.run()
    metrics = {m.label: m.value for m in presenter.metric}
    held = next(label for label in metrics if label.startswith("The room's ") and label.endswith("held-out digits"))
    assert metrics[held].endswith("%") and metrics["The original test set"].endswith("%")
    assert "it reads the" in everything(presenter) and "it was not taught" in everything(presenter)

    # Step 7 of the Lesson tells the same story, in the room's numbers, on the presenter's and a participant's screens.
    presenter.switch_page("pages/lesson.py")
    presenter.query_params["step"] = "7"
    presenter.run()
    assert not presenter.exception, presenter.exception
    story = room_handwriting.lesson_story(room)
    assert story and all(sentence in everything(presenter) for sentence in story)
    first.run()
    assert room.view().step == 7 and all(sentence in everything(first) for sentence in story)

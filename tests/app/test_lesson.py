"""The Lesson page in AppTest: each step by URL, Next/Back, presenter mode, and a real run read back in words."""

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.results import lesson_texts as texts
from core.results.experiments import RunStore
from pages.session import Keys
from tests.polling import poll_until, rerun_until

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120


def open_lesson(step: str | None = None, presenter: bool = False) -> AppTest:
    """The lesson on the embedded digits (no download wait), opened at a URL's step."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["lesson.dataset"] = "digits"
    if step is not None:
        at.query_params["step"] = step
    if presenter:
        at.query_params["presenter"] = "1"
    at.run()
    at.switch_page("pages/lesson.py").run()
    return at


def header(at: AppTest) -> str:
    return at.header[0].value


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return " ".join(parts + [w.value for w in at.warning] + [c.value for c in at.code])


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def progress_text(at: AppTest) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("1", "divide every pixel by 16"),
        ("2", "The model learns 9,610 numbers"),
        ("3", "Adam adapts the step size"),
        ("4", "1,293 training images in batches of 32, so 41 weight updates per epoch"),
        ("5", "Replay of a recorded run (scikit-learn digits, Linux"),
        ("6", "The best epoch"),
        ("7", "Collect the room's handwriting"),
    ],
)
def test_each_step_opens_from_the_url(step, expected):
    at = open_lesson(step)
    assert not at.exception, at.exception
    assert at.title[0].value == texts.TITLE
    title = texts.STEP_TITLES[int(step) - 1]
    assert header(at) == texts.STEP_HEADER.format(number=step, count=7, title=title)
    assert expected in text_of(at)


def test_each_step_draws_its_picture():
    at = open_lesson("1")
    assert len(at.get("plotly_chart")) == 1 and len(at.get("vega_lite_chart")) == 1  # samples, balance
    assert len(at.dataframe) == 2  # raw and scaled pixels
    at.query_params["step"] = "2"
    at.run()
    (diagram,) = at.get("graphviz_chart")
    assert "dense_1" in diagram.proto.spec and "->" in diagram.proto.spec
    at.query_params["step"] = "5"
    at.run()
    curves = at.get("plotly_chart")
    assert len(curves) == 2  # loss and accuracy, from the digits replay
    names = [trace.get("name") for trace in json.loads(curves[1].proto.spec)["data"]]
    assert "gain < 1 pt" in names, "diminishing returns is marked on the accuracy chart (listed in its legend)"


def test_next_and_back_move_through_the_steps_and_the_url():
    at = open_lesson()
    assert header(at).startswith("Step 1 of 7") and at.query_params["step"] == "1"
    assert button(at, texts.BACK).disabled
    button(at, texts.NEXT).click().run()
    button(at, texts.NEXT).click().run()
    assert header(at).startswith("Step 3 of 7") and at.query_params["step"] == "3"
    button(at, texts.BACK).click().run()
    assert header(at).startswith("Step 2 of 7") and at.query_params["step"] == "2"


@pytest.mark.parametrize(("asked", "opened"), [("99", "7"), ("zero", "1")])
def test_a_bad_step_in_the_url_opens_the_nearest_step(asked, opened):
    at = open_lesson(asked)
    assert not at.exception
    assert header(at).startswith(f"Step {opened} of 7") and at.query_params["step"] == opened
    assert button(at, texts.NEXT).disabled == (opened == "7")


def test_presenter_mode_from_the_url_hides_the_sidebar_and_can_be_turned_off():
    at = open_lesson("5", presenter=True)
    assert at.toggle(key=Keys.LESSON_PRESENTER).value
    styles = " ".join(element.proto.body for element in at.get("html"))
    assert "stSidebar" in styles and "display: none" in styles
    # Charts grow for the room: the presenter layout sets larger fonts.
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["font"]["size"] > 14
    at.toggle(key=Keys.LESSON_PRESENTER).set_value(False).run()
    assert "presenter" not in at.query_params
    assert not at.get("html")


def test_fit_trains_live_and_the_result_is_read_from_that_run():
    at = open_lesson("4")
    at.slider(key="lesson.epochs").set_value(2).run()
    button(at, texts.FIT_BUTTON).click().run()
    assert header(at).startswith("Step 5 of 7"), "starting the fit moves on to watching"
    run = at.session_state[Keys.KERAS_RUN]
    rerun_until(at, lambda at: "Finished 2 epochs" in progress_text(at), TIMEOUT, "the live run has finished 2 epochs")
    assert not at.exception
    assert "Replay of a recorded run" not in text_of(at), "the live run replaced the replay"
    assert "Live run on scikit-learn digits: Finished 2 epochs" in progress_text(at)
    # The lesson's run is saved like any run (its first copy of "start a run" skipped this).
    saved = poll_until(
        lambda: run.run_id in {record["run_id"] for record in RunStore().load().records},
        TIMEOUT,
        "the lesson's run saved to the run folder",
    )
    assert saved and RunStore().model_path(run.run_id).exists()
    button(at, texts.NEXT).click().run()
    first = run.snapshot().epochs[0]["val_accuracy"]
    assert texts.FIRST_EPOCH.format(accuracy=first, split="validation", chance=0.1) in text_of(at)
    # Early stopping, one click: the same lesson model again, with patience and room to stop.
    button(at, "Re-run with early stopping").click().run()
    rerun = at.session_state[Keys.KERAS_RUN]
    assert rerun is not run and rerun.config.early_stopping_patience == 2 and rerun.config.epochs == 10
    assert header(at).startswith("Step 5 of 7") and not at.exception
    # Ten epochs are not needed to prove the click worked: stop it (at the next batch) and wait for the line to clear.
    rerun.request_stop()
    rerun_until(at, lambda at: rerun.status not in ("queued", "running"), TIMEOUT, "the stopped re-run has ended")
    assert rerun.status in ("stopped", "finished")


def test_the_live_line_says_what_the_run_has_left_while_it_trains():
    from core.config import TrainingConfig
    from core.training.paces import Estimate
    from core.training.run import FINISHED, TrainingRun
    from pages.lesson_steps import live_line

    run = TrainingRun(TrainingConfig(dataset="digits", epochs=5))
    run.dataset_title = "scikit-learn digits"
    run.mark_running(5, 10)
    line = live_line(run.snapshot())
    assert line.startswith("Live run on scikit-learn digits: epoch") and "left" not in line, "nothing to go by yet"
    run.estimate = Estimate(seconds_per_epoch=8.0, total_seconds=40.0, memory_mb=1.0, train_images=320, epochs=5)
    left = re.search(r", about (\d+) s left$", live_line(run.snapshot()))
    assert left and 30 <= int(left.group(1)) <= 40, "its estimate less its time so far, until its own pace is known"
    run.mark_finished(FINISHED, "Finished 5 epochs.")
    assert "left" not in live_line(run.snapshot())

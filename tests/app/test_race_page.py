"""Races in AppTest: the Train page's Race section (a preset raced live and ranked, Stop, clear messages for
bad races), and the lesson's optimizer race, which a workshop room's participants watch overlaid."""

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.results import lesson_texts as texts
from core.results.experiments import RunStore
from core.training.run import ACTIVE_STATUSES, FINISHED, STOPPED
from pages.resources import job_runner, room_registry
from pages.session import Keys

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120


def open_train(epochs: int = 2) -> AppTest:
    """The Train page on the embedded digits, Keras only."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key=Keys.TRAIN_DATASET).set_value("digits").run()
    at.slider(key=Keys.TRAIN_EPOCHS).set_value(epochs).run()
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def poll_until(at: AppTest, done, seconds: float = 240) -> None:
    """AppTest has no timer: the live fragment's run_every never fires, so poll with at.run()."""
    deadline = time.time() + seconds
    while not done(at) and time.time() < deadline:
        time.sleep(0.5)
        at.run()


def progress_text(at: AppTest) -> str:
    return " | ".join(p.proto.text for p in at.get("progress"))


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def ranking(at: AppTest):
    """The race's ranking table (the page also shows the model's layers as a table)."""
    return next((frame.value for frame in at.dataframe if "rank" in frame.value), None)


def race_runs(at: AppTest):
    return at.session_state[Keys.RACE].runs


def test_a_preset_race_trains_every_variant_live_and_ranks_them():
    at = open_train(epochs=2)
    at.selectbox(key=Keys.RACE_PRESET).set_value("optimizers").run()
    assert "Estimated here for the whole race (3 variants)" in " ".join(c.value for c in at.caption)
    button(at, texts.RACE_BUTTON).click().run()
    runs = race_runs(at)
    assert [run.label for run in runs] == ["optimizer Adam", "optimizer SGD", "optimizer RMSprop"]
    assert button(at, "Train").disabled, "one thing at a time: Train waits for the race"
    poll_until(at, lambda at: all(run.status not in ACTIVE_STATUSES for run in runs) and ranking(at) is not None)
    assert not at.exception, at.exception
    assert [run.status for run in runs] == [FINISHED] * 3
    assert progress_text(at).count("Finished 2 epochs") == 3
    # One chart per metric with every variant on it (training, named by the variant, and validation each),
    # then setting against score.
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    loss_names = {trace["name"] for trace in charts[0]["data"] if trace.get("name")}
    assert {name for run in runs for name in (run.label, f"{run.label} validation")} <= loss_names
    assert charts[-1]["data"][0]["type"] == "parcoords"
    table = ranking(at)
    assert list(table["rank"]) == [1, 2, 3]
    assert set(table["variant"]) == {run.label for run in runs}
    said = " ".join(m.value for m in at.markdown)
    assert "After 2 epochs each," in said and "Given the same" in said
    # Every variant is an ordinary run: saved (when the race's job has ended), and listed on Experiments.
    assert job_runner().wait_idle(timeout=60)
    saved = {record["run_id"] for record in RunStore().load().records}
    assert {run.run_id for run in runs} <= saved
    at.switch_page("pages/experiments.py").run()
    assert not at.exception
    assert {run.run_id for run in runs} <= set(at.dataframe[0].value["run"])


def test_stop_ends_every_variant_and_keeps_what_each_learned():
    at = open_train(epochs=60)
    at.selectbox(key=Keys.RACE_PRESET).set_value("learning_rates").run()
    button(at, texts.RACE_BUTTON).click().run()
    runs = race_runs(at)
    poll_until(at, lambda at: all(run.completed_epochs >= 1 for run in runs), 180)
    left = [c.value for c in at.caption if c.value.startswith("The whole race: about")]
    assert left and left[0].endswith(" left."), "while it trains, the race says what the whole race has left"
    button(at, texts.RACE_STOP).click().run()
    poll_until(at, lambda at: all(run.status not in ACTIVE_STATUSES for run in runs), 60)
    assert [run.status for run in runs] == [STOPPED] * 3
    assert all(run.model is not None and 1 <= run.completed_epochs < 60 for run in runs)
    poll_until(at, lambda at: ranking(at) is not None, 30)
    assert set(ranking(at)["status"]) == {STOPPED}, "a stopped race is ranked too"


def test_a_race_that_cannot_be_run_says_why_and_cannot_start():
    at = open_train()
    at.selectbox(key=Keys.RACE_PRESET).set_value("own").run()
    at.selectbox(key=Keys.RACE_SETTING).set_value("learning_rate").run()
    for typed, message in (
        ("0.1, abc", "learning_rate takes numbers; got 'abc'."),
        ("0.1, 0.1", "Each value of learning_rate may be raced once; 0.1 appears twice."),
        ("0.1", "A race needs 2 to 4 values of learning_rate; got 1."),
    ):
        at.text_input(key=f"{Keys.RACE_VALUES}.learning_rate").input(typed).run()
        assert message in errors(at)
        assert button(at, texts.RACE_BUTTON).disabled
    at.selectbox(key=Keys.RACE_SETTING).set_value("dropout").run()
    at.text_input(key=f"{Keys.RACE_VALUES}.dropout").input("0.2, 0.99").run()
    assert "dropout 0.99 cannot be raced: dropout must be between 0.0 and 0.9; got 0.99." in errors(at)
    assert button(at, texts.RACE_BUTTON).disabled
    at.text_input(key=f"{Keys.RACE_VALUES}.dropout").input("0.2, 0.5").run()
    assert not errors(at) and not button(at, texts.RACE_BUTTON).disabled
    assert not at.exception


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
    return " ".join(str(part) for part in parts + [s.value for s in at.subheader])


def curve_names(at: AppTest) -> set[str]:
    return {trace.get("name") for chart in at.get("plotly_chart") for trace in json.loads(chart.proto.spec)["data"]}


def test_the_lessons_optimizer_race_is_what_the_room_watches_overlaid():
    room_registry.clear()
    presenter = AppTest.from_file(APP, default_timeout=TIMEOUT)
    presenter.session_state[Keys.LESSON_DATASET] = "digits"
    presenter.session_state[Keys.LESSON_EPOCHS] = 2
    presenter.query_params["step"] = "6"
    presenter.run()
    presenter.switch_page("pages/lesson.py").run()
    button(presenter, texts.START_ROOM).click().run()
    code, _ = presenter.session_state[Keys.ROOM_PRESENTED]
    presenter.switch_page("pages/lesson.py").run()
    assert texts.LESSON_RACE_QUESTION in text_of(presenter)  # step 6 asks the next question (over a replay)
    button(presenter, texts.LESSON_RACE_BUTTON).click().run()
    runs = presenter.session_state[Keys.RACE].runs
    assert [run.config.optimizer for run in runs] == ["adam", "sgd", "rmsprop"]
    assert presenter.header[0].value.startswith("Step 5 of 7"), "the race is watched at step 5"
    room = room_registry().get(code)
    assert room.view().presenter_runs == tuple(runs) and room.view().step == 5

    viewer = AppTest.from_file(APP, default_timeout=TIMEOUT)
    viewer.query_params["code"] = code
    viewer.run()
    viewer.switch_page("pages/room.py").run()
    assert "Step 5 of 7" in text_of(viewer)
    poll_until(viewer, lambda at: all(run.status not in ACTIVE_STATUSES for run in runs))
    assert [run.status for run in runs] == [FINISHED] * 3
    assert {f"{run.label} validation" for run in runs} <= curve_names(viewer), "every variant on the room's chart"
    button(presenter, texts.NEXT).click().run()
    viewer.run()
    assert "Step 6 of 7" in text_of(viewer) and texts.RACE_RANKING in text_of(viewer)
    assert "After 2 epochs each," in text_of(viewer)
    assert not any(b.label == texts.LESSON_RACE_BUTTON for b in viewer.button), "participants only watch"
    assert texts.RACE_RANKING in text_of(presenter) and not presenter.exception and not viewer.exception
    room_registry.clear()


def test_a_diverging_variant_shows_its_own_message_and_the_other_is_ranked():
    at = open_train(epochs=3)
    at.selectbox(key=Keys.TRAIN_OPTIMIZER).set_value("sgd").run()
    at.slider(key=Keys.TRAIN_HIDDEN_LAYERS).set_value(3).run()
    at.select_slider(key=Keys.TRAIN_UNITS).set_value(512).run()
    at.selectbox(key=Keys.RACE_PRESET).set_value("own").run()
    at.selectbox(key=Keys.RACE_SETTING).set_value("learning_rate").run()
    at.text_input(key=f"{Keys.RACE_VALUES}.learning_rate").input("10, 0.01").run()
    button(at, texts.RACE_BUTTON).click().run()
    wild, calm = race_runs(at)
    poll_until(
        at, lambda at: all(run.status not in ACTIVE_STATUSES for run in (wild, calm)) and ranking(at) is not None
    )
    assert f"{wild.label}: {wild.snapshot().message}" in errors(at) and "diverged" in errors(at)
    assert calm.status == FINISHED
    table = ranking(at)
    assert list(table["variant"]) == [calm.label, wild.label], "a failed variant ranks last"
    assert f"{wild.label} failed:" in " ".join(m.value for m in at.markdown)

"""Every page in AppTest: it runs without exception, and a user's clicks give visible results."""

import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGES = ["pages/home.py", "pages/train.py", "pages/compare.py"]
TIMEOUT = 120
APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page != "pages/home.py":
        at.switch_page(page)
        at.run()
    return at


def choose_digits(at: AppTest, epochs: int = 3) -> None:
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.slider(key="train.epochs").set_value(epochs).run()


def poll_until(at: AppTest, done, seconds: float = 90) -> None:
    """AppTest has no timer: the live fragment's run_every never fires, so poll with at.run()."""
    deadline = time.time() + seconds
    while not done(at) and time.time() < deadline:
        time.sleep(0.5)
        at.run()


def progress_text(at: AppTest) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(page):
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title, "each page has a title"


def test_the_default_mnist_falls_back_visibly_when_it_cannot_download():
    at = open_page("pages/train.py")
    # MNIST is the default; with no network and no cache, the page says so and uses the digits.
    warnings = " ".join(w.value for w in at.warning)
    if "Could not" in warnings:
        assert "digits" in warnings
    assert "images" in " ".join(c.value for c in at.caption)


def test_settings_survive_a_visit_to_another_page():
    at = open_page("pages/train.py")
    choose_digits(at, epochs=7)
    at.selectbox(key="train.optimizer").set_value("sgd").run()
    at.number_input(key="train.learning_rate.sgd").set_value(0.05).run()
    models = at.radio(key="train.models_to_train")
    models.set_value("keras").run()
    for page in ("pages/home.py", "pages/compare.py", "pages/train.py"):
        at.switch_page(page).run()
        assert not at.exception, at.exception
    assert at.selectbox(key="train.dataset").value == "digits"
    assert at.slider(key="train.epochs").value == 7
    assert at.selectbox(key="train.optimizer").value == "sgd"
    assert at.number_input(key="train.learning_rate.sgd").value == 0.05
    assert at.radio(key="train.models_to_train").value == "keras"
    assert not any("Could not" in w.value for w in at.warning), "still the digits, not the default MNIST"


def test_train_on_digits_fills_the_charts_and_the_epoch_table():
    at = open_page("pages/train.py")
    choose_digits(at)
    button(at, "Train").click().run()
    poll_until(at, lambda at: not button(at, "Stop").value and button(at, "Stop").disabled and at.dataframe)
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 2, "loss and accuracy"
    assert len(at.dataframe) >= 1
    assert "Finished 3 epochs" in progress_text(at)


def test_stop_stops_a_long_run_and_keeps_the_model():
    at = open_page("pages/train.py")
    choose_digits(at, epochs=100)
    at.select_slider(key="train.batch_size").set_value(16).run()
    at.radio(key="train.models_to_train").set_value("keras").run()
    button(at, "Train").click().run()
    # Any epoch past the first: the poll may not catch "epoch 2" itself.
    poll_until(at, lambda at: re.search(r"epoch ([2-9]|\d\d)/100", progress_text(at)), 60)
    button(at, "Stop").click().run()
    poll_until(at, lambda at: "Stopped" in progress_text(at), 30)
    text = progress_text(at)
    assert "Stopped after" in text and "model trained so far is kept" in text
    assert not button(at, "Train 5 more epochs").disabled


def test_compare_page_overlays_keras_and_the_baseline_and_reads_the_result():
    at = open_page("pages/train.py")
    choose_digits(at, epochs=3)
    button(at, "Train").click().run()
    poll_until(at, lambda at: progress_text(at).count("Finished") == 2)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    figure_names = {trace["name"] for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert {"Keras training", "scikit-learn MLP training"} <= figure_names
    reading = " ".join(i.value for i in at.info)
    assert "faster than" in reading and "test images" in reading
    at.radio(key="compare.x_axis").set_value("seconds").run()
    assert not at.exception

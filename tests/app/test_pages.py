"""Every page in AppTest: it runs without exception, and a user's clicks give visible results."""

import json
import re
import socket
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.polling import rerun_until

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


def progress_text(at: AppTest) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(page):
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title, "each page has a title"


@pytest.mark.usefixtures("fresh_dataset_caches")
@pytest.mark.parametrize("mnist_cached", [True, False], ids=["mnist-in-keras-cache", "network-down-no-cache"])
def test_the_default_mnist_loads_or_falls_back_visibly(mnist_cached, tmp_path, monkeypatch):
    # MNIST is the default. Both outcomes are made here, whatever this machine's network and cache:
    # a cached MNIST is used as it is; with no cache and no network the page says so and uses the digits.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if mnist_cached:
        write_small_mnist(tmp_path / "datasets" / "mnist.npz")
    monkeypatch.setattr(socket, "getaddrinfo", refuse_network)
    monkeypatch.setattr(socket, "create_connection", refuse_network)
    at = open_page("pages/train.py")
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning)
    caption = " ".join(c.value for c in at.caption)
    if mnist_cached:
        assert "Could not" not in warnings, warnings
        assert "**MNIST" in caption and "200 training images" in caption and "28×28 pixels" in caption, caption
    else:
        # One line says so, out in the open; under it why and what to do; under the dataset box, what is used.
        assert "cannot be downloaded here" in warnings and "8×8 scikit-learn digits" in warnings, warnings
        assert "Could not download MNIST" in caption and "Connect to the internet" in caption, caption
        assert "Used here instead: scikit-learn digits (8×8" in caption, caption
        assert "digits" in caption and "8×8 pixels" in caption, caption
        assert not at.expander or all("digits" not in e.label for e in at.expander)
        assert not button(at, "Train").disabled


def write_small_mnist(path: Path) -> None:
    """An mnist.npz as Keras caches it, with 200 training and 50 test images of 28×28."""
    rng = np.random.default_rng(0)
    path.parent.mkdir(parents=True)
    np.savez(
        path,
        x_train=rng.integers(0, 255, (200, 28, 28), dtype=np.uint8),
        y_train=np.arange(200, dtype=np.uint8) % 10,
        x_test=rng.integers(0, 255, (50, 28, 28), dtype=np.uint8),
        y_test=np.arange(50, dtype=np.uint8) % 10,
    )


def refuse_network(*args, **kwargs):
    raise OSError("Network is unreachable")


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


def test_the_page_above_the_sidebar_follows_its_settings_in_the_same_run():
    """The main area is drawn before the sidebar's widgets (bench/README.md): a change shows at once."""
    at = open_page("pages/train.py")
    choose_digits(at, epochs=7)
    assert any("for 7 epochs" in caption.value for caption in at.caption), "the estimate follows the slider"
    at.multiselect(key="train.metrics").set_value([]).run()
    assert any("at least one metric" in error.value for error in at.sidebar.error), "the error sits in the sidebar"
    assert button(at, "Train").disabled, "no run starts from invalid settings"
    at.multiselect(key="train.metrics").set_value(["accuracy"]).run()
    assert not at.error and not button(at, "Train").disabled


def estimate_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Estimated here:"))


def test_train_on_digits_fills_the_charts_and_the_epoch_table_and_the_estimate_learns_its_pace():
    at = open_page("pages/train.py")
    choose_digits(at)
    assert "on this server" not in estimate_caption(at), "nothing trained yet: counted"
    button(at, "Train").click().run()
    rerun_until(
        at,
        lambda at: not button(at, "Stop").value and button(at, "Stop").disabled and at.dataframe,
        TIMEOUT,
        "the run has finished and its epoch table is shown",
    )
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 2, "loss and accuracy"
    assert len(at.dataframe) >= 1
    assert "Finished 3 epochs" in progress_text(at)
    # The next estimate of these settings goes by the pace the run measured, and says so.
    at.run()
    assert "as these settings last trained on this server" in estimate_caption(at)
    at.select_slider(key="train.batch_size").set_value(64).run()
    assert "scaled from this network's runs on this server" in estimate_caption(at)


def test_stop_stops_a_long_run_and_keeps_the_model():
    at = open_page("pages/train.py")
    choose_digits(at, epochs=100)
    at.select_slider(key="train.batch_size").set_value(16).run()
    at.radio(key="train.models_to_train").set_value("keras").run()
    button(at, "Train").click().run()
    # Any epoch past the first: the poll may not catch "epoch 2" itself.
    rerun_until(at, lambda at: re.search(r"epoch ([2-9]|\d\d)/100", progress_text(at)), TIMEOUT, "epoch 2 has begun")
    button(at, "Stop").click().run()
    # The press's own script run says so, unless the run's next batch has already ended it.
    stopping = next(b for b in at.button if str(b.key).startswith("train.stop"))
    assert (stopping.label == "Stopping…" and stopping.disabled) or "Stopped" in progress_text(at)
    rerun_until(at, lambda at: "Stopped" in progress_text(at), TIMEOUT, "the run says it stopped")
    text = progress_text(at)
    assert "Stopped after" in text and "the model is kept" in text
    # The live fragment can draw "Stopped" in the same script run whose buttons were decided a moment
    # before the run ended; the page then reruns itself once (pages/live.py), which enables Train more.
    rerun_until(at, lambda at: not button(at, "Train 5 more epochs").disabled, TIMEOUT, "Train more is offered")


def test_compare_page_overlays_keras_and_the_baseline_and_reads_the_result():
    at = open_page("pages/train.py")
    choose_digits(at, epochs=3)
    button(at, "Train").click().run()
    rerun_until(at, lambda at: progress_text(at).count("Finished") == 2, TIMEOUT, "Keras and the baseline finished")
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    figure_names = {trace["name"] for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert {"Keras", "scikit-learn MLP", "Keras validation"} <= figure_names  # one legend entry per run
    reading = " ".join(i.value for i in at.info)
    assert ("faster than" in reading or "about the same time" in reading) and "test images" in reading
    at.radio(key="compare.x_axis").set_value("seconds").run()
    assert not at.exception

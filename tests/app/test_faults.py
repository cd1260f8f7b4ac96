"""Faults and bad input in the pages: each gives a clear message and the app keeps serving."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import tomllib
from streamlit.testing.v1 import AppTest

from core.config import TrainingConfig
from core.jobs.start import press_estimate
from tests.app.test_pages import APP, TIMEOUT, button, open_page
from tests.polling import rerun_until

ROOT = Path(APP).parent
# Each fault starts with no dataset cached (tests/app/conftest.py).
pytestmark = pytest.mark.usefixtures("fresh_dataset_caches")


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def still_serving() -> None:
    """Another session opens the app and trains nothing: the server process is fine."""
    at = open_page("pages/home.py")
    assert not at.exception and at.title[0].value == "Training Studio"


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_a_corrupt_cached_mnist_is_an_error_that_names_the_file_and_train_waits(tmp_path, monkeypatch):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"PK\x03\x04 cut short by a broken download")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    at = open_page("pages/train.py")  # MNIST is the default dataset
    assert not at.exception
    assert "mnist.npz" in errors(at) and "Delete" in errors(at)
    assert "digits" not in warnings(at), "no silent stand-in for a file that is there but broken"
    assert button(at, "Train").disabled
    still_serving()


def test_the_network_down_with_no_cache_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def refuse(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    at = open_page("pages/train.py")
    assert not at.exception
    assert "MNIST handwritten digits cannot be downloaded here" in warnings(at) and "8×8" in warnings(at)
    assert "Could not download MNIST" in captions(at) and "Connect to the internet" in captions(at)
    # Fashion-MNIST, chosen by the person, does not fall back: it is an error, and Train waits.
    monkeypatch.setenv("TRAINING_STUDIO_FASHION_MNIST_DIR", str(tmp_path / "no fashion here"))
    at.selectbox(key="train.dataset").set_value("fashion_mnist").run()
    assert "Could not download Fashion-MNIST" in errors(at) and button(at, "Train").disabled
    still_serving()


def test_a_dataset_folder_with_wrong_shapes_is_refused_by_name(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=rng.integers(0, 255, (20, 3, 300), dtype=np.uint8),
        y_train=np.zeros(20, dtype=np.uint8),
        x_test=rng.integers(0, 255, (5, 3, 300), dtype=np.uint8),
        y_test=np.zeros(5, dtype=np.uint8),
    )
    at = open_page("pages/train.py")
    at.selectbox(key="train.dataset").set_value("folder").run()
    at.text_input(key="train.data_dir").input(str(tmp_path)).run()
    assert not at.exception
    assert "mnist.npz" in errors(at) and "3×300" in errors(at)
    assert button(at, "Train").disabled


def test_a_folder_that_does_not_exist_is_an_error_until_it_is_fixed(tmp_path):
    at = open_page("pages/train.py")
    at.selectbox(key="train.dataset").set_value("folder").run()
    at.text_input(key="train.data_dir").input(str(tmp_path / "no such folder")).run()
    assert not at.exception
    assert "does not exist" in errors(at) and "Check the path" in errors(at)
    assert button(at, "Train").disabled, "nothing trains on other data instead"
    assert "digits" not in warnings(at) + captions(at)
    # Fixed: the same box now names a folder that loads, and Train is offered.
    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    np.savez(
        folder / "mnist.npz",
        x_train=rng.integers(0, 255, (40, 28, 28), dtype=np.uint8),
        y_train=np.arange(40, dtype=np.uint8) % 10,
        x_test=rng.integers(0, 255, (10, 28, 28), dtype=np.uint8),
        y_test=np.arange(10, dtype=np.uint8),
    )
    at.text_input(key="train.data_dir").input(str(folder)).run()
    assert not at.error and not button(at, "Train").disabled


def test_absurd_query_parameters_do_not_break_the_page():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"epochs": "1e99", "dataset": "../../etc", "learning_rate": "nan", "batch_size": "-5"})
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Train a model"
    assert 1 <= at.slider(key="train.epochs").value <= 100
    assert at.selectbox(key="train.dataset").value in ("mnist", "fashion_mnist", "digits", "folder")


def test_a_learning_rate_that_makes_the_loss_nan_is_explained(monkeypatch):
    at = open_page("pages/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.slider(key="train.hidden_layers").set_value(3).run()
    at.select_slider(key="train.units").set_value(512).run()
    at.selectbox(key="train.optimizer").set_value("sgd").run()
    at.number_input(key="train.learning_rate.sgd").set_value(10.0).run()
    at.radio(key="train.models_to_train").set_value("keras").run()
    button(at, "Train").click().run()
    rerun_until(at, lambda at: "diverged" in errors(at), TIMEOUT, "the page says the loss diverged")
    assert not at.exception
    assert "learning rate" in errors(at) and "too high" in errors(at)


def test_the_worker_raising_mid_epoch_shows_the_error_and_the_app_goes_on(monkeypatch):
    from core.training.callbacks import LiveProgress

    def explode(self, epoch, logs=None):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(LiveProgress, "on_epoch_end", explode)
    at = open_page("pages/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.radio(key="train.models_to_train").set_value("keras").run()
    button(at, "Train").click().run()
    # One script run shows both: the page reruns itself when a run ends while it draws (pages/live.py).
    rerun_until(at, lambda at: "Training failed" in errors(at), TIMEOUT, "the page says the training failed")
    assert not at.exception
    assert "RuntimeError: the disk is full" in errors(at)
    assert not button(at, "Train").disabled, "the user can train again"
    still_serving()


def half_the_epochs_of(config, models_to_train: str = "both") -> float:
    """A time budget that fits about half of a digits press's epochs (by default Keras and the baseline), from
    the same estimate the page shows (it calibrates on this machine, so a fixed number of seconds fits every
    epoch on a fast one)."""
    from core.data.datasets import load_dataset

    digits = load_dataset("digits")
    cost = press_estimate(config, digits, models_to_train)
    return cost.total_seconds - cost.seconds_per_epoch * config.epochs / 2


def test_the_budget_is_shown_before_training_and_a_fix_applies(monkeypatch):
    at = open_page("pages/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    captions = " ".join(c.value for c in at.caption)
    assert "s per epoch" in captions and "MB of memory" in captions
    assert not any("budget" in w for w in warnings(at).split("."))

    # A budget that fits about half of the default run's 5 epochs, from the estimate the page shows
    # (it calibrates on this machine: a fixed number of seconds fits every epoch on a fast one).
    limit = half_the_epochs_of(TrainingConfig(dataset="digits"))
    monkeypatch.setenv("TRAINING_STUDIO_TIME_BUDGET_SECONDS", str(limit))
    at.run()
    assert f"budget of {limit:.0f} s" in warnings(at)
    fewer = next(b for b in at.button if b.label.startswith("Train ") and b.label.endswith("epochs instead"))
    epochs = int(fewer.label.split()[1])
    fewer.click().run()
    assert at.slider(key="train.epochs").value == epochs < 5

    monkeypatch.delenv("TRAINING_STUDIO_TIME_BUDGET_SECONDS")
    monkeypatch.setenv("TRAINING_STUDIO_MEMORY_BUDGET_MB", "0.3")
    at.run()
    assert "MB budget" in warnings(at)
    smaller = next(b for b in at.button if b.label.endswith("images instead"))
    smaller.click().run()
    assert any("to fit the budget: use all" in b.label for b in at.button)
    assert not at.exception


def test_production_settings_are_set_and_each_is_commented():
    text = (ROOT / ".streamlit" / "config.toml").read_text()
    config = tomllib.loads(text)
    # A very large upload is refused by Streamlit itself, before it reaches the page.
    assert 1 <= config["server"]["maxUploadSize"] <= 50
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[index - 1].lstrip().startswith("#"), f"config.toml line {index + 1} has no comment: {line}"


def test_a_links_notes_stay_through_reruns_until_dismissed():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"epochs": "500", "units": "100"})
    at.run()
    at.switch_page("pages/train.py").run()
    for _ in range(2):  # the page's own later reruns (the empty charts' timer) keep them
        assert "outside 1–100" in warnings(at) and "units 100" in warnings(at)
        at.run()
    button(at, "Got it").click().run()
    assert "outside 1–100" not in warnings(at) and not any(b.label == "Got it" for b in at.button)
    at.run()
    assert "outside 1–100" not in warnings(at)

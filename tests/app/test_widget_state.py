"""Each Train widget gets its value one way: no "created with a default value but also ... Session State" warning."""

import logging
from pathlib import Path

import pytest
from streamlit.elements.lib import policies
from streamlit.testing.v1 import AppTest

from tests.app.test_faults import half_the_epochs_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DOUBLE_VALUE = "was created with a default value but also had its value set via the Session State API"


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def double_values(monkeypatch):
    """The messages of Streamlit's double-value warnings (which it logs once per process: re-armed here)."""
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    recorder = Recorder()
    logger = logging.getLogger(policies.__name__)  # Streamlit's loggers do not propagate to the root
    logger.addHandler(recorder)
    yield recorder.messages
    logger.removeHandler(recorder)


def test_the_recorder_hears_streamlits_warning(double_values):
    """The control: a widget given both a value= and a session-state value is heard."""
    script = "import streamlit as st\nst.session_state['n'] = 3\nst.slider('n', 1, 9, value=5, key='n')"
    AppTest.from_string(script).run()
    assert any(DOUBLE_VALUE in message for message in double_values)


def test_train_from_a_link_and_back_from_other_pages_gives_no_double_value_warning(double_values, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=120)
    link = {"dataset": "digits", "epochs": "9", "hidden_layers": "2", "units": "64", "dropout": "0.1"}
    link |= {"optimizer": "sgd", "learning_rate": "0.05", "metrics": "accuracy,f1", "batch_size": "64"}
    link |= {"validation_split": "0.2", "seed": "7", "early_stopping": "1", "train": "keras"}
    for key, value in link.items():
        at.query_params[key] = value
    at.switch_page("pages/train.py").run()  # opened from the link, as a first visitor
    assert not at.exception, at.exception
    assert at.slider(key="train.epochs").value == 9 and at.slider(key="train.hidden_layers").value == 2
    assert at.number_input(key="train.learning_rate.sgd").value == 0.05
    for page in ("pages/home.py", "pages/compare.py", "pages/train.py", "pages/lesson.py", "pages/train.py"):
        at.switch_page(page).run()
        assert not at.exception, at.exception
    assert at.slider(key="train.epochs").value == 9, "the link's settings survived the visits"
    at.selectbox(key="train.optimizer").set_value("adam").run()
    assert at.number_input(key="train.learning_rate.adam").value == 0.001, "Adam's own default"
    # A budget fix sets the epochs from a button's callback: the slider must not also have a value=.
    monkeypatch.setenv("TRAINING_STUDIO_TIME_BUDGET_SECONDS", str(half_the_epochs_of(link_config(), "keras")))
    at.run()
    fewer = next(b for b in at.button if b.label.startswith("Train ") and b.label.endswith("epochs instead"))
    fewer.click().run()
    assert not at.exception, at.exception
    assert at.slider(key="train.epochs").value == int(fewer.label.split()[1]) < 9
    assert not [message for message in double_values if DOUBLE_VALUE in message], double_values


def link_config():
    """The settings the link above chose, with Adam as the test then picks."""
    from core import config as settings
    from core.config import TrainingConfig

    return TrainingConfig(
        dataset="digits", epochs=9, hidden_layers=(64, 64), dropout=0.1, optimizer="adam", learning_rate=0.001,
        metrics=("accuracy", "f1"), batch_size=64, validation_split=0.2, seed=7,
        early_stopping_patience=settings.EARLY_STOPPING_PATIENCE,
    )  # fmt: skip

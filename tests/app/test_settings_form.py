"""One settings form: Train, a room's "Try it yourself" and a race draw it alike; link, form and command line agree."""

import pytest

from core import config as settings
from core.cli import build_parser, config_from_args
from core.config import TrainingConfig, config_from_settings, settings_of
from core.links import link_params, read_link
from core.results import lesson_texts as texts
from pages.resources import job_runner, room_registry
from pages.session import TRAIN_SIDEBAR, Keys
from pages.settings_form import SettingsForm, form_state, read_settings, shown_value
from tests.app.test_rooms import button, fresh_rooms, open_page, presenter_with_room  # noqa: F401  (autouse)

CONFIGS = [
    TrainingConfig(),
    TrainingConfig(
        dataset="digits", model="cnn", hidden_layers=(256, 256), activation="tanh", dropout=0.15, optimizer="sgd",
        learning_rate=0.05, metrics=("accuracy", "f1"), epochs=40, batch_size=128, validation_split=0.25, seed=7,
        early_stopping_patience=settings.EARLY_STOPPING_PATIENCE,
    ),
    TrainingConfig(hidden_layers=(), optimizer="rmsprop", learning_rate=0.000123),
]  # fmt: skip


def command_line(config: TrainingConfig) -> list[str]:
    """The `train` arguments a person would type for these settings."""
    args = ["train", "--dataset", config.dataset, "--model", config.model, "--activation", config.activation]
    args += ["--hidden-layers", ",".join(map(str, config.hidden_layers)), "--dropout", str(config.dropout)]
    args += ["--optimizer", config.optimizer, "--learning-rate", repr(config.learning_rate), "--loss", config.loss]
    args += ["--metrics", ",".join(config.metrics), "--epochs", str(config.epochs)]
    args += ["--batch-size", str(config.batch_size), "--validation-split", str(config.validation_split)]
    args += ["--seed", str(config.seed)]
    if config.early_stopping_patience:
        args += ["--early-stopping", str(config.early_stopping_patience)]
    return args


@pytest.mark.parametrize("config", CONFIGS)
def test_url_form_and_command_line_build_equal_configs_from_equal_settings(config):
    values = settings_of(config, "keras")
    from_url = config_from_settings(read_link(link_params(config, "keras")).values)
    widgets = form_state(TRAIN_SIDEBAR, values)  # what the sidebar's widgets hold for these settings
    from_form = config_from_settings(read_settings(TRAIN_SIDEBAR, widgets))
    from_command_line = config_from_args(build_parser().parse_args(command_line(config)))
    assert from_url == from_form == from_command_line == config


def test_the_form_reads_no_hidden_folder_and_keeps_a_learning_rate_per_optimizer():
    widgets = form_state(TRAIN_SIDEBAR, settings_of(TrainingConfig(optimizer="sgd", learning_rate=0.05)))
    assert widgets[Keys.train_learning_rate("sgd")] == 0.05 and Keys.TRAIN_DATA_DIR in widgets
    widgets[Keys.TRAIN_DATA_DIR] = "/somewhere/typed/before"
    values = read_settings(TRAIN_SIDEBAR, widgets)
    assert "data_dir" not in values, "the folder box is hidden unless the dataset is a folder"
    widgets[Keys.TRAIN_OPTIMIZER] = "adam"
    assert read_settings(TRAIN_SIDEBAR, widgets)["learning_rate"] == settings.DEFAULT_LEARNING_RATES["adam"]
    keys = [TRAIN_SIDEBAR.key(name) for name in settings.SETTING_NAMES]
    assert len(set(keys)) == len(keys), "one widget key per setting"
    one_rate = SettingsForm("x.", ("optimizer", "learning_rate"))
    assert one_rate.learning_rate_key("sgd") == one_rate.learning_rate_key("adam") == "x.learning_rate"


def test_train_and_a_rooms_try_it_yourself_draw_the_same_widgets():
    _, code = presenter_with_room()
    viewer = open_page("pages/room.py", {"code": code})
    assert not viewer.exception, viewer.exception
    train = open_page("pages/train.py")
    assert not train.exception, train.exception
    for name in ("epochs", "hidden_layers", "dropout"):
        room_slider, train_slider = viewer.slider(key=f"{Keys.ROOM_TRY_FORK}{name}"), train.slider(key=f"train.{name}")
        assert (room_slider.min, room_slider.max, room_slider.label) == (
            train_slider.min,
            train_slider.max,
            train_slider.label,
        )
    assert viewer.slider(key=f"{Keys.ROOM_TRY_FORK}epochs").max == settings.EPOCHS_RANGE[1]
    room_rate = viewer.number_input(key=f"{Keys.ROOM_TRY_FORK}learning_rate")
    train_rate = train.number_input(key=Keys.train_learning_rate("adam"))
    assert room_rate.proto.format == train_rate.proto.format == settings.LEARNING_RATE_FORMAT
    assert (
        viewer.select_slider(key=f"{Keys.ROOM_TRY_FORK}units").options
        == train.select_slider(key=Keys.TRAIN_UNITS).options
    )


def test_a_rooms_fork_starts_at_the_presenters_settings_and_may_train_longer_than_twenty_epochs():
    _, code = presenter_with_room()
    viewer = open_page("pages/room.py", {"code": code})
    presenter_config = viewer_room_config(code)
    assert viewer.slider(key=f"{Keys.ROOM_TRY_FORK}epochs").value == presenter_config.epochs
    assert viewer.selectbox(key=f"{Keys.ROOM_TRY_FORK}optimizer").value == presenter_config.optimizer
    viewer.slider(key=f"{Keys.ROOM_TRY_FORK}epochs").set_value(21)
    viewer.slider(key=f"{Keys.ROOM_TRY_FORK}hidden_layers").set_value(0)
    button(viewer, "Train").click().run()
    assert not viewer.exception and not viewer.error, viewer.error
    (entry,) = room_registry().get(code).entries()
    assert entry.run.config == presenter_config.replace(epochs=21, hidden_layers=())
    assert job_runner().wait_idle(timeout=240), "the participant's run ends"


def viewer_room_config(code: str) -> TrainingConfig:
    return room_registry().get(code).view().presenter_config


def test_a_race_shows_the_settings_its_variants_share_in_the_forms_words():
    at = open_page("pages/train.py", state={Keys.TRAIN_DATASET: "digits"})
    at.selectbox(key=Keys.RACE_PRESET).set_value("batch_sizes").run()
    assert not at.exception, at.exception
    line = next(c.value for c in at.caption if c.value.startswith(texts.RACE_SHARED))
    assert f"Learning rate: {shown_value('learning_rate', 0.001)}" in line and "Epochs: 5" in line
    assert "Batch size" not in line, "the raced setting is not shared"

"""The Train sidebar's facts in core.config agree with TrainingConfig and with what a link may choose."""

from core import config as settings
from core import links
from core.config import TrainingConfig


def config_from_sidebar(values: dict) -> TrainingConfig:
    """What pages/train.py builds from its widgets' values."""
    return TrainingConfig(
        dataset=values["dataset"],
        data_dir=values["data_dir"] or None,
        model=values["model"],
        hidden_layers=(values["units"],) * values["hidden_layers"],
        activation=values["activation"],
        dropout=values["dropout"],
        optimizer=values["optimizer"],
        learning_rate=settings.DEFAULT_LEARNING_RATES[values["optimizer"]],
        loss=values["loss"],
        metrics=tuple(values["metrics"]),
        epochs=values["epochs"],
        batch_size=values["batch_size"],
        validation_split=values["validation_split"],
        seed=values["seed"],
        early_stopping_patience=settings.EARLY_STOPPING_PATIENCE if values["early_stopping"] else None,
    )


def test_the_sidebar_starts_at_training_configs_defaults():
    assert config_from_sidebar(settings.sidebar_defaults()) == TrainingConfig()


def test_every_sidebar_setting_has_a_key_and_a_default_and_a_link_may_set_each_but_the_folder():
    assert set(settings.sidebar_defaults()) == set(settings.SIDEBAR_KEYS)
    assert set(links.LINK_KEYS) == (set(settings.SIDEBAR_KEYS) - {"data_dir"}) | {"learning_rate"}
    assert len(set(settings.SIDEBAR_KEYS.values())) == len(settings.SIDEBAR_KEYS), "one widget key per setting"


def test_the_sidebars_narrower_choices_lie_within_training_configs_bounds():
    low, high = settings.UNITS_RANGE
    assert all(low <= units <= high for units in settings.UNIT_CHOICES)
    for narrow, wide in (
        (settings.SIDEBAR_DROPOUT_RANGE, settings.DROPOUT_RANGE),
        (settings.SIDEBAR_VALIDATION_SPLIT_RANGE, settings.VALIDATION_SPLIT_RANGE),
    ):
        assert wide[0] <= narrow[0] < narrow[1] <= wide[1]
    assert settings.DEFAULT_TRAIN_CHOICE in settings.TRAIN_CHOICES
    assert links.CHOICES["train"] == tuple(settings.TRAIN_CHOICES)

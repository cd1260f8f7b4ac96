"""The settings form's facts in core.config agree with TrainingConfig and with what a link may choose."""

from core import config as settings
from core import links
from core.config import TrainingConfig, config_from_settings, default_settings


def test_the_form_starts_at_training_configs_defaults():
    assert config_from_settings(default_settings()) == TrainingConfig()
    assert config_from_settings({}) == TrainingConfig(), "a setting left out takes its default"


def test_every_setting_has_a_default_and_a_link_may_set_each_but_the_folder():
    assert set(default_settings()) == set(settings.SETTING_NAMES)
    assert set(links.LINK_KEYS) == set(settings.SETTING_NAMES) - {"data_dir"}


def test_the_forms_narrower_choices_lie_within_training_configs_bounds():
    low, high = settings.UNITS_RANGE
    assert all(low <= units <= high for units in settings.UNIT_CHOICES)
    for narrow, wide in (
        (settings.SIDEBAR_DROPOUT_RANGE, settings.DROPOUT_RANGE),
        (settings.SIDEBAR_VALIDATION_SPLIT_RANGE, settings.VALIDATION_SPLIT_RANGE),
    ):
        assert wide[0] <= narrow[0] < narrow[1] <= wide[1]
    assert settings.DEFAULT_TRAIN_CHOICE in settings.TRAIN_CHOICES
    assert links.CHOICES["train"] == tuple(settings.TRAIN_CHOICES)
    assert settings.LEARNING_RATE_FORMAT % settings.LEARNING_RATE_RANGE[0] != "0.000000", "the smallest rate shows"

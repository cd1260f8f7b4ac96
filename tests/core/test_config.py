"""TrainingConfig: defaults from the lesson, bounds refused with messages that name the setting."""

import pytest

from core.config import (
    DEFAULT_LEARNING_RATES,
    EARLY_STOPPING_PATIENCE,
    ConfigError,
    TrainingConfig,
    config_from_settings,
    settings_of,
)


def test_defaults_are_the_lessons():
    config = TrainingConfig()
    assert (config.dataset, config.optimizer, config.epochs, config.loss) == (
        "mnist",
        "adam",
        5,
        "sparse_categorical_crossentropy",
    )
    assert config.hidden_layers == (128,) and config.metrics == ("accuracy",)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 101}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"learning_rate": 1e9}, "learning_rate"),
        ({"optimizer": "adamax"}, "optimizer"),
        ({"metrics": ()}, "metric"),
        ({"metrics": ("accuracy", "auc")}, "metric"),
        ({"hidden_layers": (128,) * 9}, "hidden layers"),
        ({"validation_split": 0.9}, "validation_split"),
        ({"dataset": "folder"}, "data_dir"),
        ({"early_stopping_patience": 2, "validation_split": 0.0}, "validation"),
    ],
)
def test_absurd_settings_are_refused_by_name(changes, named):
    with pytest.raises(ConfigError, match=named):
        TrainingConfig(**changes)


def test_round_trip_through_a_dict():
    config = TrainingConfig(dataset="digits", hidden_layers=[64, 32], metrics=["accuracy", "f1"])
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="Unknown setting"):
        TrainingConfig.from_dict({**config.to_dict(), "rm -rf": 1})


def test_settings_by_name_build_the_config_and_come_back_from_it():
    config = TrainingConfig(
        dataset="digits", hidden_layers=(64, 64), optimizer="sgd", learning_rate=0.05, metrics=("accuracy", "f1"),
        epochs=9, early_stopping_patience=4, subsample=500,
    )  # fmt: skip
    values = settings_of(config, "keras")
    assert values["hidden_layers"] == 2 and values["units"] == 64 and values["early_stopping"] is True
    assert config_from_settings(values) == config


def test_a_left_out_learning_rate_is_its_optimizers_default_and_widths_may_differ():
    config = config_from_settings({"optimizer": "sgd", "hidden_layers": (256, 128), "metrics": "accuracy, f1"})
    assert config.learning_rate == DEFAULT_LEARNING_RATES["sgd"]
    assert config.hidden_layers == (256, 128) and config.metrics == ("accuracy", "f1")
    ticked = config_from_settings({"early_stopping": True})
    assert ticked.early_stopping_patience == EARLY_STOPPING_PATIENCE


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"colour": "red"}, "Unknown setting(s): colour"),
        ({"optimizer": "evil"}, "Unknown optimizer 'evil'"),
        ({"hidden_layers": 2.5}, "whole number"),
        ({"hidden_layers": "two"}, "number of hidden layers"),
        ({"units": "wide"}, "These settings make no training run"),
        ({"epochs": 101}, "epochs must be between 1 and 100"),
    ],
)
def test_settings_that_make_no_config_are_refused_by_name(values, named):
    with pytest.raises(ConfigError) as error:
        config_from_settings(values)
    assert named in str(error.value)

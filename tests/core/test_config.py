"""TrainingConfig: defaults from the lesson, bounds refused with messages that name the setting."""

import pytest

from core.config import ConfigError, TrainingConfig


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

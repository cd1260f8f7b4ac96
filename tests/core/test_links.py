"""Settings in a link: round trip, clamping, notes, and no way to name a folder."""

import pytest

from core.config import TrainingConfig, config_from_settings
from core.links import link_params, read_link


@pytest.mark.parametrize(
    "config",
    [
        TrainingConfig(),
        TrainingConfig(dataset="digits", optimizer="sgd", learning_rate=0.05, epochs=20, batch_size=128),
        TrainingConfig(
            dataset="fashion_mnist",
            model="cnn",
            hidden_layers=(256, 256, 256),
            activation="tanh",
            dropout=0.15,
            loss="categorical_crossentropy",
            metrics=("accuracy", "f1", "precision"),
            validation_split=0.25,
            seed=7,
            early_stopping_patience=2,
        ),
        TrainingConfig(hidden_layers=(), learning_rate=0.000123),
    ],
)
def test_a_link_reproduces_the_settings(config):
    link = read_link(link_params(config, "keras"))
    assert link.notes == ()
    assert config_from_settings(link.values) == config
    assert link.values["train"] == "keras"


def test_bad_values_are_clamped_or_replaced_with_a_note():
    link = read_link(
        {
            "epochs": "1000",
            "batch_size": "100",
            "learning_rate": "1e9",
            "dropout": "0.33",
            "seed": "nan",
            "optimizer": "evil",
            "metrics": "accuracy,f1,bogus,f1",
            "early_stopping": "maybe",
            "hidden_layers": "2.6",
            "utm_source": "newsletter",
        }
    )
    assert link.values == {
        "epochs": 100,
        "batch_size": 128,
        "learning_rate": 10.0,
        "dropout": 0.35,
        "metrics": ["accuracy", "f1"],
        "hidden_layers": 3,
    }
    notes = " ".join(link.notes)
    for expected in ("epochs 1000 is outside 1–100", "batch_size 100", "learning_rate 1e+09", "dropout 0.33"):
        assert expected in notes
    for expected in ("seed 'nan' is not a finite number", "optimizer 'evil'", "bogus", "'maybe'", "rounded to 3"):
        assert expected in notes
    assert "utm_source" not in notes, "unknown keys are ignored quietly"


def test_a_link_cannot_name_a_folder_or_smuggle_long_values():
    link = read_link({"dataset": "folder", "data_dir": "/etc", "model": "x" * 5000})
    assert link.values == {}
    assert "cannot choose a folder" in link.notes[0] and "too long" in link.notes[1]
    assert "data_dir" not in link_params(TrainingConfig(dataset="folder", data_dir="/home/me/secret"))
    assert "dataset" not in link_params(TrainingConfig(dataset="folder", data_dir="/home/me/secret"))


def test_a_link_speaks_setting_names_only():
    link = read_link({"optimizer": "sgd", "learning_rate": "0.05", "epochs": "9", "train": "baseline"})
    assert link.values == {"optimizer": "sgd", "learning_rate": 0.05, "epochs": 9, "train": "baseline"}
    assert config_from_settings(link.values) == TrainingConfig(optimizer="sgd", learning_rate=0.05, epochs=9)

"""Optimizers are listed once (core.config.OPTIMIZER_TABLE): Keras, the exported script and the baseline follow it."""

import ast

import pytest

from core import libraries
from core.config import DEFAULT_LEARNING_RATES, OPTIMIZER_TABLE, OPTIMIZERS, TrainingConfig
from core.results.export import keras_script
from core.training.baseline import baseline_settings


def test_labels_and_default_learning_rates_come_from_the_table():
    assert list(OPTIMIZERS) == list(DEFAULT_LEARNING_RATES) == list(OPTIMIZER_TABLE)


@pytest.mark.parametrize("name", list(OPTIMIZER_TABLE))
def test_keras_builds_each_optimizer_with_its_arguments_and_learning_rate(name):
    libraries.load("keras")
    from core.training.models import build_optimizer

    optimizer = build_optimizer(name, 0.0125)
    chosen = OPTIMIZER_TABLE[name]
    assert type(optimizer).__name__ == chosen.keras_class
    assert float(optimizer.learning_rate) == pytest.approx(0.0125)
    for key, value in chosen.keras_arguments.items():
        assert getattr(optimizer, key) == value


@pytest.mark.parametrize("name", list(OPTIMIZER_TABLE))
def test_the_exported_script_compiles_with_the_same_optimizer(name):
    config = TrainingConfig(dataset="digits", optimizer=name, learning_rate=0.0125)
    call = next(
        node.value
        for node in ast.walk(ast.parse(keras_script(config)))
        if isinstance(node, ast.keyword) and node.arg == "optimizer"
    )
    chosen = OPTIMIZER_TABLE[name]
    assert ast.unparse(call.func) == f"keras.optimizers.{chosen.keras_class}"
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert keywords == {"learning_rate": 0.0125, **chosen.keras_arguments}


@pytest.mark.parametrize("name", list(OPTIMIZER_TABLE))
def test_the_baseline_matches_each_optimizer_or_says_it_cannot(name):
    chosen = OPTIMIZER_TABLE[name]
    settings = baseline_settings(TrainingConfig(dataset="digits", optimizer=name, learning_rate=0.0125))
    matched = {"Adam": "adam", "SGD": "sgd"}.get(chosen.keras_class)
    assert settings.parameters["learning_rate_init"] == 0.0125
    if matched:
        assert settings.parameters["solver"] == matched
        assert not any(name in note for note in settings.notes)
        if matched == "sgd":
            assert settings.parameters["momentum"] == chosen.keras_arguments.get("momentum", 0.0)
    else:
        assert settings.parameters["solver"] == "adam"
        assert any(f"no {name}" in note for note in settings.notes)

"""The Keras-free layer table matches what Keras builds, parameter for parameter."""

import pytest

from core.config import TrainingConfig
from core.training.architecture import describe_model, total_parameters


@pytest.mark.parametrize(
    ("changes", "image_shape"),
    [
        ({}, (28, 28)),
        ({"hidden_layers": (256, 64), "dropout": 0.2}, (28, 28)),
        ({"hidden_layers": ()}, (8, 8)),
        ({"model": "cnn"}, (28, 28)),
        ({"model": "cnn", "dropout": 0.3}, (8, 8)),
    ],
)
def test_layer_table_matches_keras(changes, image_shape):
    from core import libraries

    libraries.load("keras")
    from core.training.models import build_model, layer_table

    config = TrainingConfig(dataset="digits", **changes)
    rows = describe_model(config, image_shape, 10)
    model = build_model(config, image_shape, 10)
    assert total_parameters(rows) == model.count_params()
    keras_rows = layer_table(model)
    described = [row for row in rows if row["type"] != "InputLayer"]
    keras_rows = [row for row in keras_rows if row["type"] != "InputLayer"]
    assert [(r["layer"], r["parameters"], r["output shape"]) for r in described] == [
        (r["layer"], r["parameters"], r["output shape"]) for r in keras_rows
    ]


def test_lesson_model_has_101_770_parameters():
    rows = describe_model(TrainingConfig(), (28, 28), 10)
    assert total_parameters(rows) == 784 * 128 + 128 + 128 * 10 + 10 == 101_770

"""The model's layers, output shapes and parameter counts, worked out without importing Keras.

Pages show this table before TensorFlow has loaded, and while another session trains (building a
Keras model in the page's thread then would race the worker). A test checks it against Keras.
"""

from __future__ import annotations

from core.config import TrainingConfig


def describe_model(config: TrainingConfig, image_shape: tuple[int, int], num_classes: int) -> list[dict]:
    """Rows like model.summary(): layer, type, output shape, parameters."""
    height, width = image_shape
    rows = [_row("image", "InputLayer", (height, width), 0)]
    if config.model == "cnn":
        rows.append(_row("add_channel", "Reshape", (height, width, 1), 0))
        channels = 1
        blocks = (32, 64) if min(image_shape) >= 16 else (32,)
        for index, filters in enumerate(blocks, start=1):
            rows.append(_row(f"conv_{index}", "Conv2D", (height, width, filters), (3 * 3 * channels + 1) * filters))
            height, width, channels = height // 2, width // 2, filters
            rows.append(_row(f"pool_{index}", "MaxPooling2D", (height, width, channels), 0))
        features = height * width * channels
        rows.append(_row("flatten", "Flatten", (features,), 0))
        if config.dropout > 0:
            rows.append(_row("dropout", "Dropout", (features,), 0))
    else:
        features = height * width
        rows.append(_row("flatten", "Flatten", (features,), 0))
        for index, units in enumerate(config.hidden_layers, start=1):
            rows.append(_row(f"dense_{index}", "Dense", (units,), (features + 1) * units))
            features = units
            if config.dropout > 0:
                rows.append(_row(f"dropout_{index}", "Dropout", (units,), 0))
    rows.append(_row("probabilities", "Dense", (num_classes,), (features + 1) * num_classes))
    return rows


def total_parameters(rows: list[dict]) -> int:
    return sum(row["parameters"] for row in rows)


def layer_markdown(rows: list[dict]) -> str:
    """The layer table as Markdown, which a page draws without a dataframe widget."""
    lines = ["| layer | type | output shape | parameters |", "|---|---|---|---:|"]
    lines += [f"| {r['layer']} | {r['type']} | {r['output shape']} | {r['parameters']:,} |" for r in rows]
    return "\n".join(lines)


def _row(name: str, kind: str, shape: tuple[int, ...], parameters: int) -> dict:
    return {
        "layer": name,
        "type": kind,
        "output shape": str((None, *shape)).replace("None", "batch"),
        "parameters": parameters,
    }

"""Settings in a link: the Train page's settings as URL query parameters and back, clamped, with notes.

A link speaks setting names (core.config.SETTING_NAMES), as the settings form and the command line do;
pages map the names onto their widgets. A link only ever chooses among the form's own options and
bounds. It cannot choose a folder (`data_dir`): that would let whoever wrote the link make the server
read a path of their choosing, and show its name and contents to the person who opened the link.
Nothing in a link is evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import config as settings
from core.config import TrainingConfig

# A link chooses among the form's own choices and bounds, all from core.config.
# Nor can it choose someone's own images: they are private to the session that uploaded them.
LINK_DATASETS = tuple(name for name in settings.DATASETS if name not in ("folder", settings.UPLOAD_DATASET))
MAX_VALUE_CHARS = 200
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

CHOICES = {
    "dataset": LINK_DATASETS,
    "model": tuple(settings.MODELS),
    "activation": settings.ACTIVATIONS,
    "optimizer": tuple(settings.OPTIMIZERS),
    "loss": tuple(settings.LOSSES),
    "train": tuple(settings.TRAIN_CHOICES),
}
INTEGERS = {
    "hidden_layers": settings.HIDDEN_LAYERS_RANGE,
    "epochs": settings.EPOCHS_RANGE,
    "seed": settings.SEED_RANGE,
}
STEPS = {"units": settings.UNIT_CHOICES, "batch_size": settings.BATCH_SIZES}
FLOATS = {
    "dropout": (settings.SIDEBAR_DROPOUT_RANGE, settings.SLIDER_STEP),
    "validation_split": (settings.SIDEBAR_VALIDATION_SPLIT_RANGE, settings.SLIDER_STEP),
    "learning_rate": (settings.LEARNING_RATE_RANGE, None),
}
LINK_KEYS = (*CHOICES, *INTEGERS, *STEPS, *FLOATS, "metrics", "early_stopping")


@dataclass(frozen=True)
class LinkSettings:
    """The settings a link chose (by setting name, in the form's terms) and notes on what was changed."""

    values: dict
    notes: tuple[str, ...]


def read_link(params: Mapping[str, str]) -> LinkSettings:
    """Settings from query parameters: unknown keys ignored, bad values clamped or dropped with a note."""
    values, notes = {}, []
    if "data_dir" in params or params.get("dataset") == "folder":
        notes.append(
            "A link cannot choose a folder of data (it would make the server read a path chosen by whoever "
            "wrote the link): pick the folder yourself in the sidebar."
        )
    for key in LINK_KEYS:
        if key not in params:
            continue
        raw = str(params[key]).strip()
        if len(raw) > MAX_VALUE_CHARS:
            notes.append(f"The link's {key} is too long to be a setting; it was ignored.")
            continue
        value, note = _parse(key, raw)
        if value is not None:
            values[key] = value
        if note:
            notes.append(note)
    return LinkSettings(values, tuple(notes))


def _parse(key: str, raw: str):
    if key in CHOICES:
        return _choice(key, raw)
    if key in INTEGERS:
        return _integer(key, raw, INTEGERS[key])
    if key in STEPS:
        return _nearest(key, raw, STEPS[key])
    if key in FLOATS:
        bounds, step = FLOATS[key]
        return _float(key, raw, bounds, step)
    if key == "metrics":
        return _metrics(raw)
    return _boolean(key, raw)


def _choice(key: str, raw: str):
    if raw in CHOICES[key]:
        return raw, None
    if key == "dataset" and raw == "folder":
        return None, None  # explained once, above
    return None, f"The link's {key} {raw!r} is not one of {', '.join(CHOICES[key])}; the default is used."


def _number(key: str, raw: str) -> tuple[float | None, str | None]:
    try:
        number = float(raw)
    except ValueError:
        return None, f"The link's {key} {raw!r} is not a number; the default is used."
    if not math.isfinite(number):
        return None, f"The link's {key} {raw!r} is not a finite number; the default is used."
    return number, None


def _clamped(key: str, number: float, bounds: tuple[float, float]) -> tuple[float, str | None]:
    low, high = bounds
    if low <= number <= high:
        return number, None
    clamped = min(max(number, low), high)
    return clamped, f"The link's {key} {number:g} is outside {low:g}–{high:g}; it was set to {clamped:g}."


def _integer(key: str, raw: str, bounds):
    number, note = _number(key, raw)
    if number is None:
        return None, note
    number, note = _clamped(key, number, bounds)
    if note is None and number != int(number):
        note = f"The link's {key} {number:g} is not a whole number; it was rounded to {round(number)}."
    return round(number), note


def _nearest(key: str, raw: str, choices: Sequence[int]):
    number, note = _number(key, raw)
    if number is None:
        return None, note
    nearest = min(choices, key=lambda choice: abs(choice - number))
    if nearest != number:
        note = f"The link's {key} {number:g} is not one of {', '.join(map(str, choices))}; it was set to {nearest}."
    return nearest, note


def _float(key: str, raw: str, bounds, step: float | None):
    number, note = _number(key, raw)
    if number is None:
        return None, note
    number, note = _clamped(key, number, bounds)
    if step:
        # Slider values are multiples of the step; round() keeps 0.15 from becoming 0.15000000000000002.
        stepped = round(round(number / step) * step, 6)
        if note is None and not math.isclose(stepped, number, abs_tol=1e-9):
            note = f"The link's {key} {number:g} is not a multiple of {step:g}; it was set to {stepped:g}."
        number = stepped
    return number, note


def _metrics(raw: str):
    names = [name.strip() for name in raw.split(",") if name.strip()]
    known = list(dict.fromkeys(name for name in names if name in settings.METRICS))
    unknown = [name for name in names if name not in settings.METRICS]
    note = None
    if unknown:
        note = f"The link's metric(s) {', '.join(unknown[:5])} are unknown (choose from {', '.join(settings.METRICS)})."
    if not known:
        return None, (note or "The link chose no metrics") + " The default metric is used."
    return known, note


def _boolean(key: str, raw: str):
    if raw.lower() in TRUE_WORDS:
        return True, None
    if raw.lower() in FALSE_WORDS:
        return False, None
    return None, f"The link's {key} {raw!r} is neither 1 nor 0; the default is used."


def link_params(config: TrainingConfig, train: str = settings.DEFAULT_TRAIN_CHOICE) -> dict[str, str]:
    """Query parameters that reproduce these settings (never a folder path)."""
    values = settings.settings_of(config, train)
    params = {"dataset": config.dataset} if config.dataset in LINK_DATASETS else {}
    for key in LINK_KEYS:
        if key != "dataset":
            params[key] = _text(key, values[key])
    return params


def _text(key: str, value: object) -> str:
    if key == "learning_rate":
        return repr(float(value))
    if key in FLOATS:
        return f"{value:g}"
    if key == "metrics":
        return ",".join(value)
    if key == "early_stopping":
        return "1" if value else "0"
    return str(value)

"""The training-settings form: one function draws the settings wherever a page offers them.

The Train sidebar, a workshop room's "Try it yourself" and a race's shared settings all draw through
draw_settings, each with a SettingsForm saying which settings it offers, under which key prefix, and
which it only shows. Bounds, choices, steps and formats come from core.config, so the places agree.
Every widget takes its value from session state only (seed_settings), never value=: a widget given
both makes Streamlit warn, and the values are then known before the widgets are drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass

import streamlit as st

from core import config as settings

# The Train sidebar's headers, top to bottom as the lesson goes: data, model, compile, fit.
SECTIONS = {
    "Data": ("dataset", "data_dir"),
    "Model": ("model", "hidden_layers", "units", "activation", "dropout"),
    "Compile": ("optimizer", "learning_rate", "loss", "metrics"),
    "Fit": ("epochs", "batch_size", "validation_split", "seed", "early_stopping", "train"),
}
LABELS = {
    "dataset": "Dataset",
    "data_dir": "Folder (or .npz file)",
    "model": "Architecture",
    "hidden_layers": "Hidden layers",
    "units": "Units per hidden layer",
    "activation": "Activation",
    "dropout": "Dropout",
    "optimizer": "Optimizer",
    "learning_rate": "Learning rate",
    "loss": "Loss",
    "metrics": "Metrics",
    "epochs": "Epochs",
    "batch_size": "Batch size",
    "validation_split": "Validation split",
    "seed": "Random seed",
    "early_stopping": "Stop early when validation loss stops falling",
    "train": "Models to train",
}
# A widget's key is its form's prefix and the setting's name, but where the name alone says too little.
WIDGET_NAMES = {"train": "models_to_train"}


@dataclass(frozen=True)
class SettingsForm:
    """Where a page draws the settings: its widgets' key prefix, what it offers, and how it lays them out.

    `fixed` settings are shown as one line of values, not offered (what the place inherits). With
    `learning_rate_per_optimizer` each optimizer keeps a learning rate of its own, starting at its
    Keras default; a form inside st.form, which reruns only on submit, keeps one.
    """

    prefix: str
    offered: tuple[str, ...] = settings.SETTING_NAMES
    fixed: tuple[str, ...] = ()
    fixed_intro: str = ""  # the words before the fixed settings' line
    columns: int = 1
    sections: bool = False
    learning_rate_per_optimizer: bool = False

    def key(self, name: str) -> str:
        """The widget key of a setting (the learning rate's, see learning_rate_key, may depend on the optimizer)."""
        return f"{self.prefix}{WIDGET_NAMES.get(name, name)}"

    def learning_rate_key(self, optimizer: str) -> str:
        if self.learning_rate_per_optimizer:
            return f"{self.key('learning_rate')}.{optimizer}"
        return self.key("learning_rate")

    def owns(self, key: object) -> bool:
        """Whether a session-state key is one of this form's widgets."""
        names = {self.key(name) for name in self.offered}
        return key in names or str(key).startswith(f"{self.key('learning_rate')}.")


def form_state(form: SettingsForm, values: Mapping[str, object]) -> dict[str, object]:
    """The form's widget keys and values for settings by name (a link's, a config's); others are left out."""
    state = {form.key(name): value for name, value in values.items() if name in form.offered}
    if form.key("learning_rate") in state:
        optimizer = values.get("optimizer", settings.TrainingConfig.optimizer)
        state[form.learning_rate_key(optimizer)] = state.pop(form.key("learning_rate"))
    return state


def seed_settings(form: SettingsForm, values: Mapping[str, object]) -> None:
    """Give each of the form's widgets its starting value, once; keys already set are left alone."""
    for key, value in form_state(form, values).items():
        st.session_state.setdefault(key, value)


def seed_learning_rate(form: SettingsForm, optimizer: str) -> str:
    """The learning-rate widget's key for this optimizer, seeded with that optimizer's Keras default."""
    key = form.learning_rate_key(optimizer)
    st.session_state.setdefault(key, settings.DEFAULT_LEARNING_RATES[optimizer])
    return key


def read_settings(form: SettingsForm, state: MutableMapping | None = None) -> dict[str, object]:
    """The form's settings by name, from session state (so before or after its widgets are drawn).

    A hidden widget's value is not read: a folder typed, then left for another dataset, is no setting.
    """
    state = st.session_state if state is None else state
    values = {name: state[form.key(name)] for name in form.offered if name != "learning_rate"}
    if "data_dir" in values and values.get("dataset", state.get(form.key("dataset"))) != "folder":
        del values["data_dir"]
    if "learning_rate" in form.offered:
        optimizer = values.get("optimizer", state.get(form.key("optimizer"), settings.TrainingConfig.optimizer))
        key = form.learning_rate_key(optimizer)
        state.setdefault(key, settings.DEFAULT_LEARNING_RATES[optimizer])
        values["learning_rate"] = state[key]
    return values


def draw_settings(
    form: SettingsForm, fixed_values: Mapping[str, object] | None = None, notes: Mapping[str, str] | None = None
) -> None:
    """The form's widgets, laid out as it says, then its fixed settings as one line of values.

    notes: a caption said right under a setting's widget (the data really used, under the dataset box)."""
    notes = notes or {}
    drawn = [name for name in form.offered if name != "data_dir" or _chosen(form, "dataset") == "folder"]
    if form.sections:
        for header, names in SECTIONS.items():
            here = [name for name in names if name in drawn]
            if here:
                st.header(header)
            for name in here:
                _draw(form, name, notes.get(name))
    else:
        columns = st.columns(form.columns) if form.columns > 1 else [st.container()]
        for index, name in enumerate(drawn):
            with columns[index % len(columns)]:
                _draw(form, name, notes.get(name))
    if form.fixed and fixed_values is not None:
        line = " · ".join(f"{LABELS[name]}: {shown_value(name, fixed_values[name])}" for name in form.fixed)
        st.caption(f"{form.fixed_intro} {line}".strip())


def shown_value(name: str, value: object) -> str:
    """A setting's value as the form shows it."""
    formats: dict[str, Callable[[object], str]] = {
        "dataset": lambda v: settings.DATASETS[v].split(" (")[0],
        "model": lambda v: settings.MODELS[v].split(":")[0],
        "optimizer": settings.OPTIMIZERS.get,
        "learning_rate": lambda v: settings.LEARNING_RATE_FORMAT % v,
        "dropout": lambda v: f"{v:.2f}",  # as the slider shows it
        "validation_split": lambda v: f"{v:.2f}",
        "metrics": ", ".join,
        "early_stopping": lambda v: "yes" if v else "no",
        "train": settings.TRAIN_CHOICES.get,
    }
    return formats.get(name, str)(value)


def _chosen(form: SettingsForm, name: str) -> object:
    return st.session_state.get(form.key(name))


def _draw(form: SettingsForm, name: str, note: str | None = None) -> None:
    key = form.key(name)
    if name == "learning_rate":
        key = seed_learning_rate(form, _chosen(form, "optimizer") or settings.TrainingConfig.optimizer)
    WIDGETS[name](LABELS[name], key)
    if note:
        st.caption(note)


def _loss(label: str, key: str) -> None:
    loss = st.radio(label, list(settings.LOSSES), key=key)
    st.caption(settings.LOSSES[loss])


WIDGETS: dict[str, Callable[[str, str], object]] = {
    "dataset": lambda label, key: st.selectbox(
        label, list(settings.DATASETS), format_func=settings.DATASETS.get, key=key
    ),
    "data_dir": lambda label, key: st.text_input(label, key=key, placeholder="/path/to/mnist"),
    "model": lambda label, key: st.radio(label, list(settings.MODELS), format_func=settings.MODELS.get, key=key),
    "hidden_layers": lambda label, key: st.slider(label, *settings.HIDDEN_LAYERS_RANGE, key=key),
    "units": lambda label, key: st.select_slider(label, settings.UNIT_CHOICES, key=key),
    "activation": lambda label, key: st.selectbox(label, settings.ACTIVATIONS, key=key),
    "dropout": lambda label, key: st.slider(label, *settings.SIDEBAR_DROPOUT_RANGE, step=settings.SLIDER_STEP, key=key),
    "optimizer": lambda label, key: st.selectbox(
        label, list(settings.OPTIMIZERS), format_func=settings.OPTIMIZERS.get, key=key
    ),
    "learning_rate": lambda label, key: st.number_input(
        label,
        min_value=settings.LEARNING_RATE_RANGE[0],
        max_value=settings.LEARNING_RATE_RANGE[1],
        step=settings.LEARNING_RATE_STEP,
        format=settings.LEARNING_RATE_FORMAT,
        key=key,
    ),
    "loss": _loss,
    "metrics": lambda label, key: st.multiselect(label, list(settings.METRICS), key=key),
    "epochs": lambda label, key: st.slider(label, *settings.EPOCHS_RANGE, key=key),
    "batch_size": lambda label, key: st.select_slider(label, settings.BATCH_SIZES, key=key),
    "validation_split": lambda label, key: st.slider(
        label, *settings.SIDEBAR_VALIDATION_SPLIT_RANGE, step=settings.SLIDER_STEP, key=key
    ),
    "seed": lambda label, key: st.number_input(label, *settings.SEED_RANGE, key=key),
    "early_stopping": lambda label, key: st.checkbox(label, key=key),
    "train": lambda label, key: st.radio(
        label, list(settings.TRAIN_CHOICES), format_func=settings.TRAIN_CHOICES.get, key=key
    ),
}

"""A race on a page: its controls (the Train page's Race section), its variants live on one chart, its result.

The Train page, the Lesson's steps 5 and 6 and a workshop room's screens all draw a race from here;
what the race found (ranking, sentences) is computed in core.results.race.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core import charts
from core.config import TrainingConfig, settings_of
from core.data.datasets import Dataset
from core.jobs import budget
from core.jobs.race_job import race_estimate
from core.results import lesson_texts as texts
from core.results.race import race_sentences, ranking_table
from core.training.estimate import duration_text, memory_text, run_duration_text
from core.training.eta import seconds_left
from core.training.race import MAX_VARIANTS, PRESETS, SETTINGS, Race, RaceError, RaceSpec, new_race, parse_vary
from core.training.run import FAILED, QUEUED, RUNNING, RunSnapshot
from pages.live import live, stop_button
from pages.looks import palette
from pages.runs import start_race
from pages.session import Keys
from pages.settings_form import SettingsForm, draw_settings

OWN_CHOICE = "own"  # the question chooser's last entry: a setting and values of one's own
# The settings every variant takes from the sidebar, shown by the settings form under the race's question,
# less the raced setting and what follows it (a learning rate left at its default follows the optimizer).
SHARED_SETTINGS = (
    "dataset", "model", "hidden_layers", "units", "activation", "dropout", "optimizer", "learning_rate", "epochs",
    "batch_size",
)  # fmt: skip
FOLLOWS = {"optimizer": ("learning_rate",), "units": ("hidden_layers",)}
# The race's charts, under its Stop and one line of progress, inside a 1280×720 window (presenter mode's
# larger text needs the same room on the Lesson's step).
RACE_CHART_HEIGHT = 300
RACE_CHART_HEIGHT_PRESENTER = 320


# --- setting up a race ----------------------------------------------------------------------------


def race_controls(base, dataset: Dataset | None, busy: bool, on_fix: Callable[[budget.Fix], None]) -> None:
    """Choose a preset, or a setting and its values; see the whole race's cost; press Race.

    `base` is the sidebar's config (None when it is invalid): every variant shares it but for the one
    setting. `on_fix` is the Train page's budget-fix callback: a fix changes the sidebar the race shares.
    """
    st.write(texts.RACE_INTRO)
    spec = chosen_spec()
    race = None
    if spec is not None and base is not None:
        show_shared_settings(spec, base)
        try:
            race = new_race(spec, base)
        except RaceError as error:  # e.g. a value outside the setting's bounds
            st.error(str(error))
    if race is not None:
        show_race_budget(race, dataset, on_fix)
    if busy:
        st.caption(texts.RACE_BUSY)
    if st.button(texts.RACE_BUTTON, type="primary", disabled=race is None or busy, key=Keys.RACE_START):
        if start_race(race, dataset) is not None:
            st.rerun()


def show_shared_settings(spec: RaceSpec, base: TrainingConfig) -> None:
    """What every variant shares: the sidebar's settings but the raced one, as the settings form shows them."""
    varied = (spec.setting, *FOLLOWS.get(spec.setting, ()))
    shared = tuple(name for name in SHARED_SETTINGS if name not in varied)
    form = SettingsForm(Keys.RACE_SHARED, offered=(), fixed=shared, fixed_intro=texts.RACE_SHARED)
    draw_settings(form, settings_of(base))


def chosen_spec() -> RaceSpec | None:
    """The race the controls describe; None, with the reason shown, while it cannot be raced."""
    preset = st.selectbox(texts.RACE_QUESTION, [*PRESETS, OWN_CHOICE], format_func=preset_title, key=Keys.RACE_PRESET)
    if preset != OWN_CHOICE:
        st.caption(PRESETS[preset].question)
        return PRESETS[preset].spec
    name = st.selectbox(
        texts.RACE_SETTING, list(SETTINGS), format_func=lambda n: SETTINGS[n].title, key=Keys.RACE_SETTING
    )
    setting = SETTINGS[name]
    try:
        if setting.choices:
            values = st.multiselect(
                texts.RACE_CHOICES,
                setting.choices,
                format_func=setting.show,
                max_selections=MAX_VARIANTS,
                key=f"{Keys.RACE_CHOICES}.{name}",
            )
            return RaceSpec(name, tuple(values))
        typed = st.text_input(
            texts.RACE_VALUES,
            key=f"{Keys.RACE_VALUES}.{name}",
            placeholder=texts.RACE_VALUES_EXAMPLE.format(example=example_values(name)),
        )
        return parse_vary(f"{name}={typed}")
    except RaceError as error:
        st.error(str(error))
        return None


def preset_title(key: str) -> str:
    return texts.RACE_OWN_CHOICE if key == OWN_CHOICE else PRESETS[key].title


def example_values(name: str) -> str:
    """The values of the preset that races this setting, as one would type them."""
    spec = next((preset.spec for preset in PRESETS.values() if preset.spec.setting == name), None)
    return ", ".join(SETTINGS[name].show(value) for value in spec.values) if spec else "1, 2"


def show_race_budget(race: Race, dataset: Dataset, on_fix: Callable[[budget.Fix], None]) -> None:
    """What the whole race costs here; over the server's budget, the same fixes a single run is offered."""
    cost = race_estimate(race, dataset)
    st.caption(
        texts.RACE_ESTIMATE.format(
            variants=len(race.runs),
            duration=run_duration_text(cost.total_seconds),
            epochs=cost.epochs,
            memory=memory_text(cost.memory_mb),
        )
    )
    try:
        fixes = budget.fixes(cost, budget.limits_from_environment(), len(dataset.pixels_train))
    except ValueError as error:  # a mistyped budget in the server's environment
        st.error(str(error))
        return
    for fix in fixes:
        st.warning(fix.reason, icon=":material/timer:")
        if fix.label:  # a key of its own: the single run's fix may carry the same label
            st.button(fix.label, on_click=on_fix, args=(fix,), key=f"{Keys.BUDGET_FIX}race.{fix.label}")


# --- a race, live ---------------------------------------------------------------------------------


def race_on_train_page(race: Race, snapshots: Sequence[RunSnapshot]) -> None:
    """Stop, the curves' axis, and the race drawn live; its result once every variant has ended.

    `snapshots`: the race as the page saw it when it decided its buttons (see pages.live.live's drawn).
    """
    stop_column, axis_column = st.columns([1, 3], vertical_alignment="bottom")
    with stop_column:
        # Every variant stops at its next batch and keeps what it learned; one still in line is cancelled.
        stop_button(race.runs, snapshots, texts.RACE_STOP, Keys.RACE_STOP)
    x_axis = axis_column.radio(
        texts.RACE_X_AXIS,
        list(texts.RACE_X_AXES),
        format_func=texts.RACE_X_AXES.get,
        horizontal=True,
        key=Keys.RACE_X_AXIS,
    )

    def draw(snapshots: list[RunSnapshot]) -> None:
        draw_progress(snapshots)
        draw_curves(snapshots, key="race", x_axis=x_axis)
        if not any(snap.is_active for snap in snapshots):
            draw_result(snapshots, key="race")

    live(race.runs, draw, drawn=snapshots)


def draw_progress(snapshots: Sequence[RunSnapshot]) -> None:
    """One bar per variant, side by side (one line above the curves), and what the whole race has left; a
    variant that failed says so on its own."""
    left = seconds_left(snapshots) if any(snap.is_active for snap in snapshots) else None
    if left is not None:
        st.caption(texts.RACE_LEFT.format(left=duration_text(left)))
    for column, snap in zip(st.columns(len(snapshots)), snapshots, strict=True):
        column.progress(snap.progress, text=variant_text(snap))
        if snap.status == FAILED:
            column.error(f"{snap.label}: {snap.message}")


def variant_text(snap: RunSnapshot) -> str:
    if snap.stopping:
        return texts.RACE_VARIANT_STOPPING.format(label=snap.label, epoch=snap.current_epoch, epochs=snap.total_epochs)
    if snap.status == RUNNING:
        return texts.RACE_VARIANT_RUNNING.format(label=snap.label, epoch=snap.current_epoch, epochs=snap.total_epochs)
    if snap.status == QUEUED:
        return texts.RACE_VARIANT_QUEUED.format(label=snap.label, message=snap.message)
    return texts.RACE_VARIANT_DONE.format(label=snap.label, message=snap.message)


def draw_curves(snapshots: Sequence[RunSnapshot], key: str, presenter: bool = False, x_axis: str = "epoch") -> None:
    """Loss and accuracy, every variant overlaid in its own colour; what the lines are, under them."""
    first = snapshots[0].config
    metrics = [metric for metric in ("loss", "accuracy") if metric == "loss" or metric in first.metrics]
    for column, metric in zip(st.columns(len(metrics)), metrics, strict=True):
        height = RACE_CHART_HEIGHT_PRESENTER if presenter else RACE_CHART_HEIGHT
        figure = charts.race_curves(snapshots, metric, x_axis=x_axis, height=height, palette=palette())
        column.plotly_chart(charts.presenter_style(figure) if presenter else figure, key=f"{key}.curve.{metric}")
    st.caption(texts.RACE_CURVES_INTRO.format(labels=", ".join(snap.label for snap in snapshots)))


def draw_result(snapshots: Sequence[RunSnapshot], key: str, presenter: bool = False) -> None:
    """The ranking, the sentences computed from the race, and setting against score."""
    rows = ranking_table(snapshots)
    st.subheader(texts.RACE_RANKING)
    st.dataframe(charts.readable_table(rows), hide_index=True, width="stretch")
    draw_sentences(snapshots, finished=True)
    if any(snap.test_metrics.get("accuracy") is not None for snap in snapshots):
        st.subheader(texts.RACE_PARALLEL)
        st.caption(texts.RACE_PARALLEL_HELP)
        figure = charts.race_parallel_coordinates(snapshots, height=480 if presenter else 360, palette=palette())
        # No toolbar: it would cover the axes' names along the top (a parallel plot has nothing to zoom).
        styled = charts.presenter_style(figure) if presenter else figure
        st.plotly_chart(styled, key=f"{key}.parallel", config={"displayModeBar": False})


def draw_sentences(snapshots: Sequence[RunSnapshot], finished: bool) -> None:
    st.subheader(texts.RACE_SAYS if finished else texts.RACE_SAYS_SO_FAR)
    sentences = race_sentences(snapshots) or [texts.RACE_NO_EPOCH_YET]
    st.markdown("\n".join(f"- {sentence}" for sentence in sentences))


def draw_reading(snapshots: Sequence[RunSnapshot], key: str, presenter: bool = False) -> None:
    """The lesson's step 6 for a race: while it runs, what it says so far; then its whole result."""
    draw_progress(snapshots)
    if any(snap.is_active for snap in snapshots):
        draw_sentences(snapshots, finished=False)
    else:
        draw_result(snapshots, key, presenter)

"""A race on a page: its controls (the Train page's Race section), its variants live on one chart, its result.

The Train page, the Lesson's steps 5 and 6 and a workshop room's screens all draw a race from here;
what the race found (ranking, sentences) is computed in core.results.race.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core import charts
from core.data.datasets import Dataset
from core.jobs import budget
from core.jobs.race_job import race_estimate
from core.results import lesson_texts as texts
from core.results.race import race_sentences, ranking_table
from core.training.estimate import memory_text, run_duration_text
from core.training.race import MAX_VARIANTS, PRESETS, SETTINGS, Race, RaceError, RaceSpec, new_race, parse_vary
from core.training.run import FAILED, QUEUED, RUNNING, RunSnapshot
from pages.live import live
from pages.resources import job_runner
from pages.runs import start_race
from pages.session import Keys

OWN_CHOICE = "own"  # the question chooser's last entry: a setting and values of one's own


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


def race_on_train_page(race: Race) -> None:
    """Stop, the curves' axis, and the race drawn live; its result once every variant has ended."""
    stop_column, axis_column = st.columns([1, 3])
    if stop_column.button(texts.RACE_STOP, disabled=not race.is_active, key=Keys.RACE_STOP):
        # Every variant stops at its next batch and keeps what it learned; one still in line is cancelled.
        job_runner().cancel(race.runs)
        st.rerun()
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

    live(race.runs, draw)


def draw_progress(snapshots: Sequence[RunSnapshot]) -> None:
    """One bar per variant; a variant that failed (diverged) says so on its own."""
    for snap in snapshots:
        st.progress(snap.progress, text=variant_text(snap))
        if snap.status == FAILED:
            st.error(f"{snap.label}: {snap.message}")


def variant_text(snap: RunSnapshot) -> str:
    if snap.status == RUNNING:
        return texts.RACE_VARIANT_RUNNING.format(label=snap.label, epoch=snap.current_epoch, epochs=snap.total_epochs)
    if snap.status == QUEUED:
        return texts.RACE_VARIANT_QUEUED.format(label=snap.label, message=snap.message)
    return texts.RACE_VARIANT_DONE.format(label=snap.label, message=snap.message)


def draw_curves(snapshots: Sequence[RunSnapshot], key: str, presenter: bool = False, x_axis: str = "epoch") -> None:
    """Loss and accuracy, every variant overlaid in its own colour."""
    st.caption(texts.RACE_CURVES_INTRO.format(labels=", ".join(snap.label for snap in snapshots)))
    first = snapshots[0].config
    metrics = [metric for metric in ("loss", "accuracy") if metric == "loss" or metric in first.metrics]
    for column, metric in zip(st.columns(len(metrics)), metrics, strict=True):
        figure = charts.race_curves(snapshots, metric, x_axis=x_axis, height=520 if presenter else 360)
        column.plotly_chart(charts.presenter_style(figure) if presenter else figure, key=f"{key}.curve.{metric}")


def draw_result(snapshots: Sequence[RunSnapshot], key: str, presenter: bool = False) -> None:
    """The ranking, the sentences computed from the race, and setting against score."""
    rows = ranking_table(snapshots)
    st.subheader(texts.RACE_RANKING)
    percent = {name: st.column_config.NumberColumn(format="percent") for name in rows[0] if "accuracy" in name}
    st.dataframe(rows, hide_index=True, width="stretch", column_config=percent)
    draw_sentences(snapshots, finished=True)
    if any(snap.test_metrics.get("accuracy") is not None for snap in snapshots):
        st.subheader(texts.RACE_PARALLEL)
        st.caption(texts.RACE_PARALLEL_HELP)
        figure = charts.race_parallel_coordinates(snapshots, height=480 if presenter else 360)
        st.plotly_chart(charts.presenter_style(figure) if presenter else figure, key=f"{key}.parallel")


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

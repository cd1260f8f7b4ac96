"""Train page: pick the settings, press Train, and watch the model learn, live."""

import time

import streamlit as st

from core import charts, links
from core import config as settings
from core.config import ConfigError, TrainingConfig, config_from_settings
from core.data.datasets import DatasetError, fallback_label
from core.jobs import budget
from core.jobs.start import press_estimate
from core.results import lesson_texts as texts
from core.training.architecture import describe_model, layer_markdown, total_parameters
from core.training.estimate import duration_text, memory_text, run_duration_text
from core.training.eta import seconds_left
from core.training.run import FAILED
from pages import own_data, race_view, rooms
from pages.live import live, stop_button
from pages.looks import palette
from pages.resources import dataset_choice, show_runner_notice
from pages.runs import current_race, start_training, train_more
from pages.session import (
    TRAIN_SIDEBAR,
    Keys,
    any_active,
    current_runs,
    remember_train_settings,
    restore_train_settings,
    seed_train_settings,
)
from pages.settings_form import draw_settings, form_state, read_settings
from pages.streamlit_patches import route_through_app

route_through_app()  # a fresh server's first visitor may land here without app.py: send the run through it

# When, by the server's clock, this session's empty charts may be drawn (see empty_curves_soon).
CHARTS_DELAY_SECONDS = 2.0
# Two live charts abreast, under the title and the progress lines, within a 720-pixel-high window.
LIVE_CHART_HEIGHT = 260


def chosen_settings() -> tuple[TrainingConfig | None, str, str | None]:
    """The sidebar's settings as a config (None and why, when they are not valid), read from session state.

    The page draws its main area (title, Train) before the sidebar, so the Train button reaches the
    browser first: every sidebar widget takes its value from session state only, so the values are
    known before the widgets are drawn (bench/page_speed.py; bench/README.md says what it gained).
    """
    values = read_settings(TRAIN_SIDEBAR)
    if values["dataset"] == settings.UPLOAD_DATASET:
        values["data_dir"] = own_data.upload_key()  # this session's upload, found by its private key
    try:
        return config_from_settings(values), values["train"], None
    except ConfigError as error:
        return None, values["train"], str(error)


def settings_sidebar(error: str | None, dataset_note: str | None = None) -> None:
    """The settings widgets, top to bottom as the lesson goes: data, model, compile, fit.

    dataset_note: said right under the dataset box when the data used is not the data it names.
    """
    draw_settings(TRAIN_SIDEBAR, notes={"dataset": dataset_note} if dataset_note else None)
    if error:
        st.error(error)


def show_budget(config: TrainingConfig, dataset, models_to_train: str) -> TrainingConfig:
    """The whole press's estimated time and memory; over the server's budget, buttons that fit it."""
    subsample = st.session_state.get(Keys.BUDGET_SUBSAMPLE)
    if subsample and subsample < len(dataset.pixels_train):
        config = config.replace(subsample=subsample)
        st.button(f"Training on {subsample:,} images to fit the budget: use all", on_click=apply_fix, args=(None,))
    cost = press_estimate(config, dataset, models_to_train)
    st.caption(
        f"Estimated here: {duration_text(cost.seconds_per_epoch)} per epoch{texts.PACE_BASIS[cost.pace_basis]}, "
        f"{run_duration_text(cost.total_seconds)} for {cost.epochs} epochs"
        f"{texts.PRESS_MODELS[models_to_train]}, and {memory_text(cost.memory_mb)} of memory."
    )
    try:
        fixes = budget.fixes(cost, budget.limits_from_environment(), len(dataset.pixels_train))
    except ValueError as error:  # a mistyped budget in the server's environment
        st.error(str(error))
        return config
    for fix in fixes:
        st.warning(fix.reason, icon=":material/timer:")
        if fix.label:
            st.button(fix.label, on_click=apply_fix, args=(fix,), key=f"{Keys.BUDGET_FIX}{fix.label}")
    return config


def apply_fix(fix: budget.Fix | None) -> None:
    """Button callback, run before the widgets are drawn, so it may set their values (None: no subsample)."""
    if fix is None or fix.subsample:
        st.session_state[Keys.BUDGET_SUBSAMPLE] = fix.subsample if fix else None
    if fix is not None and fix.epochs:
        st.session_state[Keys.TRAIN_EPOCHS] = fix.epochs


def room_bar(config: TrainingConfig | None) -> None:
    """Start a workshop room with these settings, or, while presenting, say who follows."""
    presented = rooms.presented_room()
    if presented is None:
        if config is not None and st.button(texts.START_ROOM, key=Keys.ROOM_START_TRAIN, help=texts.START_ROOM_HELP):
            rooms.start_room_from(4, config)  # the lesson's "fit" step: the room watches this page's runs
            st.switch_page("pages/room.py")
        return
    room, secret = presented
    if config is not None and room.view().presenter_config != config:  # participants fork from the sidebar
        room.set_presenter_config(secret, config)
    st.caption(texts.ROOM_BAR.format(code=room.code, people=room.view().participants))


def draw_progress(snapshots) -> None:
    """Progress bars, live curves and the epoch table: redrawn every second while training."""
    # Keras's and the baseline's progress side by side: one line above the curves, not two. The time
    # left counts the rest of the press: this run, and the runs still to train after it.
    columns = st.columns(len(snapshots))
    for index, (column, snap) in enumerate(zip(columns, snapshots, strict=True)):
        column.progress(snap.progress, text=progress_text(snap, seconds_left(snapshots[index:])))
        if snap.status == FAILED:
            column.error(f"{snap.label}: {snap.message}")
    keras_snaps = [snap for snap in snapshots if snap.kind == "keras"] or snapshots[:1]
    snap = keras_snaps[0]
    draw_curves([snap], ("loss", *snap.config.metrics))
    if snap.epochs:
        st.markdown(f"**{snap.label}, epoch by epoch** — the gain column is the lesson's diminishing returns.")
        st.dataframe(charts.epoch_table(snap), width="stretch")


def draw_curves(snapshots, metrics: tuple[str, ...]) -> None:
    """One chart per metric, two abreast (empty axes when there is no run yet)."""
    columns = st.columns(2)
    for index, metric in enumerate(metrics):
        with columns[index % 2]:
            figure = charts.training_curves(snapshots, metric, height=LIVE_CHART_HEIGHT, palette=palette())
            st.plotly_chart(figure, key=f"train.chart.{metric}")


def show_dataset_notice(chosen: str, notice: str) -> None:
    """One line saying which data the run uses instead, and under it what failed and how to fix it."""
    st.warning(fallback_label(chosen), icon=":material/cloud_off:")
    st.caption(notice)


def show_dataset_error(error: DatasetError) -> None:
    """The chosen data cannot be loaded: why and what to do. Nothing trains on other data instead."""
    st.error(texts.DATASET_ERROR.format(problem=error.problem, fix=error.fix), icon=":material/error:")


def show_link_notes() -> None:
    """What the link's settings became (clamped, ignored), kept on every rerun until the person dismisses it."""
    notes = st.session_state.get(Keys.LINK_NOTES)
    if not notes:
        return
    for note in notes:
        st.warning(note, icon=":material/link:")
    st.button(texts.LINK_NOTES_DISMISS, key=Keys.LINK_NOTES_DISMISS, on_click=dismiss_link_notes)


def dismiss_link_notes() -> None:
    st.session_state.pop(Keys.LINK_NOTES, None)


def empty_curves_soon(metrics: tuple[str, ...]) -> None:
    """Empty axes where the curves will be, drawn a moment after the page is usable.

    They show where the curves will be, and make the browser draw its first Plotly chart while the
    visitor reads, not after Train (Plotly's code itself is loaded by pages/plotly_preload.py). Drawn
    on the first script run they held the page back: it painted nothing until Plotly was parsed
    (bench/page_speed.py). So the first run draws none and leaves a timer that reruns the page once,
    CHARTS_DELAY_SECONDS later.
    """
    shown_at = st.session_state.setdefault(Keys.CHARTS_SHOWN_AT, time.monotonic() + CHARTS_DELAY_SECONDS)
    if time.monotonic() >= shown_at:
        draw_curves([], metrics)
        return

    @st.fragment(run_every=CHARTS_DELAY_SECONDS)
    def rerun_when_due() -> None:
        if time.monotonic() >= shown_at:
            st.rerun()  # the whole page, this time with the charts (and without this timer)

    rerun_when_due()


def progress_text(snap, left: float | None = None) -> str:
    """A run's progress line; `left`: the seconds its press still needs (None: not known yet)."""
    if snap.status == "queued":
        return f"{snap.label}: {snap.message}"
    if snap.stopping:
        return texts.STOPPING_PROGRESS.format(label=snap.label, epoch=snap.current_epoch, epochs=snap.total_epochs)
    if snap.status != "running":
        return f"{snap.label}: {snap.message} ({snap.elapsed_seconds:.1f} s)"
    eta = f", about {left:.0f} s left" if left is not None else ""
    return (
        f"{snap.label}: epoch {snap.current_epoch}/{snap.total_epochs}, batch {snap.current_step}/"
        f"{snap.steps_per_epoch}, {snap.elapsed_seconds:.0f} s{eta}"
    )


st.title("Train a model")
st.write(
    "Compile a Keras model with an optimizer, a loss and metrics, fit it, and watch each epoch "
    "land on the curves. Solid lines are training, dashed lines validation."
)
show_runner_notice()  # only when a configured Ray cluster could not be reached

# Share-by-link hook (core.links): the first time this page runs in a session, the URL's settings
# become the sidebar's starting values; after that the URL follows the sidebar, so it can be shared.
if Keys.LINK_READ not in st.session_state:
    st.session_state[Keys.LINK_READ] = True
    link = links.read_link(st.query_params.to_dict())
    st.session_state.update(form_state(TRAIN_SIDEBAR, link.values))
    st.session_state[Keys.LINK_NOTES] = list(link.notes)
show_link_notes()

restore_train_settings()  # as they were before a visit to another page
seed_train_settings()  # the defaults, for whatever neither the person, a link nor a restore has set
config, models_to_train, settings_error = chosen_settings()  # the sidebar itself is drawn last
remember_train_settings()
if config is not None:
    shared = links.link_params(config, models_to_train)
    if st.query_params.to_dict() != shared:
        st.query_params.from_dict(shared)

# Train and Stop sit right under the title, a race's setup under them, and the live curves under those,
# so a 1280×720 window shows the curves with the Stop that stops them; the learning-rate control, then
# the dataset, the model, the budget and the room follow. The page fills these areas further down, once
# it knows the settings.
buttons_area = st.container()
race_setup_area = st.container()
upload_area = st.container()  # your own images: above the curves before a run, below them while one trains
live_area = st.container()
learning_rate_area = st.container()
if st.session_state[Keys.TRAIN_DATASET] == settings.UPLOAD_DATASET:
    with upload_area if not any_active(current_runs()) else st.container():
        own_data.upload_section()  # before anything trains: the upload and its dataset card
dataset_note = None  # said under the dataset box when the data used is not the data it names
if config is not None:
    with st.spinner("Loading the dataset…"):
        choice = dataset_choice(config.dataset, config.data_dir)
    if choice.error is not None:
        with live_area:  # under the title, next to Train, which stays disabled until the data loads
            show_dataset_error(choice.error)
        config = None
    elif choice.notice:
        # Above the curves before a run; once there are curves, under them, so they keep the window.
        with learning_rate_area if current_runs() or current_race() else live_area:
            show_dataset_notice(config.dataset, choice.notice)
        dataset_note = texts.DATASET_STAND_IN.format(title=settings.DATASETS[choice.dataset.name])
        config = config.replace(dataset=choice.dataset.name, data_dir=None)
if config is not None:
    dataset = choice.dataset
    st.caption(
        f"**{dataset.title}**: {len(dataset.pixels_train):,} training images "
        f"({config.validation_split:.0%} held out for validation), {len(dataset.pixels_test):,} test images, "
        f"{dataset.image_shape[0]}×{dataset.image_shape[1]} pixels scaled to [0, 1]. Source: {dataset.source}."
    )
    layers = describe_model(config, dataset.image_shape, dataset.num_classes)
    with st.expander(f"Model: {total_parameters(layers):,} parameters"):
        # A Markdown table: a dataframe here made every visitor fetch the 1.2 MB table chunk first.
        st.markdown(layer_markdown(layers))
    # Budget: what this run will cost here, shown before Train; over a hosted budget, offer a fix.
    config = show_budget(config, dataset, models_to_train)

runs = current_runs()
race = current_race()  # started after the last Train: the page shows it instead of the runs
# One look at the runs decides every button and the live area's timer (see pages.live.live's drawn):
# a run that ends after this look still reruns the page, which then enables Train.
run_snapshots = [run.snapshot() for run in runs]
race_snapshots = race.snapshots() if race is not None else []
active = any(snap.is_active for snap in run_snapshots)
racing = any(snap.is_active for snap in race_snapshots)
train_column, stop_column, extra_column, more_column = buttons_area.columns([1, 1, 1, 1.4], vertical_alignment="bottom")
# Train is a form's submit button, a form holding nothing else: Streamlit's frontend loads every other
# button's code lazily, and React then holds a lazily loaded element back for 0.5 s after the page's
# first paint (its Suspense throttle), while a submit button is drawn in that first paint (bench/README.md).
with train_column, st.form("train.form", border=False, enter_to_submit=False):
    pressed = st.form_submit_button(
        "Train", type="primary", disabled=config is None or active or racing, width="stretch"
    )
if pressed:
    if start_training(config, dataset, models_to_train) is not None:
        st.rerun()
with stop_column:
    stop_button(runs, run_snapshots, "Stop", Keys.TRAIN_STOP, width="stretch")
finished_with_model = bool(runs) and not active and race is None and all(run.model is not None for run in runs)
# One row: the number's label is the button beside it ("Train 5 more epochs").
extra = extra_column.number_input(
    "More epochs", 1, settings.EPOCHS_RANGE[1], 5, key=Keys.EXTRA_EPOCHS, label_visibility="collapsed"
)
if more_column.button(f"Train {extra} more epochs", disabled=not finished_with_model, width="stretch"):
    train_more(runs, int(extra))
    st.rerun()

room_bar(config)

keras_run = st.session_state.get(Keys.KERAS_RUN)
if keras_run is not None and active:
    with learning_rate_area, st.expander("Change the learning rate while it trains"):
        new_rate = st.number_input(
            "Learning rate (applies at the next batch, marked on the charts)",
            min_value=settings.LEARNING_RATE_RANGE[0],
            max_value=settings.LEARNING_RATE_RANGE[1],
            value=keras_run.config.learning_rate,
            format=settings.LEARNING_RATE_FORMAT,
            key=Keys.PENDING_LEARNING_RATE,
        )
        if st.button("Apply learning rate"):
            keras_run.request_learning_rate(new_rate)

# Races: one setting varied, the variants trained side by side (pages/race_view.py); folded away until
# wanted, above the curves, so the Race button and the race it starts share the window. While a race
# runs its own Stop is above its curves, and the setup steps aside.
if not racing:
    with race_setup_area, st.expander(texts.RACE_SECTION):
        race_view.race_controls(config, dataset if config is not None else None, active, apply_fix)

if race is not None:
    with live_area:
        race_view.race_on_train_page(race, race_snapshots)
elif runs:
    with live_area:
        live(runs, draw_progress, drawn=run_snapshots)
else:
    with live_area:  # where the curves will be
        st.info("Press **Train** to start. The curves appear here after the first batches.")
        empty_curves_soon(("loss", *config.metrics) if config is not None else ("loss",))

# The sidebar last (see chosen_settings): its widgets' code reaches the browser after the Train button's.
with st.sidebar:
    settings_sidebar(settings_error, dataset_note)

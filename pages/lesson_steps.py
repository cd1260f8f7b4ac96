"""The lesson's seven steps, drawn for whoever watches: the Lesson page, or a workshop room's screens.

Each step draws from a LessonView: the dataset and settings, the run to show (live) and whether
this screen may start one. The Lesson page and the Room page draw the same steps from it. A race
(several runs) is drawn overlaid at steps 5 and 6, by pages/race_view.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from core import charts
from core import config as settings
from core.config import TrainingConfig
from core.data.datasets import Dataset
from core.results import lesson, replay, saliency
from core.results import lesson_texts as texts
from core.training.architecture import describe_model, total_parameters
from core.training.estimate import duration_text
from core.training.eta import seconds_left
from core.training.race import PRESETS, RaceSpec
from core.training.run import ACTIVE_STATUSES, QUEUED, RUNNING, RunSnapshot, TrainingRun
from pages import race_view
from pages.live import live
from pages.looks import palette, palette_for_key
from pages.resources import dataset_or_fallback
from pages.session import Keys
from pages.why import show_hidden_map, show_why

LESSON_DATASETS = ("mnist", "fashion_mnist", "digits")
# The lesson's curves, under the title, the step's buttons and heading, and the progress line (or the
# recorded run's label), inside a 1280×720 window; presenter mode's larger text leaves them less height.
LESSON_CHART_HEIGHT = 280
LESSON_CHART_HEIGHT_PRESENTER = 360
# The model diagram's text, in pixels: room-sized in presenter mode.
DIAGRAM_FONT_SIZE = 12
DIAGRAM_FONT_SIZE_PRESENTER = 20


@dataclass(frozen=True)
class LessonView:
    """What one screen of the lesson draws from."""

    dataset: Dataset
    config: TrainingConfig
    presenter: bool  # room-sized charts and text
    run: TrainingRun | None  # the run steps 5 and 6 show, live; None: a recorded replay
    # start(config, dataset) trains a run from this screen; None where the screen only watches.
    start: Callable[[TrainingConfig, Dataset], None] | None = None
    live_options: dict = field(default_factory=dict)  # passed to pages.live.live (a room's viewers)
    # A race's variants: with more than one, steps 5 and 6 show them overlaid instead of `run`.
    runs: tuple[TrainingRun, ...] = ()
    # start_race(spec, config, dataset) races from this screen; None where the screen only watches.
    start_race: Callable[[RaceSpec, TrainingConfig, Dataset], None] | None = None
    # The room's answer to "Does it work on our handwriting?" in sentences; None (or returning None): no drawings.
    handwriting: Callable[[], list[str] | None] | None = None

    @property
    def race(self) -> tuple[TrainingRun, ...] | None:
        return self.runs if len(self.runs) > 1 else None


def styled(figure, presenter: bool):
    return charts.presenter_style(figure) if presenter else figure


def bullets(sentences: list[str]) -> None:
    st.markdown("\n".join(f"- {sentence}" for sentence in sentences))


# --- the six steps ----------------------------------------------------------------------------


def step_data(view: LessonView) -> None:
    dataset, presenter = view.dataset, view.presenter
    height, width = dataset.image_shape
    st.write(
        texts.DATA_INTRO.format(
            title=dataset.title,
            train=len(dataset.pixels_train),
            test=len(dataset.pixels_test),
            height=height,
            width=width,
            classes=dataset.num_classes,
        )
    )
    st.subheader(texts.DATA_SAMPLES)
    indices = lesson.sample_indices(dataset.y_train, 10)
    titles = [dataset.class_names[dataset.y_train[i]] for i in indices]
    images = dataset.scaled(dataset.pixels_train[indices])
    grid = charts.image_grid(images, titles, row_height=240 if presenter else 170)
    st.plotly_chart(styled(grid, presenter), key="lesson.samples")
    st.write(texts.DATA_PIXELS.format(pixel_max=dataset.pixel_max_raw))
    size = min(8, height, width)
    raw, scaled = lesson.pixel_window(dataset.pixels_train[indices[0]], dataset.pixel_max_raw, size)
    raw_column, scaled_column = st.columns(2)
    raw_column.caption(texts.DATA_PIXELS_RAW.format(size=size))
    raw_column.dataframe(raw, hide_index=True)
    scaled_column.caption(texts.DATA_PIXELS_SCALED.format(pixel_max=dataset.pixel_max_raw))
    scaled_column.dataframe(scaled, hide_index=True)
    st.write(texts.DATA_BALANCE)
    st.altair_chart(charts.class_balance_chart(dataset.y_train, dataset.class_names, palette()), width="stretch")


def step_model(view: LessonView) -> None:
    dataset, config, presenter = view.dataset, view.config, view.presenter
    layers = describe_model(config, dataset.image_shape, dataset.num_classes)
    height, width = dataset.image_shape
    parameters = total_parameters(layers)
    st.write(
        texts.MODEL_INTRO.format(
            classes=dataset.num_classes, height=height, width=width, pixels=height * width, parameters=parameters
        )
    )
    font_size = DIAGRAM_FONT_SIZE_PRESENTER if presenter else DIAGRAM_FONT_SIZE
    st.graphviz_chart(lesson.model_diagram_dot(layers, font_size=font_size))
    # Streamlit's CSS sizes the diagram's text over DOT's own: back to the size its boxes were laid out for.
    st.html(f"<style>[data-testid='stGraphVizChart'] svg text {{ font-size: {font_size}px; }}</style>")
    with st.expander(texts.MODEL_TABLE):
        st.dataframe(layers, width="stretch", hide_index=True)


def step_compile(view: LessonView) -> None:
    config = view.config
    st.write(texts.COMPILE_INTRO)
    for column, (title, body) in zip(st.columns(3), texts.COMPILE_PARTS, strict=True):
        column.subheader(title)
        column.write(body.format(learning_rate=config.learning_rate))
    st.code(texts.COMPILE_CODE.format(learning_rate=config.learning_rate), language="python")


def step_fit(view: LessonView) -> None:
    dataset, config = view.dataset, view.config
    # Fit first, in the window as the step opens: the run it starts is watched at step 5, from the page's top.
    fit_button(view)
    st.markdown(texts.FIT_INTRO)
    numbers = lesson.fit_numbers(config, len(dataset.pixels_train))
    st.write(
        texts.FIT_NUMBERS.format(
            train=numbers.train,
            batch_size=config.batch_size,
            steps=numbers.steps,
            updates=numbers.updates,
            epochs=config.epochs,
            validation=numbers.validation,
        )
    )
    st.code(texts.FIT_CODE.format(epochs=config.epochs, batch_size=config.batch_size), language="python")


def fit_button(view: LessonView) -> None:
    """Step 4's "Fit: start training", where this screen may start a run; while one trains, why it waits."""
    if view.start is None:
        return
    busy = any(run.status in ACTIVE_STATUSES for run in (view.run, *view.runs) if run is not None)
    if st.button(texts.FIT_BUTTON, type="primary", disabled=busy, key=Keys.LESSON_FIT):
        view.start(view.config, view.dataset)
    if busy:
        st.info(texts.FIT_BUSY)


def step_watch(view: LessonView) -> None:
    # The curves right under the step's heading (in view in a 1280×720 window); what their lines are, under them.
    if view.race:
        live(view.race, lambda snapshots: draw_race_curves(snapshots, view.presenter), **view.live_options)
    else:
        show_run_or_replay(view, lambda snapshot: draw_curves(snapshot, view.presenter))
    st.write(texts.WATCH_INTRO)


def step_read(view: LessonView) -> None:
    if view.race:

        def draw_race_reading(snapshots: list[RunSnapshot]) -> None:
            race_view.draw_reading([shared_snapshot(snap) for snap in snapshots], "lesson.race", view.presenter)

        live(view.race, draw_race_reading, **view.live_options)
        return
    show_run_or_replay(view, lambda snapshot: draw_reading(snapshot, view))


def step_handwriting(view: LessonView) -> None:
    """Step 7: the room's handwriting, told in the room's numbers; without a room's drawings, how to collect them."""
    sentences = view.handwriting() if view.handwriting is not None else None
    if sentences is None:
        st.write(texts.HANDWRITING_STEP_INTRO)
        st.info(texts.HANDWRITING_STEP_HOW, icon=":material/draw:")
        return
    st.write(texts.HANDWRITING_STEP_INTRO)
    bullets(sentences)


STEPS = (step_data, step_model, step_compile, step_fit, step_watch, step_read, step_handwriting)


def step_our_handwriting(sentences: list[str]) -> None:
    """The room's own step, after the six: "Does it work on our handwriting?", told in the room's numbers.

    Drawn on the Room page while the room draws (pages/room_handwriting.py), for the presenter and everyone.
    """
    st.subheader(texts.HANDWRITING_QUESTION)
    bullets(sentences)


# --- the run (live, or a replay while there is none) -----------------------------------------


def show_run_or_replay(view: LessonView, draw) -> None:
    """The lesson's run, redrawn live while it trains; without one, a labelled replay."""
    if view.run is not None:
        live([view.run], lambda snapshots: draw(shared_snapshot(snapshots[0])), **view.live_options)
        return
    recorded_area = st.container()  # the recorded run first, in view; the chooser and its notes under it
    recorded = chosen_replay()
    if recorded is None:
        st.info(texts.WATCH_NO_REPLAY)
        return
    machine = texts.REPLAY_MACHINE.format(**recorded.machine)
    with recorded_area:
        st.warning(
            texts.REPLAY_LABEL.format(dataset=recorded.snapshot.dataset_title, machine=machine, date=recorded.date),
            icon=":material/replay:",
        )
        draw(recorded.snapshot)
    if not view.presenter:
        st.caption(texts.WATCH_NO_RUN)


def chosen_replay() -> replay.Replay | None:
    """The replay of the lesson's dataset, or of one that exists (MNIST cannot be recorded offline)."""
    available = replay.available_replays()
    if not available:
        return None
    wanted = st.session_state.get(Keys.LESSON_DATASET, LESSON_DATASETS[0])
    names = list(available)
    if st.session_state.get(Keys.LESSON_REPLAY) not in names:
        st.session_state[Keys.LESSON_REPLAY] = wanted if wanted in available else names[0]
    name = st.selectbox(
        texts.REPLAY_CHOOSER, names, format_func=lambda n: settings.DATASETS.get(n, n), key=Keys.LESSON_REPLAY
    )
    if wanted not in available:
        st.caption(texts.REPLAY_MISSING_NOTE.format(dataset=settings.DATASETS[wanted], replay=settings.DATASETS[name]))
    try:
        return replay.load_replay(available[name])
    except replay.ReplayError as error:
        st.error(texts.REPLAY_BROKEN.format(path=available[name].name, error=error))
        return None


def live_status(snapshot: RunSnapshot) -> None:
    if snapshot.label != replay.REPLAY_LABEL:
        st.progress(snapshot.progress, text=live_line(snapshot))


def live_line(snapshot: RunSnapshot) -> str:
    """The live run's progress line: its epoch and time, and while it trains what it has left."""
    if snapshot.stopping:
        return texts.LIVE_STOPPING.format(
            dataset=snapshot.dataset_title, epoch=snapshot.current_epoch, epochs=snapshot.total_epochs
        )
    if snapshot.status == QUEUED:
        return texts.LIVE_QUEUED.format(message=snapshot.message)
    if snapshot.status != RUNNING:
        return texts.LIVE_DONE.format(
            dataset=snapshot.dataset_title, message=snapshot.message, seconds=snapshot.elapsed_seconds
        )
    text = texts.LIVE_RUNNING.format(
        dataset=snapshot.dataset_title,
        epoch=snapshot.current_epoch,
        epochs=snapshot.total_epochs,
        seconds=snapshot.elapsed_seconds,
    )
    left = seconds_left([snapshot])
    return text + (texts.LIVE_LEFT.format(left=duration_text(left)) if left is not None else "")


def draw_curves(snapshot: RunSnapshot, presenter: bool) -> None:
    """Loss and accuracy with the lesson's marks, then the same marks in words."""
    live_status(snapshot)
    found = lesson.annotations(snapshot.epochs)
    metrics = [metric for metric in ("loss", "accuracy") if metric == "loss" or metric in snapshot.config.metrics]
    for column, metric in zip(st.columns(len(metrics)), metrics, strict=True):
        moment = shared_moment(snapshot)
        figure = lesson_curve(snapshot.run_id, moment, metric, presenter, palette().key, _snapshot=snapshot)
        column.plotly_chart(figure, key=f"lesson.curve.{metric}")
    st.subheader(texts.ANNOTATIONS_HEADER)
    bullets([annotation.sentence for annotation in found] or [texts.NOTHING_YET])


# A room's screens all draw the presenter's run: within this many seconds they share one snapshot and figure.
SHARED_FIGURE_SECONDS = 1.0


def shared_moment(snapshot: RunSnapshot) -> tuple:
    """What makes two screens' figures of one run the same: its state, or while it trains, the second."""
    if snapshot.is_active:
        return ("live", int(time.monotonic() / SHARED_FIGURE_SECONDS))
    return ("done", snapshot.version)


def shared_snapshot(snapshot: RunSnapshot) -> RunSnapshot:
    """The one snapshot every screen draws this moment of the run from, its figures and its sentences
    alike: a room's presenter and participants redrawing within the same moment show the same epochs."""
    return moment_snapshot(snapshot.run_id, shared_moment(snapshot), _snapshot=snapshot)


@st.cache_resource(max_entries=64, ttl=60, show_spinner=False)
def moment_snapshot(run_id: str, moment: tuple, _snapshot: RunSnapshot) -> RunSnapshot:
    """The first snapshot of this run drawn at this moment (see shared_moment); later screens reuse it."""
    return _snapshot


@st.cache_resource(max_entries=64, ttl=60, show_spinner=False)
def lesson_curve(run_id: str, moment: tuple, metric: str, presenter: bool, palette_key: str, _snapshot: RunSnapshot):
    """One lesson curve, built once per run and moment for every screen that shows it (a room's viewers).

    Streamlit copies the figure into each page it sends; the figure itself is never changed after this.
    """
    look = palette_for_key(palette_key)
    height = LESSON_CHART_HEIGHT_PRESENTER if presenter else LESSON_CHART_HEIGHT
    figure = charts.training_curves([_snapshot], metric, height=height, palette=look)
    charts.annotate_lesson(figure, lesson.annotations(_snapshot.epochs), metric, look)
    return styled(figure, presenter)


def draw_reading(snapshot: RunSnapshot, view: LessonView) -> None:
    """The result in sentences, and early stopping offered as the answer, one click away."""
    live_status(snapshot)
    if snapshot.label == replay.REPLAY_LABEL:
        st.caption(texts.RESULT_FROM_REPLAY)
    bullets(lesson.reading(snapshot))
    st.info(lesson.early_stopping_advice(snapshot))
    if view.start is not None:  # a room's participants watch; the presenter decides
        rerun = lesson.early_stopping_config(snapshot.config)
        label = texts.EARLY_STOPPING_BUTTON.format(epochs=rerun.epochs, patience=rerun.early_stopping_patience)
        if st.button(label, disabled=snapshot.is_active, key=Keys.LESSON_EARLY_STOPPING):
            dataset = view.dataset
            if rerun.dataset != dataset.name:
                dataset, _ = dataset_or_fallback(rerun.dataset, rerun.data_dir)
            view.start(rerun.replace(dataset=dataset.name, data_dir=None), dataset)
    offer_race(snapshot, view)
    draw_what_it_learned(snapshot)


def draw_what_it_learned(snapshot: RunSnapshot) -> None:
    """One test digit's saliency and the hidden layer's map: "this is what the network has learned to look at"."""
    st.subheader(texts.LEARNED_HEADER)
    if snapshot.label == replay.REPLAY_LABEL:
        st.caption(texts.LEARNED_FROM_REPLAY)
        return
    st.write(texts.LEARNED_INTRO)
    dataset, _ = dataset_or_fallback(snapshot.config.dataset, snapshot.config.data_dir)
    model = snapshot.details.get("snapshot")
    if model is None:
        st.caption(texts.LEARNED_WHILE_TRAINING)
    else:
        index = saliency.example_index(dataset.y_test)
        st.markdown(texts.LEARNED_EXAMPLE.format(index=index, true=dataset.class_names[dataset.y_test[index]]))
        show_why(model, dataset.x_test[index], dataset.class_names, "lesson")
    show_hidden_map(snapshot, dataset, "lesson")


def draw_race_curves(snapshots: list[RunSnapshot], presenter: bool) -> None:
    race_view.draw_progress(snapshots)
    race_view.draw_curves(snapshots, "lesson.race", presenter)


def offer_race(snapshot: RunSnapshot, view: LessonView) -> None:
    """The workshop's next question, answered by a race: the lesson's model with three optimizers."""
    if view.start_race is None:
        return
    st.subheader(texts.LESSON_RACE_QUESTION)
    st.write(texts.LESSON_RACE_OFFER)
    if st.button(texts.LESSON_RACE_BUTTON, disabled=snapshot.is_active, key=Keys.LESSON_RACE):
        view.start_race(PRESETS["optimizers"].spec, view.config, view.dataset)


def draw_step(step: int, view: LessonView) -> None:
    """The step's header and body."""
    st.header(texts.STEP_HEADER.format(number=step, count=lesson.STEP_COUNT, title=texts.STEP_TITLES[step - 1]))
    STEPS[step - 1](view)

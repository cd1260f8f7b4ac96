"""Lesson page: a presenter walks a room through data → model → compile → fit → curves, every number from the run."""

import streamlit as st

from core import charts
from core import config as settings
from core.config import TrainingConfig
from core.data.datasets import fallback_label
from core.jobs.training_job import training_job
from core.results import lesson, replay
from core.results import lesson_texts as texts
from core.training.architecture import describe_model, total_parameters
from core.training.run import QUEUED, RUNNING, RunSnapshot, TrainingRun
from pages.shared import Keys, any_active, dataset_or_fallback, job_runner, live, wait_for_keras

LESSON_DATASETS = ("mnist", "fashion_mnist", "digits")
LESSON_EPOCHS_RANGE = (1, 20)
DATASET_KEY = "lesson.dataset"  # the sidebar's dataset; the replay chooser follows it
# Presenter mode: no sidebar (st.set_page_config runs once, in app.py, so CSS hides it) and room-sized text.
PRESENTER_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"] {
    display: none;
}
[data-testid="stMainBlockContainer"] { max-width: 100%; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.6rem; line-height: 1.45; }
[data-testid="stHeading"] h1 { font-size: 3.2rem; }
[data-testid="stHeading"] h2 { font-size: 2.6rem; }
[data-testid="stHeading"] h3 { font-size: 2.0rem; }
[data-testid="stCode"] code { font-size: 1.4rem; }
.stButton button p { font-size: 1.5rem; }
</style>
"""


def go_to(step: int) -> None:
    """Button callback: the step lives in the URL, so a link (or a reload) opens the same step."""
    st.query_params["step"] = str(lesson.parse_step(step))


def presenter_changed() -> None:
    if st.session_state[Keys.LESSON_PRESENTER]:
        st.query_params["presenter"] = "1"
    else:
        st.query_params.pop("presenter", None)


def start_training(config: TrainingConfig, dataset) -> None:
    """Queue a Keras run in the same session keys as the Train page, so Train and Compare show it too."""
    if not wait_for_keras():
        st.error(texts.FIT_KERAS_FAILED)
        return
    runs = [TrainingRun(config, "keras")]
    st.session_state[Keys.KERAS_RUN] = runs[0]
    st.session_state[Keys.BASELINE_RUN] = None
    st.session_state.setdefault(Keys.RUN_HISTORY, []).extend(runs)
    job_runner().submit(runs, training_job(runs, dataset))
    go_to(5)
    st.rerun()


def styled(figure, presenter: bool):
    return charts.presenter_style(figure) if presenter else figure


def bullets(sentences: list[str]) -> None:
    st.markdown("\n".join(f"- {sentence}" for sentence in sentences))


# --- the six steps ----------------------------------------------------------------------------


def step_data(dataset, config: TrainingConfig, presenter: bool) -> None:
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
    st.altair_chart(charts.class_balance_chart(dataset.y_train, dataset.class_names), width="stretch")


def step_model(dataset, config: TrainingConfig, presenter: bool) -> None:
    layers = describe_model(config, dataset.image_shape, dataset.num_classes)
    height, width = dataset.image_shape
    parameters = total_parameters(layers)
    st.write(
        texts.MODEL_INTRO.format(
            classes=dataset.num_classes, height=height, width=width, pixels=height * width, parameters=parameters
        )
    )
    st.graphviz_chart(lesson.model_diagram_dot(layers, font_size=20 if presenter else 12))
    with st.expander(texts.MODEL_TABLE):
        st.dataframe(layers, width="stretch", hide_index=True)


def step_compile(dataset, config: TrainingConfig, presenter: bool) -> None:
    st.write(texts.COMPILE_INTRO)
    for column, (title, body) in zip(st.columns(3), texts.COMPILE_PARTS, strict=True):
        column.subheader(title)
        column.write(body.format(learning_rate=config.learning_rate))
    st.code(texts.COMPILE_CODE.format(learning_rate=config.learning_rate), language="python")


def step_fit(dataset, config: TrainingConfig, presenter: bool) -> None:
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
    busy = any_active([run for run in [st.session_state.get(Keys.KERAS_RUN)] if run is not None])
    if st.button(texts.FIT_BUTTON, type="primary", disabled=busy, key="lesson.fit"):
        start_training(config, dataset)
    if busy:
        st.info(texts.FIT_BUSY)


def step_watch(dataset, config: TrainingConfig, presenter: bool) -> None:
    st.write(texts.WATCH_INTRO)
    show_run_or_replay(lambda snapshot: draw_curves(snapshot, presenter), presenter)


def step_read(dataset, config: TrainingConfig, presenter: bool) -> None:
    show_run_or_replay(lambda snapshot: draw_reading(snapshot, dataset, presenter), presenter)


STEPS = (step_data, step_model, step_compile, step_fit, step_watch, step_read)


# --- the run (live, or a replay while there is none) -----------------------------------------


def show_run_or_replay(draw, presenter: bool) -> None:
    """The session's Keras run, redrawn live while it trains; without one, a labelled replay."""
    run = st.session_state.get(Keys.KERAS_RUN)
    if run is not None:
        live([run], lambda snapshots: draw(snapshots[0]))
        return
    recorded = chosen_replay()
    if recorded is None:
        st.info(texts.WATCH_NO_REPLAY)
        return
    machine = texts.REPLAY_MACHINE.format(**recorded.machine)
    st.warning(
        texts.REPLAY_LABEL.format(dataset=recorded.snapshot.dataset_title, machine=machine, date=recorded.date),
        icon=":material/replay:",
    )
    if not presenter:
        st.caption(texts.WATCH_NO_RUN)
    draw(recorded.snapshot)


def chosen_replay() -> replay.Replay | None:
    """The replay of the lesson's dataset, or of one that exists (MNIST cannot be recorded offline)."""
    available = replay.available_replays()
    if not available:
        return None
    wanted = st.session_state.get(DATASET_KEY, LESSON_DATASETS[0])
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
    if snapshot.label == replay.REPLAY_LABEL:
        return
    if snapshot.status == QUEUED:
        text = texts.LIVE_QUEUED.format(message=snapshot.message)
    elif snapshot.status == RUNNING:
        text = texts.LIVE_RUNNING.format(
            dataset=snapshot.dataset_title,
            epoch=snapshot.current_epoch,
            epochs=snapshot.total_epochs,
            seconds=snapshot.elapsed_seconds,
        )
    else:
        text = texts.LIVE_DONE.format(
            dataset=snapshot.dataset_title, message=snapshot.message, seconds=snapshot.elapsed_seconds
        )
    st.progress(snapshot.progress, text=text)


def draw_curves(snapshot: RunSnapshot, presenter: bool) -> None:
    """Loss and accuracy with the lesson's marks, then the same marks in words."""
    live_status(snapshot)
    found = lesson.annotations(snapshot.epochs)
    metrics = [metric for metric in ("loss", "accuracy") if metric == "loss" or metric in snapshot.config.metrics]
    for column, metric in zip(st.columns(len(metrics)), metrics, strict=True):
        # 280 px: under the title, the step's heading and the progress line, in a 1280×720 window.
        figure = charts.training_curves([snapshot], metric, height=520 if presenter else 280)
        charts.annotate_lesson(figure, found, metric)
        column.plotly_chart(styled(figure, presenter), key=f"lesson.curve.{metric}")
    st.subheader(texts.ANNOTATIONS_HEADER)
    bullets([annotation.sentence for annotation in found] or [texts.NOTHING_YET])


def draw_reading(snapshot: RunSnapshot, dataset, presenter: bool) -> None:
    """The result in sentences, and early stopping offered as the answer, one click away."""
    live_status(snapshot)
    if snapshot.label == replay.REPLAY_LABEL:
        st.caption(texts.RESULT_FROM_REPLAY)
    bullets(lesson.reading(snapshot))
    st.info(lesson.early_stopping_advice(snapshot))
    rerun = lesson.early_stopping_config(snapshot.config)
    label = texts.EARLY_STOPPING_BUTTON.format(epochs=rerun.epochs, patience=rerun.early_stopping_patience)
    if st.button(label, disabled=snapshot.is_active, key="lesson.early_stopping"):
        if rerun.dataset != dataset.name:
            dataset, _ = dataset_or_fallback(rerun.dataset, rerun.data_dir)
        start_training(rerun.replace(dataset=dataset.name, data_dir=None), dataset)


# --- the page -----------------------------------------------------------------------------------

if Keys.LESSON_PRESENTER not in st.session_state or st.query_params.get("presenter") == "1":
    st.session_state[Keys.LESSON_PRESENTER] = st.query_params.get("presenter") == "1"
step = lesson.parse_step(st.query_params.get("step"))
st.query_params["step"] = str(step)

st.title(texts.TITLE)
intro_column, presenter_column = st.columns([4, 1])
intro_column.write(texts.INTRO)
presenter = presenter_column.toggle(
    texts.PRESENTER, key=Keys.LESSON_PRESENTER, on_change=presenter_changed, help=texts.PRESENTER_HELP
)
if presenter:
    st.html(PRESENTER_CSS)

with st.sidebar:
    dataset_name = st.selectbox(
        texts.SIDEBAR_DATASET, LESSON_DATASETS, format_func=settings.DATASETS.get, key=DATASET_KEY
    )
    epochs = st.slider(texts.SIDEBAR_EPOCHS, *LESSON_EPOCHS_RANGE, value=5, key="lesson.epochs")

with st.spinner("Loading the dataset…"):
    dataset, notice = dataset_or_fallback(dataset_name, None)
if notice:  # one line; what failed and how to fix it, folded away
    with st.expander(fallback_label(dataset_name), icon=":material/cloud_off:"):
        st.warning(notice)
# The lesson's model and compile settings are TrainingConfig's defaults: Dense(128), Adam, sparse CE, accuracy.
lesson_config = TrainingConfig(dataset=dataset.name, epochs=epochs)

st.header(texts.STEP_HEADER.format(number=step, count=lesson.STEP_COUNT, title=texts.STEP_TITLES[step - 1]))
STEPS[step - 1](dataset, lesson_config, presenter)

back_column, _, next_column = st.columns([1, 4, 1])
back_column.button(texts.BACK, on_click=go_to, args=(step - 1,), disabled=step == 1, width="stretch")
next_column.button(
    texts.NEXT, on_click=go_to, args=(step + 1,), disabled=step == lesson.STEP_COUNT, type="primary", width="stretch"
)

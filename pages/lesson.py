"""Lesson page: a presenter walks a room through data → model → compile → fit → curves, every number from the run."""

import streamlit as st

from core import config as settings
from core.config import TrainingConfig
from core.data.datasets import fallback_label
from core.results import lesson
from core.results import lesson_texts as texts
from core.training.race import RaceError, RaceSpec, new_race
from pages import own_data, rooms
from pages.chrome import open_at_the_top
from pages.lesson_steps import LESSON_DATASETS, LessonView, draw_step
from pages.live import stop_button
from pages.resources import dataset_choice
from pages.room_handwriting import lesson_story
from pages.runs import current_race, start_race, start_training
from pages.session import Keys, any_active
from pages.streamlit_patches import route_through_app

route_through_app()  # a fresh server's first visitor may land here without app.py: send the run through it

LESSON_EPOCHS_RANGE = (1, 20)
# Presenter mode: no sidebar (st.set_page_config runs once, in app.py, so CSS hides it) and room-sized text,
# captions, boxes and labels in the page itself (Streamlit's top bar keeps its size). Headings grow less than
# text: at 1280×720 the step's heading, its buttons, its progress line and the live curves share the window.
PRESENTER_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"] {
    display: none;
}
[data-testid="stMainBlockContainer"] { max-width: 100%; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li { font-size: 1.6rem; line-height: 1.45; }
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.3rem; }
[data-testid="stMain"] [data-testid="stAlert"] p { font-size: 1.5rem; }
[data-testid="stMain"] [data-testid="stProgress"] p { font-size: 1.4rem; }
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.3rem; }
[data-testid="stMain"] [data-baseweb="select"] div { font-size: 1.3rem; }
[data-testid="stMain"] [data-testid="stExpander"] summary p { font-size: 1.4rem; }
[data-testid="stHeading"] h1 { font-size: 2.4rem; }
[data-testid="stHeading"] h2 { font-size: 2.2rem; }
[data-testid="stHeading"] h3 { font-size: 1.9rem; }
[data-testid="stCode"] code { font-size: 1.4rem; }
.stButton button p { font-size: 1.5rem; }
/* The toggle's own label stays its size: beside the title, a larger one is cut off. */
.st-key-lesson-presenter [data-testid="stWidgetLabel"] p,
.st-key-lesson-presenter [data-testid="stMarkdownContainer"] p { font-size: 1rem; }
</style>
"""


def go_to(step: int) -> None:
    """Button callback: the step lives in the URL, so a link (or a reload) opens the same step.

    A presenter's room follows the step (participants' screens show it too).
    """
    step = lesson.parse_step(step)
    st.query_params["step"] = str(step)
    presented = rooms.presented_room()
    if presented:
        room, secret = presented
        room.set_step(secret, step)


def presenter_changed() -> None:
    if st.session_state[Keys.LESSON_PRESENTER]:
        st.query_params["presenter"] = "1"
    else:
        st.query_params.pop("presenter", None)


def fit(config: TrainingConfig, dataset) -> None:
    """The lesson's Fit (and early-stopping) button: a Keras run, shown by Train and Compare too."""
    if start_training(config, dataset, "keras") is None:
        st.error(texts.FIT_KERAS_FAILED)
        return
    go_to(5)
    st.rerun()


def race(spec: RaceSpec, config: TrainingConfig, dataset) -> None:
    """Step 6's race: the lesson's model once per value, trained side by side; watched at step 5."""
    try:
        started = start_race(new_race(spec, config), dataset)
    except RaceError as error:
        st.error(str(error))
        return
    if started is None:
        st.error(texts.FIT_KERAS_FAILED)
        return
    go_to(5)
    st.rerun()


def room_bar(step: int, config: TrainingConfig) -> None:
    """Start a room from the lesson, or, while presenting one, its code and how many follow."""
    presented = rooms.presented_room()
    if presented is None:
        if st.button(texts.START_ROOM, key=Keys.ROOM_START_LESSON, help=texts.START_ROOM_HELP):
            rooms.start_room_from(step, config)
            st.switch_page("pages/room.py")
        return
    room, secret = presented
    if room.view().step != step:  # a reload or a link opened another step: the room follows the screen
        room.set_step(secret, step)
    if room.view().presenter_config != config:  # participants fork from the lesson's settings
        room.set_presenter_config(secret, config)
    st.caption(texts.ROOM_BAR.format(code=room.code, people=room.view().participants))


# --- the page -----------------------------------------------------------------------------------

if Keys.LESSON_PRESENTER not in st.session_state or st.query_params.get("presenter") == "1":
    st.session_state[Keys.LESSON_PRESENTER] = st.query_params.get("presenter") == "1"
presented = rooms.presented_room()
# No step in the URL (the top bar's link): a presenter goes back to where their room is.
step = lesson.parse_step(st.query_params.get("step") or (presented[0].view().step if presented else None))
st.query_params["step"] = str(step)

# The title with the presenter-mode switch beside it; Back, Train, Stop and Next right under them, then the step.
title_column, presenter_column = st.columns([4, 1], vertical_alignment="center")
title_column.title(texts.TITLE)
with title_column:  # a place that stays put across reruns: only a new step scrolls
    open_at_the_top(f"lesson step {step}")
presenter = presenter_column.toggle(
    texts.PRESENTER, key=Keys.LESSON_PRESENTER, on_change=presenter_changed, help=texts.PRESENTER_HELP
)
if presenter:
    st.html(PRESENTER_CSS)
else:  # the presenter says it to the room
    st.write(texts.INTRO)

if presented and presented[0].view().presenter_config and Keys.LESSON_EPOCHS not in st.session_state:
    # Back from the Room page, whose run dropped the sidebar's widget state: the room's settings, not the defaults.
    room_config = presented[0].view().presenter_config
    if room_config.dataset in LESSON_DATASETS:
        st.session_state[Keys.LESSON_DATASET] = room_config.dataset
    st.session_state[Keys.LESSON_EPOCHS] = min(max(room_config.epochs, LESSON_EPOCHS_RANGE[0]), LESSON_EPOCHS_RANGE[1])
st.session_state.setdefault(
    Keys.LESSON_EPOCHS, TrainingConfig.epochs
)  # the value lives in session state only (no double value)
# Images this session uploaded on Train join the lesson's choices.
own_images = own_data.upload_key()
choices = (*LESSON_DATASETS, settings.UPLOAD_DATASET) if own_images else LESSON_DATASETS
with st.sidebar:
    dataset_name = st.selectbox(
        texts.SIDEBAR_DATASET, choices, format_func=settings.DATASETS.get, key=Keys.LESSON_DATASET
    )
    dataset_note = st.empty()  # right under the box: the data used, when it is not the data the box names
    epochs = st.slider(texts.SIDEBAR_EPOCHS, *LESSON_EPOCHS_RANGE, key=Keys.LESSON_EPOCHS)

with st.spinner("Loading the dataset…"):
    data_dir = own_images if dataset_name == settings.UPLOAD_DATASET else None
    choice = dataset_choice(dataset_name, data_dir)
if choice.error is not None:  # nothing to teach with: say why and what to do, and wait for another choice
    st.error(texts.DATASET_ERROR.format(problem=choice.error.problem, fix=choice.error.fix), icon=":material/error:")
    st.stop()
dataset = choice.dataset
if choice.notice:  # the box names the data really used; the notice itself is said under the step
    dataset_note.caption(texts.DATASET_STAND_IN.format(title=settings.DATASETS[dataset.name]))
# The lesson's model and compile settings are TrainingConfig's defaults: Dense(128), Adam, sparse CE, accuracy.
lesson_config = settings.config_from_settings(
    {"dataset": dataset.name, "data_dir": data_dir if dataset.name == dataset_name else None, "epochs": epochs}
)

# Above the step, so Stop shares the window with the live curves of step 5 (where every run of the lesson
# is watched). In presenter mode the buttons answer keys (Streamlit's own button shortcuts): ← and → change
# step, T trains, S stops.
back_column, train_column, stop_column, _, next_column = st.columns([1, 1, 1, 2, 1])
back_column.button(
    texts.BACK,
    on_click=go_to,
    args=(step - 1,),
    disabled=step == 1,
    width="stretch",
    shortcut="Left" if presenter else None,
)
# Train is never disabled: the click checks the run. Stop stops what step 5 shows, the lesson's run or a race
# started after it; it is drawn into its column after the step, so it looks at the runs after the step's live
# area has (a run only ever goes from active to ended, so the live area's timer outlasts Stop's state).
race_runs = tuple(current_race().runs) if current_race() else ()
lesson_runs = [run for run in (st.session_state.get(Keys.KERAS_RUN), *race_runs) if run is not None]
if train_column.button(
    texts.TRAIN_KEY, width="stretch", shortcut="T" if presenter else None, key=Keys.LESSON_TRAIN_KEY
) and not any_active(lesson_runs):
    fit(lesson_config, dataset)
next_column.button(
    texts.NEXT,
    on_click=go_to,
    args=(step + 1,),
    disabled=step == lesson.STEP_COUNT,
    type="primary",
    width="stretch",
    shortcut="Right" if presenter else None,
)

view = LessonView(
    dataset,
    lesson_config,
    presenter,
    st.session_state.get(Keys.KERAS_RUN),
    start=fit,
    runs=race_runs,
    start_race=race,
    handwriting=lambda: lesson_story(presented[0] if presented else None),
)
draw_step(step, view)
with stop_column:
    shown = [run for run in (st.session_state.get(Keys.KERAS_RUN), *race_runs) if run is not None]
    snapshots = [run.snapshot() for run in shown]
    stop_button(
        shown, snapshots, texts.STOP_KEY, Keys.LESSON_STOP_KEY, width="stretch", shortcut="S" if presenter else None
    )

if choice.notice:  # one line, and under it what failed and how to fix it
    st.warning(fallback_label(dataset_name), icon=":material/cloud_off:")
    st.caption(choice.notice)
room_bar(step, lesson_config)

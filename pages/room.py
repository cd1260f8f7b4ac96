"""Room page: open a workshop room, or join one; follow the presenter live, try your own settings, see the board."""

import dataclasses

import streamlit as st

from core import charts
from core import config as settings
from core.config import ConfigError, TrainingConfig
from core.results import lesson_texts as texts
from core.rooms import (
    CODE_LENGTH,
    FOLLOW_SECONDS,
    MAX_NICKNAME_CHARS,
    Room,
    RoomError,
    chart_safe,
    viewer_refresh_seconds,
)
from core.training.run import QUEUED
from pages import rooms
from pages.chrome import open_at_the_top
from pages.lesson_steps import LessonView, draw_step
from pages.live import live, rerun_when, stop_button
from pages.looks import palette
from pages.resources import dataset_choice, job_runner
from pages.room_handwriting import lesson_story, participant_handwriting, presenter_handwriting
from pages.runs import start_training
from pages.session import Keys
from pages.settings_form import SettingsForm, draw_settings, read_settings, seed_settings
from pages.streamlit_patches import route_through_app

route_through_app()  # a fresh server's first visitor may land here without app.py: send the run through it

# The settings a participant may change before trying; the rest stay the presenter's.
FORK_SETTINGS = (
    "optimizer",
    "learning_rate",
    "hidden_layers",
    "units",
    "activation",
    "dropout",
    "epochs",
    "batch_size",
)
# The "Try it yourself" form: those settings, two abreast, each starting at the presenter's value.
FORK_FORM = SettingsForm(Keys.ROOM_TRY_FORK, FORK_SETTINGS, columns=2)


# --- no room yet ---------------------------------------------------------------------------------


def join_or_start() -> None:
    st.write(
        "A workshop room shows the presenter's lesson step and training run live on every screen. "
        "Join with the code on the presenter's screen, then try your own settings and see where they rank."
    )
    with st.form("room.join_form"):
        code = st.text_input("Room code", max_chars=CODE_LENGTH + 2, key=Keys.ROOM_JOIN_CODE, placeholder="K7QXD")
        nickname = st.text_input(
            "Your name on the board (optional)", max_chars=MAX_NICKNAME_CHARS, key=Keys.ROOM_NICKNAME
        )
        if st.form_submit_button("Join", type="primary"):
            join(code, nickname)
    st.divider()
    st.write("Presenting? Open a room, and put its code and QR code on the big screen.")
    if st.button("Start a room", key="room.start"):
        try:
            rooms.start_room()
        except RoomError as error:
            st.error(str(error))
            return
        st.rerun()


def join(code: str | None, nickname: str | None = None) -> None:
    try:
        room = rooms.join_room(code, nickname)
    except RoomError as error:
        st.error(str(error))
        return
    st.query_params.from_dict(rooms.rejoin_params(room.code))  # only these: a link's other parameters go
    st.rerun()


# --- the presenter -------------------------------------------------------------------------------


def presenter_view(room: Room, secret: str) -> None:
    big = st.toggle("Board on the big screen", key=Keys.ROOM_BOARD_BIG)
    if not big:
        link = rooms.join_link(room.code)
        code_column, qr_column = st.columns([3, 2])
        with code_column:
            st.markdown(f"## Room code: `{room.code}`")
            st.write("Open this link, scan the QR code, or type the code on the Home page:")
            st.code(link, language=None)
            st.caption(f"{room.view().participants} following. The lesson's steps and your runs show on their screens.")
            st.page_link(
                "pages/lesson.py",
                label="Present the lesson",
                icon=":material/school:",
                query_params={"step": str(room.view().step), "presenter": "1"},
            )
            st.page_link("pages/train.py", label="Train with your own settings", icon=":material/model_training:")
            if st.button("End the room", key=Keys.ROOM_END):
                rooms.end_room()
                st.rerun()
        qr_column.image(rooms.qr_png(link), caption=f"Join room {room.code}", width="stretch")
        presenter_run_status(room)
    presenter_handwriting(room, secret)
    board(room, big)
    rerun_when(following(room), FOLLOW_SECONDS)


def presenter_run_status(room: Room) -> None:
    """The presenter's runs as the room sees them, and their Stop while one trains."""
    runs = room.view().presenter_runs
    snapshots = [run.snapshot() for run in runs]
    for snap in snapshots:
        owner = f"Your {snap.label} run"
        text = (
            texts.STOPPING_PROGRESS.format(label=owner, epoch=snap.current_epoch, epochs=snap.total_epochs)
            if snap.stopping
            else f"{owner}: {snap.message}"
        )
        st.progress(snap.progress, text=text)
    if any(snap.is_active for snap in snapshots):
        # The page reruns when a run ends (the room's follow_key holds each run's status).
        stop_button(runs, snapshots, texts.STOP_KEY, Keys.ROOM_STOP)


# --- a participant -------------------------------------------------------------------------------


def participant_view(room: Room) -> None:
    me = rooms.participant_id()
    view = room.view()
    name_column, leave_column = st.columns([4, 1])
    # Nicknames are shown with st.text: plain text, never markdown or HTML.
    name_column.text(f"Room {room.code} · you are {room.nickname_of(me)} · {view.participants} following")
    if leave_column.button("Leave", key=Keys.ROOM_LEAVE):
        rooms.leave_room()
        st.query_params.clear()  # the room's code in the URL would join again
        st.rerun()
    participant_handwriting(room, me)  # phones first: the digit to draw sits at the top while the room draws
    config = view.presenter_config or TrainingConfig(dataset=settings.EMBEDDED_DATASET)
    choice = dataset_choice(config.dataset, config.data_dir)
    if choice.error is not None:  # the presenter's data cannot be read here: say so, and keep following
        st.error(str(choice.error))
        rerun_when(following(room, me), FOLLOW_SECONDS)
        return
    dataset = choice.dataset
    presenter_keras = tuple(run for run in view.presenter_runs if run.kind == "keras")  # several: a race
    presenter_run = presenter_keras[0] if presenter_keras else None
    every = viewer_refresh_seconds(view.participants)
    lesson_view = LessonView(
        dataset,
        config.replace(dataset=dataset.name),
        presenter=False,
        run=presenter_run,
        live_options={"owned": False, "every": every, "changed": following(room, me)},
        runs=presenter_keras,
        handwriting=lambda: lesson_story(room),
    )
    with name_column:  # a place that stays put across reruns: only the presenter's next step scrolls
        open_at_the_top(f"room step {view.step}")
    draw_step(view.step, lesson_view)
    watching_live = view.step >= 5 and any(run.snapshot().is_active for run in presenter_keras)
    if not watching_live:
        rerun_when(following(room, me), FOLLOW_SECONDS)
    st.divider()
    try_it_yourself(room, me, lesson_view.config, dataset)
    board(room, big=False)


def try_it_yourself(room: Room, me: str, base: TrainingConfig, dataset) -> None:
    st.subheader("Try it yourself")
    active = room.active_try(me)
    if active:
        own_try(active)
        return
    config = forked_config(base)
    if config is None:
        return
    try:
        room.check_try(me)
    except RoomError as error:
        st.error(str(error))
        return
    runs = start_training(config, dataset, "keras")
    if runs is None:
        return
    try:
        room.add_try(me, runs)
    except RoomError as error:  # the room ended or filled up a moment ago
        job_runner().cancel(runs)
        st.error(str(error))
        return
    st.rerun()


def forked_config(base: TrainingConfig) -> TrainingConfig | None:
    """The presenter's settings with the participant's changes, once they press Train (None until then)."""
    presenter_settings = settings.settings_of(base)
    seed_settings(FORK_FORM, presenter_settings)
    with st.form(f"{Keys.ROOM_TRY_FORK}form"):
        st.caption("The presenter's settings: change what you like, then press Train. Your run joins the line.")
        draw_settings(FORK_FORM)
        if not st.form_submit_button("Train", type="primary"):
            return None
    try:
        return settings.config_from_settings(presenter_settings | read_settings(FORK_FORM))
    except ConfigError as error:
        st.error(str(error))
        return None


def own_try(runs) -> None:
    """The participant's own run: its place in line and start time while it waits, its curves once it trains."""

    def draw(snapshots) -> None:
        for snap in snapshots:
            if snap.status == QUEUED:
                wait = job_runner().seconds_until_start(next(r for r in runs if r.run_id == snap.run_id))
                start = f" Starts in about {wait:.0f} s." if wait is not None else ""
                st.progress(0.0, text=f"{snap.message}{start}")
            else:
                st.progress(snap.progress, text=f"Your run: {snap.message}")
        keras = [snap for snap in snapshots if snap.kind == "keras"][:1]
        if keras and keras[0].epochs:
            st.plotly_chart(
                charts.training_curves(keras, "accuracy", height=260, palette=palette()), key="room.own_try"
            )

    live(list(runs), draw, changed=None)


# --- the board -----------------------------------------------------------------------------------


def board(room: Room, big: bool) -> None:
    rows = room.board()
    st.subheader(f"Room {room.code}: the board")
    if not rows:
        st.info("Finished runs of the room appear here, best test accuracy first.")
        return
    table = [
        {
            "#": row.place,
            "who": row.nickname,
            "what differs from the presenter": row.differs,
            "test accuracy": row.test_accuracy,
            "fit seconds": row.fit_seconds,
        }
        for row in rows
    ]
    st.dataframe(charts.readable_table(table), hide_index=True, width="stretch")
    entries = {entry.run.run_id: entry for entry in room.entries()}
    snapshots = [
        dataclasses.replace(entries[row.run_id].run.snapshot(), label=chart_safe(f"{row.place}. {row.nickname}"))
        for row in rows[: len(palette().series)]  # one colour each
    ]
    figure = charts.training_curves(
        snapshots, "accuracy", show_batches=False, height=520 if big else 340, palette=palette()
    )
    st.plotly_chart(charts.presenter_style(figure) if big else figure, key="room.board_chart")


def following(room: Room, participant_id: str | None = None):
    """A question the page asks on a timer: has the room moved on since this page was drawn?

    A participant's page asking is also how the room knows they are still there (Room.seen).
    """
    drawn = room.follow_key()

    def moved_on() -> bool:
        if participant_id is not None:
            room.seen(participant_id)
        return room.follow_key() != drawn

    return moved_on


# --- the page ------------------------------------------------------------------------------------

st.title("Workshop room")
presented = rooms.presented_room()
joined = rooms.joined_room()
link_code = st.query_params.get("code")
if presented is None and link_code and (joined is None or joined.code != link_code.upper()):
    join(link_code)  # a join link or a scanned QR code: straight in, as a guest who may add a name later

if presented is not None:
    room, secret = presented
    room.touch()
    presenter_view(room, secret)
elif joined is not None:
    joined.touch()
    joined.seen(rooms.participant_id())
    participant_view(joined)
else:
    join_or_start()

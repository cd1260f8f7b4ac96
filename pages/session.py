"""Per-user state: every st.session_state key the pages use, the Train page's settings kept between pages, the runs.

Chart keys (st.plotly_chart(key=...)) are not here: they only tell Streamlit which chart is which and
hold no state the app reads (no on_select), so each stays a literal at its one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from core import config as settings
from core.training.run import ACTIVE_STATUSES, TrainingRun
from pages.settings_form import SettingsForm, seed_settings

# The Train page's sidebar: every setting, under headers, each optimizer with a learning rate of its own.
TRAIN_SIDEBAR = SettingsForm("train.", sections=True, learning_rate_per_optimizer=True)


class Keys:
    """Every st.session_state key, page-prefixed, in one place (the Train sidebar's from TRAIN_SIDEBAR)."""

    # Train: this session's runs and what the page remembers about them.
    KERAS_RUN = "train.keras_run"
    BASELINE_RUN = "train.baseline_run"
    RUN_HISTORY = "train.run_history"
    DATASET_NOTICE = "train.dataset_notice"
    PENDING_LEARNING_RATE = "train.pending_learning_rate"
    BUDGET_SUBSAMPLE = "train.budget_subsample"  # images to train on, chosen to fit the server's budget
    BUDGET_FIX = "train.budget."  # prefix: one button per budget fix, by its label
    LINK_READ = "train.link_read"  # the URL's settings were applied to the sidebar (once per session)
    EXTRA_EPOCHS = "train.extra_epochs"
    CHARTS_SHOWN_AT = "train.empty_charts_at"  # when, by the server's clock, the empty charts may be drawn
    # Train: the sidebar's widgets (the learning rate has one key per optimizer: train_learning_rate).
    TRAIN_DATASET = TRAIN_SIDEBAR.key("dataset")
    TRAIN_DATA_DIR = TRAIN_SIDEBAR.key("data_dir")
    TRAIN_MODEL = TRAIN_SIDEBAR.key("model")
    TRAIN_HIDDEN_LAYERS = TRAIN_SIDEBAR.key("hidden_layers")
    TRAIN_UNITS = TRAIN_SIDEBAR.key("units")
    TRAIN_ACTIVATION = TRAIN_SIDEBAR.key("activation")
    TRAIN_DROPOUT = TRAIN_SIDEBAR.key("dropout")
    TRAIN_OPTIMIZER = TRAIN_SIDEBAR.key("optimizer")
    TRAIN_LOSS = TRAIN_SIDEBAR.key("loss")
    TRAIN_METRICS = TRAIN_SIDEBAR.key("metrics")
    TRAIN_EPOCHS = TRAIN_SIDEBAR.key("epochs")
    TRAIN_BATCH_SIZE = TRAIN_SIDEBAR.key("batch_size")
    TRAIN_VALIDATION_SPLIT = TRAIN_SIDEBAR.key("validation_split")
    TRAIN_SEED = TRAIN_SIDEBAR.key("seed")
    TRAIN_EARLY_STOPPING = TRAIN_SIDEBAR.key("early_stopping")
    TRAIN_MODELS = TRAIN_SIDEBAR.key("train")
    train_learning_rate = staticmethod(TRAIN_SIDEBAR.learning_rate_key)
    TRAIN_SETTINGS_KEPT = "train.settings_kept"  # their values, kept while another page is shown
    # Train: your own images (pages/own_data.py).
    OWN_DATA = "train.own_data"  # (OwnData, private key) of this session's upload
    OWN_DATA_UPLOAD = "train.own_data_upload"  # the file uploader
    OWN_DATA_READ = "train.own_data_read"  # the uploaded file last read, so a rerun does not read it again
    OWN_DATA_ERROR = "train.own_data_error"  # why the last upload was refused
    OWN_DATA_SAVE_NAME = "train.own_data_save_name"
    OWN_DATA_SAVE = "train.own_data_save"
    OWN_DATA_PICK = "train.own_data_pick"  # a saved dataset's name (single-user machines)
    OWN_DATA_OPEN = "train.own_data_open"
    OWN_DATA_DOWNLOAD = "train.own_data_download"
    TRAIN_STOP = "train.stop"
    LINK_NOTES = "train.link_notes"  # what a shared link's settings became, shown until dismissed
    LINK_NOTES_DISMISS = "train.link_notes_dismiss"
    # Races (pages/race_view.py): this session's latest race, and the Train page's race controls.
    RACE = "race.current"  # the Race (core.training.race) last started here; None after a Train press
    RACE_PRESET = "race.preset"  # a preset's key, or RACE_OWN_CHOICE
    RACE_SETTING = "race.setting"
    RACE_CHOICES = "race.choices"  # the values of a setting with named choices (optimizer, activation, model)
    RACE_VALUES = "race.values"  # the values of a numeric setting, as typed: "0.1, 0.01"
    RACE_START = "race.start"
    RACE_STOP = "race.stop"
    RACE_X_AXIS = "race.x_axis"
    RACE_SHARED = "race.shared."  # prefix: the settings form that shows what every variant shares
    # Rooms: the presenter's room and secret, or the room joined as a participant (see pages/rooms.py).
    ROOM_PRESENTED = "room.presented"  # (code, secret) of the room this session presents
    ROOM_JOINED = "room.joined"  # code of the room this session follows as a participant
    ROOM_PARTICIPANT_ID = "room.participant_id"  # this session's random id in the rooms it joins
    ROOM_JOIN_CODE = "room.join_code"  # the code typed on Home or the Room page
    ROOM_NICKNAME = "room.nickname"
    ROOM_BOARD_BIG = "room.board_big"  # the presenter shows the board alone, room-sized
    ROOM_START_LESSON = "lesson.start_room"
    ROOM_START_TRAIN = "train.start_room"
    ROOM_END = "room.end"
    ROOM_STOP = "room.stop"  # the presenter's Stop for the run the room watches
    ROOM_LEAVE = "room.leave"
    ROOM_TRY_FORK = "room.fork."  # prefix: the "try it yourself" form's widgets
    # Looks.
    LOOKS_PALETTE = "looks.palette"  # the chart palette's name (core.palette.PALETTES), chosen in the sidebar
    # Compare.
    COMPARE_X_AXIS = "compare.x_axis"
    # Lesson.
    LESSON_PRESENTER = "lesson.presenter"  # the presenter-mode toggle, mirrored in the URL as ?presenter=1
    LESSON_REPLAY = "lesson.replay"  # which recorded run the lesson shows while there is no live run
    LESSON_DATASET = "lesson.dataset"  # the sidebar's dataset; the replay chooser follows it
    LESSON_EPOCHS = "lesson.epochs"
    LESSON_FIT = "lesson.fit"
    LESSON_EARLY_STOPPING = "lesson.early_stopping"
    LESSON_TRAIN_KEY = "lesson.train_key"  # presenter mode's T button
    LESSON_STOP_KEY = "lesson.stop_key"  # presenter mode's S button
    LESSON_RACE = "lesson.race"  # step 6: race the optimizers
    # Evaluate.
    EVALUATE_MODEL = "evaluate.model"  # which run the Evaluate page scores: "keras" or "baseline"
    EVALUATE_NORMALISE = "evaluate.normalise"
    EVALUATE_CELL_TRUE = "evaluate.cell_true"
    EVALUATE_CELL_PREDICTED = "evaluate.cell_predicted"
    EVALUATE_EPOCH = "evaluate.epoch"
    EVALUATE_MISTAKES_FILTER = "evaluate.mistakes_filter"
    EVALUATE_MISTAKES_CLASS = "evaluate.mistakes_class"
    EVALUATE_INSIDE_IMAGE = "evaluate.inside_image"  # prefix, by run kind: the test image whose activations are shown
    EVALUATE_INK = "evaluate.ink"
    EVALUATE_CANVAS = "evaluate.canvas."  # prefix, by EVALUATE_CANVAS_VERSION
    EVALUATE_CANVAS_VERSION = "evaluate.canvas_version"  # a new canvas key clears the drawing
    EVALUATE_UPLOADS = "evaluate.uploads"
    # Evaluate: "Test it on my handwriting" (pages/handwriting.py).
    HANDWRITING_DRAWINGS = "evaluate.handwriting.drawings"  # [(digit asked for, 28×28 uint8 drawing)]
    HANDWRITING_CANVAS = "evaluate.handwriting.canvas."  # prefix, by version and the number of drawings so far
    HANDWRITING_CANVAS_VERSION = "evaluate.handwriting.canvas_version"  # a new start gives new canvases
    HANDWRITING_WHY = "evaluate.handwriting.why"  # which drawing "Why?" explains
    # Room: the room's handwriting (pages/room_handwriting.py).
    ROOM_HANDWRITING_CANVAS = "room.handwriting.canvas."  # prefix, by room and ROOM_HANDWRITING_SENT
    ROOM_HANDWRITING_SENT = "room.handwriting.sent"  # drawings this session sent: each gets a new canvas
    ROOM_HANDWRITING_WHY = "room.handwriting.why"
    ROOM_HANDWRITING_REMOVE = "room.handwriting.remove_choice"  # the drawing the presenter may remove
    ROOM_HANDWRITING_EPOCHS = "room.handwriting.teach_epochs"  # more epochs to teach the room's handwriting
    # Experiments.
    EXPERIMENTS_IMPORTED = "experiments.imported"  # run records uploaded in this session
    EXPERIMENTS_IMPORT = "experiments.import"  # the upload widget
    EXPERIMENTS_GET_MODEL = "experiments.get_model"
    EXPERIMENTS_GET_JSON = "experiments.get_json"
    EXPERIMENTS_GET_CSV = "experiments.get_csv"
    EXPERIMENTS_SHOW_CODE = "experiments.show_code"
    EXPERIMENTS_OVERLAY = "experiments.overlay"
    EXPERIMENTS_EXPORT = "experiments.export"
    EXPERIMENTS_DELETE = "experiments.delete"
    EXPERIMENTS_DELETE_BUTTON = "experiments.delete_button"


def seed_train_settings() -> None:
    """Give every sidebar widget its starting value through session state, once (call before drawing them).

    The widgets themselves get no value=: a widget given both a default and a session-state value
    (from a link, a budget fix or restore_train_settings) makes Streamlit log a warning with a stack
    trace. Keys already set (by the person, a link or a restore) are left alone.
    """
    seed_settings(TRAIN_SIDEBAR, settings.default_settings())


def remember_train_settings() -> None:
    """Note the Train page's settings as plain values (call once they are seeded; the widgets may come later)."""
    st.session_state[Keys.TRAIN_SETTINGS_KEPT] = {
        key: st.session_state[key] for key in st.session_state if TRAIN_SIDEBAR.owns(key)
    }


def restore_train_settings() -> None:
    """Bring back the settings a visit to another page made Streamlit forget (call before drawing them).

    Streamlit drops the value of any widget a script run did not draw, so a person who looks at
    another page while a model trains would come back to the default settings. Only missing keys
    are restored: a widget being changed on this page is never sent an older value.
    """
    for key, value in st.session_state.get(Keys.TRAIN_SETTINGS_KEPT, {}).items():
        if key not in st.session_state:
            st.session_state[key] = value


def current_runs() -> list[TrainingRun]:
    """This session's latest Keras run and baseline run (either may be missing)."""
    runs = [st.session_state.get(Keys.KERAS_RUN), st.session_state.get(Keys.BASELINE_RUN)]
    return [run for run in runs if run is not None]


def any_active(runs: Sequence[TrainingRun]) -> bool:
    return any(run.status in ACTIVE_STATUSES for run in runs)

"""What the pages share: session-state keys, process-wide resources and the live-progress fragment.

Not a page itself: app.py's st.navigation lists the pages, so this module is never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core import libraries
from core.jobs.choice import make_job_runner, startup_notice
from core.jobs.runner import JobRunner, OwnerWatchdog, orphan_seconds_from_environment
from core.training.run import ACTIVE_STATUSES, QUEUED, RunSnapshot, TrainingRun

# The live charts redraw this often while a run is active, and never otherwise. A 0.5 s refresh
# was seen stealing the CPU from training on two cores; see bench/train_speed.py for the cost.
REFRESH_SECONDS = 1.0
# While every run waits in line behind other people's trainings, only its place is redrawn, this often.
WAITING_REFRESH_SECONDS = 2.0
# From Train to the first batch point (data, model, XLA compiling the first step: about 1 s here) the
# fragment looks this often, so the first point is drawn soon after it exists; then REFRESH_SECONDS.
# 0.25 s measured no sooner on two cores: its redraws slowed the compiling as much as they saved.
FIRST_POINT_REFRESH_SECONDS = 0.5


class Keys:
    """Every st.session_state key, page-prefixed, in one place."""

    KERAS_RUN = "train.keras_run"
    BASELINE_RUN = "train.baseline_run"
    RUN_HISTORY = "train.run_history"
    DATASET_NOTICE = "train.dataset_notice"
    PENDING_LEARNING_RATE = "train.pending_learning_rate"
    COMPARE_X_AXIS = "compare.x_axis"
    BUDGET_SUBSAMPLE = "train.budget_subsample"  # images to train on, chosen to fit the server's budget
    LINK_READ = "train.link_read"  # the URL's settings were applied to the sidebar (once per session)
    EXPERIMENTS_IMPORTED = "experiments.imported"  # run records uploaded in this session
    EVALUATE_MODEL = "evaluate.model"  # which run the Evaluate page scores: "keras" or "baseline"
    EVALUATE_NORMALISE = "evaluate.normalise"
    LESSON_PRESENTER = "lesson.presenter"  # the presenter-mode toggle, mirrored in the URL as ?presenter=1
    LESSON_REPLAY = "lesson.replay"  # which recorded run the lesson shows while there is no live run
    EVALUATE_CELL_TRUE = "evaluate.cell_true"
    EVALUATE_CELL_PREDICTED = "evaluate.cell_predicted"
    EVALUATE_EPOCH = "evaluate.epoch"
    EVALUATE_MISTAKES_FILTER = "evaluate.mistakes_filter"
    EVALUATE_MISTAKES_CLASS = "evaluate.mistakes_class"
    EVALUATE_INSIDE_IMAGE = "evaluate.inside_image"  # the test image whose activations are shown
    EVALUATE_INK = "evaluate.ink"
    EVALUATE_CANVAS_VERSION = "evaluate.canvas_version"  # a new canvas key clears the drawing
    EVALUATE_UPLOADS = "evaluate.uploads"
    # The Train page's sidebar widgets (the learning rate has one key per optimizer: a prefix).
    TRAIN_SETTINGS = tuple(
        f"train.{name}"
        for name in (
            "dataset", "data_dir", "model", "hidden_layers", "units", "activation", "dropout", "optimizer",
            "loss", "metrics", "epochs", "batch_size", "validation_split", "seed", "early_stopping",
            "models_to_train",
        )
    )  # fmt: skip
    TRAIN_LEARNING_RATES = "train.learning_rate."
    TRAIN_SETTINGS_KEPT = "train.settings_kept"  # their values, kept while another page is shown


def remember_train_settings() -> None:
    """Note the Train page's settings as plain values (call after drawing its widgets)."""
    st.session_state[Keys.TRAIN_SETTINGS_KEPT] = {
        key: st.session_state[key] for key in st.session_state if _is_train_setting(key)
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


def _is_train_setting(key) -> bool:
    return key in Keys.TRAIN_SETTINGS or str(key).startswith(Keys.TRAIN_LEARNING_RATES)


@st.cache_resource
def job_runner() -> JobRunner:
    """One line of training jobs for the whole server process, shared by every session.

    $TRAINING_STUDIO_MAX_CONCURRENT trainings run at once (default 1: Keras's TensorFlow backend
    is not thread-safe); the rest wait in line and see their place.
    Where RAY_ADDRESS (or TRAINING_STUDIO_RUNNER=ray) names a Ray cluster, jobs train there
    instead, behind the same interface (core.jobs.choice); an unreachable cluster falls back to this.
    """
    return make_job_runner()


def route_through_app() -> None:
    """Make sure this page runs under app.py's st.navigation, not Streamlit's legacy pages/ mode.

    Until st.navigation has been called once in a server process, Streamlit serves the pages/
    folder the old way: a first visitor who opens /train directly runs pages/train.py alone, so
    app.py (the preload, the page config, the top-bar navigation) never runs, for every session,
    until someone opens the home page. Leaving legacy mode and rerunning sends this run through
    app.py, which routes to the same page by its URL.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from resetting Keras after every script run.

    After each script run, fragment reruns included, Streamlit calls keras.backend.clear_session(),
    which runs a full garbage collection and empties TensorFlow's kernel cache, while a worker
    thread of this app is in the middle of model.fit. Measured here with one browser watching a
    Fashion-MNIST run: training took 2.9× as long as headless. The app keeps no Keras state in
    script threads (models live in run records, built by the worker), so the reset buys nothing.
    Streamlit offers no setting for it: the private hook is replaced, and a test checks it still is.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _leave_modules_alone


def _leave_modules_alone() -> None:
    """Replacement for Streamlit's per-run module clean-up (see keep_keras_state_between_reruns)."""


def show_runner_notice() -> None:
    """Say so when Ray was configured but trainings run on this server (the cluster was unreachable)."""
    job_runner()
    notice = startup_notice()
    if notice:
        st.warning(notice, icon=":material/cloud_off:")


@st.cache_resource
def owner_watchdog() -> OwnerWatchdog:
    """Cancels a session's queued or running training once its browser tab has closed."""
    runner = job_runner()
    return OwnerWatchdog(runner.cancel, session_is_connected, orphan_seconds_from_environment())


def this_session_id() -> str | None:
    """The Streamlit session this script run serves (None outside a server, e.g. in AppTest)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else None


def session_is_connected(session_id: str) -> bool:
    """Whether a browser still holds this session's websocket.

    Streamlit has no public "session ended" hook. Its Runtime.is_active_session (documented as
    safe from any thread) is False once the tab closes; a page switch or a rerun keeps it True,
    which a heartbeat from the live charts would not (other pages do not poll). Without a runtime
    (AppTest), every session counts as connected, so nothing is cancelled by mistake.
    """
    from streamlit import runtime

    if not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(session_id)


@st.cache_resource(ttl=300, show_spinner=False)
def dataset_or_fallback(name: str, data_dir: str | None):
    """(dataset, notice): cached, so a failed download is not retried on every rerun for 5 minutes."""
    from core.data.datasets import load_dataset_or_fallback

    libraries.load("sklearn")
    if name in ("mnist", "fashion_mnist"):
        # The Keras download path imports Keras: import it here, under the import lock.
        libraries.load("keras")
    return load_dataset_or_fallback(name, data_dir or None)


def wait_for_keras() -> bool:
    """Block (with a spinner) until Keras is imported; False with an error shown if it cannot be."""
    if not libraries.is_loaded("keras"):
        with st.spinner("Loading Keras and its backend (first time only, a few seconds)…"):
            try:
                libraries.load("keras")
            except Exception as error:
                st.error(f"Keras could not be loaded: {error}. Check that requirements.txt is installed.")
                return False
    return True


def current_runs() -> list[TrainingRun]:
    """This session's latest Keras run and baseline run (either may be missing)."""
    runs = [st.session_state.get(Keys.KERAS_RUN), st.session_state.get(Keys.BASELINE_RUN)]
    return [run for run in runs if run is not None]


def any_active(runs: Sequence[TrainingRun]) -> bool:
    return any(run.status in ACTIVE_STATUSES for run in runs)


def refresh_seconds(snapshots: Sequence[RunSnapshot], waiting_for_others: bool) -> float | None:
    """How often the live fragment reruns for these runs; None when none is active (nothing polls).

    Every run waiting in line behind others' trainings: WAITING_REFRESH_SECONDS. Started, or about
    to start, with no point to draw yet: FIRST_POINT_REFRESH_SECONDS. Points to draw: REFRESH_SECONDS.
    """
    if not any(snap.is_active for snap in snapshots):
        return None
    if waiting_for_others and all(snap.status == QUEUED for snap in snapshots):
        return WAITING_REFRESH_SECONDS
    if not any(snap.batches or snap.epochs for snap in snapshots):
        return FIRST_POINT_REFRESH_SECONDS
    return REFRESH_SECONDS


def waiting_for_others(runs: Sequence[TrainingRun], runner: JobRunner) -> bool:
    """Whether these runs still have someone else's training ahead of them in `runner`'s line."""
    places = [place for run in runs if (place := runner.position(run)) is not None]
    if not places:
        return False
    # First in line with nothing training: the worker is taking it right now (it was just submitted).
    return not (min(places) == 1 and runner.counts()["running"] == 0)


def live(runs: Sequence[TrainingRun], draw: Callable[[list[RunSnapshot]], None]) -> None:
    """Draw the runs now, and again on a timer (see refresh_seconds) while any of them is active.

    Only this fragment reruns on the timer, not the page. While every run still waits in line it
    shows only the place in line: on a shared two-core server each waiting browser would otherwise
    redraw empty charts every second, next to the one that trains. A fragment's timer is fixed
    when the page runs, so when the interval should change (the run leaves the line, draws its
    first point, or the last one ends) the fragment reruns the whole page once, which then sets
    the new timer (or none: an idle app does not poll). The first point is drawn before that rerun.
    """
    snapshots = [run.snapshot() for run in runs]
    refresh = refresh_seconds(snapshots, waiting_for_others(runs, job_runner()))
    session_id = this_session_id()
    if refresh is not None and session_id:
        # Tie the runs to this browser session: closing the tab cancels them (see owner_watchdog).
        owner_watchdog().watch(runs, session_id)
    first_points_drawn = False

    @st.fragment(run_every=refresh)
    def live_fragment() -> None:
        nonlocal first_points_drawn
        snapshots = [run.snapshot() for run in runs]
        now = refresh_seconds(snapshots, waiting_for_others(runs, job_runner())) if refresh is not None else None
        if now != refresh:
            if refresh == FIRST_POINT_REFRESH_SECONDS and now == REFRESH_SECONDS and not first_points_drawn:
                # The first points: draw them now; the next tick reruns the page for the slower timer.
                first_points_drawn = True
            else:
                st.rerun()
        if all(snap.status == QUEUED for snap in snapshots):
            for snap in snapshots:
                st.progress(0.0, text=f"{snap.label}: {snap.message}")
            return
        draw(snapshots)

    live_fragment()


# Every page imports this module first: a fresh server's first run leaves legacy mode here.
route_through_app()

"""Process-wide resources the pages share: the job runner and its owner watchdog, datasets, Keras, session liveness."""

from __future__ import annotations

import streamlit as st

from core import config as settings
from core import libraries
from core.jobs.choice import make_job_runner, startup_notice
from core.jobs.runner import JobRunner, OwnerWatchdog, orphan_seconds_from_environment
from core.rooms import RoomRegistry, limits_from_environment


@st.cache_resource
def job_runner() -> JobRunner:
    """One line of training jobs for the whole server process, shared by every session.

    $TRAINING_STUDIO_MAX_CONCURRENT trainings run at once (default 1: Keras's TensorFlow backend
    is not thread-safe); the rest wait in line and see their place.
    Where RAY_ADDRESS (or TRAINING_STUDIO_RUNNER=ray) names a Ray cluster, jobs train there
    instead, behind the same interface (core.jobs.choice); an unreachable cluster falls back to this.
    """
    return make_job_runner()


@st.cache_resource
def room_registry() -> RoomRegistry:
    """Every workshop room of this server process (core.rooms; thread-safe), shared by every session.

    Caps and the idle time come from TRAINING_STUDIO_MAX_ROOMS and TRAINING_STUDIO_ROOM_* (README).
    """
    return RoomRegistry(limits_from_environment())


def show_runner_notice() -> None:
    """Say so when Ray was configured but trainings run on this server (the cluster was unreachable), or
    when a host's training setting is out of range and the default is used."""
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


def dataset_or_fallback(name: str, data_dir: str | None):
    """(dataset, notice) for a page. Your own images come straight from memory, never through the shared
    cache: they are private to whoever holds their key, and leave memory with the session that uploaded them."""
    from core.data.datasets import load_dataset_or_fallback

    if name == settings.UPLOAD_DATASET:
        return load_dataset_or_fallback(name, data_dir)
    return shared_dataset_or_fallback(name, data_dir)


@st.cache_resource(ttl=300, show_spinner=False)
def shared_dataset_or_fallback(name: str, data_dir: str | None):
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

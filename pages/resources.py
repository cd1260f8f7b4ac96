"""Process-wide resources the pages share: the job runner and its owner watchdog, datasets, Keras, session liveness."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from core import libraries
from core.jobs.choice import make_job_runner, startup_notice
from core.jobs.runner import JobRunner, OwnerWatchdog, orphan_seconds_from_environment
from core.rooms import RoomRegistry, limits_from_environment

if TYPE_CHECKING:  # numpy and the loaders are imported when a page first needs a dataset
    from core.data.datasets import Dataset, DatasetChoice


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


def dataset_choice(name: str, data_dir: str | None) -> DatasetChoice:
    """The chosen dataset, or why it cannot be had (core.data.datasets.choose_dataset).

    A person's own folder or file is read again on every rerun until it loads, so fixing it shows at
    once (what loads is cached by core.data.datasets); a named dataset's outcome is cached.
    """
    if name == "folder" or data_dir:
        from core.data.datasets import choose_dataset

        return choose_dataset(name, data_dir or None)
    return named_dataset_choice(name)


@st.cache_resource(ttl=300, show_spinner=False)
def named_dataset_choice(name: str) -> DatasetChoice:
    """choose_dataset of a named dataset, cached: a failed download is not retried on every rerun for 5 minutes."""
    libraries.load("sklearn")
    if name in ("mnist", "fashion_mnist"):
        # The Keras download path imports Keras: import it here, under the import lock.
        libraries.load("keras")
    from core.data.datasets import choose_dataset

    return choose_dataset(name)


def dataset_or_fallback(name: str, data_dir: str | None) -> tuple[Dataset, str | None]:
    """(dataset, notice) of a dataset that a run already trained on; its DatasetError if it cannot be loaded now."""
    choice = dataset_choice(name, data_dir)
    if choice.error is not None:
        raise choice.error
    return choice.dataset, choice.notice


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

"""What the pages share: session-state keys, process-wide resources and the live-progress fragment.

Not a page itself: app.py's st.navigation lists the pages, so this module is never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core import libraries
from core.jobs import JobRunner
from core.run import ACTIVE_STATUSES, RunSnapshot, TrainingRun

# The live charts redraw this often while a run is active, and never otherwise. A 0.5 s refresh
# was seen stealing the CPU from training on two cores; see bench/train_speed.py for the cost.
REFRESH_SECONDS = 1.0


class Keys:
    """Every st.session_state key, page-prefixed, in one place."""

    KERAS_RUN = "train.keras_run"
    BASELINE_RUN = "train.baseline_run"
    RUN_HISTORY = "train.run_history"
    DATASET_NOTICE = "train.dataset_notice"
    PENDING_LEARNING_RATE = "train.pending_learning_rate"
    COMPARE_X_AXIS = "compare.x_axis"


@st.cache_resource
def job_runner() -> JobRunner:
    """One line of training jobs for the whole server process, shared by every session."""
    return JobRunner()


@st.cache_resource(ttl=300, show_spinner=False)
def dataset_or_fallback(name: str, data_dir: str | None):
    """(dataset, notice): cached, so a failed download is not retried on every rerun for 5 minutes."""
    from core.data import load_dataset_or_fallback

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


def live(runs: Sequence[TrainingRun], draw: Callable[[list[RunSnapshot]], None]) -> None:
    """Draw the runs now, and again every REFRESH_SECONDS while any of them is active.

    Only this fragment reruns on the timer, not the page. When the last run ends it reruns the
    whole page once, which then draws the final state with no timer: an idle app does not poll.
    """
    active = any_active(runs)

    @st.fragment(run_every=REFRESH_SECONDS if active else None)
    def live_fragment() -> None:
        snapshots = [run.snapshot() for run in runs]
        draw(snapshots)
        if active and not any(snap.is_active for snap in snapshots):
            st.rerun()

    live_fragment()

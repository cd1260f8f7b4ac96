"""The app's two patches of Streamlit's private code, in one place, with the versions they were checked against.

Checked against Streamlit 1.50.0 (its source read: both names exist and are read the same way) and 1.67.0
(installed; tests/app/test_streamlit_patches.py passes). requirements.txt allows only that range. A release
that renames either private name makes the patch raise StreamlitPatchError naming it, the first time a page
or app.py runs, instead of silently bringing back what it fixes; the same test fails in CI.
"""

from __future__ import annotations

import streamlit as st

CHECKED_VERSIONS = ("1.50.0", "1.67.0")
_left_legacy_mode = False  # route_through_app has sent this process's first legacy-mode run through app.py


class StreamlitPatchError(RuntimeError):
    """A private name this module patches is gone: Streamlit changed, and the patch must be looked at again."""

    def __init__(self, where: str, name: str) -> None:
        super().__init__(
            f"Streamlit {st.__version__} has no {where}.{name}, which pages/streamlit_patches.py patches (checked "
            f"against Streamlit {' and '.join(CHECKED_VERSIONS)}). Install a Streamlit version within "
            "requirements.txt's bounds, or re-check the patch against this release."
        )


def route_through_app() -> None:
    """Make sure this page runs under app.py's st.navigation, not Streamlit's legacy pages/ mode.

    Every page calls this first. Until st.navigation has been called once in a server process,
    Streamlit serves the pages/ folder the old way: a first visitor who opens /train directly runs
    pages/train.py alone, so app.py (the preload, the page config, the top-bar navigation, the Keras
    patch below) never runs, for every session, until someone opens the home page. Leaving legacy
    mode and rerunning sends this run through app.py, which routes to the same page by its URL.
    """
    global _left_legacy_mode
    from streamlit.runtime.pages_manager import PagesManager

    if "uses_pages_directory" not in vars(PagesManager):
        raise StreamlitPatchError("streamlit.runtime.pages_manager.PagesManager", "uses_pages_directory")
    # Once per process, as a server decides legacy mode once. AppTest decides it again on every run;
    # rerouting each of those would drop the clicks the run carries (a rerun starts with no button pressed).
    if PagesManager.uses_pages_directory and not _left_legacy_mode:
        _left_legacy_mode = True
        PagesManager.uses_pages_directory = False
        st.rerun()


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from resetting Keras after every script run (app.py calls this once per run).

    After each script run, fragment reruns included, Streamlit calls keras.backend.clear_session(),
    which runs a full garbage collection and empties TensorFlow's kernel cache, while a worker
    thread of this app is in the middle of model.fit. Measured here with one browser watching a
    Fashion-MNIST run: training took 2.9× as long as headless. The app keeps no Keras state in
    script threads (models live in run records, built by the worker), so the reset buys nothing.
    Streamlit offers no setting for it: the private hook, looked up by name each time a run ends,
    is replaced.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        raise StreamlitPatchError("streamlit.runtime.scriptrunner.script_runner", "_clean_problem_modules")
    script_runner._clean_problem_modules = leave_modules_alone


def leave_modules_alone() -> None:
    """Replacement for Streamlit's per-run module clean-up (see keep_keras_state_between_reruns)."""

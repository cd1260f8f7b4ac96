"""This session's runs: the pages' one way to start or continue one, or a race (through core.jobs.start).

Train, the Lesson and a room's "try it yourself" all call start_training (a race: start_race), so
saving, the waiting line's estimate and the presenter's room are never left out by one of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from core.config import TrainingConfig
from core.data.datasets import Dataset
from core.jobs.runner import DEFAULT_PRIORITY, PRESENTER_PRIORITY
from core.jobs.start import start_race as queue_race
from core.jobs.start import start_run, start_runs
from core.rooms import RoomError
from core.training.race import Race
from core.training.run import TrainingRun
from pages import rooms
from pages.resources import dataset_or_fallback, job_runner, wait_for_keras
from pages.session import Keys


def start_training(config: TrainingConfig, dataset: Dataset, train: str = "both") -> list[TrainingRun] | None:
    """Queue this session's runs of `config` (train: which models); None, with the error shown, if Keras is missing.

    A presenter's runs go ahead in the line and become what their room watches.
    """
    if train != "baseline" and not wait_for_keras():
        return None
    presented = rooms.presented_room()
    priority = PRESENTER_PRIORITY if presented else DEFAULT_PRIORITY
    runs = start_run(job_runner(), config, dataset, train, priority=priority)
    keep_as_current(runs)
    if presented:
        room, secret = presented
        try:
            room.present_runs(secret, runs)
        except RoomError as error:  # the room ended meanwhile, or is full of runs: the run goes on alone
            st.warning(str(error))
    return runs


def start_race(race: Race, dataset: Dataset) -> Race | None:
    """Queue every variant of `race` (each saved when it ends); None, with the error shown, if Keras is missing.

    The race becomes this session's current one (Train and the Lesson show it). A presenter's race goes
    ahead in the line and is what their room watches, every variant overlaid.
    """
    if not wait_for_keras():
        return None
    presented = rooms.presented_room()
    priority = PRESENTER_PRIORITY if presented else DEFAULT_PRIORITY
    queue_race(job_runner(), race, dataset, priority=priority)
    st.session_state[Keys.RACE] = race
    st.session_state.setdefault(Keys.RUN_HISTORY, []).extend(race.runs)  # on Experiments, like any run
    if presented:
        room, secret = presented
        try:
            room.present_runs(secret, race.runs)
        except RoomError as error:  # the room ended meanwhile, or is full of runs: the race goes on alone
            st.warning(str(error))
    return race


def current_race() -> Race | None:
    """This session's race, if it started one after its last Train."""
    return st.session_state.get(Keys.RACE)


def train_more(runs: Sequence[TrainingRun], extra_epochs: int) -> None:
    """Continue the same models for more epochs; the curves go on where they ended."""
    dataset, _ = dataset_or_fallback(runs[0].config.dataset, runs[0].config.data_dir)
    priority = PRESENTER_PRIORITY if rooms.presented_room() else DEFAULT_PRIORITY
    start_runs(job_runner(), runs, dataset, extra_epochs=extra_epochs, priority=priority)


def keep_as_current(runs: Sequence[TrainingRun]) -> None:
    """Make `runs` this session's current Keras and baseline runs (the pages show them, not an older race)."""
    st.session_state.pop(Keys.RACE, None)
    st.session_state[Keys.KERAS_RUN] = next((run for run in runs if run.kind == "keras"), None)
    st.session_state[Keys.BASELINE_RUN] = next((run for run in runs if run.kind == "baseline"), None)
    st.session_state.setdefault(Keys.RUN_HISTORY, []).extend(runs)

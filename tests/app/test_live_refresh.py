"""The live fragment's timer: slow in line, quick until the first point, then every second, never when idle."""

import threading
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.config import TrainingConfig
from core.jobs.runner import JobRunner
from core.training.run import FINISHED, TrainingRun
from pages.live import (
    FIRST_POINT_REFRESH_SECONDS,
    REFRESH_SECONDS,
    WAITING_REFRESH_SECONDS,
    refresh_seconds,
    waiting_for_others,
)

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CONFIG = TrainingConfig(dataset="digits", epochs=2)


def running(points: int = 0) -> TrainingRun:
    run = TrainingRun(CONFIG)
    run.mark_running(total_epochs=2, steps_per_epoch=10)
    for step in range(1, points + 1):
        run.record_batch(1, step, {"loss": 2.0 / step, "accuracy": 0.1 * step})
    return run


def test_waiting_behind_others_redraws_the_place_in_line_slowly():
    queued = TrainingRun(CONFIG)
    assert refresh_seconds([queued.snapshot()], waiting_for_others=True) == WAITING_REFRESH_SECONDS


def test_a_run_starting_or_compiling_is_watched_closely_until_its_first_point():
    queued_but_taken = TrainingRun(CONFIG)  # out of line: its worker is preparing the data
    assert refresh_seconds([queued_but_taken.snapshot()], waiting_for_others=False) == FIRST_POINT_REFRESH_SECONDS
    assert refresh_seconds([running(points=0).snapshot()], waiting_for_others=False) == FIRST_POINT_REFRESH_SECONDS
    assert FIRST_POINT_REFRESH_SECONDS < REFRESH_SECONDS < WAITING_REFRESH_SECONDS


def test_once_points_arrive_the_charts_redraw_every_refresh_seconds():
    assert refresh_seconds([running(points=3).snapshot()], waiting_for_others=False) == REFRESH_SECONDS
    # Keras has drawn its curves; the baseline after it, not yet started, needs no quick look.
    keras, baseline = running(points=3), TrainingRun(CONFIG, "baseline")
    assert refresh_seconds([keras.snapshot(), baseline.snapshot()], waiting_for_others=False) == REFRESH_SECONDS


def test_nothing_polls_once_every_run_has_ended():
    done = running(points=3)
    done.mark_finished(FINISHED, "Finished 2 epochs.")
    assert refresh_seconds([done.snapshot()], waiting_for_others=False) is None
    assert refresh_seconds([], waiting_for_others=False) is None


def test_only_a_run_behind_someone_elses_training_waits_for_others():
    runner = JobRunner(max_concurrent=1)
    started, release = threading.Event(), threading.Event()
    first, second = TrainingRun(CONFIG), TrainingRun(CONFIG)
    runner.submit([first], lambda: started.set() or release.wait(30), preload="charts")
    runner.submit([second], lambda: None, preload="charts")
    try:
        assert started.wait(30), "the first job started"
        assert not waiting_for_others([first], runner), "its own job is the one running"
        assert waiting_for_others([second], runner), "place 1, behind the first job"
    finally:
        release.set()
        runner.wait_idle(30)
    assert not waiting_for_others([second], runner), "done: out of line"


def test_a_job_just_submitted_to_an_idle_line_is_starting_not_waiting():
    runner = JobRunner(max_concurrent=1)
    run = TrainingRun(CONFIG)
    # Holding the line's lock keeps the new worker from taking the job: the moment right after Train.
    with runner._condition:
        runner.submit([run], lambda: None, preload="charts")
        assert runner.position(run) == 1
        assert not waiting_for_others([run], runner)
    runner.wait_idle(30)


def test_the_train_page_shows_empty_curves_before_the_first_run_once_it_is_usable():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.get("plotly_chart"), "no charts on the first run: the page is usable before Plotly loads"
    at.selectbox(key="train.dataset").set_value("digits").run()
    # pages/train.py draws them CHARTS_DELAY_SECONDS (2 s) after the first run; AppTest has no
    # timer for the rerun the page asks for, so wait and rerun as the browser would.
    time.sleep(2.5)
    at.run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 2, "loss and accuracy, where the curves will be"
    assert all('"data":[]' in chart.proto.spec.replace(" ", "") for chart in charts), "no points yet"


def test_a_rooms_viewers_wait_for_the_first_point_at_their_own_pace():
    # Thirty viewers polling at 0.5 s through the first compile starved it on two cores (bench/room_load.py).
    assert refresh_seconds([running(points=0).snapshot()], waiting_for_others=False, every=2.0, owned=False) == 2.0
    assert refresh_seconds([running(points=0).snapshot()], False, owned=False) == REFRESH_SECONDS


def waited_for(age: float, finish: bool = False):
    """A page drawing a run `age` seconds old whose worker records its first point (or ends) 0.3 s later."""

    def script(age: float, finish: bool) -> None:
        import threading

        import streamlit as st

        from core.config import TrainingConfig
        from core.training.run import STOPPED, TrainingRun
        from pages.live import live

        if "run" not in st.session_state:
            run = st.session_state.run = TrainingRun(TrainingConfig(dataset="digits", epochs=2))
            run.created_at -= age
            run.mark_running(2, 10)
            worker = (run.mark_finished, (STOPPED, "Stopped.")) if finish else (run.record_batch, (1, 1, {"loss": 2.0}))
            threading.Timer(0.3, *worker).start()
        live([st.session_state.run], lambda snaps: st.write(f"{snaps[0].status}, points: {len(snaps[0].batches)}"))

    at = AppTest.from_function(script, args=(age, finish), default_timeout=60)
    at.run()
    assert not at.exception
    return [element.value for element in at.markdown]


def test_right_after_train_the_page_waits_for_the_first_point_and_draws_it():
    assert waited_for(age=0.0) == ["running, points: 1"], "drawn by the same script run, not by the next poll"


def test_an_older_run_without_a_point_is_left_to_the_poll():
    assert waited_for(age=5.0) == ["running, points: 0"]


def test_a_run_that_ends_while_the_page_waits_redraws_the_page_as_it_ended():
    # The page's buttons were drawn while it trained: the page reruns, so Train is enabled again.
    assert waited_for(age=0.0, finish=True) == ["stopped, points: 0"]

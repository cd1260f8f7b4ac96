"""The live-progress fragment: the runs drawn now, and redrawn on a timer while any of them is active."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import streamlit as st

from core.jobs.runner import JobRunner
from core.results.lesson_texts import STOPPING_LABEL
from core.training.run import QUEUED, RunSnapshot, TrainingRun, has_a_point, wait_for_a_point
from pages.resources import job_runner, owner_watchdog, this_session_id

# The live charts redraw this often while a run is active, and never otherwise: redrawing more often
# takes the CPU from training on two cores (bench/page_open.py measures the cost).
REFRESH_SECONDS = 1.0
# While every run waits in line behind other people's trainings, only its place is redrawn, this often.
WAITING_REFRESH_SECONDS = 2.0
# From Train to the first batch point (data, model, XLA compiling the first step) the fragment looks
# this often, so the first point is drawn soon after it exists; then REFRESH_SECONDS. Looking more often
# draws it no sooner on two cores: the redraws slow the compiling as much as they save (bench/first_point.py).
FIRST_POINT_REFRESH_SECONDS = 0.5
# A run this young with no point yet (the page's run right after Train) is waited for, at most until
# it is this old, woken by the run's own updates: its first point is then drawn by that same script
# run, with no poll in between: on a warm server the digits' first point comes well within this.
FIRST_POINT_WAIT_SECONDS = 1.0


def refresh_seconds(
    snapshots: Sequence[RunSnapshot], waiting_for_others: bool, every: float = REFRESH_SECONDS, owned: bool = True
) -> float | None:
    """How often the live fragment reruns for these runs; None when none is active (nothing polls).

    Every run waiting in line behind others' trainings: WAITING_REFRESH_SECONDS. Started, or about
    to start, with no point to draw yet: FIRST_POINT_REFRESH_SECONDS. Points to draw: `every`
    (REFRESH_SECONDS for the run's owner; a room's viewers may redraw less often).
    """
    if not any(snap.is_active for snap in snapshots):
        return None
    if waiting_for_others and all(snap.status == QUEUED for snap in snapshots):
        return max(WAITING_REFRESH_SECONDS, every)
    if not any(has_a_point(snap) for snap in snapshots):
        # Only the run's owner looks faster for the first point: a room's viewers polling at 0.5 s through
        # the first compile starved it of the GIL on two cores (bench/room_load.py), and it never ended.
        return FIRST_POINT_REFRESH_SECONDS if owned else max(every, REFRESH_SECONDS)
    return every


def waiting_for_others(runs: Sequence[TrainingRun], runner: JobRunner) -> bool:
    """Whether these runs still have someone else's training ahead of them in `runner`'s line."""
    places = [place for run in runs if (place := runner.position(run)) is not None]
    if not places:
        return False
    # First in line with nothing training: the worker is taking it right now (it was just submitted).
    return not (min(places) == 1 and runner.counts()["running"] == 0)


def live(
    runs: Sequence[TrainingRun],
    draw: Callable[[list[RunSnapshot]], None],
    *,
    owned: bool = True,
    every: float = REFRESH_SECONDS,
    changed: Callable[[], bool] | None = None,
    drawn: Sequence[RunSnapshot] | None = None,
) -> None:
    """Draw the runs now, and again on a timer (see refresh_seconds) while any of them is active.

    owned: the runs are this session's (closing its tab cancels them); a room's viewers watch
    runs that are not theirs. every: the redraw interval once points flow. changed: asked at each
    redraw; True reruns the whole page (a room's presenter moved on). drawn: the snapshots the page
    decided its buttons with (Train disabled, Stop enabled); the timer is set from those same
    snapshots, so a run that ends after the page looked still leaves a timer, whose first tick
    reruns the page with the run ended (Train enabled again).

    Only this fragment reruns on the timer, not the page. While every run still waits in line it
    shows only the place in line: on a shared two-core server each waiting browser would otherwise
    redraw empty charts every second, next to the one that trains. A fragment's timer is fixed
    when the page runs, so when the interval should change (the run leaves the line, draws its
    first point, or the last one ends) the fragment reruns the whole page once, which then sets
    the new timer (or none: an idle app does not poll). The first point is drawn before that rerun.
    Right after Train the page waits up to FIRST_POINT_WAIT_SECONDS for it instead.
    """

    def refresh_now() -> float | None:
        return refresh_seconds([run.snapshot() for run in runs], waiting_for_others(runs, job_runner()), every, owned)

    if drawn is None:
        refresh = refresh_now()
    else:
        refresh = refresh_seconds(drawn, waiting_for_others(runs, job_runner()), every, owned)
    if refresh == FIRST_POINT_REFRESH_SECONDS and owned:
        wait = FIRST_POINT_WAIT_SECONDS - (time.time() - max(run.created_at for run in runs))
        if wait > 0:
            wait_for_a_point(runs, wait)
            refresh = refresh_now()
            if refresh is None:  # ended meanwhile (a warm digits run may): redraw the page as it is now
                st.rerun()
    session_id = this_session_id()
    if refresh is not None and session_id and owned:
        # Tie the runs to this browser session: closing the tab cancels them (see owner_watchdog).
        owner_watchdog().watch(runs, session_id)
    first_points_drawn = False

    @st.fragment(run_every=refresh)
    def live_fragment() -> None:
        nonlocal first_points_drawn
        if changed is not None and changed():
            st.rerun()
        snapshots = [run.snapshot() for run in runs]
        waiting = waiting_for_others(runs, job_runner())
        now = refresh_seconds(snapshots, waiting, every, owned) if refresh is not None else None
        if now != refresh:
            if refresh == FIRST_POINT_REFRESH_SECONDS and now == every and not first_points_drawn:
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


def is_stopping(snapshots: Sequence[RunSnapshot]) -> bool:
    """Stop was pressed for every active run and none has ended yet (False when none is active)."""
    active = [snap for snap in snapshots if snap.is_active]
    return bool(active) and all(snap.stopping for snap in active)


def stop_runs(runs: Sequence[TrainingRun]) -> None:
    """Stop's callback: waiting runs leave the line, running ones stop at their next batch (model kept).

    A callback runs before the script, so the press's own script run already draws "Stopping…".
    """
    job_runner().cancel(runs)


def stop_button(
    runs: Sequence[TrainingRun], snapshots: Sequence[RunSnapshot], label: str, key: str, **button_options
) -> None:
    """The one Stop: enabled while a run is active, then a disabled STOPPING_LABEL until every run has ended.

    `snapshots` are the ones the page draws with, so the button agrees with the live area's timer.
    """
    active = any(snap.is_active for snap in snapshots)
    if is_stopping(snapshots):
        # Under a key of its own: a new element that replaces Stop in the browser, whatever the frontend
        # keeps of a keyed widget from one script run to the next.
        st.button(STOPPING_LABEL, disabled=True, key=f"{key}.stopping", **button_options)
        return
    st.button(label, disabled=not active, on_click=stop_runs, args=(tuple(runs),), key=key, **button_options)


def rerun_when(changed: Callable[[], bool], every: float) -> None:
    """Ask `changed()` every `every` seconds and rerun the page when it says so; draws nothing.

    A room's viewers wait this way while nothing trains: one cheap question per tick, no redraw.
    """

    @st.fragment(run_every=every)
    def watcher() -> None:
        if changed():
            st.rerun()

    watcher()

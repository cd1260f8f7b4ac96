"""Waiting in tests: poll a condition until it holds, or fail saying what never happened.

Timeouts here are generous functional bounds ("it happens at all"), never measurements: a passing
poll returns as soon as its condition holds, so a long timeout costs nothing when things work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(condition: Callable[[], T], timeout: float, message: str, every: float = 0.05) -> T:
    """Call `condition` until it returns something truthy and return that; AssertionError after `timeout` s.

    The error says what was awaited (`message`), for how long, and what `condition` returned last.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Gave up after {timeout:g} s waiting until {message} (last seen: {value!r}).")
        time.sleep(every)


def rerun_until(at, done: Callable[[object], T], timeout: float, message: str) -> T:
    """poll_until for a streamlit.testing AppTest, which has no timer: the live fragment's run_every
    never fires there, so each poll reruns the script with at.run() before asking `done(at)`."""

    def rerun_and_check() -> T:
        at.run()
        return done(at)

    return done(at) or poll_until(rerun_and_check, timeout, message, every=0.5)


def stop_at_first(run, kind: str) -> None:
    """Have `run` (a core.training.run.TrainingRun) stop at its first update of `kind` ("batch" or "epoch").

    Not a timer: a timer of 1 s let a warm JAX run finish all 100 digits epochs first on a fast machine.
    """
    run.follow(lambda update: run.request_stop() if update.kind == kind else None)

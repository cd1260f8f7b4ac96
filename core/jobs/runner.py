"""Runs training jobs in worker threads, a limited number at a time, the rest waiting in line."""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Sequence

from core import libraries
from core.training.eta import seconds_left
from core.training.run import ACTIVE_STATUSES, CANCELLED, FAILED, QUEUED, RUNNING, TrainingRun

# Keras's TensorFlow backend declares itself not thread-safe: one fit per process at a time.
DEFAULT_MAX_CONCURRENT = 1
# Where a job joins the line: a workshop presenter's run goes ahead of the room's own tries (the room is
# watching it); everyone else waits in order of arrival.
PRESENTER_PRIORITY = 0
DEFAULT_PRIORITY = 1
# Training threads' niceness (0 normal, 19 lowest). At 10, a run took 6-7x as long whenever two
# ordinary processes (a browser drawing the charts, screen sharing) wanted the same two cores, and
# page loads got no faster for it (bench/busy_page.py --niceness 10,0). Hosts may raise it.
TRAINING_NICENESS = 0
TRAINING_NICENESS_ENV = "TRAINING_STUDIO_TRAINING_NICENESS"
# Hosts with more cores (or a backend that is thread-safe) may allow more trainings at once.
MAX_CONCURRENT_ENV = "TRAINING_STUDIO_MAX_CONCURRENT"
# A run whose owner (a browser session) has been gone this long is cancelled; see OwnerWatchdog.
ORPHAN_SECONDS_ENV = "TRAINING_STUDIO_ORPHAN_SECONDS"
DEFAULT_ORPHAN_SECONDS = 15.0

Job = Callable[[], None]


class JobRunner:
    """A process-wide line of training jobs; thread-safe, shared by every session.

    A job is a callable that trains one or more runs (say Keras, then the baseline). Each job gets
    a worker thread of its own that waits for a free slot in order of arrival, so a click or a page
    switch in the browser never kills or restarts it.
    """

    def __init__(self, max_concurrent: int = DEFAULT_MAX_CONCURRENT, niceness: int = TRAINING_NICENESS) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1; got {max_concurrent}.")
        self.max_concurrent = max_concurrent
        self.niceness = niceness
        self._condition = threading.Condition()
        self._waiting: list[tuple[TrainingRun, ...]] = []
        self._priority: dict[tuple[TrainingRun, ...], int] = {}
        self._running: list[tuple[TrainingRun, ...]] = []
        self._threads: list[threading.Thread] = []

    def submit(
        self, runs: Sequence[TrainingRun], job: Job, preload: str = "keras", priority: int = DEFAULT_PRIORITY
    ) -> None:
        """Queue `job`, which trains `runs` in order; returns at once.

        Jobs wait in order of priority (lower first: PRESENTER_PRIORITY before DEFAULT_PRIORITY), then
        of arrival. The heavy libraries are imported here, in the caller's thread and under the import
        lock, before the worker exists (see core.libraries).
        """
        libraries.load(preload)
        entry = tuple(runs)
        with self._condition:
            behind = [place for place, other in enumerate(self._waiting) if self._priority[other] > priority]
            self._waiting.insert(behind[0] if behind else len(self._waiting), entry)
            self._priority[entry] = priority
            self._update_positions()
        thread = threading.Thread(target=self._work, args=(entry, job), name=f"train-{entry[0].run_id}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def position(self, run: TrainingRun) -> int | None:
        """1-based place in the waiting line, or None when the run is not waiting."""
        with self._condition:
            for place, entry in enumerate(self._waiting, start=1):
                if run in entry:
                    return place
        return None

    def cancel(self, runs: Sequence[TrainingRun]) -> None:
        """Take waiting runs out of line; ask running ones to stop at the next batch."""
        with self._condition:
            for entry in list(self._waiting):
                if any(run in entry for run in runs):
                    self._waiting.remove(entry)
                    self._priority.pop(entry, None)
                    for run in entry:
                        run.request_stop()
                        run.mark_finished(CANCELLED, "Cancelled before it started.")
            self._update_positions()
            self._condition.notify_all()
        for run in runs:
            run.request_stop()

    def seconds_until_start(self, run: TrainingRun) -> float | None:
        """Estimated wait before a waiting `run` starts: what is left of the trainings ahead of it, shared
        among the slots (each run's estimate, see core.jobs.start). None when it is not waiting."""
        with self._condition:
            place = next((i for i, entry in enumerate(self._waiting) if run in entry), None)
            if place is None:
                return None
            ahead = [r for entry in self._running for r in entry if r.status in ACTIVE_STATUSES]
            ahead += [r for entry in self._waiting[:place] for r in entry]
            ahead += self._waiting[place][: self._waiting[place].index(run)]  # earlier runs of its own job
        # A run with neither a pace nor an estimate to go by counts as nothing.
        left = sum(seconds_left([r.snapshot()]) or 0.0 for r in ahead)
        return left / self.max_concurrent

    def counts(self) -> dict[str, int]:
        with self._condition:
            return {"running": len(self._running), "waiting": len(self._waiting)}

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job runs or waits (tests, the command line, shutdown)."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._running and not self._waiting, timeout)

    def _work(self, entry: tuple[TrainingRun, ...], job: Job) -> None:
        with self._condition:
            self._condition.wait_for(lambda: entry not in self._waiting or self._has_slot_for(entry))
            if entry not in self._waiting:  # cancelled while waiting
                return
            self._waiting.remove(entry)
            self._priority.pop(entry, None)
            self._running.append(entry)
            self._update_positions()
        # Out of line: say so at once, not "place 1" until the job's first message (data, compiling).
        if entry[0].status == QUEUED:
            entry[0].set_message("Starting: preparing the data and building the model.")
        try:
            libraries.yield_cpu_to_the_server(self.niceness)
            job()
        except BaseException as error:
            _fail_unfinished(entry, error)
        finally:
            with self._condition:
                self._running.remove(entry)
                self._condition.notify_all()

    def _has_slot_for(self, entry: tuple[TrainingRun, ...]) -> bool:
        return len(self._running) < self.max_concurrent and self._waiting[0] is entry

    def _update_positions(self) -> None:
        for place, entry in enumerate(self._waiting, start=1):
            for run in entry:
                if run.status == QUEUED:
                    ahead = place - 1 + len(self._running)
                    run.set_message(f"Waiting in line: place {place} ({ahead} training(s) ahead).")


def max_concurrent_from_environment(environ: dict | None = None) -> int:
    """The per-process limit on trainings at once: $TRAINING_STUDIO_MAX_CONCURRENT, else 1."""
    return positive_from_environment(environ, MAX_CONCURRENT_ENV, DEFAULT_MAX_CONCURRENT, int)


def training_niceness_from_environment(environ: dict | None = None) -> int:
    """The training threads' niceness: $TRAINING_STUDIO_TRAINING_NICENESS (0-19), else TRAINING_NICENESS."""
    raw = (os.environ if environ is None else environ).get(TRAINING_NICENESS_ENV, "").strip()
    if not raw:
        return TRAINING_NICENESS
    if not raw.isdigit() or int(raw) > 19:
        raise ValueError(f"{TRAINING_NICENESS_ENV} must be a whole number from 0 to 19; got {raw!r}.")
    return int(raw)


def job_runner_from_environment(environ: dict | None = None) -> JobRunner:
    """This server's line of trainings, with the host's limit and niceness (TRAINING_STUDIO_* variables)."""
    return JobRunner(max_concurrent_from_environment(environ), training_niceness_from_environment(environ))


def orphan_seconds_from_environment(environ: dict | None = None) -> float:
    """How long a run may outlive its session: $TRAINING_STUDIO_ORPHAN_SECONDS, else 15 s."""
    return positive_from_environment(environ, ORPHAN_SECONDS_ENV, DEFAULT_ORPHAN_SECONDS, float)


def positive_from_environment(environ: dict | None, name: str, default, kind: type = float):
    """A positive number from an environment variable, `default` when unset; ValueError names the variable."""
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not value > 0:
        fallback = "for no limit" if default is None else f"to use {default}"
        raise ValueError(f"{name} must be a positive {kind.__name__}; got {raw!r}. Unset it {fallback}.")
    return value


class OwnerWatchdog:
    """Cancels the runs of owners (browser sessions) that have gone away.

    Streamlit has no public hook for "this session closed", so the watchdog asks `is_alive(owner)`
    once per `interval` and cancels an owner's active runs after it has been gone for
    `grace_seconds` (a network blip or a reconnect within the grace keeps the run). `cancel` is the
    runner's cancel, so this works with any runner that has one. The checking thread exists only
    while some run is watched: an idle app does not poll.
    """

    def __init__(
        self,
        cancel: Callable[[Sequence[TrainingRun]], None],
        is_alive: Callable[[Hashable], bool],
        grace_seconds: float = DEFAULT_ORPHAN_SECONDS,
        interval: float = 1.0,
    ) -> None:
        self._cancel = cancel
        self._is_alive = is_alive
        self.grace_seconds = grace_seconds
        self.interval = interval
        self._lock = threading.Lock()
        self._owners: dict[Hashable, list[TrainingRun]] = {}
        self._gone_since: dict[Hashable, float] = {}
        self._thread: threading.Thread | None = None

    def watch(self, runs: Sequence[TrainingRun], owner: Hashable) -> None:
        """Tie active `runs` to `owner`; idempotent, so a page may call it on every redraw."""
        with self._lock:
            watched = self._owners.setdefault(owner, [])
            watched.extend(run for run in runs if run not in watched and run.status in ACTIVE_STATUSES)
            if watched and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._loop, name="owner-watchdog", daemon=True)
                self._thread.start()

    def watched(self) -> int:
        """How many runs are watched now (tests, the bench)."""
        with self._lock:
            return sum(len(runs) for runs in self._owners.values())

    @property
    def polling(self) -> bool:
        """Whether the checking thread is alive (it ends when nothing is watched)."""
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def check(self, now: float | None = None) -> list[TrainingRun]:
        """One pass: forget ended runs, cancel those whose owner is gone past the grace; returns them."""
        now = time.monotonic() if now is None else now
        to_cancel: list[TrainingRun] = []
        with self._lock:
            for owner in list(self._owners):
                runs = [run for run in self._owners[owner] if run.status in ACTIVE_STATUSES]
                if runs and not self._alive(owner):
                    gone_since = self._gone_since.setdefault(owner, now)
                    if now - gone_since >= self.grace_seconds:
                        to_cancel.extend(runs)
                        runs = []
                else:
                    self._gone_since.pop(owner, None)
                if runs:
                    self._owners[owner] = runs
                else:
                    del self._owners[owner]
                    self._gone_since.pop(owner, None)
        if to_cancel:
            self._cancel(to_cancel)
        return to_cancel

    def _alive(self, owner: Hashable) -> bool:
        try:
            return bool(self._is_alive(owner))
        except Exception:  # when in doubt, keep the run: cancelling a live user's work is worse
            return True

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            self.check()
            with self._lock:
                if not self._owners:
                    self._thread = None
                    return


def _fail_unfinished(entry: tuple[TrainingRun, ...], error: BaseException) -> None:
    last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    message = f"Training failed: {type(error).__name__}: {error}{where}"
    for run in entry:
        if run.status in (QUEUED, RUNNING):
            run.mark_finished(FAILED, message)

"""Runs training jobs in worker threads, a limited number at a time, the rest waiting in line."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence

from core import libraries
from core.run import CANCELLED, FAILED, QUEUED, RUNNING, TrainingRun

# Keras's TensorFlow backend declares itself not thread-safe: one fit per process at a time.
DEFAULT_MAX_CONCURRENT = 1

Job = Callable[[], None]


class JobRunner:
    """A process-wide line of training jobs; thread-safe, shared by every session.

    A job is a callable that trains one or more runs (say Keras, then the baseline). Each job gets
    a worker thread of its own that waits for a free slot in order of arrival, so a click or a page
    switch in the browser never kills or restarts it.
    """

    def __init__(self, max_concurrent: int = DEFAULT_MAX_CONCURRENT) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1; got {max_concurrent}.")
        self.max_concurrent = max_concurrent
        self._condition = threading.Condition()
        self._waiting: list[tuple[TrainingRun, ...]] = []
        self._running: list[tuple[TrainingRun, ...]] = []
        self._threads: list[threading.Thread] = []

    def submit(self, runs: Sequence[TrainingRun], job: Job, preload: str = "keras") -> None:
        """Queue `job`, which trains `runs` in order; returns at once.

        The heavy libraries are imported here, in the caller's thread and under the import lock,
        before the worker exists (see core.libraries).
        """
        libraries.load(preload)
        entry = tuple(runs)
        with self._condition:
            self._waiting.append(entry)
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
                    for run in entry:
                        run.request_stop()
                        run.mark_finished(CANCELLED, "Cancelled before it started.")
            self._update_positions()
            self._condition.notify_all()
        for run in runs:
            run.request_stop()

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
            self._running.append(entry)
            self._update_positions()
        try:
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


def _fail_unfinished(entry: tuple[TrainingRun, ...], error: BaseException) -> None:
    last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    message = f"Training failed: {type(error).__name__}: {error}{where}"
    for run in entry:
        if run.status in (QUEUED, RUNNING):
            run.mark_finished(FAILED, message)

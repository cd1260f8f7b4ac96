"""The run record: a thread-safe account of one training run that the worker writes and pages read.

Every change to a run is one RunUpdate. The record applies it to its own state and hands it to
whoever follows the run (a Ray transport, a room, a test), in order, so a second record can be kept
in step with the first by applying the same updates: see TrainingRun.apply and follow.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from core.config import TrainingConfig
from core.training.paces import Estimate

QUEUED = "queued"
RUNNING = "running"
STOPPED = "stopped"
FINISHED = "finished"
FAILED = "failed"
CANCELLED = "cancelled"
ACTIVE_STATUSES = (QUEUED, RUNNING)

RUN_RECORD_VERSION = 1
# A batch point is kept at most this often per epoch, so a 100-epoch run stays small in memory and JSON.
MAX_BATCH_POINTS_PER_EPOCH = 60

# The kinds of update a run emits; TrainingRun.apply understands exactly these.
DESCRIBED = "described"  # dataset title and parameter count
STARTED = "started"  # status running: total epochs, steps per epoch, message
BATCH = "batch"  # progress within an epoch, and a curve point when one is kept
EPOCH = "epoch"  # one epoch's row of training and validation scores
LEARNING_RATE = "learning_rate"  # the learning rate changed mid-run
DETAIL = "detail"  # extra results for later pages (per-class scores, confusion matrices, weights)
TEST_METRICS = "test_metrics"
MESSAGE = "message"
STOPPING = "stopping"  # Stop was pressed: the run ends at its next batch
ENDED = "ended"  # finished, stopped, failed or cancelled, with the fit time
REQUEUED = "requeued"  # queued again to train more epochs
UPDATE_KINDS = (
    DESCRIBED,
    STARTED,
    BATCH,
    EPOCH,
    LEARNING_RATE,
    DETAIL,
    TEST_METRICS,
    MESSAGE,
    STOPPING,
    ENDED,
    REQUEUED,
)


@dataclass(frozen=True)
class RunUpdate:
    """One change to a run, as plain data: what kind of change, and its values."""

    kind: str
    data: dict

    def __post_init__(self) -> None:
        if self.kind not in UPDATE_KINDS:
            raise ValueError(f"Unknown run update {self.kind!r}; expected one of {', '.join(UPDATE_KINDS)}.")


Follower = Callable[[RunUpdate], None]


@dataclass(frozen=True)
class RunSnapshot:
    """A consistent, immutable copy of a run at one moment: what a page draws."""

    run_id: str
    kind: str
    label: str
    config: TrainingConfig
    status: str
    message: str
    epochs: tuple[dict, ...]
    batches: tuple[dict, ...]
    learning_rate_changes: tuple[dict, ...]
    total_epochs: int
    steps_per_epoch: int
    current_epoch: int
    current_step: int
    elapsed_seconds: float
    test_metrics: dict
    fit_seconds: float | None
    dataset_title: str
    parameter_count: int | None
    details: dict = field(default_factory=dict)
    # How many updates the run had had: equal versions of one run are equal snapshots (but for the clock).
    version: int = 0
    # Stop was pressed and the run has not ended yet: it ends at its next batch.
    stopping: bool = False
    estimate: Estimate | None = None  # what the run was expected to take (TrainingRun.estimate)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def progress(self) -> float:
        """Share of the planned steps done, 0 to 1."""
        total = self.total_epochs * max(self.steps_per_epoch, 1)
        done = (self.current_epoch - 1) * self.steps_per_epoch + self.current_step
        return 0.0 if total == 0 else min(1.0, max(0.0, done / total))


class TrainingRun:
    """One training run (Keras or baseline): settings, live progress, history, outcome.

    The worker thread writes through the record_*, set_* and mark_* methods; pages call snapshot().
    Each write becomes a RunUpdate, applied under one lock (a page never sees half an epoch) and
    passed to the run's followers in order. Requests from the page (stop, a new learning rate) are
    not updates: they travel the other way, to the worker.
    """

    def __init__(
        self, config: TrainingConfig, kind: str = "keras", label: str | None = None, run_id: str | None = None
    ) -> None:
        self.run_id = run_id or uuid.uuid4().hex[:10]
        self.kind = kind
        self.label = label or ("Keras" if kind == "keras" else "scikit-learn MLP")
        self.config = config
        self.created_at = time.time()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._followers: list[Follower] = []
        self._version = 0
        self._snapshot: RunSnapshot | None = None  # the last one made, shared until the next update
        self._status = QUEUED
        self._stopping = False
        self._message = "Waiting to start."
        self._epochs: list[dict] = []
        self._batches: list[dict] = []
        self._lr_changes: list[dict] = []
        self._requested_lr: float | None = None
        self._total_epochs = config.epochs
        self._steps_per_epoch = 0
        self._current_epoch = 0
        self._current_step = 0
        # The clock runs from mark_running to mark_finished; "train more" adds to what it showed.
        self._started: float | None = None
        self._time_before_resume = 0.0
        self._test_metrics: dict = {}
        self._fit_seconds: float | None = None
        self._dataset_title = ""
        self._parameter_count: int | None = None
        self._details: dict[str, Any] = {}
        # Not part of snapshots or updates: large or live objects the engine and evaluation pages need.
        self.model: Any = None
        self.test_probabilities: Any = None
        # What the run is expected to take (core.jobs.start sets it): for the time left, and, once trained,
        # to measure the estimate by (core.training.estimate.note_run). Not an update: a copy of the run
        # elsewhere (a Ray worker, a room's viewer) has none.
        self._estimate: Estimate | None = None

    # --- followers -------------------------------------------------------------------------
    def follow(self, follower: Follower) -> Callable[[], None]:
        """Call follower(update) after every change from now on, in order; returns a function that stops it.

        Followers run in the writer's thread, under the run's lock: keep them quick (append, notify).
        """
        with self._lock:
            self._followers.append(follower)

        def unfollow() -> None:
            with self._lock:
                if follower in self._followers:
                    self._followers.remove(follower)

        return unfollow

    def apply(self, update: RunUpdate) -> None:
        """Apply an update made by another record of this run (say, on a Ray worker), and pass it on."""
        with self._lock:
            self._apply(update)
            self._version += 1
            self._snapshot = None
            for follower in list(self._followers):
                follower(update)

    def _emit(self, kind: str, **data) -> None:
        self.apply(RunUpdate(kind, data))

    # --- written by the worker -------------------------------------------------------------
    @property
    def dataset_title(self) -> str:
        return self._dataset_title

    @dataset_title.setter
    def dataset_title(self, title: str) -> None:
        self._emit(DESCRIBED, dataset_title=title, parameter_count=self._parameter_count)

    @property
    def parameter_count(self) -> int | None:
        return self._parameter_count

    @parameter_count.setter
    def parameter_count(self, count: int | None) -> None:
        self._emit(DESCRIBED, dataset_title=self._dataset_title, parameter_count=count)

    def mark_running(self, total_epochs: int, steps_per_epoch: int, message: str = "Training.") -> None:
        self._emit(STARTED, total_epochs=total_epochs, steps_per_epoch=steps_per_epoch, message=message)

    def record_batch(self, epoch: int, step: int, logs: dict[str, float]) -> None:
        """epoch is 1-based; step counts batches done in this epoch (1..steps_per_epoch)."""
        with self._lock:
            # steps_per_execution can report a step past the epoch's end on its last call.
            step = min(step, max(self._steps_per_epoch, 1))
            every = max(1, self._steps_per_epoch // MAX_BATCH_POINTS_PER_EPOCH)
            last = self._batches[-1] if self._batches else None
            point = None
            if not (last and last["epoch"] == epoch and step - last["step"] < every):
                point = {"epoch": epoch, "step": step, "seconds": self._elapsed()}
                point["progress"] = epoch - 1 + step / max(self._steps_per_epoch, 1)
                point.update(_clean(logs))
            self._emit(BATCH, epoch=epoch, step=step, point=point)

    def record_epoch(self, epoch: int, logs: dict[str, float], learning_rate: float | None = None) -> None:
        with self._lock:
            row = {"epoch": epoch, "seconds": self._elapsed(), "learning_rate": learning_rate}
            row.update(_clean(logs))
            self._emit(EPOCH, row=row)

    def record_learning_rate_change(self, epoch: int, step: int, learning_rate: float) -> None:
        with self._lock:
            progress = epoch - 1 + step / max(self._steps_per_epoch, 1)
            self._emit(LEARNING_RATE, change={"progress": progress, "learning_rate": learning_rate})

    def set_detail(self, key: str, value: Any) -> None:
        """Extra per-run results (per-class scores, confusion matrices, …) for later pages."""
        self._emit(DETAIL, key=key, value=value)

    def set_test_metrics(self, metrics: dict[str, float]) -> None:
        self._emit(TEST_METRICS, metrics=_clean(metrics))

    def mark_finished(self, status: str, message: str) -> None:
        with self._lock:
            fit_seconds = self._elapsed() if self._started is not None else self._fit_seconds
            self._emit(ENDED, status=status, message=message, fit_seconds=fit_seconds)

    def prepare_more_epochs(self, extra_epochs: int) -> None:
        """Queue the same run for more epochs; the curves continue where they ended."""
        with self._lock:
            self._stop.clear()
            self._emit(
                REQUEUED,
                total_epochs=len(self._epochs) + extra_epochs,
                message=f"Waiting to train {extra_epochs} more epochs.",
            )

    def set_message(self, message: str) -> None:
        self._emit(MESSAGE, message=message)

    @property
    def estimate(self) -> Estimate | None:
        return self._estimate

    @estimate.setter
    def estimate(self, estimate: Estimate | None) -> None:
        with self._lock:
            self._estimate = estimate
            self._snapshot = None  # the next snapshot carries it

    # --- requested by the page -------------------------------------------------------------
    def request_stop(self) -> None:
        """Ask the worker to stop at its next batch; an active run says at once that it is stopping.

        The request itself travels to the worker; the STOPPING update lets every page that draws the
        run (and every record that follows it) show "Stopping…" before the worker has seen it.
        """
        with self._lock:
            self._stop.set()
            if self._status in ACTIVE_STATUSES and not self._stopping:
                self._emit(STOPPING)

    def request_learning_rate(self, learning_rate: float) -> None:
        with self._lock:
            self._requested_lr = float(learning_rate)

    # --- read by the worker ------------------------------------------------------------
    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def take_learning_rate_request(self) -> float | None:
        with self._lock:
            learning_rate, self._requested_lr = self._requested_lr, None
            return learning_rate

    # --- read by anyone ----------------------------------------------------------------
    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def version(self) -> int:
        """How many updates the run has had: a follower that saw this many has seen everything."""
        with self._lock:
            return self._version

    @property
    def completed_epochs(self) -> int:
        with self._lock:
            return len(self._epochs)

    def snapshot(self) -> RunSnapshot:
        """The run now. Snapshots are shared between callers until the next update (only the clock is
        refreshed), so any number of pages can draw one run without copying its history each."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = RunSnapshot(
                    run_id=self.run_id,
                    kind=self.kind,
                    label=self.label,
                    config=self.config,
                    status=self._status,
                    message=self._message,
                    epochs=tuple(dict(row) for row in self._epochs),
                    batches=tuple(dict(point) for point in self._batches),
                    learning_rate_changes=tuple(dict(c) for c in self._lr_changes),
                    total_epochs=self._total_epochs,
                    steps_per_epoch=self._steps_per_epoch,
                    current_epoch=self._current_epoch,
                    current_step=self._current_step,
                    elapsed_seconds=self._elapsed(),
                    test_metrics=dict(self._test_metrics),
                    fit_seconds=self._fit_seconds,
                    dataset_title=self._dataset_title,
                    parameter_count=self._parameter_count,
                    details=dict(self._details),
                    version=self._version,
                    stopping=self._stopping,
                    estimate=self._estimate,
                )
            elif self._started is not None:
                self._snapshot = dataclasses.replace(self._snapshot, elapsed_seconds=self._elapsed())
            return self._snapshot

    def history_updates(self) -> list[RunUpdate]:
        """The updates that give a new record this run's finished epochs and details ("train more" elsewhere)."""
        with self._lock:
            rows = [RunUpdate(EPOCH, {"row": dict(row)}) for row in self._epochs]
            details = [RunUpdate(DETAIL, {"key": key, "value": value}) for key, value in self._details.items()]
            return rows + details

    def to_record(self) -> dict:
        """The JSON run record: config, per-epoch history, test metrics, fit seconds."""
        return snapshot_to_record(self.snapshot())

    # --- applying updates (under the lock) -------------------------------------------------
    def _apply(self, update: RunUpdate) -> None:
        data = update.data
        if update.kind == DESCRIBED:
            self._dataset_title = data["dataset_title"] or self._dataset_title
            self._parameter_count = data["parameter_count"]
        elif update.kind == STARTED:
            self._status, self._message = RUNNING, data["message"]
            self._total_epochs, self._steps_per_epoch = data["total_epochs"], data["steps_per_epoch"]
            self._started = time.monotonic()
        elif update.kind == BATCH:
            self._current_epoch, self._current_step = data["epoch"], data["step"]
            if data["point"] is not None:
                self._batches.append(dict(data["point"]))
        elif update.kind == EPOCH:
            self._epochs.append(dict(data["row"]))
            self._current_epoch, self._current_step = data["row"]["epoch"], self._steps_per_epoch
        elif update.kind == LEARNING_RATE:
            self._lr_changes.append(dict(data["change"]))
        elif update.kind == DETAIL:
            self._details[data["key"]] = data["value"]
        elif update.kind == TEST_METRICS:
            self._test_metrics = dict(data["metrics"])
        elif update.kind == MESSAGE:
            self._message = data["message"]
        elif update.kind == STOPPING:
            self._stopping = self._status in ACTIVE_STATUSES
        elif update.kind == ENDED:
            self._status, self._message, self._stopping = data["status"], data["message"], False
            if data["fit_seconds"] is not None:
                self._time_before_resume = self._fit_seconds = data["fit_seconds"]
            self._started = None
        elif update.kind == REQUEUED:
            self._status, self._message, self._stopping = QUEUED, data["message"], False
            self._total_epochs = data["total_epochs"]

    def _elapsed(self) -> float:
        if self._started is None:
            return self._time_before_resume
        return self._time_before_resume + (time.monotonic() - self._started)


def stopped_message(epochs: int) -> str:
    """What a run stopped by request says once it has ended (every engine says it the same way)."""
    return f"Stopped after {epochs} {'epoch' if epochs == 1 else 'epochs'}; the model is kept."


def replay_updates(run: TrainingRun, updates: Iterable[RunUpdate]) -> TrainingRun:
    """Apply updates to a record, in order; returns it (a copy of a run is made this way)."""
    for update in updates:
        run.apply(update)
    return run


def has_a_point(snap: RunSnapshot) -> bool:
    """Whether a chart of this run has something to draw: a batch point or an epoch."""
    return bool(snap.batches or snap.epochs)


def wait_for_a_point(runs: Iterable[TrainingRun], timeout: float) -> bool:
    """Wait until one of `runs` has a point to draw or none is active, at most `timeout` seconds; whether one has.

    Woken by the runs' own updates (TrainingRun.follow), so it returns as soon as the worker records
    the point, without polling.
    """
    runs = list(runs)
    changed = threading.Event()
    unfollows = [run.follow(lambda _update: changed.set()) for run in runs]
    deadline = time.monotonic() + timeout
    try:
        while True:
            snapshots = [run.snapshot() for run in runs]
            if any(has_a_point(snap) for snap in snapshots):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not any(snap.is_active for snap in snapshots):
                return False
            changed.wait(remaining)
            changed.clear()
    finally:
        for unfollow in unfollows:
            unfollow()


def snapshot_to_record(snap: RunSnapshot) -> dict:
    """Plain JSON-ready dict of a snapshot (no arrays)."""
    return {
        "version": RUN_RECORD_VERSION,
        "run_id": snap.run_id,
        "kind": snap.kind,
        "label": snap.label,
        "status": snap.status,
        "message": snap.message,
        "config": snap.config.to_dict(),
        "dataset": snap.dataset_title,
        "parameter_count": snap.parameter_count,
        "history": [dict(row) for row in snap.epochs],
        "learning_rate_changes": [dict(c) for c in snap.learning_rate_changes],
        "test_metrics": dict(snap.test_metrics),
        "fit_seconds": snap.fit_seconds,
    }


def _clean(logs: dict) -> dict[str, float]:
    """Plain floats (Keras hands numpy or tensor scalars); NaN and infinities become None for JSON."""
    cleaned = {}
    for key, value in logs.items():
        number = float(value)
        cleaned[key] = number if math.isfinite(number) else None
    return cleaned

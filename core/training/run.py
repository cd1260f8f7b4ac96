"""The run record: a thread-safe account of one training run that the worker writes and pages read."""

from __future__ import annotations

import copy
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.config import TrainingConfig

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

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def progress(self) -> float:
        """Share of the planned steps done, 0 to 1."""
        total = self.total_epochs * max(self.steps_per_epoch, 1)
        done = (self.current_epoch - 1) * self.steps_per_epoch + self.current_step
        return 0.0 if total == 0 else min(1.0, max(0.0, done / total))

    @property
    def eta_seconds(self) -> float | None:
        if self.status != RUNNING or self.progress <= 0.02:
            return None
        return self.elapsed_seconds * (1 - self.progress) / self.progress


class TrainingRun:
    """One training run (Keras or baseline): settings, live progress, history, outcome.

    The worker thread writes through the record_* and mark_* methods; pages call snapshot().
    Every access holds one lock, so a page never sees half an epoch.
    """

    def __init__(self, config: TrainingConfig, kind: str = "keras", label: str | None = None) -> None:
        self.run_id = uuid.uuid4().hex[:10]
        self.kind = kind
        self.label = label or ("Keras" if kind == "keras" else "scikit-learn MLP")
        self.config = config
        self.created_at = time.time()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._status = QUEUED
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
        self.dataset_title = ""
        self.parameter_count: int | None = None
        self._details: dict[str, Any] = {}
        # Not part of snapshots: large or live objects the engine and evaluation pages need.
        self.model: Any = None
        self.test_probabilities: Any = None

    # --- written by the worker -------------------------------------------------------------
    def mark_running(self, total_epochs: int, steps_per_epoch: int, message: str = "Training.") -> None:
        with self._lock:
            self._status = RUNNING
            self._message = message
            self._total_epochs = total_epochs
            self._steps_per_epoch = steps_per_epoch
            self._started = time.monotonic()

    def record_batch(self, epoch: int, step: int, logs: dict[str, float]) -> None:
        """epoch is 1-based; step counts batches done in this epoch (1..steps_per_epoch)."""
        with self._lock:
            # steps_per_execution can report a step past the epoch's end on its last call.
            step = min(step, max(self._steps_per_epoch, 1))
            self._current_epoch, self._current_step = epoch, step
            every = max(1, self._steps_per_epoch // MAX_BATCH_POINTS_PER_EPOCH)
            last = self._batches[-1] if self._batches else None
            if last and last["epoch"] == epoch and step - last["step"] < every:
                return
            point = {"epoch": epoch, "step": step, "seconds": self._elapsed()}
            point["progress"] = epoch - 1 + step / max(self._steps_per_epoch, 1)
            point.update(_clean(logs))
            self._batches.append(point)

    def record_epoch(self, epoch: int, logs: dict[str, float], learning_rate: float | None = None) -> None:
        with self._lock:
            row = {"epoch": epoch, "seconds": self._elapsed(), "learning_rate": learning_rate}
            row.update(_clean(logs))
            self._epochs.append(row)
            self._current_epoch, self._current_step = epoch, self._steps_per_epoch

    def record_learning_rate_change(self, epoch: int, step: int, learning_rate: float) -> None:
        with self._lock:
            progress = epoch - 1 + step / max(self._steps_per_epoch, 1)
            self._lr_changes.append({"progress": progress, "learning_rate": learning_rate})

    def set_detail(self, key: str, value: Any) -> None:
        """Extra per-run results (per-class scores, confusion matrices, …) for later pages."""
        with self._lock:
            self._details[key] = value

    def set_test_metrics(self, metrics: dict[str, float]) -> None:
        with self._lock:
            self._test_metrics = _clean(metrics)

    def mark_finished(self, status: str, message: str) -> None:
        with self._lock:
            self._status = status
            self._message = message
            if self._started is not None:
                self._time_before_resume = self._elapsed()
                self._fit_seconds = self._time_before_resume
                self._started = None

    def prepare_more_epochs(self, extra_epochs: int) -> None:
        """Queue the same run for more epochs; the curves continue where they ended."""
        with self._lock:
            self._stop.clear()
            self._status = QUEUED
            self._message = f"Waiting to train {extra_epochs} more epochs."
            self._total_epochs = len(self._epochs) + extra_epochs

    # --- written by the page -----------------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    def request_learning_rate(self, learning_rate: float) -> None:
        with self._lock:
            self._requested_lr = float(learning_rate)

    def set_message(self, message: str) -> None:
        with self._lock:
            self._message = message

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
    def completed_epochs(self) -> int:
        with self._lock:
            return len(self._epochs)

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            return RunSnapshot(
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
                dataset_title=self.dataset_title,
                parameter_count=self.parameter_count,
                details=copy.copy(self._details),
            )

    def to_record(self) -> dict:
        """The JSON run record: config, per-epoch history, test metrics, fit seconds."""
        snap = self.snapshot()
        return snapshot_to_record(snap)

    def _elapsed(self) -> float:
        if self._started is None:
            return self._time_before_resume
        return self._time_before_resume + (time.monotonic() - self._started)

    def resume_clock(self) -> None:
        """Kept for callers that restart the clock before mark_running; mark_running does it too."""
        with self._lock:
            self._started = time.monotonic()


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

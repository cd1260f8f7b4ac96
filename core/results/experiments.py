"""Experiments: a folder of finished runs (records and models), run-record validation, overlay labels."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.config import ConfigError, TrainingConfig
from core.training.paces import SAVE, note_latest
from core.training.run import FINISHED, RUN_RECORD_VERSION, STOPPED, RunSnapshot, TrainingRun

RUNS_DIR_ENV = "TRAINING_STUDIO_RUNS_DIR"
# "1" on a server many people share (Community Cloud): each visitor sees only their own saved runs and
# those of the rooms they are in. Unset, every saved run of the folder is listed (one person's machine).
SHARED_SERVER_ENV = "TRAINING_STUDIO_SHARED_SERVER"
# What the folder keeps; past either cap the oldest runs are removed first.
MAX_RUNS = 50
MAX_BYTES = 500 * 1024 * 1024
# What an imported (or stored) run record may hold: enough for any run the app can make.
MAX_RECORD_BYTES = 1024 * 1024
MAX_HISTORY_ROWS = 1000
MAX_TEXT_CHARS = 500
SAVED_STATUSES = (FINISHED, STOPPED)
KINDS = {"keras": "Keras", "baseline": "scikit-learn MLP"}
RECORD_KEYS = {
    "version",
    "run_id",
    "kind",
    "label",
    "status",
    "message",
    "config",
    "dataset",
    "parameter_count",
    "history",
    "learning_rate_changes",
    "test_metrics",
    "fit_seconds",
}
REQUIRED_KEYS = {"version", "config", "history"}


# One lock for every RunStore of the process: workers save while pages list and delete.
_folder_lock = threading.Lock()


class RecordError(ValueError):
    """A run record is not one this app wrote; the message says what is wrong and what is expected."""


# --- the folder --------------------------------------------------------------------------------


def default_runs_dir() -> Path:
    """$TRAINING_STUDIO_RUNS_DIR, else the user's cache directory (~/.cache/training-studio/runs on Linux)."""
    override = os.environ.get(RUNS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "darwin":
        cache = Path.home() / "Library" / "Caches"
    elif sys.platform == "win32":
        cache = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "training-studio" / "runs"


def shared_server(environ: dict | None = None) -> bool:
    """Whether this server is shared by strangers ($TRAINING_STUDIO_SHARED_SERVER is 1, true, yes or on)."""
    raw = (os.environ if environ is None else environ).get(SHARED_SERVER_ENV, "")
    return raw.strip().lower() in ("1", "true", "yes", "on")


def visible_records(records: Sequence[dict], visible_ids: set[str] | None) -> list[dict]:
    """The records a visitor may see: all of them (visible_ids None), or only those with these run ids."""
    if visible_ids is None:
        return list(records)
    return [record for record in records if record.get("run_id") in visible_ids]


@dataclass(frozen=True)
class StoredRuns:
    """What the folder holds: valid records (newest first) and a note per file that was skipped."""

    records: tuple[dict, ...]
    notes: tuple[str, ...]


class RunStore:
    """Finished runs on disk: <run_id>.json (the run record) and, for Keras runs, <run_id>.keras.

    Thread-safe within the process (one lock for every store): workers save while pages list and delete.
    """

    def __init__(self, folder: str | Path | None = None, max_runs: int = MAX_RUNS, max_bytes: int = MAX_BYTES):
        self.folder = Path(folder) if folder else default_runs_dir()
        self.max_runs = max_runs
        self.max_bytes = max_bytes

    def record_path(self, run_id: str) -> Path:
        return self.folder / f"{_safe_id(run_id)}.json"

    def model_path(self, run_id: str) -> Path:
        return self.folder / f"{_safe_id(run_id)}.keras"

    def save(self, record: dict, save_model: Callable[[str], None] | None = None) -> list[str]:
        """Write the record (and the model, through save_model(path)); return the run ids removed by the caps."""
        validate_record(record)
        with _folder_lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            run_id = record["run_id"]
            if save_model is not None:
                temporary = self.folder / f".{_safe_id(run_id)}.partial.keras"
                save_model(str(temporary))
                os.replace(temporary, self.model_path(run_id))
            # Written whole, then renamed: a reader never sees half a file, even if the server dies mid-write.
            temporary = self.folder / f".{_safe_id(run_id)}.partial.json"
            temporary.write_text(json.dumps(record, indent=1))
            os.replace(temporary, self.record_path(run_id))
            return self._enforce_caps(keep=run_id)

    def load(self) -> StoredRuns:
        """Every valid record in the folder, newest first; unreadable files are skipped with a note."""
        records, notes = [], []
        for path in self._record_files():
            try:
                record = parse_record(path.read_bytes())
                if record["run_id"] != path.stem:
                    raise RecordError(f"its run_id {record['run_id']!r} does not match the file name.")
                records.append(record)
            except (OSError, RecordError) as error:
                notes.append(f"Skipped {path.name}: {error} Delete the file if you no longer need it.")
        return StoredRuns(tuple(records), tuple(notes))

    def delete(self, run_id: str) -> None:
        with _folder_lock:
            for path in (self.record_path(run_id), self.model_path(run_id)):
                path.unlink(missing_ok=True)

    def total_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.folder.glob("*") if path.is_file())

    def _record_files(self) -> list[Path]:
        """Record files, newest first (by modification time)."""
        if not self.folder.is_dir():
            return []
        paths = [path for path in self.folder.glob("*.json") if not path.name.startswith(".")]
        return sorted(paths, key=lambda path: path.stat().st_mtime, reverse=True)

    def _enforce_caps(self, keep: str) -> list[str]:
        removed = []
        paths = self._record_files()
        while len(paths) > 1 and (len(paths) > self.max_runs or self.total_bytes() > self.max_bytes):
            oldest = paths.pop()
            if oldest.stem == keep:
                continue
            for path in (oldest, oldest.with_suffix(".keras")):
                path.unlink(missing_ok=True)
            removed.append(oldest.stem)
        return removed


def _safe_id(run_id: str) -> str:
    """Run ids become file names: only letters, digits, '-' and '_' (no paths, no dots)."""
    if not run_id or len(run_id) > 64 or not all(c.isalnum() or c in "-_" for c in run_id):
        raise RecordError(f"run_id must be 1-64 letters, digits, '-' or '_'; got {run_id!r}.")
    return run_id


# --- saving finished runs from the worker --------------------------------------------------------


class SavingJob:
    """Wraps a training job: when it returns, each finished run is saved to the store.

    It runs in the job's worker thread, inside the JobRunner's slot, so saving the Keras model never
    overlaps another fit (Keras's TensorFlow backend is not thread-safe) and the page never waits.
    Other attributes (such as a job's `spec`) pass through to the wrapped job.
    """

    def __init__(self, job: Callable[[], None], runs: Sequence[TrainingRun], store: RunStore | None = None):
        self.job = job
        self.runs = list(runs)
        self.store = store

    def __getattr__(self, name: str):
        if name == "job":  # not set yet (copying): no endless recursion
            raise AttributeError(name)
        return getattr(self.job, name)

    def __call__(self) -> None:
        try:
            self.job()
        finally:
            store = self.store or RunStore()
            for run in self.runs:
                began = time.monotonic()
                if save_run(run, store) and run.estimate is not None and run.estimate.signature is not None:
                    # the next estimate of its network counts it (core.training.estimate)
                    note_latest(SAVE, run.estimate.backend, run.estimate.signature, time.monotonic() - began)


def saving_job(job: Callable[[], None], runs: Sequence[TrainingRun], store: RunStore | None = None) -> SavingJob:
    return SavingJob(job, runs, store)


SAVE_ERROR_DETAIL = "experiments.save_error"


def save_run(run: TrainingRun, store: RunStore) -> bool:
    """Save a finished or stopped run (its Keras model too); a failure is noted on the run, never raised."""
    if run.status not in SAVED_STATUSES:
        return False
    save_model = None
    if run.kind == "keras" and run.model is not None:

        def save_model(path: str) -> None:
            from core.training.models import save_model as save_keras_model

            save_keras_model(run.model, path, {"dataset": run.dataset_title, "config": run.config.to_dict()})

    try:
        store.save(run.to_record(), save_model)
    except Exception as error:  # a full disk or a read-only folder must not fail the training
        run.set_detail(SAVE_ERROR_DETAIL, f"Could not save the run to {store.folder}: {error}")
        return False
    return True


# --- run records --------------------------------------------------------------------------------


def parse_record(raw: bytes) -> dict:
    """A run record from JSON bytes, validated; RecordError says why anything else is refused."""
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(
            f"The file is {len(raw) / 1024:,.0f} KB; a run record is at most {MAX_RECORD_BYTES // 1024:,} KB."
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordError(f"The file is not JSON ({error}). Upload a run record saved by Training Studio.") from error
    return validate_record(data)


def validate_record(data) -> dict:
    """Check a run record's schema strictly; return it with its config checked by TrainingConfig."""
    if not isinstance(data, dict):
        raise RecordError(f"A run record is a JSON object; got {type(data).__name__}.")
    missing = sorted(REQUIRED_KEYS - set(data))
    if missing:
        raise RecordError(f"The run record lacks {', '.join(missing)}; is it a Training Studio run record?")
    unknown = sorted(set(data) - RECORD_KEYS)
    if unknown:
        raise RecordError(f"Unknown field(s) {', '.join(unknown)}; expected only {', '.join(sorted(RECORD_KEYS))}.")
    if data["version"] != RUN_RECORD_VERSION:
        raise RecordError(f"Run record version {data['version']!r} is not supported; expected {RUN_RECORD_VERSION}.")
    config_of(data)
    _check_text(data, "run_id", "label", "status", "message", "dataset")
    _safe_id(str(data.get("run_id", "imported")))
    if data.get("kind", "keras") not in KINDS:
        raise RecordError(f"kind must be one of {', '.join(KINDS)}; got {data.get('kind')!r}.")
    _check_rows(data["history"], "history", MAX_HISTORY_ROWS)
    _check_rows(data.get("learning_rate_changes", []), "learning_rate_changes", MAX_HISTORY_ROWS)
    for row in data["history"]:
        if not _is_number(row.get("epoch")):
            raise RecordError("Every history row needs a numeric 'epoch'.")
    _check_rows([data.get("test_metrics") or {}], "test_metrics", 1)
    for key in ("fit_seconds", "parameter_count"):
        if data.get(key) is not None and not _is_number(data[key]):
            raise RecordError(f"{key} must be a number or null; got {data[key]!r}.")
    return data


def config_of(record: dict) -> TrainingConfig:
    if not isinstance(record.get("config"), dict):
        raise RecordError("config must be an object of training settings.")
    try:
        return TrainingConfig.from_dict(record["config"])
    except (ConfigError, TypeError, ValueError) as error:
        raise RecordError(f"The run's settings are not valid: {error}") from error


def _check_text(data: dict, *keys: str) -> None:
    for key in keys:
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT_CHARS):
            raise RecordError(f"{key} must be text of at most {MAX_TEXT_CHARS} characters.")


def _check_rows(rows, name: str, max_rows: int) -> None:
    """A list of flat objects whose keys are short names and whose values are numbers (or null)."""
    if not isinstance(rows, list):
        raise RecordError(f"{name} must be a list of rows.")
    if len(rows) > max_rows:
        raise RecordError(f"{name} has {len(rows):,} rows; at most {max_rows:,} are accepted.")
    for row in rows:
        if not isinstance(row, dict) or len(row) > 50:
            raise RecordError(f"Each {name} row must be an object of at most 50 numbers.")
        for key, value in row.items():
            if len(key) > 64 or (value is not None and not _is_number(value)):
                raise RecordError(f"{name} values must be numbers; {key!r} is {value!r}.")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def record_to_snapshot(record: dict, label: str | None = None) -> RunSnapshot:
    """A RunSnapshot of a record (epochs only), so the Train page's chart functions draw it."""
    config = config_of(record)
    history = tuple(dict(row) for row in record["history"])
    for row in history:
        row.setdefault("seconds", 0.0)
    return RunSnapshot(
        run_id=record.get("run_id", "imported"),
        kind=record.get("kind", "keras"),
        label=label or record.get("label") or KINDS[record.get("kind", "keras")],
        config=config,
        status=record.get("status", FINISHED),
        message=record.get("message", ""),
        epochs=history,
        batches=(),
        learning_rate_changes=tuple(dict(c) for c in record.get("learning_rate_changes", [])),
        total_epochs=len(history),
        steps_per_epoch=0,
        current_epoch=len(history),
        current_step=0,
        elapsed_seconds=record.get("fit_seconds") or 0.0,
        test_metrics=dict(record.get("test_metrics") or {}),
        fit_seconds=record.get("fit_seconds"),
        dataset_title=record.get("dataset", ""),
        parameter_count=record.get("parameter_count"),
    )


def history_csv(record: dict) -> str:
    """The per-epoch history as CSV: one row per epoch, one column per logged value."""
    rows = record["history"]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# --- comparing runs -----------------------------------------------------------------------------

# Settings never shown in a legend: a folder path says nothing about learning (and may be private).
HIDDEN_SETTINGS = ("data_dir",)


def differing_settings(configs: Sequence[TrainingConfig]) -> list[str]:
    """For each config, "name=value, …" of the settings that differ between them ("" when none do)."""
    dicts = [config.to_dict() for config in configs]
    names = [f.name for f in dataclasses.fields(TrainingConfig) if f.name not in HIDDEN_SETTINGS]
    differing = [name for name in names if len({_format(d[name]) for d in dicts}) > 1]
    return [", ".join(f"{name}={_format(d[name])}" for name in differing) for d in dicts]


def overlay_labels(records: Sequence[dict]) -> list[str]:
    """Legend names for runs drawn together: the model kind where kinds differ, then what settings differ.

    Two runs with the same kind and settings are told apart by their run id.
    """
    kinds = [KINDS.get(record.get("kind", "keras"), "Keras") for record in records]
    settings = differing_settings([config_of(record) for record in records])
    labels = []
    for kind, setting in zip(kinds, settings, strict=True):
        parts = [kind] if len(set(kinds)) > 1 else []
        labels.append(", ".join(parts + ([setting] if setting else [])))
    for index, record in enumerate(records):
        if not labels[index] or labels.count(labels[index]) > 1:
            labels[index] = f"{labels[index]} (run {record.get('run_id', index + 1)})".strip()
    return labels


def _format(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def runs_table(records: Sequence[dict], sources: Sequence[str]) -> list[dict]:
    """One row per run for the page's table: the settings that matter, status, test scores, fit time.

    Columns are named in words (a reader sees "learning rate", not the setting's name learning_rate).
    """
    rows = []
    for record, source in zip(records, sources, strict=True):
        config = config_of(record)
        metrics = record.get("test_metrics") or {}
        rows.append(
            {
                "run": record.get("run_id"),
                "source": source,
                "model": KINDS.get(record.get("kind", "keras"), "Keras"),
                "status": record.get("status"),
                "dataset": config.dataset,
                "layers": _format(config.hidden_layers) if config.model == "dense" else "cnn",
                "optimizer": config.optimizer,
                "learning rate": config.learning_rate,
                "epochs": len(record["history"]),
                "batch size": config.batch_size,
                "test accuracy": metrics.get("accuracy"),
                "test loss": metrics.get("loss"),
                "fit seconds": record.get("fit_seconds"),
            }
        )
    return rows


SESSION, SAVED, IMPORTED = "this session", "saved", "imported"


def merge_runs(session: Sequence[dict], saved: Sequence[dict], imported: Sequence[dict]) -> list[tuple[dict, str]]:
    """Every run once, as (record, source): this session's first, then saved ones, then imported ones.

    A finished run of this session is also in the folder; it is listed once, as this session's.
    Imported records get an "imported-" id, so they never clash with a run of one's own.
    """
    merged = [(record, SESSION) for record in session]
    seen = {record["run_id"] for record in session}
    merged += [(record, SAVED) for record in saved if record["run_id"] not in seen]
    for record in imported:
        merged.append(({**record, "run_id": f"imported-{record.get('run_id', 'run')}"}, IMPORTED))
    return merged

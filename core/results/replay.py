"""Recorded runs for the lesson: load a replay file, check it against its schema, and turn it into a RunSnapshot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.config import ConfigError, TrainingConfig
from core.training.run import FINISHED, RunSnapshot

REPLAYS_DIR = Path(__file__).resolve().parents[2] / "replays"
REPLAY_LABEL = "Replay"

NUMBER = (int, float)
# The schema: each required key and the JSON types it may hold (None for null). Run records written by
# `python -m core train --json`, plus the "recorded" object that replays/record.py adds.
RECORD_SCHEMA = {
    "version": (int,),
    "kind": (str,),
    "status": (str,),
    "config": (dict,),
    "dataset": (str,),
    "parameter_count": (int, type(None)),
    "history": (list,),
    "test_metrics": (dict,),
    "fit_seconds": (*NUMBER, type(None)),
    "recorded": (dict,),
}
RECORDED_SCHEMA = {"machine": (dict,), "date": (str,), "command": (str,)}
MACHINE_SCHEMA = {"system": (str,), "platform": (str,), "cores": (int,)}
EPOCH_SCHEMA = {"epoch": (int,), "seconds": NUMBER}


class ReplayError(ValueError):
    """A replay file is missing, not JSON, or not shaped like a run record; the message names the file."""


@dataclass(frozen=True)
class Replay:
    """A recorded run: its snapshot (what the charts draw) and where and when it was recorded."""

    name: str
    path: Path
    snapshot: RunSnapshot
    recorded: dict

    @property
    def machine(self) -> dict:
        return self.recorded["machine"]

    @property
    def date(self) -> str:
        return self.recorded["date"]


def available_replays(folder: Path = REPLAYS_DIR) -> dict[str, Path]:
    """Replay files by dataset name (the file's stem), sorted."""
    return {path.stem: path for path in sorted(Path(folder).glob("*.json"))}


def load_replay(path: str | Path) -> Replay:
    """Read and check one replay file; ReplayError says what is wrong and how to fix it."""
    path = Path(path)
    fix = f"Record it again with `python replays/record.py {path.stem}`."
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ReplayError(f"{path} does not exist. {fix}") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReplayError(f"{path} is not readable JSON ({error}). {fix}") from error
    try:
        snapshot = record_to_snapshot(record)
    except ReplayError as error:
        raise ReplayError(f"{path}: {error} {fix}") from error
    return Replay(path.stem, path, snapshot, record["recorded"])


def validate_record(record: object) -> None:
    """Raise ReplayError naming the first key that is missing or of the wrong type."""
    _check(record, RECORD_SCHEMA, "the record")
    _check(record["recorded"], RECORDED_SCHEMA, '"recorded"')
    _check(record["recorded"]["machine"], MACHINE_SCHEMA, '"recorded.machine"')
    if not record["history"]:
        raise ReplayError('"history" is empty: a replay needs at least one epoch.')
    for index, row in enumerate(record["history"]):
        where = f'"history[{index}]"'
        _check(row, EPOCH_SCHEMA, where)
        for key, value in row.items():
            if value is not None and not (isinstance(value, NUMBER) and not isinstance(value, bool)):
                raise ReplayError(f"{where}.{key} should be a number or null; found {value!r}.")
        if row["epoch"] != index + 1:
            raise ReplayError(f"{where} is epoch {row['epoch']}; epochs should count 1, 2, 3, … in order.")


def record_to_snapshot(record: dict, upto_epoch: int | None = None) -> RunSnapshot:
    """A finished RunSnapshot of the record, as training_curves takes it.

    With upto_epoch, only the first epochs (and no test result): the presenter can replay the story step by step.
    """
    validate_record(record)
    try:
        config = TrainingConfig.from_dict(record["config"])
    except (ConfigError, TypeError) as error:
        raise ReplayError(f'"config" is not a valid training configuration: {error}') from error
    history = tuple(dict(row) for row in record["history"][:upto_epoch])
    last = history[-1]
    return RunSnapshot(
        run_id=f"replay-{config.dataset}",
        kind=record["kind"],
        label=REPLAY_LABEL,
        config=config,
        status=FINISHED,
        message=record.get("message", ""),
        epochs=history,
        batches=(),
        learning_rate_changes=tuple(dict(change) for change in record.get("learning_rate_changes", ())),
        total_epochs=len(record["history"]),
        steps_per_epoch=0,
        current_epoch=last["epoch"],
        current_step=0,
        elapsed_seconds=float(last["seconds"]),
        test_metrics=dict(record["test_metrics"]) if upto_epoch is None else {},
        fit_seconds=record["fit_seconds"],
        dataset_title=record["dataset"],
        parameter_count=record["parameter_count"],
    )


def _check(value: object, schema: dict, where: str) -> None:
    if not isinstance(value, dict):
        raise ReplayError(f"{where} should be a JSON object; found {type(value).__name__}.")
    for key, types in schema.items():
        if key not in value:
            raise ReplayError(f'{where} lacks the key "{key}".')
        # bool is an int in Python, but true/false is never a count or a number of seconds here.
        if not isinstance(value[key], types) or (isinstance(value[key], bool) and bool not in types):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ReplayError(f'{where}["{key}"] should be {names}; found {value[key]!r}.')

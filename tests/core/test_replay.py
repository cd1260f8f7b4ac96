"""Replay files: the shipped recordings load and match their schema; a broken file gives a clear error."""

import json

import pytest

from core import charts
from core.config import TrainingConfig
from core.results import lesson, replay
from core.training.run import FINISHED, RunSnapshot

SHIPPED = replay.available_replays()


def test_a_replay_ships_for_each_dataset_that_can_be_had_offline():
    # MNIST cannot be downloaded where the replays are recorded; digits and Fashion-MNIST can.
    assert {"digits", "fashion_mnist"} <= set(SHIPPED)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_replay_matches_its_schema_and_draws(name):
    record = json.loads(SHIPPED[name].read_text())
    replay.validate_record(record)
    loaded = replay.load_replay(SHIPPED[name])
    snapshot = loaded.snapshot
    assert isinstance(snapshot, RunSnapshot) and snapshot.status == FINISHED
    # The lesson's model and compile settings, recorded for the lesson's 5 epochs by the app's own CLI.
    lesson_config = TrainingConfig(dataset=name, epochs=5)
    assert snapshot.config.replace(seed=lesson_config.seed) == lesson_config
    assert len(snapshot.epochs) == 5 and snapshot.test_metrics["accuracy"] > 0.5
    assert loaded.recorded["command"].startswith(f"python -m core train --dataset {name}")
    assert loaded.machine["cores"] >= 1 and loaded.date[:2] == "20"
    # training_curves takes it like a live run: a training and a validation point per epoch.
    assert charts.point_count(charts.training_curves([snapshot], "accuracy")) == 10
    assert lesson.reading(snapshot)[0].startswith("After one epoch")


def test_a_replay_can_stop_part_way():
    record = json.loads(SHIPPED["digits"].read_text())
    partial = replay.record_to_snapshot(record, upto_epoch=2)
    assert [row["epoch"] for row in partial.epochs] == [1, 2] and partial.test_metrics == {}


def write(tmp_path, content: str):
    path = tmp_path / "digits.json"
    path.write_text(content)
    return path


def good_record() -> dict:
    return json.loads(SHIPPED["digits"].read_text())


def test_a_file_that_is_not_json_gives_a_clear_error(tmp_path):
    path = write(tmp_path, '{"version": 1, "history": [')
    with pytest.raises(replay.ReplayError, match="is not readable JSON") as error:
        replay.load_replay(path)
    assert str(path) in str(error.value) and "python replays/record.py digits" in str(error.value)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(replay.ReplayError, match="does not exist"):
        replay.load_replay(tmp_path / "nothing.json")


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda r: r.pop("history"), 'lacks the key "history"'),
        (lambda r: r.__setitem__("history", []), '"history" is empty'),
        (lambda r: r["recorded"].pop("machine"), '"recorded" lacks the key "machine"'),
        (lambda r: r["recorded"]["machine"].__setitem__("cores", "two"), r'\["cores"\] should be int'),
        (lambda r: r.__setitem__("parameter_count", True), r'\["parameter_count"\] should be int or null'),
        (lambda r: r["history"][1].__setitem__("epoch", 3), "epochs should count 1, 2, 3"),
        (lambda r: r["history"][0].__setitem__("loss", "low"), r"history\[0\]\"\.loss should be a number"),
        (lambda r: r["config"].__setitem__("epochs", 0), '"config" is not a valid training configuration'),
        (lambda r: r["config"].__setitem__("colour", "red"), "Unknown setting"),
    ],
)
def test_a_record_of_the_wrong_shape_names_what_is_wrong(tmp_path, break_it, message):
    record = good_record()
    break_it(record)
    with pytest.raises(replay.ReplayError, match=message):
        replay.load_replay(write(tmp_path, json.dumps(record)))


def test_a_json_list_is_not_a_record(tmp_path):
    with pytest.raises(replay.ReplayError, match="should be a JSON object; found list"):
        replay.load_replay(write(tmp_path, "[1, 2]"))

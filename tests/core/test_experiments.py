"""The run folder, run-record validation, the history CSV and the labels of overlaid runs."""

import csv
import io
import json
import os
from pathlib import Path

import pytest

from core import charts
from core.config import TrainingConfig
from core.results.experiments import (
    MAX_HISTORY_ROWS,
    RecordError,
    RunStore,
    differing_settings,
    history_csv,
    merge_runs,
    overlay_labels,
    parse_record,
    record_to_snapshot,
    runs_table,
    saving_job,
    validate_record,
)
from core.training.run import FINISHED, TrainingRun


def finished_run(config: TrainingConfig, epochs: int = 3, kind: str = "keras") -> TrainingRun:
    """A run record filled as the engine fills it, without training (fast)."""
    run = TrainingRun(config, kind)
    run.mark_running(epochs, 10)
    for epoch in range(1, epochs + 1):
        run.record_epoch(epoch, {"loss": 1.0 / epoch, "accuracy": 1 - 0.5 / epoch, "val_loss": 1.2 / epoch})
    run.set_test_metrics({"loss": 0.4, "accuracy": 0.9})
    run.mark_finished(FINISHED, f"Finished {epochs} epochs.")
    return run


def age(store: RunStore, run_id: str, seconds_ago: float) -> None:
    stamp = os.path.getmtime(store.record_path(run_id)) - seconds_ago
    os.utime(store.record_path(run_id), (stamp, stamp))


def test_saved_records_come_back_newest_first(tmp_path, quick_config):
    store = RunStore(tmp_path)
    first, second = finished_run(quick_config), finished_run(quick_config.replace(optimizer="sgd"))
    store.save(first.to_record())
    age(store, first.run_id, 60)
    store.save(second.to_record())
    loaded = RunStore(tmp_path).load()
    assert [r["run_id"] for r in loaded.records] == [second.run_id, first.run_id]
    assert loaded.records[1] == json.loads(json.dumps(first.to_record())) and loaded.notes == ()


def test_a_corrupt_or_foreign_file_is_skipped_with_a_note(tmp_path, quick_config):
    store = RunStore(tmp_path)
    store.save(finished_run(quick_config).to_record())
    (tmp_path / "cut.json").write_text('{"version": 1, "config"')
    (tmp_path / "other.json").write_text(json.dumps({"version": 1, "run_id": "x", "config": {}, "history": []}))
    loaded = store.load()
    assert len(loaded.records) == 1
    assert any("cut.json" in note and "not JSON" in note for note in loaded.notes)
    assert any("other.json" in note and "does not match the file name" in note for note in loaded.notes)


def test_the_caps_remove_the_oldest_runs_first(tmp_path, quick_config):
    store = RunStore(tmp_path, max_runs=3)
    ids = []
    for index in range(5):
        run = finished_run(quick_config)
        removed = store.save(run.to_record(), lambda path: Path(path).write_bytes(b"model"))
        ids.append(run.run_id)
        age(store, run.run_id, 100 - index)  # saved in order, oldest first
        assert removed == ([] if index < 3 else [ids[index - 3]])
    assert {r["run_id"] for r in store.load().records} == set(ids[2:])
    assert sorted(p.stem for p in tmp_path.glob("*.keras")) == sorted(ids[2:])
    # The disk cap: a folder of one run's size keeps only the newest run.
    small = RunStore(tmp_path, max_bytes=store.record_path(ids[-1]).stat().st_size + 10)
    newest = finished_run(quick_config)
    small.save(newest.to_record())
    assert [r["run_id"] for r in small.load().records] == [newest.run_id]


def test_delete_removes_the_record_and_the_model(tmp_path, quick_config):
    store = RunStore(tmp_path)
    run = finished_run(quick_config)
    store.save(run.to_record(), lambda path: Path(path).write_bytes(b"model"))
    store.delete(run.run_id)
    assert list(tmp_path.iterdir()) == []


def test_the_worker_saves_a_finished_keras_run_with_its_model(tmp_path, quick_config, digits):
    from core.jobs.training_job import training_job
    from core.training.models import load_model

    run = TrainingRun(quick_config.replace(epochs=1), "keras")
    saving_job(training_job([run], digits), [run], RunStore(tmp_path))()
    assert run.status == FINISHED
    [record] = RunStore(tmp_path).load().records
    assert record["run_id"] == run.run_id and len(record["history"]) == 1
    model, metadata = load_model(str(RunStore(tmp_path).model_path(run.run_id)))
    assert model.count_params() == run.parameter_count and metadata["config"]["epochs"] == 1


def test_an_unfinished_run_is_not_saved(tmp_path, quick_config):
    run = TrainingRun(quick_config)
    saving_job(lambda: None, [run], RunStore(tmp_path))()
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def good_record() -> dict:
    return json.loads(json.dumps(finished_run(TrainingConfig(dataset="digits")).to_record()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(version=2), "version 2 is not supported"),
        (lambda r: r.pop("history"), "lacks history"),
        (lambda r: r.update(code="import os"), "Unknown field(s) code"),
        (lambda r: r["config"].update(epochs=10_000), "epochs must be between"),
        (lambda r: r["config"].update(optimizer="__import__('os')"), "Unknown optimizer"),
        (lambda r: r["history"][0].update(loss="0.5"), "values must be numbers"),
        (lambda r: r["history"][0].update(loss=True), "values must be numbers"),
        (lambda r: r.update(history=[{"epoch": 1}] * (MAX_HISTORY_ROWS + 1)), "at most 1,000"),
        (lambda r: r.update(run_id="../../etc/passwd"), "run_id must be"),
        (lambda r: r.update(label="x" * 10_000), "label must be text"),
        (lambda r: r.update(kind="script"), "kind must be one of"),
    ],
)
def test_a_bad_record_is_refused_with_a_clear_message(change, message):
    record = good_record()
    change(record)
    with pytest.raises(RecordError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_record(record)


def test_parse_record_accepts_a_real_record_and_refuses_big_or_non_json_files():
    record = good_record()
    assert parse_record(json.dumps(record).encode()) == record
    with pytest.raises(RecordError, match="not JSON"):
        parse_record(b"\x89PNG")
    with pytest.raises(RecordError, match="at most 1,024 KB"):
        parse_record(b" " * (2 * 1024 * 1024))
    with pytest.raises(RecordError, match="JSON object"):
        parse_record(b"[1, 2]")


def test_history_csv_holds_every_epoch_and_value():
    record = good_record()
    rows = list(csv.DictReader(io.StringIO(history_csv(record))))
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    assert [float(row["loss"]) for row in rows] == [row["loss"] for row in record["history"]]


def test_differing_settings_names_only_what_differs():
    adam = TrainingConfig(dataset="digits", epochs=5)
    sgd = adam.replace(optimizer="sgd", learning_rate=0.01, epochs=20)
    assert differing_settings([adam, sgd]) == [
        "optimizer=adam, learning_rate=0.001, epochs=5",
        "optimizer=sgd, learning_rate=0.01, epochs=20",
    ]
    assert differing_settings([adam, adam.replace(hidden_layers=(64, 32))]) == [
        "hidden_layers=128",
        "hidden_layers=64,32",
    ]
    assert differing_settings([adam, adam]) == ["", ""]


def test_overlay_labels_add_the_model_kind_and_tell_twins_apart():
    config = TrainingConfig(dataset="digits")
    keras, baseline = finished_run(config).to_record(), finished_run(config, kind="baseline").to_record()
    assert overlay_labels([keras, baseline]) == ["Keras", "scikit-learn MLP"]
    twin = finished_run(config).to_record()
    assert overlay_labels([keras, twin]) == [f"(run {keras['run_id']})", f"(run {twin['run_id']})"]


def test_several_runs_overlay_on_one_chart_one_colour_each():
    configs = [TrainingConfig(dataset="digits", optimizer=name) for name in ("adam", "sgd", "rmsprop")]
    records = [finished_run(config, epochs=2 + index).to_record() for index, config in enumerate(configs)]
    snapshots = [record_to_snapshot(r, label) for r, label in zip(records, overlay_labels(records), strict=True)]
    figure = charts.training_curves(snapshots, "loss", show_batches=False)
    training = [trace for trace in figure.data if trace.line.dash == "solid"]  # the run's legend entry
    assert [trace.name for trace in training] == [f"optimizer={name}" for name in ("adam", "sgd", "rmsprop")]
    assert [len(trace.x) for trace in training] == [2, 3, 4]
    assert len({trace.line.color for trace in training}) == 3


def test_merge_runs_lists_a_session_run_once_and_renames_imports():
    record = good_record()
    merged = merge_runs([record], [record, {**record, "run_id": "other"}], [record])
    assert [(r["run_id"], source) for r, source in merged] == [
        (record["run_id"], "this session"),
        ("other", "saved"),
        (f"imported-{record['run_id']}", "imported"),
    ]


def test_the_runs_table_names_its_columns_in_words():
    record = finished_run(TrainingConfig(dataset="digits", learning_rate=0.01, batch_size=64)).to_record()
    (row,) = runs_table([record], ["saved"])
    assert not [name for name in row if "_" in name], row
    assert row["learning rate"] == 0.01 and row["batch size"] == 64

"""The comparison table and its reading come from the run records, number for number."""

import dataclasses

import pytest

from core.config import TrainingConfig
from core.results.comparison import comparison_reading, comparison_table, value_at_seconds
from core.training.baseline import train_baseline
from core.training.engine import train
from core.training.run import RunSnapshot, TrainingRun


@pytest.fixture(scope="module")
def both_runs(digits):
    config = TrainingConfig(dataset="digits", epochs=3, metrics=("accuracy", "precision", "recall", "f1"))
    keras_run, baseline_run = TrainingRun(config, "keras"), TrainingRun(config, "baseline")
    train(keras_run, digits)
    train_baseline(baseline_run, digits)
    return keras_run.snapshot(), baseline_run.snapshot()


def test_the_table_holds_each_runs_own_test_scores_and_times(both_runs):
    table = comparison_table(both_runs).set_index("model")
    for snap in both_runs:
        row = table.loc[snap.label]
        for metric in ("accuracy", "precision", "recall", "f1"):
            assert row[f"test {metric}"] == snap.test_metrics[metric]
        assert row["fit seconds"] == snap.fit_seconds
        assert row["seconds per epoch"] == pytest.approx(snap.fit_seconds / 3)
        assert row["parameters"] == snap.parameter_count == 64 * 128 + 128 + 1290


def test_the_reading_names_the_winner_the_gap_and_the_cost(both_runs):
    keras, baseline = both_runs
    reading = comparison_reading(keras, baseline)
    gap = abs(keras.test_metrics["accuracy"] - baseline.test_metrics["accuracy"]) * 100
    if gap >= 0.25:
        assert f"{gap:.1f} points more than" in reading
    faster = min(both_runs, key=lambda snap: snap.fit_seconds)
    assert faster.label in reading and ("faster than" in reading or "about the same time" in reading)
    assert "for 3 and 3 epochs" not in reading


def test_the_time_sentence_reads_naturally_for_equal_and_unequal_epochs():
    def finished(label: str, kind: str, epochs: int, seconds: float) -> RunSnapshot:
        return dataclasses.replace(
            TrainingRun(TrainingConfig(dataset="digits"), kind).snapshot(),
            label=label,
            epochs=tuple({"epoch": e, "seconds": seconds * e / epochs} for e in range(1, epochs + 1)),
            fit_seconds=seconds,
            test_metrics={"accuracy": 0.9},
        )

    keras, baseline = finished("Keras", "keras", 5, 2.1), finished("scikit-learn MLP", "baseline", 5, 10.0)
    assert comparison_reading(keras, baseline).endswith(
        "Keras trained its 5 epochs in 2.1 s, 4.8× faster than scikit-learn MLP (10.0 s)."
    )
    close = finished("scikit-learn MLP", "baseline", 5, 0.4)
    assert "Both trained their 5 epochs in about the same time: scikit-learn MLP 0.40 s, Keras 0.44 s." in (
        comparison_reading(finished("Keras", "keras", 5, 0.44), close)
    )
    stopped = finished("Keras", "keras", 2, 1.5)
    assert comparison_reading(stopped, baseline).endswith(
        "Keras trained 2 epochs in 1.5 s, scikit-learn MLP 5 epochs in 10.0 s."
    )


def test_the_race_view_reads_the_value_reached_within_a_time(both_runs):
    keras, _ = both_runs
    last = keras.epochs[-1]
    assert value_at_seconds(keras, "accuracy", last["seconds"]) == last["accuracy"]
    assert value_at_seconds(keras, "accuracy", 0.0) is None


def test_the_table_leaves_out_metrics_no_run_measured():
    from core.config import TrainingConfig
    from core.training.run import FINISHED

    snapshots = []
    for kind in ("keras", "baseline"):
        run = TrainingRun(TrainingConfig(dataset="digits", metrics=("accuracy", "f1")), kind)
        run.mark_running(1, 1)
        run.record_epoch(1, {"loss": 0.5, "accuracy": 0.9, "f1": 0.88})
        run.set_test_metrics({"loss": 0.4, "accuracy": 0.91, "f1": 0.9})
        run.mark_finished(FINISHED, "Finished.")
        snapshots.append(run.snapshot())
    table = comparison_table(snapshots)
    assert "test precision" not in table and "test recall" not in table
    assert list(table["test f1"]) == [0.9, 0.9]
    assert not table[["test accuracy", "test f1"]].isna().any().any()

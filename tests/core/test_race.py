"""Races on the embedded digits: interleaving keeps each model apart, a divergence ends one variant,
Stop ends all and keeps what each learned, and the command line."""

import json
import threading

import numpy as np

from core import cli
from core.jobs.race_job import submit_race
from core.jobs.runner import JobRunner
from core.training.engine import train
from core.training.race import INITIAL_WEIGHTS_DETAIL, OWN_SECONDS_DETAIL, new_race, parse_vary, train_race
from core.training.run import FAILED, FINISHED, STOPPED, TrainingRun

# Interleaving changes nothing a model computes: each keeps its own variables, optimizer state,
# dropout seeds and shuffle order. The same CPU kernels then give bit-identical weights; the
# tolerance only allows for floating-point reordering, and is far below one step's change.
WEIGHT_TOLERANCE = 1e-6


def test_a_variant_raced_ends_with_the_weights_it_would_have_alone(digits, quick_config):
    # Dropout (seeded per layer) and early stopping (its patience and best weights held across
    # one-epoch fits) are the state most at risk from interleaving.
    base = quick_config.replace(epochs=12, dropout=0.2, early_stopping_patience=2, hidden_layers=(64,))
    race = new_race(parse_vary("optimizer=adam,sgd"), base)
    train_race(race.runs, digits)
    for raced in race.runs:
        alone = TrainingRun(raced.config)
        train(alone, digits)
        assert raced.status == alone.status == FINISHED
        assert raced.completed_epochs == alone.completed_epochs
        for ours, theirs in zip(raced.model.get_weights(), alone.model.get_weights(), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=WEIGHT_TOLERANCE)
        assert raced.snapshot().test_metrics == alone.snapshot().test_metrics
    second = race.runs[1].snapshot()
    assert second.details[INITIAL_WEIGHTS_DETAIL] == "optimizer Adam"
    own = second.details[OWN_SECONDS_DETAIL]
    assert len(own) == len(second.epochs)
    assert own == sorted(own) and own[-1] < second.fit_seconds, "own time excludes the rival's turns"


def test_a_diverging_variant_fails_with_its_own_message_and_the_other_goes_on(digits, quick_config):
    base = quick_config.replace(optimizer="sgd", hidden_layers=(512, 512, 512), epochs=3)
    race = new_race(parse_vary("learning_rate=10,0.01"), base)
    train_race(race.runs, digits)
    wild, calm = race.snapshots()
    assert wild.status == FAILED and "diverged" in wild.message and "learning rate (10)" in wild.message
    assert calm.status == FINISHED and len(calm.epochs) == 3 and calm.test_metrics["accuracy"] > 0.5
    assert calm.message == "Finished 3 epochs."


def test_stop_in_the_middle_ends_every_variant_and_keeps_what_each_learned(digits, quick_config):
    race = new_race(parse_vary("batch_size=16,64"), quick_config.replace(epochs=100))
    runner = JobRunner()

    def stop_after_two_epochs():
        while not any(run.completed_epochs >= 2 for run in race.runs):
            threading.Event().wait(0.05)
        race.request_stop()

    stopper = threading.Thread(target=stop_after_two_epochs, daemon=True)
    stopper.start()
    submit_race(runner, race, digits)
    assert runner.wait_idle(timeout=600)
    snaps = race.snapshots()
    assert [snap.status for snap in snaps] == [STOPPED, STOPPED]
    assert all("kept" in snap.message and "accuracy" in snap.test_metrics for snap in snaps)
    epochs = [len(snap.epochs) for snap in snaps]
    assert max(epochs) < 100 and max(epochs) - min(epochs) <= 1, "interleaved: neither ran ahead"
    assert all(run.model is not None for run in race.runs)


def test_the_race_command_prints_each_variants_epochs_and_writes_one_record(digits, tmp_path, capsys):
    out = tmp_path / "race.json"
    argv = ["race", "--dataset", "digits", "--epochs", "2", "--subsample", "400", "--vary", "activation=relu,tanh"]
    assert cli.main([*argv, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for label in ("activation relu", "activation tanh"):
        assert f"{label} epoch 1/2" in printed and f"{label} epoch 2/2" in printed
    assert "rank 1" in printed and "After 2 epochs each" in printed
    record = json.loads(out.read_text())
    assert record["setting"] == "activation" and record["values"] == ["relu", "tanh"]
    assert [len(v["history"]) for v in record["variants"]] == [2, 2]
    assert all("accuracy" in v["test_metrics"] and len(v["own_seconds"]) == 2 for v in record["variants"])


def test_a_bad_vary_is_one_line_and_exit_status_2(capsys):
    for vary in ("speed=1,2", "optimizer=adam", "optimizer=adam,adam", "learning_rate=1,100", "units"):
        assert cli.main(["race", "--dataset", "digits", "--vary", vary]) == 2
        error = capsys.readouterr().err
        assert error.startswith("error: ") and error.count("\n") == 1, error

"""A race's ranking, sentences and charts, from run records written by hand (no training)."""

import pytest

from core.charts import race_curves, race_parallel_coordinates
from core.config import TrainingConfig
from core.palette import DEFAULT_PALETTE
from core.results.race import (
    default_target,
    race_sentences,
    ranking_table,
    results,
    seed_spread_sentence,
    training_seconds,
)
from core.training.race import OWN_SECONDS_DETAIL
from core.training.run import FAILED, FINISHED, TrainingRun


def variant(label, accuracies, seconds, test=None, status=FINISHED, seed=42, **config):
    """A finished variant whose validation accuracy per epoch and own seconds at each epoch's end are given."""
    run = TrainingRun(TrainingConfig(dataset="digits", seed=seed, **config), label=label)
    run.mark_running(len(accuracies), 10)
    for epoch, accuracy in enumerate(accuracies, start=1):
        run.record_epoch(epoch, {"loss": 1 - accuracy, "accuracy": accuracy, "val_accuracy": accuracy})
    run.set_detail(OWN_SECONDS_DETAIL, list(seconds))
    if test is not None:
        run.set_test_metrics({"accuracy": test})
    run.mark_finished(status, "The loss became nan in epoch 3: training diverged." if status == FAILED else "Done.")
    return run.snapshot()


def test_the_ranking_orders_by_test_accuracy_with_failed_variants_last():
    snaps = [
        variant("SGD", [0.5, 0.7, 0.8], [5, 6, 7], test=0.79, optimizer="sgd"),
        variant("Adam", [0.8, 0.9, 0.95], [5, 6, 7], test=0.94),
        variant("lr 10", [0.1, 0.1], [5, 6], status=FAILED),
    ]
    rows = ranking_table(snaps)
    assert [row["variant"] for row in rows] == ["Adam", "SGD", "lr 10"]
    assert rows[0]["best epoch"] == 3 and rows[0]["best validation accuracy"] == 0.95
    assert rows[0]["fit seconds"] == 7 and rows[2]["status"] == FAILED
    # The default target is the best score every variant that did not fail reached: SGD's 80 %.
    assert default_target(snaps) == 0.8 and "seconds to 80%" in rows[0]
    assert [r.seconds_to_target for r in results(snaps)][:2] == [pytest.approx(1.0), pytest.approx(3.0)]


def test_training_seconds_leave_out_the_first_epochs_compile():
    snap = variant("A", [0.5, 0.6, 0.7], [10.0, 11.0, 12.5])
    assert training_seconds(snap) == pytest.approx([1.25, 2.25, 3.75])
    assert training_seconds(variant("B", [0.5], [10.0])) == [10.0]


def test_sentences_say_who_won_per_epoch_and_per_second_where_the_curves_crossed_and_who_failed():
    # Big batches: quick epochs that learn little each; small batches: slow epochs that learn a lot.
    small = variant("batch size 16", [0.6, 0.85, 0.9, 0.93], [4, 8, 12, 16], test=0.92, batch_size=16)
    large = variant("batch size 256", [0.7, 0.75, 0.8, 0.85], [1, 2, 3, 4], test=0.84, batch_size=256)
    broken = variant("batch size 1", [0.1], [9], status=FAILED, batch_size=1)
    said = race_sentences([small, large, broken])
    assert said[0] == (
        "On the test images, batch size 16 leads with 92.0% test accuracy, 8.0 points ahead of batch size 256 (84.0%)."
    )
    assert said[1] == (
        "After 4 epochs each, batch size 16 leads with 93.0% best validation accuracy, "
        "8.0 points ahead of batch size 256 (85.0%)."
    )
    assert said[2].startswith("Given the same 4.0 s of training each, batch size 256 leads with 85.0%")
    assert "after 4 epochs" in said[2] and "batch size 16 wins per epoch" in said[2]
    assert "batch size 16 was behind batch size 256 and overtook it in epoch 2" in said[3]
    assert said[-1].startswith("batch size 1 failed: The loss became nan")


def test_a_leader_from_the_start_is_said_to_have_never_been_crossed():
    said = race_sentences([variant("A", [0.8, 0.9], [1, 2]), variant("B", [0.5, 0.6], [1, 2])])
    assert "the same winner as at equal epochs" in said[1]
    assert said[2] == "A's curve stayed at or above the others' in every epoch: the curves never crossed."


def test_the_sentences_rank_by_the_best_score_the_table_shows_not_the_last_epoch():
    # Adam ends a little higher, but RMSprop's best epoch is higher: the table's best column says RMSprop.
    adam = variant("Adam", [0.95, 0.979, 0.9793], [1, 2, 3])
    rmsprop = variant("RMSprop", [0.96, 0.9861, 0.979], [1, 2, 3], optimizer="rmsprop")
    rows = ranking_table([adam, rmsprop])
    said = race_sentences([adam, rmsprop])
    assert rows[0]["variant"] == "RMSprop" and rows[0]["best validation accuracy"] == 0.9861
    assert said[0] == (
        "After 3 epochs each, RMSprop leads with 98.6% best validation accuracy, 0.7 points ahead of Adam (97.9%)."
    )


def test_a_near_tie_gets_the_decimals_that_tell_the_scores_apart():
    first = variant("Adam", [0.9, 0.9794], [1, 2], test=0.9790)
    second = variant("RMSprop", [0.9, 0.9787], [1, 2], test=0.9786, optimizer="rmsprop")
    said = race_sentences([first, second])
    # 97.94% against 97.87%: one decimal would print 97.9% twice and "0.1 points ahead".
    assert said[1] == (
        "After 2 epochs each, Adam leads with 97.94% best validation accuracy, 0.07 points ahead of RMSprop (97.87%)."
    )
    assert "97.90%" in said[0] and "97.86%" in said[0] and "0.04 points ahead" in said[0]


def test_a_tie_is_called_a_tie_in_the_sentences_and_the_ranks():
    first = variant("Adam", [0.9, 0.98], [1, 2], test=0.975)
    second = variant("RMSprop", [0.9, 0.98], [1, 2], test=0.975, optimizer="rmsprop")
    third = variant("SGD", [0.5, 0.8], [1, 2], test=0.79, optimizer="sgd")
    said = race_sentences([first, second, third])
    assert said[0] == "On the test images, Adam and RMSprop tie at 97.5% test accuracy; SGD follows at 79.0%."
    assert (
        said[1] == "After 2 epochs each, Adam and RMSprop tie at 98.0% best validation accuracy; SGD follows at 80.0%."
    )
    assert "leads" not in " ".join(said[:2]) and "points ahead" not in " ".join(said[:2])
    assert [row["rank"] for row in ranking_table([first, second, third])] == [1, 1, 3]


def test_repeats_over_seeds_weigh_the_win_against_the_seed_to_seed_spread():
    clear = [
        [variant("Adam", [0.9], [1], test=0.95 + d, seed=s), variant("SGD", [0.8], [1], test=0.85 - d, seed=s)]
        for s, d in ((1, 0.0), (2, 0.01), (3, -0.01))
    ]
    sentence = seed_spread_sentence(clear)
    assert "Over 3 seeds, Adam leads SGD by 10.0 points" in sentence and "won 3 of 3 races" in sentence
    assert "larger than the seed-to-seed spread" in sentence
    close = [
        [variant("Adam", [0.9], [1], test=a, seed=s), variant("SGD", [0.8], [1], test=b, seed=s)]
        for s, (a, b) in enumerate(((0.90, 0.89), (0.88, 0.91), (0.93, 0.90)))
    ]
    assert "within the seed-to-seed spread" in seed_spread_sentence(close)
    assert seed_spread_sentence(clear[:1]) is None


def test_race_curves_overlay_the_variants_in_their_own_colours_solid_and_dashed():
    snaps = [variant("A", [0.5, 0.7], [10, 11]), variant("B", [0.6, 0.65], [3, 3.5])]
    figure = race_curves(snaps, "accuracy")
    lines = [trace for trace in figure.data if trace.mode == "lines+markers"]
    assert [(t.name, t.line.color, t.line.dash) for t in lines] == [
        ("A", DEFAULT_PALETTE.series[0], "solid"),
        ("A validation", DEFAULT_PALETTE.series[0], "dash"),
        ("B", DEFAULT_PALETTE.series[1], "solid"),
        ("B validation", DEFAULT_PALETTE.series[1], "dash"),
    ]
    by_seconds = race_curves(snaps, "accuracy", x_axis="seconds")
    assert list(by_seconds.data[0].x) == pytest.approx([1.0, 2.0]) and list(by_seconds.data[2].x) == [0.5, 1.0]


def test_the_parallel_coordinates_show_the_settings_that_differ_against_the_scores():
    snaps = [
        variant("Adam", [0.9], [1], test=0.95),
        variant("SGD", [0.8], [1], test=0.85, optimizer="sgd", learning_rate=0.01),
        variant("no test", [0.1], [1]),
    ]
    [coordinates] = race_parallel_coordinates(snaps).data
    labels = [dimension.label for dimension in coordinates.dimensions]
    assert labels == ["optimizer", "learning rate", "test accuracy", "best validation accuracy", "fit seconds"]
    assert list(coordinates.dimensions[0].ticktext) == ["Adam", "SGD"]
    assert list(coordinates.line.color) == [0.95, 0.85]

"""The lesson's annotation rules on crafted histories, and the numbers its steps show."""

import numpy as np
import pytest

from core import charts
from core.config import TrainingConfig
from core.data.splits import prepare_data
from core.results import lesson
from core.results import lesson_texts as texts
from core.training.architecture import describe_model
from core.training.run import TrainingRun


def history(**series) -> list[dict]:
    """Epoch rows from per-metric lists, e.g. history(loss=[...], val_accuracy=[...])."""
    length = len(next(iter(series.values())))
    return [{"epoch": i + 1, "seconds": float(i + 1), **{k: v[i] for k, v in series.items()}} for i in range(length)]


def snapshot_of(rows: list[dict], test_accuracy: float | None = None, **config):
    """A real RunSnapshot, written through TrainingRun the way the engine writes it."""
    run = TrainingRun(TrainingConfig(dataset="digits", epochs=max(len(rows), 1), **config))
    run.mark_running(len(rows), 10)
    for row in rows:
        run.record_epoch(row["epoch"], {k: v for k, v in row.items() if k not in ("epoch", "seconds")})
    if test_accuracy is not None:
        run.set_test_metrics({"accuracy": test_accuracy, "loss": 0.3})
    run.mark_finished("finished", "Finished.")
    return run.snapshot()


# --- diminishing returns -------------------------------------------------------------------


def test_diminishing_returns_marks_the_first_epoch_gaining_under_a_point():
    rows = history(val_accuracy=[0.80, 0.90, 0.93, 0.935, 0.937], accuracy=[0.7, 0.85, 0.9, 0.95, 0.97])
    found = lesson.diminishing_returns(rows)
    assert (found.epoch, found.metric, found.value) == (4, "val_accuracy", 0.935)
    # Epoch 2 gained the most (10 points); epoch 4 only 0.5.
    assert "Epoch 2 gained 10.0 points of validation accuracy, epoch 4 only +0.5" in found.sentence
    assert found.label == "gain < 1 pt"


def test_diminishing_returns_from_the_second_epoch_compares_with_guessing():
    found = lesson.diminishing_returns(history(val_accuracy=[0.90, 0.905, 0.95]), num_classes=10)
    assert found.epoch == 2
    assert "from guessing (10%) to 90.0%" in found.sentence and "+0.5 points" in found.sentence


def test_a_falling_accuracy_counts_as_diminishing_returns():
    found = lesson.diminishing_returns(history(val_accuracy=[0.80, 0.90, 0.88]))
    assert found.epoch == 3 and "only -2.0" in found.sentence


def test_no_diminishing_returns_while_every_epoch_gains_enough():
    rows = history(val_accuracy=[0.50, 0.70, 0.80, 0.85], val_loss=[1.0, 0.8, 0.6, 0.5])
    assert lesson.diminishing_returns(rows) is None
    assert lesson.diminishing_returns(rows, threshold_points=6.0).epoch == 4
    assert texts.NO_DIMINISHING.format(threshold=1.0) in lesson.reading(snapshot_of(rows))


def test_training_accuracy_is_read_when_there_is_no_validation():
    rows = history(accuracy=[0.6, 0.9, 0.905], loss=[1.0, 0.5, 0.45])
    assert lesson.accuracy_key(rows) == "accuracy"
    found = lesson.diminishing_returns(rows)
    assert found.metric == "accuracy" and "training accuracy" in found.sentence
    assert [round(gain, 6) for _, gain in lesson.epoch_gains(rows, "accuracy")] == [30.0, 0.5]


# --- loss still falling while accuracy plateaus -----------------------------------------------


def test_plateau_when_loss_falls_clearly_and_accuracy_stays():
    rows = history(loss=[0.50, 0.30, 0.25, 0.20], accuracy=[0.85, 0.95, 0.952, 0.953])
    found = lesson.loss_falls_accuracy_plateaus(rows)
    assert (found.epoch, found.metric, found.value) == (3, "accuracy", 0.952)
    # (0.30 - 0.25) / 0.30 = 17 %; accuracy moved 0.2 points.
    assert "fell by 17% (0.300 → 0.250)" in found.sentence and "only 0.2 points" in found.sentence


def test_no_plateau_when_accuracy_still_climbs_or_loss_hardly_moves():
    climbing = history(loss=[0.5, 0.3, 0.2], accuracy=[0.8, 0.9, 0.95])
    flat_loss = history(loss=[0.5, 0.30, 0.295], accuracy=[0.8, 0.9, 0.901])  # 1.7 % < 3 %
    assert lesson.loss_falls_accuracy_plateaus(climbing) is None
    assert lesson.loss_falls_accuracy_plateaus(flat_loss) is None


# --- best epoch and overfitting ---------------------------------------------------------------


def test_overfitting_starts_after_the_best_epoch_when_validation_loss_rises():
    rows = history(
        loss=[0.60, 0.40, 0.30, 0.22, 0.15],
        val_loss=[0.50, 0.40, 0.35, 0.38, 0.42],
        val_accuracy=[0.85, 0.88, 0.90, 0.895, 0.89],
    )
    best = lesson.best_epoch(rows)
    assert (best.epoch, best.value) == (3, 0.35)
    assert "best epoch is 3: validation loss 0.350, validation accuracy 90.0%" in best.sentence
    found = lesson.overfitting(rows)
    assert (found.epoch, found.end_epoch, found.value) == (4, 5, 0.38)
    assert "From epoch 4 validation loss rises (0.350 → 0.420)" in found.sentence
    assert texts.EARLY_STOPPING_ADVICE.format(patience=2) == lesson.early_stopping_advice(snapshot_of(rows))


def test_a_small_last_rise_is_noise_not_overfitting():
    rows = history(loss=[0.6, 0.4, 0.3, 0.25], val_loss=[0.50, 0.40, 0.35, 0.352])
    assert lesson.overfitting(rows) is None
    assert lesson.best_epoch(rows).epoch == 3


def test_both_losses_rising_is_instability_not_overfitting():
    rows = history(loss=[0.6, 0.4, 0.5, 0.7], val_loss=[0.5, 0.4, 0.5, 0.7])
    assert lesson.overfitting(rows) is None


def test_the_best_epoch_can_be_the_last():
    rows = history(loss=[0.6, 0.4], val_loss=[0.5, 0.4], val_accuracy=[0.8, 0.9])
    assert lesson.best_epoch(rows).sentence == texts.BEST_EPOCH_LAST.format(epoch=2)
    assert lesson.overfitting(rows) is None


def test_no_validation_means_no_best_epoch_and_says_so():
    rows = history(loss=[1.0, 0.5], accuracy=[0.6, 0.9])
    assert lesson.best_epoch(rows) is None and lesson.overfitting(rows) is None
    assert texts.NO_VALIDATION in lesson.reading(snapshot_of(rows, validation_split=0.0))


def test_a_healthy_run_has_only_a_best_epoch():
    rows = history(
        loss=[1.0, 0.6, 0.4], accuracy=[0.6, 0.8, 0.9], val_loss=[0.9, 0.6, 0.45], val_accuracy=[0.65, 0.8, 0.88]
    )
    assert [a.kind for a in lesson.annotations(rows)] == [lesson.BEST]


def test_reading_puts_the_run_into_sentences():
    rows = history(
        loss=[0.60, 0.40, 0.30, 0.22, 0.15],
        accuracy=[0.80, 0.88, 0.92, 0.95, 0.97],
        val_loss=[0.50, 0.40, 0.35, 0.38, 0.42],
        val_accuracy=[0.85, 0.88, 0.90, 0.895, 0.89],
    )
    sentences = lesson.reading(snapshot_of(rows, test_accuracy=0.8765))
    assert sentences[0] == texts.FIRST_EPOCH.format(accuracy=0.85, split="validation", chance=0.1)
    assert any("diminishing returns" in s for s in sentences)
    assert any("overfitting" in s for s in sentences)
    assert sentences[-1] == texts.TEST_RESULT.format(accuracy=0.8765)
    assert lesson.reading(snapshot_of([])) == [texts.NOTHING_YET]


# --- steps, early stopping and the numbers each step shows -------------------------------------


@pytest.mark.parametrize(("value", "step"), [("3", 3), (" 6 ", 6), ("0", 1), ("99", 7), ("abc", 1), (None, 1)])
def test_parse_step_opens_a_valid_step(value, step):
    assert lesson.parse_step(value) == step


def test_early_stopping_config_turns_it_on_with_room_to_stop():
    config = lesson.early_stopping_config(TrainingConfig(dataset="digits", epochs=5, validation_split=0.0))
    assert (config.early_stopping_patience, config.epochs, config.validation_split) == (2, 10, 0.1)
    assert lesson.early_stopping_config(TrainingConfig(epochs=80)).epochs == 100


def test_fit_numbers_agree_with_the_engines_split(digits):
    config = TrainingConfig(dataset="digits", epochs=3, batch_size=32, validation_split=0.15)
    data = prepare_data(config, digits)
    numbers = lesson.fit_numbers(config, len(digits.pixels_train))
    assert (numbers.train, numbers.validation) == (len(data.pixels_train), len(data.x_val)) == (1221, 216)
    assert numbers.steps == -(-1221 // 32) and numbers.updates == 3 * numbers.steps
    subsampled = config.replace(subsample=100)
    numbers = lesson.fit_numbers(subsampled, len(digits.pixels_train))
    assert (numbers.train, numbers.validation) == (len(prepare_data(subsampled, digits).pixels_train), 15)


def test_samples_show_every_label_and_pixels_scale_back(digits):
    indices = lesson.sample_indices(digits.y_train, 10)
    assert sorted(digits.y_train[indices]) == list(range(10))
    raw, scaled = lesson.pixel_window(digits.pixels_train[indices[0]], digits.pixel_max_raw, 8)
    assert raw.shape == (8, 8) and raw.dtype.kind == "i"
    assert raw.min() >= 0 and raw.max() <= digits.pixel_max_raw
    np.testing.assert_allclose(raw / digits.pixel_max_raw, scaled, atol=0.006)


def test_model_diagram_draws_every_layer_in_order():
    layers = describe_model(TrainingConfig(), (28, 28), 10)
    dot = lesson.model_diagram_dot(layers)
    assert dot.count("->") == len(layers) - 1
    assert "784" in dot and "100,480 parameters" in dot and "1,290 parameters" in dot


def test_annotations_land_on_the_charts():
    rows = history(
        loss=[0.60, 0.40, 0.30, 0.22, 0.15],
        accuracy=[0.80, 0.88, 0.92, 0.95, 0.97],
        val_loss=[0.50, 0.40, 0.35, 0.38, 0.42],
        val_accuracy=[0.85, 0.88, 0.90, 0.905, 0.89],
    )
    snapshot, found = snapshot_of(rows), lesson.annotations(rows)
    loss_figure = charts.training_curves([snapshot], "loss")
    traces_before = len(loss_figure.data)
    charts.annotate_lesson(loss_figure, found, "loss")
    # The best epoch is a marker; overfitting a shaded band from epoch 4; both named in the legend.
    assert len(loss_figure.data) == traces_before + 1 and loss_figure.data[-1].x == (3,)
    assert [(shape.x0, shape.showlegend) for shape in loss_figure.layout.shapes] == [(3.5, True)]
    accuracy_figure = charts.annotate_lesson(charts.training_curves([snapshot], "accuracy"), found, "accuracy")
    assert accuracy_figure.data[-1].name == "gain < 1 pt"
    assert charts.presenter_style(accuracy_figure).layout.font.size > 14

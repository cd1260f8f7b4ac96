"""Evaluate's "Why?" and the hidden layer's map in AppTest: after a quick CNN + baseline run on the digits, and live."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.config import TrainingConfig
from core.data.datasets import load_dataset
from core.data.splits import validation_images
from core.training import hidden_map_recording
from core.training.run import TrainingRun
from tests.app.test_evaluate import APP, TIMEOUT, back_on_evaluate, captions, tab, trained_then_evaluate

WHY_CAPTIONS = ["the digit", "gradient", "gradient × input"]


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def hidden_map_figures(at) -> list[dict]:
    return [figure for figure in figures(at) if figure.get("frames")]


@pytest.fixture(scope="module")
def trained() -> AppTest:
    """The CNN and the baseline trained for 3 epochs on the digits through the Train page, then Evaluate."""
    return trained_then_evaluate(epochs=3, model="cnn")


@pytest.fixture
def evaluate(trained: AppTest) -> AppTest:
    return back_on_evaluate(trained)


def test_why_shows_saliency_and_grad_cam_for_a_test_image_and_any_class(evaluate):
    at = evaluate
    inside = captions(tab(at, "Look inside"))
    assert [c for c in inside if c in WHY_CAPTIONS] == WHY_CAPTIONS
    assert "Grad-CAM (conv_1)" in inside  # the digits' CNN has one conv block
    sentence = next(c.value for c in tab(at, "Look inside").caption if "Blue pixels raise the score" in c.value)
    assert sentence.startswith("The model reads ")
    # "Why not 9?": the maps and the sentence now speak of class 9.
    at.selectbox(key="evaluate.why_class.test.keras").set_value(9).run()
    sentence = next(c.value for c in tab(at, "Look inside").caption if "Blue pixels raise the score" in c.value)
    assert "score of 9" in sentence


def test_why_for_a_gallery_mistake_and_a_confusion_cell(evaluate):
    at = evaluate
    for name in ("Mistakes", "Confusion matrix"):
        shown = captions(tab(at, name))
        assert all(c in shown for c in WHY_CAPTIONS), name
    mistakes = at.selectbox(key="evaluate.why_mistake")
    chosen = 1 if len(mistakes.options) > 1 else 0
    mistakes.select_index(chosen).run()
    predicted = mistakes.options[chosen].split(" → ")[1].split(" ")[0]
    sentence = next(c.value for c in tab(at, "Mistakes").caption if "Blue pixels raise the score" in c.value)
    assert sentence.startswith(f"The model reads {predicted} ")


def test_the_hidden_map_animates_every_epoch_and_names_the_fastest_separation(evaluate):
    at = evaluate
    maps = hidden_map_figures(at)
    assert maps, "the Hidden map tab draws the animated scatter"
    figure = maps[0]
    assert len(figure["frames"]) == 3 and [f["name"] for f in figure["frames"]] == ["1", "2", "3"]
    assert figure["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"
    assert len(figure["layout"]["sliders"][0]["steps"]) == 3
    assert {trace["name"] for trace in figure["data"]} == {str(k) for k in range(10)}
    # Each point's hover label draws its digit in characters.
    assert "<br>" in figure["data"][0]["text"][0]
    words = " ".join(m.value for m in tab(at, "Hidden map").markdown)
    assert "separation" in words and ("pull apart fastest in epoch" in words or "did not pull" in words)
    assert any("Kept as float16" in c.value for c in tab(at, "Hidden map").caption)


def test_the_lesson_shows_what_the_network_learned_to_look_at(evaluate):
    at = evaluate
    at.query_params["step"] = "6"
    at.switch_page("pages/lesson.py").run()
    assert not at.exception, at.exception
    assert any(h.value == "What the network has learned to look at" for h in at.subheader)
    assert all(c in captions(at) for c in WHY_CAPTIONS)
    assert hidden_map_figures(at)


def live_run(hidden_layers=(128,)) -> tuple[TrainingRun, object]:
    """A Keras run 'in training' whose record holds what the trainer writes after each epoch."""
    dataset = load_dataset("digits")
    config = TrainingConfig(dataset="digits", epochs=3, hidden_layers=hidden_layers)
    run = TrainingRun(config, "keras")
    run.dataset_title = dataset.title
    run.mark_running(3, 40)
    return run, dataset


def add_epoch(run: TrainingRun, dataset, epoch: int) -> None:
    _, y_val = validation_images(run.config, dataset)
    sample = hidden_map_recording.sample_indices(len(y_val), run.config.seed)
    rng = np.random.default_rng(epoch)
    rows = (rng.normal(size=(len(sample), 16)) + y_val[sample, None] * epoch).astype(np.float16)
    run.set_detail("val_predictions", [*run.snapshot().details.get("val_predictions", []), y_val.astype(np.int16)])
    hidden_map_recording.record_epoch(run, "dense_1", sample, rows)
    run.record_epoch(epoch, {"loss": 1.0 / epoch, "val_loss": 1.0 / epoch})


def test_while_training_the_map_fills_in_epoch_by_epoch():
    run, dataset = live_run()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["train.keras_run"] = run
    at.run()
    at.switch_page("pages/evaluate.py").run()
    assert any("appears after the first epoch" in i.value for i in at.info)
    add_epoch(run, dataset, 1)
    at.run()
    assert [len(f["frames"]) for f in hidden_map_figures(at)] == [1]
    add_epoch(run, dataset, 2)
    at.run()
    assert not at.exception, at.exception
    assert [len(f["frames"]) for f in hidden_map_figures(at)] == [2]
    assert any("pull apart fastest in epoch 1–2" in m.value for m in at.markdown)
    run.request_stop()


def test_a_model_without_a_hidden_layer_says_so():
    run, _ = live_run(hidden_layers=())
    run.record_epoch(1, {"loss": 1.0})
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["train.keras_run"] = run
    at.run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception, at.exception
    assert any("no hidden layer" in i.value for i in at.info)
    assert not hidden_map_figures(at)

"""Evaluate page in AppTest: after a quick training on the digits, a user reads scores, mistakes and uploads."""

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core import libraries
from tests.polling import rerun_until

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def chart_data(at: AppTest, index: int):
    """The data frame Streamlit sent with an Altair chart (as Arrow, next to the spec)."""
    from streamlit import dataframe_util

    dataset = at.get("vega_lite_chart")[index].proto.datasets[0]
    return dataframe_util.convert_arrow_bytes_to_pandas_df(dataset.data.data)


def captions(at) -> list[str]:
    """The captions of the pictures in the app or in one block of it (a tab)."""
    return [image.proto.imgs[0].caption for image in at.image if image.proto.imgs]


def tab(at: AppTest, label: str):
    return next(block for block in at.tabs if block.label == label)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def trained_then_evaluate(**settings) -> AppTest:
    """Keras and the baseline trained through the Train page with these settings on the digits, then Evaluate."""
    # Keras is imported first, outside the pages' timeout: the app imports it at idle priority, and on a busy
    # machine a cold import in a test process's first page run outlasts TIMEOUT (an earlier test started it).
    libraries.load("keras")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    # Chosen before the Train page first runs, so it does not try to download MNIST first.
    at.session_state["train.dataset"] = "digits"
    for name, value in settings.items():
        at.session_state[f"train.{name}"] = value
    at.run()
    at.switch_page("pages/train.py").run()
    next(b for b in at.button if b.label == "Train").click().run()
    rerun_until(
        at,
        lambda at: " ".join(p.proto.text for p in at.get("progress")).count("Finished") == 2,
        TIMEOUT,
        "Keras and the baseline have both finished",
    )
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception, at.exception
    return at


def back_on_evaluate(at: AppTest) -> AppTest:
    """A trained session shared by a module's tests, back on Evaluate with Keras chosen: where one test went and
    which model it chose is not where the next one starts."""
    at.switch_page("pages/evaluate.py").run()
    at.radio(key="evaluate.model").set_value("Keras").run()
    return at


@pytest.fixture(scope="module")
def trained() -> AppTest:
    """Keras and the baseline trained for 2 epochs on the digits through the Train page, then Evaluate."""
    return trained_then_evaluate(epochs=2)


@pytest.fixture
def evaluate(trained: AppTest) -> AppTest:
    return back_on_evaluate(trained)


def test_before_training_the_page_points_to_train():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception
    assert "train a model" in at.info[0].value
    assert at.get("page_link")


def test_scores_and_the_confusion_matrix_with_its_toggle(evaluate):
    at = evaluate
    assert [tab.label for tab in at.tabs][:2] == ["Scores", "Confusion matrix"]
    accuracy = float(at.metric[0].value.rstrip("%")) / 100
    assert 0.5 < accuracy <= 1
    table = at.dataframe[0].value
    assert list(table["class"]) == [str(k) for k in range(10)] and table["support"].sum() == 360
    matrix = chart_data(at, 0)
    assert len(matrix) == 100 and matrix["count"].sum() == 360
    assert '"format":"d"' in json.dumps(charts(at)[0], separators=(",", ":"))
    at.toggle(key="evaluate.normalise").set_value(True).run()
    assert '"format":".0%"' in json.dumps(charts(at)[0], separators=(",", ":"))
    shares = chart_data(at, 0).groupby("true")["value"].sum()
    np.testing.assert_allclose(shares, 1.0)


def test_choosing_a_cell_shows_its_test_images(evaluate):
    at = evaluate
    at.selectbox(key="evaluate.cell_true").set_value(3).run()
    at.selectbox(key="evaluate.cell_predicted").set_value(3).run()
    cell_caption = next(c.value for c in at.caption if "predicted as 3" in c.value)
    count = int(cell_caption.split(" ")[0])
    assert count > 20  # most 3s are read as 3
    confidences = [c for c in captions(at) if c.endswith("%") and "→" not in c]
    assert len(confidences) == min(16, count)


def test_mistakes_gallery_shows_images_and_filters_by_class(evaluate):
    at = evaluate
    shown = [c for c in captions(tab(at, "Mistakes")) if "→" in c]
    assert shown, "the gallery shows the most confident mistakes"
    assert all(true != predicted for true, predicted in (c.split(" (")[0].split(" → ") for c in shown))
    percentages = [int(c.rsplit("(", 1)[1].rstrip("%)")) for c in shown]
    assert percentages == sorted(percentages, reverse=True)
    at.radio(key="evaluate.mistakes_filter").set_value("predicted class").run()
    predicted = shown[0].split(" (")[0].split(" → ")[1]
    at.selectbox(key="evaluate.mistakes_class").set_value(int(predicted)).run()
    filtered = [c for c in captions(tab(at, "Mistakes")) if "→" in c]
    assert filtered and all(c.split(" (")[0].endswith(f"→ {predicted}") for c in filtered)


def test_over_time_and_look_inside(evaluate):
    at = evaluate
    frames = [chart_data(at, index) for index in range(len(at.get("vega_lite_chart")))]
    heat_strip = next(frame for frame in frames if "epoch" in frame)
    assert len(heat_strip) == 10 * 2 and heat_strip["F1"].between(0, 1).all(), "10 classes × 2 epochs"
    at.slider(key="evaluate.epoch").set_value(1).run()
    assert any("after epoch 1" in m.value for m in at.markdown)
    assert any("first-layer weights" in m.value for m in at.markdown)
    layers = [m.value for m in at.markdown if m.value.startswith("`")]
    assert [layer.split("`")[1] for layer in layers] == ["dense_1", "probabilities"]
    at.number_input(key="evaluate.inside_image.keras").set_value(5).run()
    assert not at.exception


def test_the_epoch_slider_shows_that_epochs_validation_mistakes(evaluate, digits):
    from core.data.splits import validation_images

    at = evaluate
    run = at.session_state["train.keras_run"]
    matrices = run.snapshot().details["val_confusion_matrices"]
    _, y_val = validation_images(run.config, digits)
    wrong = []
    for epoch in (1, 2):
        at.slider(key="evaluate.epoch").set_value(epoch).run()
        over_time = tab(at, "Over the epochs")
        summary = next(c.value for c in over_time.caption if "validation images wrong" in c.value)
        # As many mistakes as that epoch's confusion matrix has off its diagonal.
        expected = int(matrices[epoch - 1].sum() - np.trace(matrices[epoch - 1]))
        assert summary.startswith(f"{expected:,} of {len(y_val):,} validation images wrong"), summary
        wrong.append(expected)
        shown = [c for c in captions(over_time) if "→" in c]
        assert 0 < len(shown) <= 16 and all(
            true != predicted for true, predicted in (c.split(" (")[0].split(" → ") for c in shown)
        )
        percentages = [int(c.rsplit("(", 1)[1].rstrip("%)")) for c in shown]
        assert percentages == sorted(percentages, reverse=True), "the surest mistakes first"
    fixed, new = (int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:fixed|new)", summary))
    assert wrong[1] == wrong[0] - fixed + new, "epoch 2's mistakes are epoch 1's, minus those fixed, plus new ones"


def test_upload_reads_good_images_and_explains_bad_ones(evaluate, digits):
    at = evaluate
    # The canvas cannot be drawn on in AppTest: it shows its empty state; the browser test draws.
    assert any("canvas is empty" in i.value for i in at.info)
    seven = digits.x_test[int(np.flatnonzero(digits.y_test == 7)[0])]
    drawing = Image.fromarray(((1 - seven) * 255).astype(np.uint8)).resize((200, 200), Image.Resampling.BILINEAR)
    files = [
        ("seven.png", png(drawing), "image/png"),
        ("empty.png", b"", "image/png"),
        ("notes.png", b"just text", "image/png"),
        ("blank.png", png(Image.new("L", (100, 100), 255)), "image/png"),
    ]
    at.file_uploader(key="evaluate.uploads").set_value(files).run()
    assert not at.exception
    readings = [m.value for m in at.markdown if "reads" in m.value]
    assert len(readings) == 1 and "**Keras** reads" in readings[0] and "scikit-learn MLP" in readings[0]
    errors = " ".join(e.value for e in at.error)
    assert "empty (0 bytes)" in errors and "not an image" in errors and "No digit found" in errors
    assert "Centred in 8×8" in captions(at)


def test_the_baseline_can_be_evaluated_too(evaluate):
    at = evaluate
    at.radio(key="evaluate.model").set_value("scikit-learn MLP").run()
    assert not at.exception
    assert "scikit-learn MLP on" in at.caption[0].value
    assert any("scikit-learn MLP: first-layer weights" in m.value for m in at.markdown)

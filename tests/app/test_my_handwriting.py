"""Evaluate's "Test it on my handwriting" in AppTest: draw every digit twice, read the score, download the set.

AppTest cannot draw on the canvas component, so the canvas (pages.handwriting.draw_canvas) is replaced by
one that hands back offline-made digits as the canvas would: the digit asked for, white on black.
"""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.handwriting import synthetic_digits
from core.results.handwriting import solo_prompts
from pages import handwriting
from tests.handwriting_drawings import canvas_of
from tests.polling import rerun_until

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 120
HEADER = "Test it on my handwriting"


def digit_drawn(digit: int, seed: int = 0) -> np.ndarray:
    digits, labels = synthetic_digits(30, style="bundled", seed=seed)
    return digits[int(np.flatnonzero(labels == digit)[0])]


@pytest.fixture
def drawing_canvas(monkeypatch):
    """The canvas draws the digit its key asks for (the key ends with the number of drawings so far)."""
    blank = {"on": False}
    prompts = solo_prompts()

    def fake_canvas(key: str):
        if blank["on"]:
            return None  # streamlit-drawable-canvas's image_data before any stroke
        return canvas_of(digit_drawn(prompts[int(key.rsplit(".", 1)[1])]))

    monkeypatch.setattr(handwriting, "draw_canvas", fake_canvas)
    return blank


def baseline_then_evaluate() -> AppTest:
    """The baseline trained through the Train page on the digits, then Evaluate."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["train.dataset"] = "digits"
    at.session_state["train.train"] = "baseline"
    at.run()
    at.switch_page("pages/train.py").run()
    next(b for b in at.button if b.label == "Train").click().run()
    rerun_until(
        at, lambda at: "Finished" in " ".join(p.proto.text for p in at.get("progress")), TIMEOUT, "the baseline ends"
    )
    at.switch_page("pages/evaluate.py").run()
    # The run may still be saving its record: Evaluate shows the run live until it has ended.
    rerun_until(at, lambda at: any(h.value == HEADER for h in at.header), TIMEOUT, "Evaluate shows the finished run")
    assert not at.exception, at.exception
    return at


def next_button(at: AppTest):
    return next(b for b in at.button if b.label == "Next")


def test_my_handwriting_draw_every_digit_twice_then_the_score(drawing_canvas):
    at = baseline_then_evaluate()
    assert any(m.value == "### Draw a 0" for m in at.markdown)

    drawing_canvas["on"] = True  # Next on an empty canvas: refused, nothing kept
    next_button(at).click().run()
    assert any("empty" in w.value for w in at.warning)
    assert any(m.value == "### Draw a 0" for m in at.markdown)
    drawing_canvas["on"] = False

    for _ in solo_prompts():
        next_button(at).click().run()
        assert not at.exception, at.exception
    assert not [b for b in at.button if b.label == "Next"]  # every digit drawn twice: no more prompts
    texts = [m.value for m in at.markdown]
    read = next(t for t in texts if t.startswith("The model read "))
    correct = int(read.split()[3])
    assert read == f"The model read {correct} of your 20 drawings right."
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["On your handwriting"] == f"{correct / 20:.0%}"
    assert metrics["On its test set"].endswith("%")
    captions = [image.proto.imgs[0].caption for image in at.image if image.proto.imgs]
    assert sum(" read as " in caption for caption in captions) == 20, captions[-25:]

    zipped = next(el for el in at.get("download_button") if "my drawings" in el.proto.label)
    assert zipped.proto.label == "Download my drawings (.zip)"

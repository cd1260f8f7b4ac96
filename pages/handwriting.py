"""Evaluate's "Test it on my handwriting": draw each digit twice, then see how the model reads your hand.

Not a page itself (app.py's st.navigation lists the pages): Evaluate calls show_my_handwriting. The
canvas and the drawing gallery serve the room's handwriting too (pages/room_handwriting.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from core import charts
from core.data.images import ImageError
from core.results.handwriting import (
    DIGIT_NAMES,
    HandwritingScore,
    dataset_zip,
    drawing_from_canvas,
    model_inputs,
    reads_digits,
    score_drawings,
    solo_prompts,
)
from core.training.inference import ModelSnapshot
from pages.looks import palette
from pages.session import Keys
from pages.why import show_why

CANVAS_SIDE = 280  # 10 screen pixels per MNIST pixel; fits a phone's width
STROKE_WIDTH = 20
GALLERY_COLUMNS = 10
PICTURE_WIDTH = 56


def draw_canvas(key: str) -> np.ndarray | None:
    """A square canvas, white ink on black as MNIST's digits; its image_data (None before any stroke)."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as error:  # the component registers with Streamlit at import; a version clash breaks it
        st.warning(f"The drawing canvas could not start here ({type(error).__name__}: {error}).")
        return None
    result = st_canvas(
        stroke_width=STROKE_WIDTH,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_SIDE,
        width=CANVAS_SIDE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    return result.image_data


def drawing_gallery(drawings: Sequence[np.ndarray], captions: Sequence[str], columns: int = GALLERY_COLUMNS) -> None:
    """Kept drawings (28×28 uint8) with captions, `columns` to a row."""
    for start in range(0, len(drawings), columns):
        row = st.columns(columns)
        for column, drawing, caption in zip(row, drawings[start : start + columns], captions[start:], strict=False):
            column.image(charts.digit_picture(np.asarray(drawing) / 255, side=PICTURE_WIDTH), caption=caption)


def reading_captions(score: HandwritingScore) -> list[str]:
    """Under each drawing: "3 read as 5 (80%)", the digit asked for, what the model read, how sure it was."""
    return [
        f"{label} read as {predicted} ({confidence:.0%})"
        for label, predicted, confidence in zip(score.labels, score.predictions, score.confidences, strict=True)
    ]


def why_for_drawing(snapshot: ModelSnapshot, drawings, score: HandwritingScore, choices, key: str, place: str) -> None:
    """The "Why?" of one drawing of `choices` (indices into the scored set), picked by the person."""
    names = list(DIGIT_NAMES)
    chosen = st.selectbox(
        "Drawing",
        choices,
        format_func=lambda i: f"drawing {i + 1}: a {score.labels[i]} read as {score.predictions[i]}",
        key=key,
    )
    if chosen is not None:
        show_why(snapshot, model_inputs([drawings[chosen]], snapshot.input_shape[:2])[0], names, place)


def show_my_handwriting(snapshot: ModelSnapshot, test_accuracy: float | None, class_names, title: str) -> None:
    """Ask for each digit in turn on a canvas; then the model's score on this handwriting against its test score."""
    st.header("Test it on my handwriting")
    if not reads_digits(class_names):
        st.info(f"This model reads {title}, not handwritten digits: train on a digits dataset to test it here.")
        return
    kept = st.session_state.setdefault(Keys.HANDWRITING_DRAWINGS, [])
    prompts = solo_prompts()
    st.write(
        "A model that scores well on its test set has promised that for its test set, not for your handwriting. "
        f"Draw each digit twice ({len(prompts)} drawings), with a finger on a phone or the mouse, and see."
    )
    if len(kept) < len(prompts):
        ask_for_drawing(kept, prompts[len(kept)], len(prompts))
    if kept:
        show_my_results(snapshot, test_accuracy, kept, finished=len(kept) >= len(prompts))


def ask_for_drawing(kept: list, digit: int, total: int) -> None:
    """The next digit to draw, its canvas and Next; a nearly empty canvas is refused with a message."""
    st.markdown(f"### Draw a {digit}")
    st.caption(f"Drawing {len(kept) + 1} of {total}. The bin under the canvas starts it again.")
    # A new canvas for each drawing, and for each new start.
    version = st.session_state.get(Keys.HANDWRITING_CANVAS_VERSION, 0)
    image_data = draw_canvas(f"{Keys.HANDWRITING_CANVAS}{version}.{len(kept)}")
    if st.button("Next", type="primary", icon=":material/arrow_forward:", key="evaluate.handwriting.next"):
        try:
            drawing = drawing_from_canvas(image_data)
        except ImageError as error:
            st.warning(str(error))
            return
        kept.append((digit, drawing))
        st.rerun()


def show_my_results(snapshot: ModelSnapshot, test_accuracy: float | None, kept: list, finished: bool) -> None:
    """Accuracy on your drawings beside the test accuracy, your confusion matrix, each reading with "Why?"."""
    labels = [label for label, _ in kept]
    drawings = [drawing for _, drawing in kept]
    score = score_drawings(snapshot, drawings, labels)
    st.subheader("How it reads your handwriting" + ("" if finished else " so far"))
    mine, test = st.columns(2)
    mine.metric("On your handwriting", f"{score.accuracy:.0%}")
    test.metric("On its test set", f"{test_accuracy:.1%}" if test_accuracy is not None else "–")
    st.write(f"The model read {score.correct} of your {score.total} drawings right.")
    st.altair_chart(charts.confusion_matrix_chart(score.confusion, DIGIT_NAMES, palette=palette()), width="stretch")
    st.caption(
        "Rows: the digit you were asked for; columns: what the model read. Under each drawing: the same, and how sure."
    )
    drawing_gallery(drawings, reading_captions(score))
    with st.expander("Why? Pick a drawing"):
        wrong_first = sorted(range(score.total), key=lambda i: score.labels[i] == score.predictions[i])
        why_for_drawing(snapshot, drawings, score, wrong_first, Keys.HANDWRITING_WHY, "handwriting")
    download, again = st.columns(2)
    download.download_button(
        "Download my drawings (.zip)",
        dataset_zip(drawings, labels),
        file_name="my_handwriting.zip",
        mime="application/zip",
        help="Class folders (0/ to 9/) of 28×28 images: Train's “Your own images” reads them as a dataset.",
        key="evaluate.handwriting.download",
    )
    if again.button("Start again", icon=":material/restart_alt:", key="evaluate.handwriting.again"):
        st.session_state[Keys.HANDWRITING_DRAWINGS] = []
        st.session_state[Keys.HANDWRITING_CANVAS_VERSION] = st.session_state.get(Keys.HANDWRITING_CANVAS_VERSION, 0) + 1
        st.rerun()

"""Why a model read a digit so, and the hidden layer's map of the digits: views Evaluate and Lesson share.

Not a page itself: app.py's st.navigation lists the pages, so this module is never shown. Everything is
computed in core/ from the numpy copy of the weights and the run record, so it never touches Keras.
"""

from __future__ import annotations

import streamlit as st

from core import charts
from core.data.images import ImageError
from core.data.splits import validation_images
from core.results import hidden_map, saliency
from core.training.run import RunSnapshot
from pages.looks import palette, palette_for_key

# Session-state keys of these views (one per place a "Why?" is asked), page-prefixed.
WHY_CLASS_KEY = "evaluate.why_class"  # + ".<place>": the class asked about there; None is the model's answer
WHY_MISTAKE_KEY = "evaluate.why_mistake"  # the gallery's mistake explained
PICTURE_WIDTH = 140


def show_why(snapshot, image, names, place: str, label: str = "") -> None:
    """The maps that say which pixels made the model's score, for its answer or any class the user asks about."""
    names = list(names)
    options = [None, *range(len(names))]
    asked = st.selectbox(
        "Why this class?",
        options,
        format_func=lambda k: "the model's answer" if k is None else f"why {names[k]}? (or why not)",
        key=f"{WHY_CLASS_KEY}.{place}",
        help="Pick any other class to ask “why not 9?”: the maps then show what speaks for and against it.",
    )
    try:
        explanation = saliency.explain(snapshot, image, asked)
    except ImageError as error:
        st.info(str(error))
        return
    panels = charts.explanation_panels(explanation, palette())
    for column, (title, picture) in zip(st.columns(len(panels)), panels, strict=True):
        column.image(picture, caption=title, width=PICTURE_WIDTH)
    who = f"{label}: " if label else ""
    st.caption(
        who
        + saliency.sentence(explanation, names)
        + " Gradient: what would change the score; gradient × input: what did, where the ink is."
        + (" Grad-CAM: the regions the last convolution found." if explanation.grad_cam is not None else "")
    )


@st.cache_data(max_entries=8, show_spinner=False)
def hidden_map_view(
    run_id: str, epochs: int, _details: dict, _dataset, _config, class_names: tuple, height: int, palette_key: str
):
    """The map's figures and sentences for one run after `epochs` epochs (cached: rebuilt once an epoch)."""
    x_val, y_val = validation_images(_config, _dataset)
    built, images = hidden_map.run_map(_details, x_val, y_val)
    look = palette_for_key(palette_key)
    figure = charts.hidden_map_figure(
        built.points, built.labels, class_names, built.separation, built.predictions, images, height, look
    )
    curve = charts.separation_curve(built.separation, palette=look)
    return figure, curve, hidden_map.separation_sentence(built.separation), hidden_map.describe(_details, built)


def show_hidden_map(snap: RunSnapshot, dataset, place: str, height: int = 520) -> None:
    """The last hidden layer's map of the validation digits, epoch by epoch (live while the run trains)."""
    missing = hidden_map.why_missing(snap.details, len(snap.epochs), snap.config.validation_split)
    if missing:
        st.info(f"{snap.label}: {missing}")
        return
    recorded = len(snap.details[hidden_map.ACTIVATIONS_DETAIL])
    figure, curve, sentence, caption = hidden_map_view(
        snap.run_id, recorded, snap.details, dataset, snap.config, tuple(dataset.class_names), height, palette().key
    )
    st.markdown(f"**{snap.label}: {sentence}**")
    # No toolbar: on a phone it covers the legend's class names (drag to zoom, double-click to reset still work).
    bare = {"displayModeBar": False}
    st.plotly_chart(figure, key=f"{place}.hidden_map.{snap.run_id}.{recorded}", width="stretch", config=bare)
    st.plotly_chart(curve, key=f"{place}.separation.{snap.run_id}.{recorded}", width="stretch", config=bare)
    st.caption(
        caption + " Colour: the true class; a cross: read wrongly that epoch. Press ▶ to watch the classes move "
        "apart; hover a point to see its digit. Separation: the silhouette of the true classes (−1 to 1)."
    )

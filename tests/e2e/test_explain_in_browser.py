"""Why? and the hidden map in a real browser: the map fills in while the CNN trains, then saliency for a mistake."""

from __future__ import annotations

import re

from tests.e2e.browser import (
    LONG_RUN_DATASET,
    choose_digits,
    go_to,
    open_app,
    press_until,
    progress_text,
    screenshot,
    wait_ready,
    wait_until,
)

# The small CNN on Fashion-MNIST: each epoch takes long enough that the Evaluate page, however slowly a loaded
# machine draws it, sees the map while the run trains (the digits' CNN ended 100 epochs before it, under load).
EPOCHS = 8
# Frames of the hidden map's Plotly chart, read from the chart itself (0 when there is none yet).
MAP_FRAMES_JS = """() => Math.max(0, ...Array.from(document.querySelectorAll('.js-plotly-plot')).map(
    chart => ((chart._transitionData || {})._frames || []).length))"""


def map_frames(page) -> int:
    return page.evaluate(MAP_FRAMES_JS)


def test_the_map_fills_in_live_then_why_explains_a_mistake(page, server):
    open_app(page, server)  # the landing page does not wait for Keras; the Train page may, on a busy machine
    go_to(page, "train", timeout=180)
    choose_digits(page, epochs=EPOCHS, keras_only=True, dataset=LONG_RUN_DATASET)
    page.get_by_test_id("stSidebar").get_by_text("Small CNN").click()
    wait_ready(page)
    press_until(page, "Train", lambda: progress_text(page))  # a press lost in a rerun is pressed again
    go_to(page, "evaluate", timeout=180)
    # While it trains, the Evaluate page draws the map, one more frame each epoch.
    main = page.get_by_test_id("stMain")
    first = wait_until(lambda: "Training is running" in main.inner_text() and map_frames(page))
    assert first < EPOCHS, "the map was drawn only once complete, not while it trained"
    wait_until(lambda: main.get_by_role("tab", name="Hidden map").count(), seconds=600)
    wait_ready(page)

    main.get_by_role("tab", name="Hidden map").click()
    panel = main.get_by_role("tabpanel").filter(has_text="pull apart").first
    panel.wait_for()
    assert map_frames(page) == EPOCHS  # then filled in: one frame per epoch
    points = panel.locator(".js-plotly-plot .scatterlayer path.point")
    wait_until(lambda: points.count() > 50)
    # Plotly's drag layer lies over the points: move the mouse there, as a person does, rather than hover an element.
    box = points.nth(40).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".hoverlayer .hovertext", timeout=5000)

    main.get_by_role("tab", name="Mistakes").click()
    why = main.get_by_test_id("stExpander").filter(has_text="Why? Pick a mistake").first
    why.locator("summary").click()
    why.get_by_text("gradient × input").first.wait_for()
    assert why.get_by_text(re.compile(r"Grad-CAM \(conv_\d\)")).count(), "Grad-CAM on the last convolution"
    assert "Blue pixels raise the score" in why.inner_text()
    screenshot(page, "evaluate-why-full")

"""One user in a real browser: the landing page, live training, Stop, a page switch, the baseline."""

from __future__ import annotations

import time

import pytest

from tests.e2e.browser import (
    LONG_RUN_DATASET,
    TRACE_NAMES_JS,
    choose_digits,
    go_to,
    open_app,
    point_count,
    press,
    progress_text,
    run_finished,
    screenshot,
    wait_ready,
    wait_until,
)
from tests.e2e.conftest import ROOT, start_server, stop_server


@pytest.fixture
def fresh_server(browser, artifacts, tmp_path):
    """A server nobody has opened yet: Keras starts importing only when the first page loads."""
    app = start_server(artifacts.parent / "streamlit-fresh.log", KERAS_HOME=str(tmp_path))
    yield app
    stop_server(app.process)


def test_the_landing_page_is_interactive_before_keras_has_loaded(browser, fresh_server):
    context = browser.new_context()
    page = context.new_page()
    open_app(page, fresh_server)  # drawn at all (a generous bound); bench/busy_server.py times it
    main = page.get_by_test_id("stMain")
    assert main.get_by_role("heading", name="Training Studio").is_visible()
    assert "Keras is loading in the background" in main.inner_text(), "the page did not wait for Keras"
    # The page's links work while Keras is still loading.
    assert page.get_by_role("link", name="Open the training page").is_enabled()
    screenshot(page, "home")
    context.close()


def test_train_watch_the_curves_grow_switch_page_and_stop(page, server):
    open_app(page, server, "train")
    choose_digits(page, epochs=100, keras_only=True, dataset=LONG_RUN_DATASET)
    press(page, "Train")
    first = wait_until(lambda: point_count(page))
    # The chart keeps growing while the run trains: read the points from the Plotly charts themselves.
    grown = wait_until(lambda: (count := point_count(page)) > first and count)
    # Read as the page settles, not at one instant: when the progress line and the first points are drawn
    # by one script run (the page waits for the first point), its label can read empty for a moment.
    wait_until(lambda: "epoch" in progress_text(page))

    # Another page and back: the run went on without us.
    go_to(page, "")
    time.sleep(1.5)
    go_to(page, "train")
    wait_until(lambda: point_count(page) > grown)
    running = wait_until(lambda: "epoch" in (text := progress_text(page)) and text)
    assert "Stopped" not in running
    # The settings came back with the page (Streamlit forgets undrawn widgets unless app.py keeps them).
    sidebar = page.get_by_test_id("stSidebar")
    assert LONG_RUN_DATASET in sidebar.get_by_role("combobox", name="Dataset").input_value()
    assert sidebar.get_by_test_id("stSlider").filter(has_text="Epochs").get_by_role("slider").input_value() == "100"
    screenshot(page, "train")

    press(page, "Stop")
    stopped = wait_until(lambda: "Stopped after" in progress_text(page) and progress_text(page), seconds=10)
    epochs_done = int(stopped.split("Stopped after ")[1].split(" ")[0])
    assert epochs_done < 100
    # Stopped means stopped: nothing moves any more.
    wait_ready(page)
    settled = point_count(page)
    time.sleep(2)
    assert point_count(page) == settled


def test_compare_shows_keras_and_the_baseline(page, server):
    open_app(page, server, "train")
    choose_digits(page, epochs=2)
    press(page, "Train")
    wait_until(lambda: progress_text(page).count("Finished") == 2)
    go_to(page, "compare")
    names = wait_until(lambda: page.evaluate(TRACE_NAMES_JS))
    assert any(name.startswith("Keras") for name in names), names
    assert any(name.startswith("scikit-learn MLP") for name in names), names
    assert "Keras" in page.get_by_test_id("stMain").inner_text()
    screenshot(page, "compare")


EVALUATE_PAGE = ROOT / "pages" / "evaluate.py"
needs_evaluate = pytest.mark.skipif(not EVALUATE_PAGE.exists(), reason="Evaluate page not present")


def train_quickly(page, server) -> None:
    open_app(page, server, "train")
    choose_digits(page, epochs=1, keras_only=True)
    press(page, "Train")
    run_finished(page)


@needs_evaluate
def test_draw_a_digit_and_see_a_prediction(page, server):
    train_quickly(page, server)
    go_to(page, "evaluate")
    page.get_by_role("tab", name="Draw a digit").click()
    # The canvas component loads in its own frame: wait until it is laid out, not merely present.
    box = wait_until(lambda: _canvas_box(page), seconds=30)
    # A "1": one stroke down the middle of the canvas, with the mouse.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * (0.2 + 0.06 * step))
    page.mouse.up()
    reading = wait_until(lambda: _reading(page), seconds=20)
    assert reading.split(" reads ")[1][0].isdigit(), reading
    screenshot(page, "evaluate")


@needs_evaluate
def test_upload_an_image_and_see_a_prediction(page, server, tmp_path):
    from PIL import Image, ImageDraw

    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).line([(14, 4), (14, 24)], fill=255, width=3)
    path = tmp_path / "one.png"
    image.save(path)
    train_quickly(page, server)
    go_to(page, "evaluate")
    page.get_by_role("tab", name="Upload").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(path))
    wait_until(lambda: "one.png" in page.get_by_test_id("stMain").inner_text(), seconds=20)
    reading = wait_until(lambda: _reading(page), seconds=20)
    assert reading.split(" reads ")[1][0].isdigit(), reading


@needs_evaluate
def test_a_too_large_upload_is_refused_with_a_message(page, server, tmp_path):
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG" + bytes(21 * 1024 * 1024))  # over the Evaluate uploader's 20 MB
    train_quickly(page, server)
    go_to(page, "evaluate")
    page.get_by_role("tab", name="Upload").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(big))
    message = wait_until(lambda: "MB or smaller" in (text := page.get_by_test_id("stMain").inner_text()) and text)
    assert "20" in message
    # The app still answers this session.
    go_to(page, "")
    assert page.get_by_role("heading", name="Training Studio").is_visible()


def _reading(page) -> str | None:
    """The models' answer line, e.g. "Keras reads 1 (87%)", once it is drawn."""
    lines = page.get_by_test_id("stMain").inner_text().splitlines()
    return next((line for line in lines if " reads " in line), None)


def _canvas_box(page):
    """The place on the screen of the open tab's drawing canvas, once it has one (the page has another
    canvas further down, under "Test it on my handwriting")."""
    panel = page.get_by_test_id("stMain").get_by_role("tabpanel").filter(has=page.locator("canvas"))
    for index in range(panel.count()):
        canvases = panel.nth(index).locator("canvas")
        box = canvases.last.bounding_box() if canvases.count() else None
        if box and box["width"] > 0 and box["height"] > 0:
            return box
    return None

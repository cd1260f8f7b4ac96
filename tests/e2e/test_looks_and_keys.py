"""In Chromium: the presenter's keys on the Lesson page, and every main page in the light and the dark theme.

The theme test checks that no chart keeps a white background on the dark page (docs/screens.py keeps the pictures).
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
from PIL import Image

from core.results import lesson_texts as texts
from tests.e2e.browser import (
    LONG_RUN_DATASET,
    act_until,
    choose_digits,
    go_to,
    open_app,
    press,
    progress_text,
    wait_ready,
    wait_until,
)

PAGES = ("train", "compare", "lesson", "evaluate", "experiments")
# The tab to open first where a page's first tab has no chart.
TABS = {"evaluate": "Confusion matrix"}
CHARTS = "[data-testid='stPlotlyChart'], [data-testid='stVegaLiteChart']"
# The Lesson sidebar's most epochs (pages/lesson.py's LESSON_EPOCHS_RANGE; that page is a script, not imported).
LESSON_MOST_EPOCHS = 20
# A chart's top strip is its own background (title and margin): near-white there means it painted its own.
NEAR_WHITE = 235


def step_in_url(page) -> str:
    return page.url.split("step=")[1].split("&")[0] if "step=" in page.url else ""


def key(page, name: str, until, tries: int = 3) -> None:
    """A real key press on the page (not in a widget), as a presenter's clicker or keyboard sends it, until `until()`.

    First the step's buttons must be drawn (they carry the shortcuts): a step draws them last. In headless
    Chromium, Streamlit 1.67's button shortcuts let the first press of a key in a session pass unanswered
    (the keydown reaches the page; a second press works), so the key is pressed again, at most `tries` times.
    """

    def press_key() -> None:
        page.get_by_test_id("stMain").get_by_role("button").filter(has_text="Next").first.wait_for(timeout=60_000)
        wait_ready(page)
        page.keyboard.press(name)

    act_until(press_key, until, f"{name} pressed", tries, seconds=8)


def test_presenter_keys_change_step_train_and_stop(page, server):
    open_app(page, server, "lesson?step=1")
    # A run S can stop mid-way: on a warm server the digits' 5 epochs end in a fraction of a second.
    choose_digits(page, epochs=LESSON_MOST_EPOCHS, dataset=LONG_RUN_DATASET)
    page.get_by_test_id("stMain").get_by_test_id("stCheckbox").filter(has_text=texts.PRESENTER).locator("label").click()
    page.wait_for_url(lambda url: "presenter=1" in url, timeout=20_000)
    wait_ready(page)
    page.evaluate("() => document.activeElement.blur()")  # keys typed into the toggle are not shortcuts
    key(page, "ArrowRight", lambda: step_in_url(page) == "2")
    wait_until(lambda: "Step 2 of 7" in page.get_by_test_id("stMain").inner_text(), seconds=20)
    key(page, "ArrowLeft", lambda: step_in_url(page) == "1")
    key(page, "t", lambda: step_in_url(page) == "5")  # trains, and shows step 5 to watch it
    wait_until(lambda: re.search(r"epoch \d+/", progress_text(page)), seconds=120)  # training: "epoch 1/20, …"
    key(page, "s", lambda: "Stopped after" in progress_text(page))
    wait_until(lambda: "the model is kept" in progress_text(page), seconds=10)  # read as it settles, not at one instant


def test_without_presenter_mode_the_arrows_do_nothing(page, server):
    open_app(page, server, "lesson?step=2")
    with contextlib.suppress(AssertionError):
        key(page, "ArrowRight", lambda: step_in_url(page) != "2", tries=2)
    assert step_in_url(page) == "2"


def chart_tops(page) -> list[np.ndarray]:
    """The top strip (5 pixel rows) of every chart drawn on the page, as RGB arrays."""
    strips = []
    for chart in page.locator(CHARTS).all():
        if not chart.is_visible():
            continue
        picture = np.asarray(Image.open(io.BytesIO(chart.screenshot())).convert("RGB"))
        strips.append(picture[:5])
    return strips


def test_every_main_page_follows_the_light_and_the_dark_theme(page, server):
    open_app(page, server, "train")
    choose_digits(page, epochs=2)
    press(page, "Train")
    wait_until(lambda: progress_text(page).count("Finished") >= 2, seconds=180)
    checked = 0
    for name in PAGES:
        go_to(page, name)
        if name in TABS:
            page.get_by_role("tab", name=TABS[name]).click()
        page.wait_for_selector(CHARTS, timeout=60_000)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(1500)  # Plotly and Vega redraw in the new theme
            background = page.evaluate(
                "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
            )
            assert (background == "rgb(255, 255, 255)") == (scheme == "light"), f"{name} {scheme}: {background}"
            if scheme == "dark":
                strips = chart_tops(page)
                assert strips, f"no chart drawn on {name}"
                for index, strip in enumerate(strips):
                    assert strip.min(axis=2).mean() < NEAR_WHITE, f"chart {index} on {name} is white on the dark page"
                checked += len(strips)
    assert checked >= len(PAGES)

"""In a projector-sized window, pressing Train (or Fit) brings the live curves into view, no scrolling.

Any layout passes that shows every live chart's plotting area whole inside the 1280×720 window while
the page is scrolled to the top. The test server has no MNIST, so the offline notice is on the page
too (the case with the most above the charts).
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import open_app, point_count, press, wait_until

PROJECTOR = {"width": 1280, "height": 720}
# Each Plotly chart's plotting area (its drag layer), and where the window is scrolled to.
PLOT_AREAS_JS = """() => ({ scrolled: window.scrollY, height: window.innerHeight,
  areas: Array.from(document.querySelectorAll('.js-plotly-plot .nsewdrag')).map((area) => {
    const box = area.getBoundingClientRect(); return { top: box.top, bottom: box.bottom }; }) })"""


@pytest.fixture
def projector_page(browser, server):
    context = browser.new_context(viewport=PROJECTOR)
    yield context.new_page()
    context.close()


def assert_curves_in_view(page) -> None:
    wait_until(lambda: point_count(page) > 0)
    seen = page.evaluate(PLOT_AREAS_JS)
    assert seen["scrolled"] == 0
    assert seen["areas"], "no chart on the page"
    for area in seen["areas"]:
        assert area["top"] >= 0 and area["bottom"] <= seen["height"], f"a chart sits at {area} in a 720 px window"


def test_pressing_train_brings_the_live_curves_into_view(projector_page, server):
    open_app(projector_page, server, "train")
    press(projector_page, "Train")
    assert_curves_in_view(projector_page)


def test_pressing_fit_in_the_lesson_brings_the_live_curves_into_view(projector_page, server):
    open_app(projector_page, server, "lesson?step=4")
    projector_page.get_by_role("button", name="Fit: start training").click()
    assert_curves_in_view(projector_page)

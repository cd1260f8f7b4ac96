"""Plotly's code loads in the browser while the visitor reads, before any chart, and is fetched only once."""

from __future__ import annotations

from pages.plotly_preload import LOADED_MARK, plotly_chunk
from tests.e2e.browser import go_to, open_app, wait_until

LOADED_AT_JS = f"() => performance.getEntriesByName('{LOADED_MARK}').map((mark) => mark.startTime)[0] || null"
FIRST_PAINT_JS = "() => performance.getEntriesByName('first-contentful-paint').map((paint) => paint.startTime)[0]"
PLOTLY_FETCHES_JS = f"""() => performance.getEntriesByType('resource')
  .filter((entry) => entry.name.split('/').pop() === '{plotly_chunk()}').length"""
CHARTS_JS = "() => document.querySelectorAll('.js-plotly-plot .main-svg').length"


def test_the_landing_page_loads_plotly_after_its_first_paint_and_train_reuses_it(page, server):
    open_app(page, server)
    loaded_at = wait_until(lambda: page.evaluate(LOADED_AT_JS), 60, message="Plotly's code never finished loading")
    assert loaded_at > page.evaluate(FIRST_PAINT_JS), "Plotly loaded before the page was drawn"
    assert page.evaluate(CHARTS_JS) == 0, "the landing page has no chart: the code came from the preload"
    go_to(page, "train")
    wait_until(lambda: page.evaluate(CHARTS_JS), 60, message="the Train page drew no empty charts")
    # The frontend's own import of the chunk found the module the preload had run: one fetch in all.
    assert page.evaluate(PLOTLY_FETCHES_JS) == 1


def test_a_page_opened_directly_loads_plotly_too(page, server):
    open_app(page, server, "lesson")
    assert wait_until(lambda: page.evaluate(LOADED_AT_JS), 60, message="the Lesson page did not load Plotly")
    assert page.evaluate(PLOTLY_FETCHES_JS) == 1

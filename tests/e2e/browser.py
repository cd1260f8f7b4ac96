"""What a user does in the browser, as short helpers the e2e tests read like steps."""

from __future__ import annotations

import contextlib
import inspect
import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from tests.e2e.conftest import READY, SCREENSHOTS
from tests.polling import poll_until

# A trace's number of points, from the chart's own data. Plotly sends numpy arrays as base64 typed
# arrays ({dtype, bdata}), which plotly.js decodes for drawing but leaves so in the chart's data.
TRACE_LENGTH_JS = """const traceLength = trace => { const x = trace.x; if (!x) return 0;
    if (x.length !== undefined) return x.length;
    const bytes = {f8: 8, f4: 4, i4: 4, u4: 4, i2: 2, u2: 2, i1: 1, u1: 1}[x.dtype] || 8;
    return x.bdata ? atob(x.bdata).length / bytes : 0; };"""
# Every point of every trace of every Plotly chart on the page.
POINT_COUNT_JS = f"""() => {{ {TRACE_LENGTH_JS}
    return Array.from(document.querySelectorAll('.js-plotly-plot')).reduce(
    (n, chart) => n + (chart.data || []).reduce((m, trace) => m + traceLength(trace), 0), 0); }}"""
TRACE_NAMES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(
    chart => (chart.data || []).map(trace => trace.name))"""
# Epoch points of the training loss: the first chart's solid "training" trace.
EPOCH_POINTS_JS = f"""() => {{ {TRACE_LENGTH_JS} const chart = document.querySelector('.js-plotly-plot');
    const trace = chart && (chart.data || []).find(t => (t.name || '').endsWith('training'));
    return trace ? traceLength(trace) : 0; }}"""
# Points of each trace, by the trace's name (a race's variants, each split), the most any chart on the page
# draws for that name: the race's charts wherever they sit, whatever other chart comes first.
TRACE_POINTS_JS = f"""() => {{ {TRACE_LENGTH_JS} const points = {{}};
    document.querySelectorAll('.js-plotly-plot').forEach(chart => (chart.data || []).forEach(t => {{
        points[t.name] = Math.max(points[t.name] || 0, traceLength(t)); }}));
    return points; }}"""
# The screens of a room: a laptop, the projector the presenter shows, a phone (touch, its own pixel ratio).
DESKTOP = {"viewport": {"width": 1400, "height": 1000}}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
# A room's code, as its presenter's page shows it.
ROOM_CODE = re.compile(r"Room code:\s*([A-Z0-9]{5})")
# Every Plotly chart's width in the page's main area, in px.
CHART_WIDTHS_JS = """() => Array.from(document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot"))
    .map(chart => chart.getBoundingClientRect().width)"""
TRAINING_SECONDS = 120


def wait_ready(page, timeout: float = 60) -> None:
    """Wait until the app has finished its script run (the page is drawn)."""
    page.wait_for_selector(READY, timeout=timeout * 1000)


def open_app(page, server, path: str = "") -> float:
    """Open a page of the app in a new session; returns the seconds until it was drawn."""
    started = time.monotonic()
    page.goto(server.page_url(path))
    # Before its first script run the app also says "notRunning": wait for the page's title first.
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    wait_ready(page)
    return time.monotonic() - started


def server_answer_seconds(server, path: str) -> float:
    """Seconds until the server answers a page request and its health check, as a load balancer sees it."""
    started = time.monotonic()
    for url in (server.page_url(path), f"{server.url}/_stcore/health"):
        with urllib.request.urlopen(url, timeout=30) as answer:
            assert answer.status == 200
            answer.read()
    return time.monotonic() - started


def go_to(page, url_path: str, timeout: float = 60) -> None:
    """Switch page through the top-bar navigation, as a user does (the session is kept).

    Links are found by address ("" is Home): their labels are the pages' titles. `timeout`: seconds the new page
    may take to draw.
    """
    link = page.locator(f"[data-testid='stTopNavLink'][href$='/{url_path}']").first

    def arrived() -> bool:  # the Train page keeps its settings in the query string: match the path only
        return urlparse(page.url).path.rstrip("/").endswith(f"/{url_path}".rstrip("/"))

    # A click that lands while a timer's fragment reruns the page may be lost on a loaded machine: click again,
    # but only after the new page has had its time to start (a click each few seconds would restart it).
    act_until(link.click, arrived, f"the link to /{url_path} clicked", tries=2, seconds=max(30, timeout / 2))
    page.wait_for_timeout(300)
    wait_ready(page, timeout)


def choose_digits(
    page, epochs: int | None = None, keras_only: bool = False, dataset: str = "scikit-learn digits"
) -> None:
    """Sidebar: a dataset (the embedded digits), a number of epochs (slider keys), which models to train."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name=dataset).click()
    wait_ready(page)
    if epochs is not None:
        slider = sidebar.get_by_test_id("stSlider").filter(has_text="Epochs").get_by_role("slider")
        slider.focus()
        # The slider answers keys like any ARIA slider: End is the most epochs, Home the fewest.
        slider.press("End" if epochs >= 100 else "Home")
        for _ in range(epochs - 1 if epochs < 100 else 0):
            slider.press("ArrowRight")
        wait_until(lambda: slider.input_value() == str(epochs), seconds=10)
        wait_ready(page)
    if keras_only:
        sidebar.get_by_text("Keras only").click()
        wait_ready(page)


# For a test that must see a run mid-way (Stop, a waiting line, a room or a race watching it grow): on the
# embedded digits a JAX run of 100 epochs ends in seconds, before a browser has looked twice; Fashion-MNIST's
# 54,000 training images take about a second an epoch here (Debian's dataset-fashion-mnist, installed by .ci/run).
LONG_RUN_DATASET = "Fashion-MNIST"


def press(page, label: str) -> None:
    """Click a button of the page itself (Streamlit's own header has a "Stop" button too)."""
    page.get_by_test_id("stMain").get_by_role("button", name=label, exact=True).click()


def act_until(act: Callable[[], None], done: Callable[[], object], what: str, tries: int = 3, seconds: float = 15):
    """act(), then wait for `done`; act again if it did not come, at most `tries` times; AssertionError then."""
    for _ in range(tries):
        act()
        try:
            return poll_until(done, seconds, f"{what}: {_source_of(done)}", every=0.25)
        except AssertionError:
            continue
    raise AssertionError(f"{what} {tries} times, and nothing happened ({_source_of(done)})")


def press_until(page, label: str, done: Callable[[], object], tries: int = 3, seconds: float = 15) -> None:
    """press(), then wait for `done`; press again if it did not come (at most `tries` presses).

    A press that lands while a timer's fragment reruns the page was seen lost now and then (the page
    stayed as it was); a second press, well after the first, is what a person does then.
    """
    try:
        act_until(lambda: press(page, label), done, f"{label} pressed", tries, seconds)
    except AssertionError:
        screenshot(page, f"pressed-{label}-{tries}-times")
        raise


def progress_text(page) -> str:
    return " | ".join(page.get_by_test_id("stProgress").all_inner_texts())


def run_finished(page, seconds: float = TRAINING_SECONDS, name: str = "run-not-finished") -> str:
    """The page's progress line once it says "Finished"; else a screenshot and the last line it said."""
    last = [""]

    def finished() -> str | None:
        last[0] = progress_text(page)
        return last[0] if "Finished" in last[0] else None

    try:
        return poll_until(finished, seconds, "the progress line says Finished", every=0.25)
    except AssertionError as error:
        screenshot(page, name)
        said = last[0]
        raise AssertionError(f"the run did not finish within {seconds:g} s; its progress line said {said!r}") from error


def point_count(page) -> int:
    return page.evaluate(POINT_COUNT_JS)


def wait_until(what: Callable[[], object], seconds: float = TRAINING_SECONDS, every: float = 0.25, message: str = ""):
    """tests.polling.poll_until for a page: the error names `message`, or else the line that waits."""
    return poll_until(what, seconds, message or _source_of(what), every)


def _source_of(what: Callable) -> str:
    try:
        return inspect.getsource(what).strip()
    except (OSError, TypeError):
        return getattr(what, "__name__", repr(what))


def settled_chart_widths(page, minimum: float, seconds: float = 10) -> list[float]:
    """The charts' widths once every one is at least `minimum` px wide, or the last reading after `seconds`.

    A live redraw briefly holds the chart it replaces with no box (one run read [358, 0, 358]), so a single
    reading can catch a chart on its way out; a settled page has none.
    """
    seen: list[float] = []

    def wide_enough() -> bool:
        seen[:] = page.evaluate(CHART_WIDTHS_JS)
        return bool(seen) and min(seen) >= minimum

    with contextlib.suppress(AssertionError):
        wait_until(wide_enough, seconds=seconds)
    return seen


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

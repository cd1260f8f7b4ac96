"""The big screen's rules, in Chromium at the sizes a workshop uses: a 1280×720 projector and a 390×844 phone.

Rules, not pixel positions: any layout that meets them passes.
- While a run is live, each live chart is at least MIN_VISIBLE of its box inside the window, and the
  Stop that stops it is inside the window too, with the page as it is (nobody scrolled).
- Before a run, the Lesson's recorded chart is at least MIN_VISIBLE in view.
- On a phone no legend or class label sits under a chart's toolbar.
- Stop answers at once: "Stopping…" shows before the run's next redraw.
- Screens agree: a presenter's and a participant's screens read a finished run alike.
- No silent fallbacks: a folder that does not exist is an error, and Train waits.

Every run here is Fashion-MNIST (LONG_RUN_DATASET), long enough to be measured while it trains.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.results import lesson_texts as texts
from tests.e2e.browser import (
    LONG_RUN_DATASET,
    PHONE,
    PROJECTOR,
    ROOM_CODE,
    choose_digits,
    open_app,
    point_count,
    press,
    press_until,
    progress_text,
    run_finished,
    screenshot,
    settled_chart_widths,
    wait_ready,
    wait_until,
)
from tests.e2e.test_rooms_in_browser import present_and_fit, showing_step

MIN_VISIBLE = 0.8
# Narrower than this, a curve is not readable on a phone (390 px wide, less the page's margins).
MIN_PHONE_CHART_PX = 300
# Long enough that a loaded two-core machine still measures the run while it trains.
EPOCHS = 20
# The live curves: Plotly charts whose element key names a curve (train.chart.loss, lesson.curve.loss,
# race.curve.accuracy, lesson.race.curve.loss); Streamlit puts each key in an st-key-… class, dots as dashes.
LIVE_CHART_KEY = r"st-key-\S*-(curve|chart)-"
# Each live chart's visible fraction: the part of its box inside the window, over its box. A chart with no
# box is on its way out of a redraw (the live fragment's previous drawing) and is not counted.
VISIBLE_FRACTIONS_JS = """(pattern) => {
    const key = new RegExp(pattern); const width = window.innerWidth, height = window.innerHeight;
    return Array.from(document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot")).filter(chart => {
        const holder = chart.closest("[class*='st-key-']"); return holder && key.test(holder.className); })
    .map(chart => { const box = chart.getBoundingClientRect();
        const seen = Math.max(0, Math.min(box.right, width) - Math.max(box.left, 0))
            * Math.max(0, Math.min(box.bottom, height) - Math.max(box.top, 0));
        return box.width * box.height > 0 ? seen / (box.width * box.height) : null; })
    .filter(fraction => fraction !== null); }"""
# A button of the page inside the window, by its label (not Streamlit's own header "Stop"; a shortcut's
# key hint beside the label is not part of it).
BUTTON_IN_VIEW_JS = """(label) => Array.from(document.querySelectorAll("[data-testid='stMain'] button"))
    .some(button => {
    const text = button.querySelector("[data-testid='stMarkdownContainer']") || button;
    const box = button.getBoundingClientRect();
    return text.innerText.trim() === label && box.height > 0 && box.top >= 0
        && box.bottom <= window.innerHeight && box.left >= 0 && box.right <= window.innerWidth; })"""
# Labels (legend entries, annotations, titles) whose box meets a chart's toolbar (Plotly's modebar, or
# Streamlit's element toolbar): their texts, with the chart they sit in.
LABELS_UNDER_TOOLBAR_JS = """() => {
    const meets = (a, b) => a.width > 0 && b.width > 0 && a.left < b.right && b.left < a.right
        && a.top < b.bottom && b.top < a.bottom;
    const hits = [];
    document.querySelectorAll("[data-testid='stMain'] .stPlotlyChart").forEach(chart => {
        const holder = chart.closest(".stElementContainer") || chart;
        const bars = [...holder.querySelectorAll(".modebar, [data-testid='stElementToolbar']")]
            .map(bar => bar.getBoundingClientRect());
        chart.querySelectorAll(".legend text, .annotation-text, .g-gtitle text, .infolayer text").forEach(label => {
            const box = label.getBoundingClientRect();
            if (bars.some(bar => meets(box, bar))) hits.push(label.textContent); }); });
    return hits; }"""


def visible_fractions(page) -> list[float]:
    return page.evaluate(VISIBLE_FRACTIONS_JS, LIVE_CHART_KEY)


def assert_in_view(page, stop: str | None, name: str) -> None:
    """Rule 1, as the page is now: every live chart at least MIN_VISIBLE in the window, and Stop in it."""
    fractions = visible_fractions(page)
    stop_seen = stop is None or page.evaluate(BUTTON_IN_VIEW_JS, stop)
    screenshot(page, name)
    assert fractions, f"{name}: no live chart on the page"
    assert min(fractions) >= MIN_VISIBLE, f"{name}: the live charts are {fractions} in view (at least {MIN_VISIBLE})"
    assert stop_seen, f"{name}: {stop!r} is not inside the window"


def training_now(page) -> bool:
    """The run has drawn its first points and still trains (its progress line names an epoch, not Finished)."""
    text = progress_text(page)
    return point_count(page) > 0 and "epoch" in text and "Finished" not in text and "Stopped" not in text


def showing_the_run(page) -> bool:
    return point_count(page) > 0 and "epoch" in progress_text(page)


def stop_the_run(page, label: str) -> None:
    """Stop a run still going, so the next test's run does not wait in line behind it.

    The button is found by its label's own text: in presenter mode it also shows its shortcut's key.
    """
    label_text = page.get_by_test_id("stMarkdownContainer").get_by_text(label, exact=True)
    button = page.get_by_test_id("stMain").locator("button").filter(has=label_text).first
    if training_now(page):
        with contextlib.suppress(PlaywrightTimeout):  # it ended meanwhile: Stop is disabled, nothing to stop
            button.click(timeout=5000)
    wait_until(lambda: not training_now(page), seconds=60)


def long_run_settings(page, server, path: str) -> None:
    open_app(page, server, path)
    choose_digits(page, epochs=EPOCHS, dataset=LONG_RUN_DATASET)


@pytest.mark.parametrize("size", ["projector", "phone"])
def test_train_keeps_its_live_curves_and_stop_in_view(new_screen, server, size):
    page = new_screen(PROJECTOR if size == "projector" else PHONE)
    # The settings by link (the Train page reads them from its URL): a phone's sidebar starts folded away.
    # Both models, as a press trains by default: two progress lines above the curves.
    open_app(page, server, f"train?dataset=fashion_mnist&epochs={EPOCHS}&train=both")
    press_until(page, "Train", lambda: training_now(page), seconds=60)
    if size == "projector":
        assert_in_view(page, "Stop", "big-screen-train")
    else:
        assert_phone_readable(page, "big-screen-train-phone")
    stop_the_run(page, "Stop")


@pytest.mark.parametrize("presenter", [True, False], ids=["presenter", "plain"])
def test_the_lessons_training_step_keeps_its_curves_and_stop_in_view(new_screen, server, presenter):
    page = new_screen(PROJECTOR)
    long_run_settings(page, server, "lesson?step=4")
    if presenter:
        turn_presenter_mode_on(page)
    press_until(page, texts.FIT_BUTTON, lambda: training_now(page), seconds=60)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    assert_in_view(page, texts.STOP_KEY, f"big-screen-lesson-live-{'presenter' if presenter else 'plain'}")
    stop_the_run(page, texts.STOP_KEY)


def turn_presenter_mode_on(page) -> None:
    page.get_by_test_id("stMain").get_by_text(texts.PRESENTER).click()
    wait_until(
        lambda: page.get_by_test_id("stSidebar").count() == 0 or not page.get_by_test_id("stSidebar").is_visible()
    )
    wait_ready(page)


@pytest.mark.parametrize("presenter", [True, False], ids=["presenter", "plain"])
def test_the_lessons_recorded_run_is_in_view_before_a_run(new_screen, server, presenter):
    page = new_screen(PROJECTOR)
    open_app(page, server, "lesson?step=5" + ("&presenter=1" if presenter else ""))
    wait_until(lambda: len(visible_fractions(page)) >= 1 and point_count(page) > 0, seconds=60)
    page.wait_for_timeout(500)  # the second chart lands beside the first
    assert_in_view(page, None, f"big-screen-lesson-recorded-{'presenter' if presenter else 'plain'}")


def test_a_race_runs_in_view_with_its_stop(new_screen, server):
    page = new_screen(PROJECTOR)
    long_run_settings(page, server, "train")
    wait_until(lambda: page.locator(".js-plotly-plot").count() >= 2, seconds=30)  # the empty charts landed
    wait_ready(page)
    page.get_by_test_id("stExpander").filter(has_text=texts.RACE_SECTION).locator("summary").click()
    wait_until(lambda: page.get_by_test_id("stMain").get_by_role("button", name=texts.RACE_BUTTON).count() == 1)
    press_until(page, texts.RACE_BUTTON, lambda: training_now(page) and len(visible_fractions(page)) >= 2)
    assert_in_view(page, texts.RACE_STOP, "big-screen-race")
    assert texts.RACE_BUSY not in page.get_by_test_id("stMain").inner_text(), "the race is told to wait for itself"
    stop_the_run(page, texts.RACE_STOP)


def test_a_rooms_screens_keep_the_presenters_run_in_view(new_screen, server):
    presenter = new_screen(PROJECTOR)
    code = start_room(presenter, server)
    laptop, phone = new_screen(PROJECTOR), new_screen(PHONE)
    for participant in (laptop, phone):
        open_app(participant, server, f"room?code={code}")
    presenter.get_by_test_id("stMain").get_by_role("link", name="Present the lesson").click()
    presenter.wait_for_url(re.compile(r"/lesson"))
    wait_ready(presenter)
    press_until(presenter, texts.FIT_BUTTON, lambda: training_now(presenter), seconds=60)
    assert_in_view(presenter, texts.STOP_KEY, "big-screen-room-presenter")
    # A participant's screen follows within seconds; the run may have ended by then, and the layout is the same.
    wait_until(lambda: showing_the_run(laptop) and showing_the_run(phone), seconds=60)
    assert_in_view(laptop, None, "big-screen-room-participant")
    assert_phone_readable(phone, "big-screen-room-phone")
    stop_the_run(presenter, texts.STOP_KEY)


def start_room(presenter, server) -> str:
    """The presenter opens the Lesson (Fashion-MNIST, many epochs), presses "Start a room" and reads the code."""
    long_run_settings(presenter, server, "lesson?step=4")
    press(presenter, texts.START_ROOM)
    presenter.wait_for_url(re.compile(r"/room"))
    wait_ready(presenter)
    return wait_until(lambda: ROOM_CODE.search(presenter.get_by_test_id("stMain").inner_text())).group(1)


def test_a_phone_shows_no_class_label_under_a_toolbar(new_screen, server):
    """The Lesson's pictures with their class names (step 1), and its recorded curves (step 5), on a phone."""
    page = new_screen(PHONE)
    for step in (1, 5):
        open_app(page, server, f"lesson?step={step}")
        wait_until(lambda: page.locator("[data-testid='stMain'] .js-plotly-plot").count() >= 1, seconds=60)
        assert_no_label_under_a_toolbar(page, f"big-screen-phone-lesson-{step}")


def assert_no_label_under_a_toolbar(page, name: str) -> None:
    # Plotly adds its toolbar once a chart is drawn; give every chart its moment first.
    charts = page.locator("[data-testid='stMain'] .js-plotly-plot")
    toolbars = charts.locator(".modebar")
    with contextlib.suppress(AssertionError):
        wait_until(lambda: toolbars.count() >= charts.count(), seconds=10)
    page.wait_for_timeout(500)
    screenshot(page, name)
    # Plotly's toolbar is on the page, transparent, until a finger (or the mouse) is on the chart: its box counts.
    hits = page.evaluate(LABELS_UNDER_TOOLBAR_JS)
    assert not hits, f"{name}: labels under a chart's toolbar: {hits}"


def assert_phone_readable(page, name: str) -> None:
    """On a phone: the live charts span the screen's width, and no label sits under a chart's toolbar."""
    wait_until(lambda: len(visible_fractions(page)) >= 1)
    seen = settled_chart_widths(page, MIN_PHONE_CHART_PX)
    assert seen and min(seen) >= MIN_PHONE_CHART_PX, f"{name}: charts too narrow to read on a phone: {seen} px"
    assert_no_label_under_a_toolbar(page, name)


# --- Stop, screens that agree, no silent fallbacks ---------------------------------------------------

FOLLOW_SECONDS_GENEROUS = 60
# Every change of the Stop button or of the progress lines, in the order the browser drew them.
WATCH_STOP_JS = """() => {
    window.stopLog = [];
    const look = () => {
        const main = document.querySelector("[data-testid='stMain']");
        if (!main) return;
        const stopping = Array.from(main.querySelectorAll('button')).some(
            b => b.innerText.trim() === 'Stopping…' && b.disabled);
        const progress = Array.from(main.querySelectorAll("[data-testid='stProgress']"))
            .map(e => e.innerText).join(' | ');
        const last = window.stopLog[window.stopLog.length - 1];
        if (!last || last.stopping !== stopping || last.progress !== progress) {
            window.stopLog.push({stopping, progress, at: Math.round(performance.now())});
        }
    };
    look();
    // The press itself, as the page received it (a click may wait for the button to hold still).
    document.addEventListener('click', event => {
        const button = event.target.closest('button');
        if (button && button.innerText.trim() === 'Stop') {
            window.stopLog.push({pressed: true, at: Math.round(performance.now())});
        }
    }, true);
    new MutationObserver(look).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def train_button(page):
    return page.get_by_test_id("stMain").get_by_role("button", name="Train", exact=True)


def test_stop_says_stopping_before_the_runs_next_redraw(new_screen, server):
    page = new_screen(PROJECTOR)
    open_app(page, server, "train")
    choose_digits(page, epochs=100, keras_only=True, dataset=LONG_RUN_DATASET)
    press(page, "Train")
    wait_until(lambda: point_count(page) > 0 and "epoch" in progress_text(page))
    page.evaluate(WATCH_STOP_JS)
    press(page, "Stop")
    wait_until(lambda: "Stopped after" in progress_text(page), seconds=60)
    log = page.evaluate("() => window.stopLog")
    pressed = next(index for index, entry in enumerate(log) if entry.get("pressed"))
    seen, after = log[pressed - 1], log[pressed + 1 :]
    stopping = next((index for index, entry in enumerate(after) if entry["stopping"]), None)
    if stopping is None:
        screenshot(page, "big-screen-no-stopping")
    assert stopping is not None, f"Stop never said 'Stopping…': {log}"
    # Before "Stopping…" the page may finish one redraw already under way when the press landed,
    # never more: the press's own script run draws it.
    redraws_before = {entry["progress"] for entry in after[:stopping]} - {seen["progress"]}
    assert len(redraws_before) <= 1, f"the run redrew {len(redraws_before)} times before 'Stopping…': {log}"
    # The same script run then rewrites the progress line (drawn after the buttons): it says so too,
    # unless the run has already ended and says "Stopped".
    lines = [entry["progress"] for entry in after[stopping:]]
    said = ("stopping at the next batch", "Stopped after")
    next_line = next((line for line in lines if line != lines[0] or any(s in line for s in said)), "")
    assert any(words in next_line for words in said), log
    assert re.search(r"Stopped after \d+ epochs?; the model is kept", progress_text(page))
    wait_until(lambda: train_button(page).is_enabled(), seconds=30)


def test_the_presenter_and_a_participant_read_the_finished_run_alike(new_screen, server):
    presenter, participant = new_screen(PROJECTOR), new_screen(PROJECTOR)
    open_app(presenter, server, "lesson?step=4")
    choose_digits(presenter, epochs=3)
    press(presenter, texts.START_ROOM)
    presenter.wait_for_url(re.compile(r"/room"))
    wait_ready(presenter)
    code = wait_until(lambda: ROOM_CODE.search(presenter.get_by_test_id("stMain").inner_text())).group(1)
    open_app(participant, server, f"room?code={code}")
    wait_until(lambda: showing_step(participant, 4), seconds=FOLLOW_SECONDS_GENEROUS)

    present_and_fit(presenter)
    run_finished(presenter, name="big-screen-presenter-not-finished")
    # In presenter mode the button's name also holds its key (→): found by the words it starts with.
    presenter.get_by_test_id("stMain").get_by_role("button", name=re.compile(f"^{texts.NEXT}")).click()
    wait_until(lambda: showing_step(presenter, 6))
    wait_until(lambda: showing_step(participant, 6), seconds=FOLLOW_SECONDS_GENEROUS)
    run_finished(participant, name="big-screen-participant-not-finished")

    def said(page) -> list[str]:
        main = page.get_by_test_id("stMain")
        return [text.strip() for text in main.locator("li").all_inner_texts() if text.strip()]

    wait_until(lambda: said(presenter) and said(participant) == said(presenter), seconds=30)
    assert said(participant) == said(presenter)
    advice = [text for text in said(presenter) if "epoch" in text]
    assert advice, "the reading names epochs"


def test_a_missing_folder_is_an_error_and_train_waits(new_screen, server, tmp_path):
    page = new_screen(PROJECTOR)
    open_app(page, server, "train")
    choose_digits(page, dataset="A folder of MNIST IDX files")
    folder = page.get_by_test_id("stSidebar").get_by_role("textbox", name="Folder (or .npz file)")
    folder.fill(str(tmp_path / "no such folder"))
    folder.press("Enter")
    wait_ready(page)
    # Until the folder reaches the server, the error is the empty folder's; then it names the missing one.
    errors = page.get_by_test_id("stAlertContentError")
    error = wait_until(lambda: [text for text in errors.all_inner_texts() if "does not exist" in text])
    assert any("Check the path" in text for text in error), error
    assert train_button(page).is_disabled(), "nothing trains on other data instead"
    assert "digits" not in " ".join(page.get_by_test_id("stMain").get_by_test_id("stCaption").all_inner_texts())

"""The big screen in Chromium at 1280×720: a Stop that answers at once, screens that agree, no silent fallbacks.

Each test checks a rule a person can check, not a time: what the page shows first, what two screens
say, what a wrong folder does to Train.
"""

from __future__ import annotations

import re

from core.results import lesson_texts as texts
from tests.e2e.browser import (
    LONG_RUN_DATASET,
    choose_digits,
    open_app,
    point_count,
    press,
    progress_text,
    run_finished,
    screenshot,
    wait_ready,
    wait_until,
)
from tests.e2e.test_rooms_in_browser import CODE, present_and_fit, showing_step

PROJECTOR = {"width": 1280, "height": 720}
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


def test_stop_says_stopping_before_the_runs_next_redraw(browser, server):
    context = browser.new_context(viewport=PROJECTOR)
    try:
        page = context.new_page()
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
    finally:
        context.close()


def test_the_presenter_and_a_participant_read_the_finished_run_alike(browser, server):
    contexts = [browser.new_context(viewport=PROJECTOR) for _ in range(2)]
    try:
        presenter, participant = (context.new_page() for context in contexts)
        open_app(presenter, server, "lesson?step=4")
        choose_digits(presenter, epochs=3)
        press(presenter, texts.START_ROOM)
        presenter.wait_for_url(re.compile(r"/room"))
        wait_ready(presenter)
        code = wait_until(lambda: CODE.search(presenter.get_by_test_id("stMain").inner_text())).group(1)
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
    finally:
        for context in contexts:
            context.close()


def test_a_missing_folder_is_an_error_and_train_waits(browser, server, tmp_path):
    context = browser.new_context(viewport=PROJECTOR)
    try:
        page = context.new_page()
        open_app(page, server, "train")
        choose_digits(page, dataset="A folder of MNIST IDX files")
        folder = page.get_by_test_id("stSidebar").get_by_role("textbox", name="Folder (or .npz file)")
        folder.fill(str(tmp_path / "no such folder"))
        folder.press("Enter")
        wait_ready(page)
        error = wait_until(lambda: page.get_by_test_id("stAlertContentError").all_inner_texts())
        assert any("does not exist" in text and "Check the path" in text for text in error), error
        assert train_button(page).is_disabled(), "nothing trains on other data instead"
        assert "digits" not in " ".join(page.get_by_test_id("stMain").get_by_test_id("stCaption").all_inner_texts())
    finally:
        context.close()

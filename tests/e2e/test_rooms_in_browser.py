"""A workshop room in real Chromium: a presenter, three participants (one on a phone), a fork, the board.

The presenter starts a room from the Lesson and trains; every participant's screen follows the
presenter's step and draws the presenter's run as it grows, without training anything. One
participant forks the settings and trains: the board shows both runs. A participant who tries to
move the room or stop its run, through the page or by editing the URL, moves only their own screen.
"""

from __future__ import annotations

import contextlib
import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.results import lesson_texts as texts
from core.rooms import FOLLOW_SECONDS
from tests.e2e.browser import (
    DESKTOP,
    LONG_RUN_DATASET,
    PHONE,
    POINT_COUNT_JS,
    ROOM_CODE,
    choose_digits,
    go_to,
    open_app,
    press,
    press_until,
    progress_text,
    run_finished,
    screenshot,
    settled_chart_widths,
    wait_ready,
    wait_until,
)

# The lesson's most epochs, on Fashion-MNIST: the run lasts long enough for every screen to see it grow.
EPOCHS = 20
# Narrower than this, a curve is not readable on a phone (390 px wide, less the page's margins).
MIN_PHONE_CHART_PX = 300
# How long a follower may take to show the presenter's new step: its page asks every FOLLOW_SECONDS.
FOLLOW_WAIT_SECONDS = 10 * FOLLOW_SECONDS
# Rows of the first dataframe under "the board", read from the grid's accessible table.
BOARD_ROWS_JS = """() => { const grid = document.querySelector("[data-testid='stDataFrame'] [role='grid']");
    return grid ? Number(grid.getAttribute('aria-rowcount')) - 1 : 0; }"""
PAGE_FITS_JS = "() => document.scrollingElement.scrollWidth <= window.innerWidth + 1"


def header(page) -> str:
    return " | ".join(page.get_by_test_id("stMain").get_by_test_id("stHeading").all_inner_texts())


def main_buttons(page) -> set[str]:
    return {label.strip() for label in page.get_by_test_id("stMain").get_by_role("button").all_inner_texts()}


def showing_step(page, step: int) -> bool:
    return f"Step {step} of 7" in header(page)


def test_a_room_watches_the_presenters_run_forks_it_and_cannot_take_it_over(new_screen, server, artifacts):
    presenter = new_screen(DESKTOP)
    participants = [new_screen(DESKTOP), new_screen(DESKTOP), new_screen(PHONE)]
    code = start_room(presenter, server)
    for number, participant in enumerate(participants, start=1):
        open_app(participant, server, f"room?code={code}")
        wait_until(lambda p=participant: f"Room {code} · you are Guest" in p.get_by_test_id("stMain").inner_text())
        wait_until(lambda p=participant: showing_step(p, 4), seconds=FOLLOW_WAIT_SECONDS)
        print(f"[e2e] participant {number} joined room {code}")

    intruder, others = participants[0], participants[1:]
    cannot_move_the_room(intruder, others, presenter, server, code, step=4)

    present_and_fit(presenter)
    for participant in participants:
        wait_until(lambda p=participant: showing_step(p, 5), seconds=FOLLOW_WAIT_SECONDS)
    for number, seen in enumerate(charts_grow(participants), start=1):
        print(f"[e2e] participant {number}: the presenter's chart grew through {sorted(set(seen))} points")
    for participant in participants:
        assert "Stop" not in main_buttons(participant)  # only the presenter can stop the run
    cannot_stop_by_url(new_screen(DESKTOP), server, code)
    phone_check(participants[2], artifacts)

    done = run_finished(presenter, name="room-presenter-not-finished")
    assert f"Finished {EPOCHS} epochs" in done, f"the presenter's run did not end as trained: {done}"
    for participant in participants:
        run_finished(participant, name="room-participant-not-finished")

    fork_with_sgd(participants[1])
    for page in (participants[1], participants[0]):
        wait_until(lambda p=page: p.evaluate(BOARD_ROWS_JS) == 2)

    go_to(presenter, "room")
    wait_until(lambda: presenter.evaluate(BOARD_ROWS_JS) == 2)
    presenter.wait_for_timeout(1000)  # the board's overlay finishes drawing
    screenshot(presenter, "room-presenter")


def start_room(presenter, server) -> str:
    """The presenter opens the Lesson (Fashion-MNIST, 20 epochs), presses "Start a room" and reads the code."""
    open_app(presenter, server, "lesson?step=4")
    choose_digits(presenter, epochs=EPOCHS, dataset=LONG_RUN_DATASET)
    press(presenter, texts.START_ROOM)
    presenter.wait_for_url(re.compile(r"/room"))
    wait_ready(presenter)
    found = wait_until(lambda: ROOM_CODE.search(presenter.get_by_test_id("stMain").inner_text()))
    # The QR code, drawn on the server (the image element's script arrives after the page's text).
    wait_until(lambda: presenter.get_by_test_id("stImage").count() == 1, seconds=30)
    return found.group(1)


def present_and_fit(presenter) -> None:
    """From the Room page to the lesson's step 4 in presenter mode, then "Fit: start training"."""
    presenter.get_by_test_id("stMain").get_by_role("link", name="Present the lesson").click()
    presenter.wait_for_url(re.compile(r"/lesson"))
    wait_ready(presenter)
    wait_until(lambda: showing_step(presenter, 4))
    press(presenter, texts.FIT_BUTTON)
    wait_until(lambda: showing_step(presenter, 5))


def cannot_move_the_room(intruder, others, presenter, server, code: str, step: int) -> None:
    """No control on the room page; Next on their own Lesson, and edited URLs, move only the intruder."""
    assert not main_buttons(intruder) & {texts.NEXT, texts.BACK, texts.FIT_BUTTON, "End the room", "Stop"}
    go_to(intruder, "lesson")  # their own Lesson page, in the same session
    for wanted in (2, 3):
        press_until(intruder, texts.NEXT, lambda wanted=wanted: showing_step(intruder, wanted))
        wait_ready(intruder)
    for path in ("lesson?step=6&presenter=1", f"room?code={code}&secret=x&presenter=1&step=6"):
        open_app(intruder, server, path)
    assert not main_buttons(intruder) & {texts.NEXT, texts.BACK, "End the room"}
    # Followers ask every FOLLOW_SECONDS: after a few of those, a moved room would show.
    intruder.wait_for_timeout(3 * FOLLOW_SECONDS * 1000)
    for page in others:
        assert showing_step(page, step), f"a participant moved the room: another one now shows {header(page)!r}"
    assert "Start a room" not in main_buttons(presenter)  # the presenter still presents it
    # The intruder's URLs joined them again, as a participant; back to the room as it is.
    wait_until(lambda: showing_step(intruder, step), seconds=FOLLOW_WAIT_SECONDS)


def cannot_stop_by_url(page, server, code: str) -> None:
    """Links that look like control (stop, the presenter's flag, a guessed secret) and a closed tab stop nothing."""
    for path in (f"room?code={code}&stop=1&secret=x", "lesson?step=5&presenter=1&stop=1"):
        open_app(page, server, path)
        assert "Stop" not in main_buttons(page) or path.startswith("lesson")
    page.context.close()  # a closed participant's tab does not cancel the presenter's run


def charts_grow(pages) -> list[list[int]]:
    """Each page's chart point counts, sampled side by side, until every page has drawn more points than
    at its first drawing (the presenter's run went on, on every screen)."""
    seen: list[list[int]] = [[] for _ in pages]

    def all_grew() -> bool:
        for counts, page in zip(seen, pages, strict=True):
            if count := page.evaluate(POINT_COUNT_JS):
                counts.append(count)
        return all(counts and max(counts) > counts[0] for counts in seen)

    try:
        wait_until(all_grew)
    except AssertionError as error:
        status = [progress_text(page) for page in pages]
        raise AssertionError(f"a participant's chart did not grow: points seen {seen}; status {status}") from error
    return seen


def phone_check(phone, artifacts) -> None:
    """The participant's view on a 390×844 phone: the chart fits and is readable; nothing needs the sidebar."""
    # While the room redraws (the presenter's run ending), charts on their way out measure 0 px for a moment.
    widths = settled_chart_widths(phone, MIN_PHONE_CHART_PX, seconds=FOLLOW_WAIT_SECONDS)
    assert widths and min(widths) >= MIN_PHONE_CHART_PX, f"charts too narrow on a phone: {widths} px"
    assert max(widths) <= 390, f"a chart is wider than the phone: {widths} px"
    assert phone.evaluate(PAGE_FITS_JS), "the phone page scrolls sideways"
    # The room needs no sidebar: the step, the chart and the "Try it yourself" form are all in the page.
    main = phone.get_by_test_id("stMain")
    assert main.get_by_role("button", name="Train", exact=True).count() == 1
    assert main.get_by_text("Try it yourself").count() >= 1
    screenshot(phone, "room-phone")


def fork_with_sgd(participant) -> None:
    """Try it yourself: the presenter's settings with SGD, then Train; the run shows while it trains."""
    wait_ready(participant)
    form = participant.get_by_test_id("stForm")
    optimizer = form.get_by_role("combobox", name="Optimizer")

    def chose_sgd() -> bool:
        # A rerun of the page (the presenter's run ending) can close the list as it opens: open it again.
        optimizer.click()
        with contextlib.suppress(PlaywrightTimeout):
            participant.get_by_role("option", name="SGD", exact=True).click(timeout=3000)
        return "SGD" in optimizer.input_value() and "momentum" not in optimizer.input_value()

    wait_until(chose_sgd, seconds=60, every=1)
    form.get_by_role("button", name="Train", exact=True).click()
    wait_until(lambda: "Your run" in progress_text(participant) or participant.evaluate(BOARD_ROWS_JS) == 2)

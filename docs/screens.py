"""The gallery of the app's key moments: `python docs/screens.py` starts the app, drives Chromium, writes docs/screens/.

Every picture is what a window of that size shows without scrolling, at 1×: Train during a run, each Lesson
step in presenter mode, a race, a room's presenter with a laptop and a phone participant, and Evaluate, in the
light theme and (Train, Evaluate) the dark one. It uses the browser tests' server and steps (tests/e2e), so it
needs requirements-dev.txt and Debian's chromium; the runs train on Fashion-MNIST (dataset-fashion-mnist).
Look at every picture after a change to a page: a layout test checks rules, a person sees the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the app's and the tests' packages import

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from core.results import lesson_texts as texts  # noqa: E402
from core.rooms import FOLLOW_SECONDS  # noqa: E402
from tests.e2e.browser import (  # noqa: E402
    LONG_RUN_DATASET,
    PHONE,
    PROJECTOR,
    choose_digits,
    go_to,
    open_app,
    point_count,
    press,
    press_until,
    progress_text,
    run_finished,
    screenshot,
    wait_ready,
    wait_until,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402
from tests.e2e.test_rooms_in_browser import present_and_fit, showing_step, start_room  # noqa: E402

SCREENS = ROOT / "docs" / "screens"
PHONE_AT_1X = {**PHONE, "device_scale_factor": 1}  # every picture at 1×
# Long enough on Fashion-MNIST to be caught mid-way by a browser, short enough that the gallery takes minutes
# on a busy machine.
TRAIN_EPOCHS = 2
RACE_EPOCHS = 2
LESSON_EPOCHS = 3
RUN_SECONDS = 900
# The lesson's fit step, and the next one, which watches its run; then the last step reads the result.
FIT_STEP, WATCH_STEP, LAST_STEP = 4, 5, 6
# Plotly and Vega redraw in the new theme, and a page's last chart settles, in about this long.
SETTLE_MS = 1500
FIRST_PAGE_SECONDS = 300
# The gallery is committed: pictures are kept small.
COLOURS = 128
# Clicking a button scrolls it into view; a page that arrives shows its top (Streamlit's main area scrolls).
TO_THE_TOP_JS = """() => { window.scrollTo(0, 0); document.querySelectorAll(
    "[data-testid='stMain'], [data-testid='stAppViewContainer']").forEach(e => e.scrollTop = 0); }"""


def shoot(page, name: str, top: bool = True) -> None:
    """What the window shows now as docs/screens/<name>.png: from the page's top, as a page arrives (`top`)."""
    if top:
        page.evaluate(TO_THE_TOP_JS)
    page.wait_for_timeout(SETTLE_MS)
    save_small(page.screenshot(), SCREENS / f"{name}.png")
    print(f"  {name}.png")


def save_small(png: bytes, path: Path) -> None:
    """A screenshot as a PNG of COLOURS colours: a third of the bytes, and text and curves look the same."""
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    fewer = picture.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    fewer.save(path, optimize=True)


def in_dark(page, name: str) -> None:
    """The same moment in the dark theme (the app follows the system's), then back to light."""
    page.emulate_media(color_scheme="dark")
    shoot(page, name)
    page.emulate_media(color_scheme="light")


def open_first(page, server, path: str) -> None:
    """open_app, with the patience a new server's first page needs while Keras loads on a busy machine."""
    page.goto(server.page_url(path))
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=FIRST_PAGE_SECONDS * 1000)
    wait_ready(page, FIRST_PAGE_SECONDS)


def press_when_drawn(page, label: str) -> None:
    """Click a button of the page once it is drawn: a step draws its buttons last, slowly on a busy machine.

    Found by its text, not its exact name: in presenter mode a button also names its keyboard shortcut.
    """
    button = page.get_by_test_id("stMain").get_by_role("button").filter(has_text=label).first
    button.wait_for(timeout=FIRST_PAGE_SECONDS * 1000)
    wait_ready(page, FIRST_PAGE_SECONDS)
    button.click()


def curves_growing(page) -> None:
    """Wait until the page's live charts have drawn some points and then more: a run mid-way."""
    first = wait_until(lambda: point_count(page))
    wait_until(lambda: point_count(page) > first)


def train_and_evaluate(page, server) -> None:
    """Train during a run (light and dark), then Evaluate once it has finished (light and dark)."""
    open_first(page, server, "train")
    choose_digits(page, epochs=TRAIN_EPOCHS, keras_only=True, dataset=LONG_RUN_DATASET)
    press(page, "Train")
    curves_growing(page)
    shoot(page, "train-during-a-run")
    in_dark(page, "train-during-a-run-dark")
    run_finished(page, seconds=RUN_SECONDS, name="train-not-finished")
    shoot(page, "train-finished")
    go_to(page, "evaluate", timeout=FIRST_PAGE_SECONDS)
    shoot(page, "evaluate")
    in_dark(page, "evaluate-dark")


def race(page, server) -> None:
    """The Train page's race of three optimizers, mid-race and ranked."""
    open_first(page, server, "train")
    choose_digits(page, epochs=RACE_EPOCHS, dataset=LONG_RUN_DATASET)
    wait_until(lambda: page.locator(".js-plotly-plot").count() >= 2, seconds=30)
    page.get_by_test_id("stExpander").filter(has_text=texts.RACE_SECTION).locator("summary").click()
    wait_ready(page)
    press_until(page, texts.RACE_BUTTON, lambda: "optimizer" in progress_text(page))
    curves_growing(page)
    shoot(page, "race-running", top=False)  # where the person is, having pressed Race
    shoot(page, "race-running-top")  # and where its curves are
    main = page.get_by_test_id("stMain")
    wait_until(lambda: texts.RACE_RANKING in main.inner_text(), seconds=RUN_SECONDS)
    shoot(page, "race-ranked", top=False)


def lesson_in_presenter_mode(page, server) -> None:
    """Each of the lesson's steps as a projector shows it; step 5 before, during and after its run."""
    open_first(page, server, "lesson?step=1")
    choose_digits(page, epochs=LESSON_EPOCHS, dataset=LONG_RUN_DATASET)
    page.get_by_test_id("stMain").get_by_test_id("stCheckbox").filter(has_text=texts.PRESENTER).locator("label").click()
    page.wait_for_url(lambda url: "presenter=1" in url, timeout=20_000)
    wait_ready(page)
    for step in range(1, WATCH_STEP + 1):  # the watching step too, before its run: the recorded run's chart
        wait_until(lambda step=step: showing_step(page, step), seconds=30)
        shoot(page, f"lesson-step-{step}")
        press_when_drawn(page, texts.NEXT if step < WATCH_STEP else texts.BACK)
    wait_until(lambda: showing_step(page, FIT_STEP), seconds=30)
    press_when_drawn(page, texts.FIT_BUTTON)  # trains, and shows the watching step
    wait_until(lambda: showing_step(page, WATCH_STEP), seconds=30)
    curves_growing(page)
    shoot(page, f"lesson-step-{WATCH_STEP}-training")
    run_finished(page, seconds=RUN_SECONDS)
    shoot(page, f"lesson-step-{WATCH_STEP}-trained")
    press_when_drawn(page, texts.NEXT)
    wait_until(lambda: showing_step(page, LAST_STEP), seconds=30)
    shoot(page, f"lesson-step-{LAST_STEP}")


def room(browser, server) -> None:
    """A room while the presenter's run trains: the presenter's screen, a laptop's and a phone's."""
    contexts = [browser.new_context(**PROJECTOR), browser.new_context(**PROJECTOR), browser.new_context(**PHONE_AT_1X)]
    try:
        presenter, laptop, phone = (context.new_page() for context in contexts)
        open_first(presenter, server, "")
        code = start_room(presenter, server)
        for participant in (laptop, phone):
            open_app(participant, server, f"room?code={code}")
            wait_until(lambda p=participant: showing_step(p, 4), seconds=10 * FOLLOW_SECONDS)
        shoot(presenter, "room-presenter-waiting")
        present_and_fit(presenter)
        for participant in (laptop, phone):
            wait_until(lambda p=participant: showing_step(p, 5), seconds=10 * FOLLOW_SECONDS)
        curves_growing(phone)
        for page, name in ((phone, "room-phone"), (laptop, "room-laptop"), (presenter, "room-presenter")):
            shoot(page, name)
    finally:
        for context in contexts:
            context.close()


def on_a_projector(moment: Callable) -> Callable:
    """A moment drawn in a fresh 1280×720 browser session of its own."""

    def draw(browser, server) -> None:
        context = browser.new_context(**PROJECTOR)
        page = context.new_page()
        try:
            moment(page, server)
        except Exception:
            print(f"  {moment.__name__} failed; the page then: {screenshot(page, moment.__name__ + '-failed')}")
            raise
        finally:
            context.close()

    return draw


MOMENTS = {
    "train": on_a_projector(train_and_evaluate),
    "race": on_a_projector(race),
    "lesson": on_a_projector(lesson_in_presenter_mode),
    "room": room,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ", ".join(MOMENTS)
    parser.add_argument("moments", nargs="*", metavar="moment", help=f"only these of {names} (default: all)")
    chosen = parser.parse_args().moments or list(MOMENTS)
    unknown = sorted(set(chosen) - set(MOMENTS))
    if unknown:
        parser.error(f"no such moment: {', '.join(unknown)}; choose among {names}")
    SCREENS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="training-studio-screens-") as folder:
        home = Path(folder)
        server = start_server(
            home / "streamlit.log",
            KERAS_HOME=str(home / "keras"),  # no MNIST here: the lesson's default falls back as on a new machine
            TRAINING_STUDIO_RUNS_DIR=str(home / "runs"),
            TRAINING_STUDIO_COMPILE_CACHE=str(home / "compiled"),
        )
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                with contextlib.closing(browser):
                    print(f"Writing the gallery into {SCREENS.relative_to(ROOT)}/:")
                    for name in chosen:
                        MOMENTS[name](browser, server)
        finally:
            stop_server(server.process)


if __name__ == "__main__":
    main()

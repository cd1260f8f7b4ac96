"""A newcomer's page while others train, against the same server idle; the landing page while Keras loads.

The e2e tests hold these only to "it answers at all"; the figures live here. Prints, measured
side by side in one run on this machine, alternated round by round:
- idle: a newcomer's page request (server answer, then the whole page drawn by a fresh Chromium session)
  on a server with no training;
- busy: the same while --users sessions each train the digits (one at a time, the others in line, as
  tests/e2e/test_several_users.py does);
- their ratio, and the landing page drawn by a server nobody has opened (Keras still importing) against
  the same page once Keras has loaded.

    python bench/busy_server.py [--users 4] [--epochs 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.browser import (  # noqa: E402
    choose_digits,
    open_app,
    press,
    progress_text,
    server_answer_seconds,
    wait_until,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

PATHS = ("", "train")


def newcomer(browser, server) -> dict[str, float]:
    """Seconds to the server's answer and to the page drawn, for each path, in a fresh session."""
    context = browser.new_context()
    page = context.new_page()
    seconds = {}
    for path in PATHS:
        seconds[f"/{path} answer"] = server_answer_seconds(server, path)
        seconds[f"/{path} drawn"] = open_app(page, server, path)
    context.close()
    return seconds


def busy(browser, server, users: int, epochs: int) -> dict[str, float]:
    """A newcomer's seconds while `users` sessions train; waits for them all to finish."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(users)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        open_app(page, server, "train")
        choose_digits(page, epochs=epochs, keras_only=True)
    for page in pages:
        press(page, "Train")
    wait_until(lambda: "epoch" in progress_text(pages[0]), seconds=120, message="the first user's run trains")
    seconds = newcomer(browser, server)
    for page in pages:
        wait_until(lambda page=page: "Finished" in progress_text(page), seconds=600, message="every run finished")
    for context in contexts:
        context.close()
    return seconds


def landing(browser, log: Path) -> tuple[float, float]:
    """The home page drawn by a server nobody has opened (Keras importing), then again once it has loaded."""
    with tempfile.TemporaryDirectory(prefix="bench-busy-keras-") as keras_home:
        server = start_server(log, KERAS_HOME=keras_home)
        try:
            context = browser.new_context()
            fresh = open_app(context.new_page(), server)
            page = context.new_page()
            wait_until(lambda: "Keras is loading" not in home_text(page, server), 120, 2, "Keras has loaded")
            warm = open_app(context.new_page(), server)
            context.close()
        finally:
            stop_server(server.process)
    return fresh, warm


def home_text(page, server) -> str:
    open_app(page, server)
    return page.get_by_test_id("stMain").inner_text()


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="idle and busy rounds, alternated")
    args = parser.parse_args()
    log = ROOT / "test-artifacts" / "bench-busy-server.log"
    log.parent.mkdir(exist_ok=True)
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="bench-busy-runs-") as runs:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        fresh, warm = landing(browser, log)
        server = start_server(log, TRAINING_STUDIO_RUNS_DIR=runs, TRAINING_STUDIO_MAX_CONCURRENT="1")
        try:
            rounds = [
                (newcomer(browser, server), busy(browser, server, args.users, args.epochs)) for _ in range(args.repeat)
            ]
        finally:
            stop_server(server.process)
            browser.close()
    print(f"a newcomer's page while {args.users} users train {args.epochs} epochs of the digits, against idle")
    print("                      idle s    busy s   ratio (median of rounds)")
    for key in rounds[0][0]:
        idle = statistics.median(quiet[key] for quiet, _ in rounds)
        loaded = statistics.median(loud[key] for _, loud in rounds)
        ratios = statistics.median(loud[key] / quiet[key] for quiet, loud in rounds)
        print(f"{key:<20} {idle:8.2f}  {loaded:8.2f}   {ratios:5.2f}")
    print(f"landing page drawn while Keras imports: {fresh:.2f} s; once loaded: {warm:.2f} s ({fresh / warm:.2f}×)")


if __name__ == "__main__":
    main()

"""A fifth visitor's Train page while four others train, against the same page on the idle server.

    python bench/busy_page.py [--rounds 3]

One app server, as deployed (one training at a time, the rest in line: TRAINING_STUDIO_MAX_CONCURRENT).
Each round opens the Train page as a new visitor on the idle server, then has four other visitors
press Train on Fashion-MNIST (their runs train or wait in line, their pages polling live), opens the
page again as the fifth visitor, and stops the four. The time is bench/page_speed.py's: navigation
start to the first frame with the Train button visible, by the page's clock.

Target (issue 14): the busy page within 1.5× the idle one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from page_open import train_link  # noqa: E402
from page_speed import VIEWPORT, open_once  # noqa: E402

from tests.e2e.browser import open_app, press, wait_until  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

TARGET_RATIO = 1.5
OTHERS = 4


def start_others(browser, server) -> list:
    """Four visitors press Train on Fashion-MNIST (Keras only) and keep their pages open."""
    contexts = []
    for _ in range(OTHERS):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        open_app(page, server, train_link("fashion_mnist", 20))
        press(page, "Train")
        contexts.append((context, page))
    wait_until(lambda: "epoch" in contexts[0][1].get_by_test_id("stProgress").first.inner_text(), 300)
    return contexts


def stop_others(contexts) -> None:
    for _, page in contexts:
        press(page, "Stop")
    for context, _ in contexts:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    runs_dir = tempfile.TemporaryDirectory(prefix="bench-busy-page-runs-")
    app = start_server(logs / "bench-busy-page.log", TRAINING_STUDIO_RUNS_DIR=runs_dir.name)
    rows: dict[str, list[float]] = {"idle": [], "four training": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            url = app.page_url("train")
            open_once(browser, url, 5.0)  # warm
            for _ in range(args.rounds):
                rows["idle"].append(open_once(browser, url, 1.0)["interactive"])
                others = start_others(browser, app)
                rows["four training"].append(open_once(browser, url, 1.0)["interactive"])
                stop_others(others)
                browser.new_page().wait_for_timeout(5000)  # the stopped runs score and save
            browser.close()
    finally:
        stop_server(app.process)
        runs_dir.cleanup()
    for name, values in rows.items():
        listed = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:<14} Train button visible: median {statistics.median(values):.2f} s ({listed})")
    ratio = statistics.median(rows["four training"]) / statistics.median(rows["idle"])
    each = [busy / idle for busy, idle in zip(rows["four training"], rows["idle"], strict=True)]
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"busy / idle: {ratio:.2f}x (round by round {min(each):.2f}–{max(each):.2f})", end="")
    print(f"; target <= {TARGET_RATIO}x: {verdict}")


if __name__ == "__main__":
    main()

"""Peak resident memory of the app's server process during a default MNIST-sized run (Fashion-MNIST).

Starts `streamlit run app.py`, trains the defaults (lesson model, 5 epochs, Keras and the
baseline) on the 70,000 Fashion-MNIST images from the Train page in headless Chromium, and samples
the server's RSS every 0.2 s. Target: peak ≤ 1.5 GB. Also prints the RSS after the run has ended,
which shows whether finished runs gave their training data back.

    python bench/memory.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.page_open import choose  # noqa: E402
from tests.e2e.browser import open_app, press, progress_text, wait_until  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

TARGET_BYTES = 1.5 * 1024**3
MB = 1024**2


class Sampler(threading.Thread):
    """Samples a process's resident memory until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.2)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    log = ROOT / "test-artifacts" / "bench-memory.log"
    log.parent.mkdir(exist_ok=True)
    server = start_server(log)
    sampler = Sampler(server.process.pid)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_app(page, server, "train")
            choose(page, "fashion_mnist", args.epochs)
            page.get_by_test_id("stSidebar").get_by_text("Keras and the scikit-learn baseline").click()
            before = psutil.Process(server.process.pid).memory_info().rss
            sampler.start()
            press(page, "Train")
            wait_until(lambda: progress_text(page).count("Finished") == 2, 1200, every=0.5)
            time.sleep(3)
            after = psutil.Process(server.process.pid).memory_info().rss
            sampler.halt.set()
            browser.close()
    finally:
        stop_server(server.process)
    print(f"Fashion-MNIST (60,000 + 10,000 images), {args.epochs} epochs, Keras then the baseline")
    print(f"server RSS before Train (page open, data loaded): {before / MB:7.0f} MB")
    print(f"server RSS peak during the run:                   {sampler.peak / MB:7.0f} MB  (target ≤ 1536 MB)")
    print(f"server RSS after the run ended:                   {after / MB:7.0f} MB")
    print("within target" if sampler.peak <= TARGET_BYTES else "OVER TARGET")


if __name__ == "__main__":
    main()

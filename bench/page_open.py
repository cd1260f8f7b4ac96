"""Training with a browser watching the live page against the same run headless; idle CPU afterwards.

Prints, measured side by side in one run on this machine:
- headless: the engine trains through the JobRunner in a plain Python process (no Streamlit);
- page open: the same settings trained from the Train page in headless Chromium, watched live;
- their ratio (target ≤ 1.15), the time from pressing Train to the first chart point (target ≤ 3 s,
  Keras loaded), and the server's CPU while idle after the run with the page still open (target ≈ 0).

    python bench/page_open.py [--dataset fashion_mnist] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.browser import choose_digits, open_app, point_count, press, progress_text, wait_until  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

HEADLESS = """
import json, sys, time
from core import libraries
from core.config import TrainingConfig
from core.data import load_dataset
from core.engine import training_job
from core.jobs import JobRunner
from core.run import TrainingRun
libraries.load("keras")
dataset = load_dataset(sys.argv[1])
run = TrainingRun(TrainingConfig(dataset=sys.argv[1], epochs=int(sys.argv[2])))
runner = JobRunner()
started = time.perf_counter()
runner.submit([run], training_job([run], dataset))
runner.wait_idle()
snap = run.snapshot()
print(json.dumps({"seconds": time.perf_counter() - started, "fit": snap.fit_seconds, "status": snap.status}))
"""


def headless_seconds(dataset: str, epochs: int) -> dict:
    answer = subprocess.run(
        [sys.executable, "-c", HEADLESS, dataset, str(epochs)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def choose(page, dataset: str, epochs: int) -> None:
    from core.config import DATASETS

    choose_digits(page, epochs=epochs, keras_only=True, dataset=DATASETS[dataset])


def page_open(dataset: str, epochs: int, log: Path) -> dict:
    from playwright.sync_api import sync_playwright

    server = start_server(log)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_app(page, server, "train")
            choose(page, dataset, epochs)
            started = time.perf_counter()
            press(page, "Train")
            wait_until(lambda: point_count(page), 300, every=0.05)
            first_point = time.perf_counter() - started
            finished = wait_until(lambda: "Finished" in (text := progress_text(page)) and text, 600, every=0.05)
            seconds = time.perf_counter() - started
            # The run's own clock, as the page shows it: "Finished 3 epochs. (6.2 s)".
            fit = float(re.search(r"Finished \d+ epochs\. \(([\d.]+) s\)", finished).group(1))
            process = psutil.Process(server.process.pid)
            time.sleep(2)  # the last full-page rerun after the run ends
            process.cpu_percent()
            time.sleep(10)
            idle_cpu = process.cpu_percent()
            browser.close()
    finally:
        stop_server(server.process)
    return {"seconds": seconds, "fit": fit, "first_point": first_point, "idle_cpu": idle_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    log = ROOT / "test-artifacts" / "bench-page-open.log"
    log.parent.mkdir(exist_ok=True)
    alone = headless_seconds(args.dataset, args.epochs)
    watched = page_open(args.dataset, args.epochs, log)
    print(f"{args.dataset}, {args.epochs} epochs, lesson model, batch 32 (includes XLA compiling)")
    print(f"engine training time, headless:               {alone['fit']:6.1f} s")
    print(f"engine training time, page open and watched:  {watched['fit']:6.1f} s")
    print(f"ratio watched / headless:                     {watched['fit'] / alone['fit']:6.2f}   (target ≤ 1.15)")
    print(f"headless, submit → idle:                      {alone['seconds']:6.1f} s")
    print(f"page open, Train pressed → 'Finished' seen:   {watched['seconds']:6.1f} s (adds the page's polling)")
    print(f"ratio of those:                               {watched['seconds'] / alone['seconds']:6.2f}")
    print(f"Train pressed → first chart point:            {watched['first_point']:6.1f} s (target ≤ 3 s)")
    print(f"server CPU, idle 10 s after the run:          {watched['idle_cpu']:6.1f} %  (target ≈ 0)")


if __name__ == "__main__":
    main()

"""A workshop room under load: 30 participant pages in Chromium watch one presenter's run.

Each trial opens a fresh room from the Lesson (a new presenter session, the room ended afterwards),
lets the viewers join and follow to step 4, then the presenter presses "Fit: start training" and
every viewer follows to step 5 and draws the run live. Variants, alternated in one run, each next
to a control:
- control: the same training with no participant in the room (the presenter's own page only);
- blocked: --viewers participant pages with Plotly's script blocked (page.route aborts the
  PlotlyChart chunk), so this machine's two cores stay with the server rather than 30 renderers;
- drawn: the same pages drawing the charts.

Prints, per trial and per variant (medians over --repeat):
- fit s: the presenter's training time, read from the run record saved in TRAINING_STUDIO_RUNS_DIR,
  and its ratio to the controls next to it (target ≤ 1.15);
- server CPU s over the run, and the viewers' share: (CPU − control's CPU) per viewer-minute;
- a newcomer's page answer (HTTP GET of the join link) and draw time (a fresh Chromium context
  from the join link until the room shows the presenter's step 5), taken during the run;
- the server's peak RSS (sampled every 0.2 s).

--pin puts the server on CPU 0 and this script with its Chromium on CPU 1, for every variant and
control alike. On one machine the 30 pages' renderers otherwise take the server's cores, which the
viewers' own laptops would do in a real room; pinned, the fit ratio counts what the viewers cost the
server itself (on one core, where a room's server has two).

    python bench/room_load.py [--viewers 30] [--dataset fashion_mnist|digits] [--epochs 5] [--repeat 1] [--pin]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import config as settings  # noqa: E402
from core.data.datasets import DEBIAN_FASHION_MNIST  # noqa: E402
from core.results import lesson_texts as texts  # noqa: E402
from core.rooms import viewer_refresh_seconds  # noqa: E402
from pages.plotly_preload import CHUNK_GLOB  # noqa: E402
from tests.e2e.browser import open_app, press, progress_text, wait_ready, wait_until  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

CODE = re.compile(r"Room code:\s*([A-Z0-9]{5})")
PLOTLY_CHUNK = f"**/{CHUNK_GLOB}"  # a route pattern: Streamlit's Plotly chunk, wherever it is served
VIEWPORT = {"width": 1000, "height": 800}  # a viewer's laptop
PRESENTER_VIEWPORT = {"width": 1400, "height": 1000}
NEWCOMER_AFTER_SECONDS = 2.0  # after Fit: the run is preparing or training
NEWCOMER_SECONDS = 120
RUN_SECONDS = 900
TRIAL_HEADER = "  # variant  viewers  fit s  wall s  server CPU  answer s  draw s  RSS MB  followed  load"


@dataclass
class Trial:
    variant: str
    viewers: int
    fit_seconds: float
    wall_seconds: float
    server_cpu: float
    answer_seconds: float
    draw_seconds: float
    peak_rss: int
    followed: int
    load: float = field(default_factory=lambda: os.getloadavg()[0])


class ServerWatch:
    """CPU seconds and peak RSS of the server process over a span (RSS sampled on a thread)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def __enter__(self) -> ServerWatch:
        self.started_cpu = self.cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.cpu_seconds = self.cpu() - self.started_cpu
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            self._stop.wait(0.2)


def header(page) -> str:
    return " | ".join(page.get_by_test_id("stMain").get_by_test_id("stHeading").all_inner_texts())


def open_room(browser, server, dataset: str, epochs: int):
    """A presenter session: the Lesson at step 4 with the dataset and epochs, then "Start a room"."""
    context = browser.new_context(viewport=PRESENTER_VIEWPORT)
    page = context.new_page()
    open_app(page, server, "lesson?step=4")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name=texts.SIDEBAR_DATASET).click()
    page.get_by_role("option", name=settings.DATASETS[dataset]).click()
    wait_ready(page)
    slider = sidebar.get_by_test_id("stSlider").filter(has_text=texts.SIDEBAR_EPOCHS).get_by_role("slider")
    slider.focus()
    slider.press("Home")
    for _ in range(epochs - 1):
        slider.press("ArrowRight")
    wait_until(lambda: slider.input_value() == str(epochs), seconds=20)
    wait_ready(page)
    press(page, texts.START_ROOM)
    page.wait_for_url(re.compile(r"/room"))
    code = wait_until(lambda: CODE.search(page.get_by_test_id("stMain").inner_text())).group(1)
    return context, page, code


def join(browser, server, code: str, count: int, block_plotly: bool) -> list:
    contexts = []
    for _ in range(count):
        context = browser.new_context(viewport=VIEWPORT)
        if block_plotly:
            context.route(PLOTLY_CHUNK, lambda route: route.abort())
        page = context.new_page()
        page.goto(f"{server.url}/room?code={code}", timeout=300_000)
        contexts.append((context, page))
    for _, page in contexts:
        wait_until(lambda p=page: "Step 4 of 6" in header(p), seconds=180)
    return contexts


def newcomer(browser, server, code: str) -> tuple[float, float]:
    """A late joiner: the join link's HTTP answer, then a fresh page drawn until it shows step 5
    (NaN if it has not within NEWCOMER_SECONDS: 30 pages on one core, --pin, were seen to starve it)."""
    started = time.monotonic()
    with urllib.request.urlopen(f"{server.url}/room?code={code}", timeout=60) as answer:
        answer.read()
    answered = time.monotonic() - started
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        started = time.monotonic()
        page.goto(f"{server.url}/room?code={code}", wait_until="commit", timeout=300_000)
        try:
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('[data-testid=stHeading]'))"
                ".some(h => h.innerText.includes('Step 5 of 6'))",
                timeout=NEWCOMER_SECONDS * 1000,
            )
        except PlaywrightTimeout:
            return answered, math.nan
        return answered, time.monotonic() - started
    finally:
        context.close()


def newest_fit_seconds(runs_dir: Path, before: set[str]) -> float:
    new = [path for path in runs_dir.glob("*.json") if path.name not in before]
    records = [json.loads(path.read_text()) for path in new]
    keras = [record for record in records if record.get("kind", "keras") == "keras" and record.get("fit_seconds")]
    if not keras:
        raise RuntimeError(f"no new Keras run record in {runs_dir}")
    return float(keras[-1]["fit_seconds"])


def trial(browser, server, runs_dir: Path, variant: str, viewers: int, dataset: str, epochs: int) -> Trial:
    presenter_context, presenter, code = open_room(browser, server, dataset, epochs)
    viewer_pages = join(browser, server, code, viewers, block_plotly=variant == "blocked")
    try:
        presenter.get_by_test_id("stMain").get_by_role("link", name="Present the lesson").click()
        presenter.wait_for_url(re.compile(r"/lesson"))
        wait_until(lambda: "Step 4 of 6" in header(presenter), seconds=120)
        wait_ready(presenter)
        before = {path.name for path in runs_dir.glob("*.json")}
        with ServerWatch(server.process.pid) as watch:
            started = time.monotonic()
            press(presenter, texts.FIT_BUTTON)
            time.sleep(NEWCOMER_AFTER_SECONDS)
            answer, draw = newcomer(browser, server, code)
            # The saved record also ends the wait: under load the presenter's page was seen missing its last redraw.
            wait_until(
                lambda: "Finished" in progress_text(presenter) or _fit_or_none(runs_dir, before),
                seconds=RUN_SECONDS,
                every=0.5,
            )
            wall = time.monotonic() - started
        followed = sum("Step 5 of 6" in header(page) for _, page in viewer_pages)
        fit = wait_until(lambda: _fit_or_none(runs_dir, before), seconds=60)
        # End the room, so the next trial's room starts empty.
        presenter.get_by_test_id("stTopNavLink").filter(has_text="Room").first.click()
        wait_until(lambda: presenter.get_by_test_id("stMain").get_by_role("button", name="End the room").count())
        press(presenter, "End the room")
        wait_ready(presenter)
    finally:
        for context, _ in viewer_pages:
            context.close()
        presenter_context.close()
    return Trial(variant, viewers, fit, wall, watch.cpu_seconds, answer, draw, watch.peak_rss, followed)


def _fit_or_none(runs_dir: Path, before: set[str]) -> float | None:
    try:
        return newest_fit_seconds(runs_dir, before)
    except (RuntimeError, json.JSONDecodeError):
        return None


def print_trial(number: int, row: Trial) -> None:
    print(
        f"{number:>3} {row.variant:<8} {row.viewers:>3} {row.fit_seconds:>7.1f} {row.wall_seconds:>7.1f} "
        f"{row.server_cpu:>8.1f} {row.answer_seconds:>9.2f} {row.draw_seconds:>7.2f} "
        f"{row.peak_rss / 2**20:>8.0f} {row.followed:>4}/{row.viewers:<3} {row.load:>5.1f}",
        flush=True,
    )


def summarise(trials: list[Trial], viewers: int) -> None:
    """Medians per variant; each viewer variant against the mean of the controls run next to it."""
    print("\nvariant   fit s  × control  server CPU s  CPU s/viewer-min  answer s  draw s  peak RSS MB  ms/redraw")
    for variant in ("control", "blocked", "drawn"):
        rows = [row for row in trials if row.variant == variant]
        if not rows:
            continue
        ratios, per_viewer_minute, per_redraw_ms = [], [], []
        for row in rows:
            index = trials.index(row)
            controls = [t for t in trials[max(0, index - 1) : index + 2] if t.variant == "control"]
            if variant == "control" or not controls:
                continue
            ratios.append(row.fit_seconds / statistics.mean(c.fit_seconds for c in controls))
            extra = row.server_cpu - statistics.mean(c.server_cpu for c in controls)
            per_viewer_minute.append(extra / (row.viewers * row.wall_seconds / 60))
            redraws = row.viewers * row.wall_seconds / viewer_refresh_seconds(row.viewers)
            per_redraw_ms.append(1000 * extra / redraws)
        fit = statistics.median(row.fit_seconds for row in rows)
        ratio = f"{statistics.median(ratios):.2f}×" if ratios else "1"
        cpu_minute = f"{statistics.median(per_viewer_minute):.3f}" if per_viewer_minute else "-"
        redraw = f"{statistics.median(per_redraw_ms):.0f}" if per_redraw_ms else "-"
        print(
            f"{variant:<8} {fit:>6.1f}  {ratio:>8}  {statistics.median(r.server_cpu for r in rows):>12.1f}  "
            f"{cpu_minute:>16}  {statistics.median(r.answer_seconds for r in rows):>8.2f}  "
            f"{statistics.median(r.draw_seconds for r in rows):>6.2f}  "
            f"{max(r.peak_rss for r in rows) / 2**20:>11.0f}  {redraw:>8}"
        )
    print(
        f"\nEach of {viewers} viewers redraws a live run every {viewer_refresh_seconds(viewers):.1f} s "
        "(core.rooms.viewer_refresh_seconds); the presenter's page every 1 s."
    )


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of process `pid` on `cpus`; threads it starts later inherit the setting."""
    for thread in psutil.Process(pid).threads():
        os.sched_setaffinity(thread.id, cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, default=30)
    default_dataset = "fashion_mnist" if DEBIAN_FASHION_MNIST.exists() else "digits"
    parser.add_argument("--dataset", choices=("fashion_mnist", "digits"), default=default_dataset)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of control, blocked, control, drawn")
    parser.add_argument("--variants", default="blocked,drawn")
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, the browsers on CPU 1")
    args = parser.parse_args()
    variants = args.variants.split(",")
    from playwright.sync_api import sync_playwright

    print(f"dataset {args.dataset} ({settings.DATASETS[args.dataset]}), {args.epochs} epochs, {args.viewers} viewers")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        runs_dir = Path(folder) / "runs"
        server = start_server(
            Path(folder) / "streamlit.log",
            KERAS_HOME=str(Path(folder) / "keras"),
            TRAINING_STUDIO_RUNS_DIR=str(runs_dir),
            TRAINING_STUDIO_MAX_CONCURRENT="1",
        )
        if args.pin:
            pin(server.process.pid, {0})
            os.sched_setaffinity(0, {1})  # this script, and the Chromium it starts from here on
            print("pinned: the server on CPU 0, the browsers on CPU 1")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                print("warm-up (not counted): Keras import, the dataset's cache, the first compile")
                trial(browser, server, runs_dir, "control", 0, args.dataset, args.epochs)
                print(TRIAL_HEADER)
                trials: list[Trial] = []
                for _ in range(args.repeat):
                    for variant in variants:
                        for name, count in (("control", 0), (variant, args.viewers)):
                            row = trial(browser, server, runs_dir, name, count, args.dataset, args.epochs)
                            trials.append(row)
                            print_trial(len(trials), row)
                trials.append(trial(browser, server, runs_dir, "control", 0, args.dataset, args.epochs))
                print_trial(len(trials), trials[-1])
                browser.close()
        finally:
            stop_server(server.process)
    summarise(trials, args.viewers)


if __name__ == "__main__":
    main()

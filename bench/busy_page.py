"""A fifth visitor's Train page while four others train, against the same page on the idle server.

    python bench/busy_page.py [--rounds 3] [--niceness 10,0]

One app server, as deployed (one training at a time, the rest in line: TRAINING_STUDIO_MAX_CONCURRENT).
Each round opens the Train page as a new visitor on the idle server, then has four other visitors
press Train on Fashion-MNIST (their runs train or wait in line, their pages polling live), opens the
page again as the fifth visitor, and stops the four. The time is bench/page_speed.py's: navigation
start to the first frame with the Train button visible, by the page's clock.

With --niceness, one server per training niceness (TRAINING_STUDIO_TRAINING_NICENESS), rounds
alternating between them; each also reports how many epochs the training one of the four trained in
TRAINING_WINDOW seconds while the five pages were open: what the niceness costs the training when
browsers share the machine.

--layout remote puts the servers on CPU 0, this script and its Chromium on CPU 1, and blocks
Plotly's script in the four others' pages (their charts would be drawn on their own screens; their
pages still rerun the live fragment on its timer, so the server does all its work for them). The
four others' pages still render on CPU 1, the fifth visitor's core: 0.46 of it, measured. --layout
apart gives the fifth visitor a machine of its own, as in a real room: the four others' pages (Plotly
blocked as in remote) run in a Chromium of their own on the server's CPU 0, so the server shares its
core with them (harder on it than a room, where they run on their laptops) and CPU 1 holds only the
fifth visitor. The default, shared, puts the five browsers on the server's cores.

--others-pages closed closes the four others' pages once their runs train (the server is told to
keep an owner's runs ORPHAN_GRACE seconds after the page goes, and the fifth page is read within
that): what the training alone costs the fifth visitor, without the others' live redraws.

Target: the busy page within 1.5× the idle one.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from page_open import train_link  # noqa: E402
from page_speed import VIEWPORT, open_once  # noqa: E402
from room_load import PLOTLY_CHUNK, pin  # noqa: E402

from core.jobs.runner import ORPHAN_SECONDS_ENV  # noqa: E402
from tests.e2e.browser import open_app, press, progress_text, wait_until  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

TARGET_RATIO = 1.5
OTHERS = 4
TRAINING_WINDOW = 15.0
# Long enough that every run is still training or waiting when the round stops them (JAX: ~1 s an epoch).
OTHERS_EPOCHS = 100
# After the four others' pages are open and the first run trains, before the fifth page is read: their
# pages finish opening (in --layout apart, on the server's core), so the read sees a room in its stride.
SETTLE_SECONDS = 5.0
EPOCH = re.compile(r"epoch (\d+)/")
# A run's label and epoch in the progress lines (tests.e2e.browser.progress_text joins them with " | ").
RUN_EPOCH = re.compile(r"(?:^| \| )([^|]+?): epoch (\d+)/")
# --others-pages closed: the server cancels a closed page's runs this long after it went
# (TRAINING_STUDIO_ORPHAN_SECONDS); the fifth page is read well within it.
ORPHAN_GRACE = 30.0


COUNT_MESSAGES_JS = """(() => { const Socket = window.WebSocket; window.__messages = 0;
  window.WebSocket = function (...args) { const socket = new Socket(...args);
    socket.addEventListener('message', () => { window.__messages += 1; }); return socket; };
  window.WebSocket.prototype = Socket.prototype; Object.assign(window.WebSocket, Socket); })();"""


def launch_on(playwright, cpus: set[int]):
    """A Chromium of its own with every process and thread on `cpus` (renderers fork from its zygote
    and inherit the setting)."""
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    for process in psutil.Process().children(recursive=True):
        if process.pid not in before and process.name().startswith("chrom"):
            pin(process.pid, cpus)
    return browser


def start_others(browser, server, draw_charts: bool) -> list:
    """Four visitors press Train on Fashion-MNIST (Keras only) and keep their pages open.

    The pages count the messages the server sends them (COUNT_MESSAGES_JS, in their own renderer:
    Playwright's websocket events would carry every message through this script, on the fifth
    visitor's core)."""
    contexts = []
    for _ in range(OTHERS):  # all four on the page first, then they press Train one after another
        context = browser.new_context(viewport=VIEWPORT)
        if not draw_charts:
            context.route(PLOTLY_CHUNK, lambda route: route.abort())
        context.add_init_script(COUNT_MESSAGES_JS)
        page = context.new_page()
        open_app(page, server, train_link("fashion_mnist", OTHERS_EPOCHS))
        contexts.append((context, page))
    for _, page in contexts:
        press(page, "Train")
    wait_until(lambda: "epoch" in progress_text(contexts[0][1]), 300)
    contexts[0][1].wait_for_timeout(SETTLE_SECONDS * 1000)
    return contexts


def messages_received(contexts) -> int:
    """Messages the server has sent the four others' pages so far."""
    return sum(page.evaluate("() => window.__messages || 0") for _, page in contexts)


def training_page(contexts):
    """The first of the four others' pages whose run is training (not waiting, not finished)."""
    for _, page in contexts:
        if EPOCH.search(progress_text(page)):
            return page
    return contexts[0][1]


def epochs_trained(page, seconds: float) -> int:
    """Epochs the page's runs went through in the next `seconds`, from their progress lines read four times a
    second: each run's last epoch seen less its first. (Reading the first line twice, 15 s apart, compared one
    run's epoch with another's once the lesson run took 2 s: it printed −79 to −91.)"""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    while True:
        for label, epoch in RUN_EPOCH.findall(progress_text(page)):
            first.setdefault(label, int(epoch))
            last[label] = int(epoch)
        if time.monotonic() >= deadline:
            return sum(last[label] - first[label] for label in last)
        page.wait_for_timeout(250)


def stop_others(contexts) -> None:
    for _, page in contexts:
        stop = page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True)
        if stop.count() and stop.first.is_enabled():
            stop.first.click()
    for context, _ in contexts:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--niceness", default="", help="comma-separated training niceness values to compare")
    parser.add_argument("--layout", choices=("shared", "remote", "apart"), default="shared", help="see the docstring")
    parser.add_argument("--others-pages", choices=("open", "closed"), default="open", help="see the docstring")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    niceness = [value.strip() for value in args.niceness.split(",") if value.strip()] or [""]
    runs_dirs = [tempfile.TemporaryDirectory(prefix="bench-busy-page-runs-") for _ in niceness]
    apps = {}
    for value, runs_dir in zip(niceness, runs_dirs, strict=True):
        env = {"TRAINING_STUDIO_RUNS_DIR": runs_dir.name}
        if value:
            env["TRAINING_STUDIO_TRAINING_NICENESS"] = value
        if args.others_pages == "closed":
            env[ORPHAN_SECONDS_ENV] = str(ORPHAN_GRACE)
        apps[value] = start_server(logs / f"bench-busy-page{value}.log", **env)
        if args.layout != "shared":
            pin(apps[value].process.pid, {0})
    if args.layout != "shared":
        os.sched_setaffinity(0, {1})  # this script, and the Chromium it starts from here on
    rows = {value: {"idle": [], "four training": [], "epochs": [], "messages": []} for value in niceness}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            others_browser = launch_on(playwright, {0}) if args.layout == "apart" else browser
            for app in apps.values():
                open_once(browser, app.page_url("train"), 5.0)  # warm
            for _ in range(args.rounds):
                for value, app in apps.items():  # alternating, one round each
                    url = app.page_url("train")
                    rows[value]["idle"].append(open_once(browser, url, 1.0)["interactive"])
                    others = start_others(others_browser, app, draw_charts=args.layout == "shared")
                    if args.others_pages == "closed":  # the server cancels the closed pages' runs
                        for context, _ in others:
                            context.close()
                        rows[value]["four training"].append(open_once(browser, url, 1.0)["interactive"])
                        browser.new_page().wait_for_timeout((ORPHAN_GRACE + 10) * 1000)
                        continue
                    started, before = time.monotonic(), messages_received(others)
                    rows[value]["four training"].append(open_once(browser, url, 1.0)["interactive"])
                    rows[value]["messages"].append((messages_received(others) - before) / (time.monotonic() - started))
                    rows[value]["epochs"].append(epochs_trained(training_page(others), TRAINING_WINDOW))
                    stop_others(others)
                    browser.new_page().wait_for_timeout(5000)  # the stopped runs score and save
            browser.close()
            if others_browser is not browser:
                others_browser.close()
    finally:
        for app in apps.values():
            stop_server(app.process)
        for runs_dir in runs_dirs:
            runs_dir.cleanup()
    print(f"layout: {args.layout}; the four others' pages {args.others_pages}")
    for value, row in rows.items():
        print(f"training niceness {value or 'default'}:")
        for name in ("idle", "four training"):
            listed = ", ".join(f"{v:.2f}" for v in row[name])
            print(f"  {name:<14} Train button visible: median {statistics.median(row[name]):.2f} s ({listed})")
        ratio = statistics.median(row["four training"]) / statistics.median(row["idle"])
        each = [busy / idle for busy, idle in zip(row["four training"], row["idle"], strict=True)]
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"  busy / idle: {ratio:.2f}x (round by round {min(each):.2f}–{max(each):.2f})", end="")
        print(f"; target <= {TARGET_RATIO}x: {verdict}")
        print(f"  epochs the training run trained in {TRAINING_WINDOW:g} s with the pages open: {row['epochs']}")
        if row["messages"]:
            listed = ", ".join(f"{v:.1f}" for v in row["messages"])
            print(f"  messages the four others' pages received per second while the fifth was read: {listed}")


if __name__ == "__main__":
    main()

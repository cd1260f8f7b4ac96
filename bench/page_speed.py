"""How soon the Train page is usable, against a bare one-button Streamlit page, in the same Chromium.

    python bench/page_speed.py [--repeat 5] [--page train]

Two servers run side by side: the app, and bench/bare_page.py (the control: one title, one button,
same Streamlit and config). Both are warmed by one visit; then each round opens the app's page, the
bare page at the root ("/", the issue's control) and the same bare page at its own URL (as /train is
opened: Streamlit's frontend first looks for the server under the page's path, and retries under "/"
100 ms after that fails), alternating, each in a fresh browser context (a new visitor: empty cache,
new session). In the page's own clock (performance.now(), from navigation start) it stamps:

- interactive: the first animation frame in which a button labelled "Train" is visible;
- Plotly run: when the page's preload (pages/plotly_preload.py) had Plotly's code fetched and run;
- Plotly drawn: the first frame in which a Plotly chart is drawn (the empty charts, 2 s after the
  first script run);
- from the browser's resource timing (performance.getEntriesByType('resource')), the script bytes
  fetched before the page was interactive, and when the Plotly chunk finished loading.

The target: the Train page interactive in ≤ 1.3× the bare page; Plotly loaded after the
page is usable but before a reader's first point (see bench/first_point.py for Train → first point).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bare_page import SUBPAGE_URL_PATH  # noqa: E402
from pages.plotly_preload import LOADED_MARK, plotly_chunk  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

TARGET_RATIO = 1.3
VIEWPORT = {"width": 1280, "height": 720}
BIG = 2e5  # bytes: a chunk worth naming
# Installed before any page script: stamps, by the page's clock, the frames the benchmark waits for.
STAMP_JS = """(() => { const stamps = window.__stamps = {};
  const visible = (element) => { const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0; };
  const frame = () => {
    if (!stamps.title && document.querySelector('h1')) stamps.title = performance.now();
    if (!stamps.interactive && Array.from(document.querySelectorAll('button')).some(
        (b) => b.innerText.trim() === 'Train' && visible(b))) stamps.interactive = performance.now();
    if (!stamps.plotly && document.querySelector('.js-plotly-plot .main-svg')) stamps.plotly = performance.now();
    if (!(stamps.interactive && stamps.plotly)) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame); })();"""
RESOURCES_JS = """() => performance.getEntriesByType('resource').map((r) => ({
  name: r.name.split('/').pop(), end: r.responseEnd, bytes: r.encodedBodySize, type: r.initiatorType}))"""


def open_once(browser, url: str, settle: float) -> dict:
    """Open `url` as a new visitor; the page's stamps (seconds) and what it fetched before it was usable."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(STAMP_JS)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.__stamps && window.__stamps.interactive", timeout=60_000)
    # Time to read the page: the deferred charts (and their chunk) arrive in this span.
    page.wait_for_timeout(settle * 1000)
    stamps = page.evaluate("() => window.__stamps")
    loaded_mark = page.evaluate(f"() => performance.getEntriesByName('{LOADED_MARK}').map((m) => m.startTime)")
    resources = page.evaluate(RESOURCES_JS)
    context.close()
    interactive = stamps["interactive"]
    scripts = [r for r in resources if r["name"].endswith(".js")]
    plotly = [r["end"] for r in scripts if r["name"] == plotly_chunk()]
    early = [r for r in scripts if r["end"] <= interactive]
    return {
        "interactive": interactive / 1000,
        "title": stamps["title"] / 1000,
        "plotly_drawn": stamps["plotly"] / 1000 if stamps.get("plotly") else None,
        "plotly_loaded": plotly[0] / 1000 if plotly else None,
        "plotly_run": loaded_mark[0] / 1000 if loaded_mark else None,
        "js_mb_before": sum(r["bytes"] for r in early) / 1e6,
        "js_mb_total": sum(r["bytes"] for r in scripts) / 1e6,
        "chunks_before": sorted(r["name"].split(".")[0] for r in early if r["bytes"] > BIG),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of (app page, bare page), alternated")
    parser.add_argument("--page", default="train", help="the app's page to open (train, lesson, …)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds a visitor reads before leaving")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    runs_dir = tempfile.TemporaryDirectory(prefix="bench-page-speed-runs-")
    app = start_server(logs / "bench-page-speed-app.log", TRAINING_STUDIO_RUNS_DIR=runs_dir.name)
    bare = start_server(logs / "bench-page-speed-bare.log", script="bench/bare_page.py")
    rows: dict[str, list[dict]] = {"app": [], "bare": [], "bare at its URL": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            urls = {"app": app.page_url(args.page), "bare": bare.page_url()}
            urls["bare at its URL"] = bare.page_url(SUBPAGE_URL_PATH)
            for name in urls:  # warm: imports done, first script runs behind us
                open_once(browser, urls[name], 2.0)
            time.sleep(5)  # the app's background import of TensorFlow settles
            for _ in range(args.repeat):
                for name in urls:
                    rows[name].append(open_once(browser, urls[name], args.settle))
            browser.close()
    finally:
        stop_server(app.process)
        stop_server(bare.process)
        runs_dir.cleanup()
    report(rows, args.page)


def report(rows: dict[str, list[dict]], page_name: str) -> None:
    print(f"/{page_name} against bench/bare_page.py, {len(rows['app'])} rounds alternated, viewport 1280×720")
    print(f"{'page':<15} {'title s':>7} {'interactive s':>13} {'Plotly chunk s':>14} {'Plotly run s':>12}", end="")
    print(f" {'Plotly drawn s':>14}", end="")
    print(f" {'JS MB before':>12}")
    for name, measured in rows.items():
        for row in measured:
            drawn = f"{row['plotly_drawn']:.2f}" if row["plotly_drawn"] else "-"
            loaded = f"{row['plotly_loaded']:.2f}" if row["plotly_loaded"] else "-"
            run = f"{row['plotly_run']:.2f}" if row["plotly_run"] else "-"
            print(f"{name:<15} {row['title']:>7.2f} {row['interactive']:>13.2f} {loaded:>14} {run:>12}", end="")
            print(f" {drawn:>14}", end="")
            print(f" {row['js_mb_before']:>12.2f}")
    ratios = [a["interactive"] / b["interactive"] for a, b in zip(rows["app"], rows["bare"], strict=True)]
    app_median = statistics.median(r["interactive"] for r in rows["app"])
    bare_median = statistics.median(r["interactive"] for r in rows["bare"])
    ratio = app_median / bare_median
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(
        f"interactive: app {app_median:.2f} s, bare {bare_median:.2f} s; ratio of medians {ratio:.2f}x "
        f"(round by round {min(ratios):.2f}–{max(ratios):.2f}); target <= {TARGET_RATIO}x: {verdict}"
    )
    at_its_url = statistics.median(r["interactive"] for r in rows["bare at its URL"])
    print(
        f"the bare page at its own URL: {at_its_url:.2f} s "
        f"({at_its_url / bare_median:.2f}x the bare page at the root); "
        f"the app against it, like for like: {app_median / at_its_url:.2f}x"
    )
    for stamp, what in (("plotly_run", "Plotly's code run"), ("plotly_drawn", "Plotly drawn")):
        after = [r[stamp] - r["interactive"] for r in rows["app"] if r[stamp]]
        if after:
            print(
                f"{what} {statistics.median(after):+.2f} s after the Train button showed "
                f"(range {min(after):+.2f} to {max(after):+.2f}; positive = while the visitor reads)"
            )
    print("large chunks fetched before interactive (app):", ", ".join(rows["app"][0]["chunks_before"]) or "none")


if __name__ == "__main__":
    main()

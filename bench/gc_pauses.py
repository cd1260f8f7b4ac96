"""Full garbage collections in a server's process: how often, and how long the GIL stood still for them.

    python bench/gc_pauses.py [--rounds 2] [--visits 6]

Each variant runs in a process of its own, as a server does: the libraries loaded (core.libraries.load),
the default run's warm-up (core.jobs.start.warm_up_default_run), then visitors' Train pages in AppTest
(the page's script runs, each with its widgets and figures; a slider moved; a digits run trained and
polled until it ends), `--visits` of them in turn. Python's garbage collector reports every collection
to gc.callbacks; the full ones (generation 2) are counted and timed. Variants, alternated round by round:

- as before: the collector tracks the ~400,000 objects the imports made, and scans them all in every
  full collection;
- frozen: core.libraries.freeze_long_lived_objects() after the load and again after the warm-up, as the
  server's background load now does (gc.freeze).

Printed: full collections, their total and longest pause, and the visits' own wall time, with the
ratios frozen / as before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("as before", "frozen")


def one_process(variant: str, visits: int) -> dict:
    """In this process: load as the server does, then `visits` visitors' Train pages; the full collections."""
    import gc

    sys.path.insert(0, str(ROOT))
    from core import libraries
    from core.jobs.start import warm_up_default_run

    libraries.load("keras")
    if variant == "frozen":
        libraries.freeze_long_lived_objects()
    warm_up_default_run()
    if variant == "frozen":
        libraries.freeze_long_lived_objects()
    from pages.resources import job_runner
    from tests.app.test_pages import button, choose_digits, open_page

    pauses: list[float] = []
    started: list[float] = []

    def timed(phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(timed)
    began = time.perf_counter()
    for visit in range(visits):
        at = open_page("pages/train.py")  # as the page tests open and drive it
        choose_digits(at, epochs=3 + visit % 3)
        button(at, "Train").click().run()
        job_runner().wait_idle(timeout=120)
        for _ in range(3):  # the live area polls, then draws the finished run
            at.run()
    wall = time.perf_counter() - began
    gc.callbacks.remove(timed)
    return {"collections": len(pauses), "paused": sum(pauses), "longest": max(pauses, default=0.0), "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (as before, frozen), alternated")
    parser.add_argument("--visits", type=int, default=6, help="visitors' Train pages per process")
    parser.add_argument("--process", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.process:
        print("RESULT " + json.dumps(one_process(args.process, args.visits)), flush=True)
        return

    rows: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--process", variant, "--visits", str(args.visits)]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
            result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
            rows[variant].append(json.loads(result.removeprefix("RESULT ")))
    print(f"{args.visits} visitors' Train pages per process, {args.rounds} rounds alternated")
    print(f"{'variant':<10} {'full collections':>16} {'paused ms':>10} {'longest ms':>11} {'visits s':>9}")
    for variant, measured in rows.items():
        for row in measured:
            print(
                f"{variant:<10} {row['collections']:>16} {row['paused'] * 1000:>10.0f} "
                f"{row['longest'] * 1000:>11.1f} {row['wall']:>9.2f}"
            )

    def median(variant: str, key: str) -> float:
        return statistics.median(row[key] for row in rows[variant])

    for key, what in (("paused", "time in full collections"), ("longest", "longest pause"), ("wall", "visits")):
        before, frozen = median("as before", key), median("frozen", key)
        ratio = f"{frozen / before:.3f}x" if before else "n/a"
        print(f"{what}: as before {before * 1000:.0f} ms, frozen {frozen * 1000:.0f} ms, frozen / as before {ratio}")


if __name__ == "__main__":
    main()

"""The room's handwriting under load, in process against core.rooms: 30 participants draw while a model trains.

A presenter's digits model (trained first) is scored live by a "big screen" thread, as the Room page's
board does every BOARD_REFRESH_SECONDS, while the presenter trains a run of about a minute (by default
Fashion-MNIST, 90 epochs: long enough for a room to send its drawings). Two variants, alternated:
- control: the presenter's run alone (no drawing, no board);
- drawing: the same run while --participants threads each send --drawings drawings, spread over the
  control's fit time (at most --window seconds), each prepared from a canvas as the page does
  (core.results.handwriting.drawing_from_canvas) and added to the room; the board scores the set live.

Prints, per trial and as medians: the presenter's fit seconds and its ratio to the control next to it
(target ≤ 1.15); drawings stored (all must be); the server's CPU per drawing (a participant's own
preparing and adding, and the whole process's CPU beyond the control's, per drawing); the time from a
drawing being sent to a board score that counts it (median and max; the board's refresh bounds it).

    python bench/room_handwriting.py [--participants 30] [--drawings 10] [--dataset fashion_mnist] [--epochs 90]
                                     [--repeat 2] [--window 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.config import TrainingConfig  # noqa: E402
from core.data.datasets import load_dataset_or_fallback  # noqa: E402
from core.data.handwriting import synthetic_digits  # noqa: E402
from core.jobs.runner import JobRunner  # noqa: E402
from core.jobs.start import start_run  # noqa: E402
from core.results.handwriting import drawing_from_canvas  # noqa: E402
from core.rooms import RoomLimits, RoomRegistry  # noqa: E402
from pages.room_handwriting import BOARD_REFRESH_SECONDS  # noqa: E402
from tests.handwriting_drawings import canvas_of  # noqa: E402

RUN_TIMEOUT = 900


def trained(runner: JobRunner, config: TrainingConfig, dataset):
    """One Keras run of `config`, trained to the end; returns its run record."""
    (run,) = start_run(runner, config, dataset, "keras")
    if not runner.wait_idle(timeout=RUN_TIMEOUT):
        raise SystemExit(f"The run did not end within {RUN_TIMEOUT} s.")
    return run


def participant(room, me: str, canvases, sends_at: list[float], sent: dict, cpu: list[float]) -> None:
    """Send one drawing at each time in `sends_at` (seconds on the monotonic clock), as the Room page does."""
    for turn, when in enumerate(sends_at):
        time.sleep(max(0.0, when - time.monotonic()))
        started = time.thread_time()
        drawing = room.submit_drawing(me, drawing_from_canvas(canvases[(hash(me) + turn) % len(canvases)]))
        cpu.append(time.thread_time() - started)
        sent[drawing.drawing_id] = time.monotonic()


def board(room, model, stop: threading.Event, seen: dict, cpu: list[float]) -> None:
    """The big screen: score the room's set every BOARD_REFRESH_SECONDS, noting when each drawing first counts."""
    while not stop.wait(BOARD_REFRESH_SECONDS):
        started = time.thread_time()
        drawings = room.drawings()
        room.score_handwriting(model, drawings)
        cpu.append(time.thread_time() - started)
        now = time.monotonic()
        for drawing in drawings:
            seen.setdefault(drawing.drawing_id, now)


def drawing_trial(args, runner, config, dataset, model, window: float) -> dict:
    registry = RoomRegistry(RoomLimits(max_drawings=args.participants * args.drawings + 1))
    room, secret = registry.create()
    people = [f"p{number}" for number in range(args.participants)]
    for me in people:
        room.join(me)
    room.collect_handwriting(secret)
    digits, _ = synthetic_digits(50, style="bundled", seed=1)
    canvases = [canvas_of(digit) for digit in digits]
    sent, seen, send_cpu, board_cpu = {}, {}, [], []
    stop = threading.Event()
    start = time.monotonic() + 0.5
    step = window / args.drawings
    threads = [
        threading.Thread(
            target=participant,
            args=(room, me, canvases, [start + step * (turn + k / len(people)) for turn in range(args.drawings)]),
            kwargs={"sent": sent, "cpu": send_cpu},
        )
        for k, me in enumerate(people)
    ]
    threads.append(threading.Thread(target=board, args=(room, model, stop, seen, board_cpu)))
    cpu_before = time.process_time()
    for thread in threads:
        thread.start()
    run = trained(runner, config, dataset)
    for thread in threads[:-1]:
        thread.join()
    time.sleep(BOARD_REFRESH_SECONDS * 1.5)  # the board's last refresh counts the last drawing
    stop.set()
    threads[-1].join()
    delays = [seen[drawing_id] - sent_at for drawing_id, sent_at in sent.items() if drawing_id in seen]
    return {
        "fit": run.snapshot().fit_seconds,
        "stored": len(room.drawings()),
        "process_cpu": time.process_time() - cpu_before,
        "send_cpu": statistics.median(send_cpu),
        "board_cpu": sum(board_cpu),
        "delay_median": statistics.median(delays) if delays else float("nan"),
        "delay_max": max(delays) if delays else float("nan"),
    }


def control_trial(runner, config, dataset) -> dict:
    cpu_before = time.process_time()
    run = trained(runner, config, dataset)
    return {"fit": run.snapshot().fit_seconds, "process_cpu": time.process_time() - cpu_before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--drawings", type=int, default=10)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--window", type=float, default=60.0, help="the longest the room takes to send every drawing")
    args = parser.parse_args()
    dataset, notice = load_dataset_or_fallback(args.dataset)
    if notice:
        print(notice)
    config = TrainingConfig(dataset=dataset.name, epochs=args.epochs)
    runner = JobRunner()
    trained(runner, config.replace(epochs=1), dataset)  # compiles the presenter's run before anything is timed
    digits, _ = load_dataset_or_fallback("digits")
    model = trained(runner, TrainingConfig(dataset="digits", epochs=2), digits).snapshot().details["snapshot"]
    total = args.participants * args.drawings
    print(f"{args.participants} participants × {args.drawings} drawings; {dataset.title}, {args.epochs} epochs")
    print(
        "  # variant   fit s  ratio  stored  CPU/drawing ms (own, process)  board CPU s  to the board s (median, max)"
    )
    ratios, rows = [], []
    for trial in range(args.repeat):
        control = control_trial(runner, config, dataset)
        window = min(args.window, control["fit"])
        drawing = drawing_trial(args, runner, config, dataset, model, window)
        ratio = drawing["fit"] / control["fit"]
        ratios.append(ratio)
        rows.append(drawing)
        extra_cpu = (drawing["process_cpu"] - control["process_cpu"]) / total
        print(f"{trial + 1:>3} control  {control['fit']:6.2f}")
        print(
            f"{trial + 1:>3} drawing  {drawing['fit']:6.2f}  {ratio:5.2f}  {drawing['stored']:>6}  "
            f"{1000 * drawing['send_cpu']:9.2f} {1000 * extra_cpu:9.2f}  {drawing['board_cpu']:19.2f}  "
            f"{drawing['delay_median']:12.2f} {drawing['delay_max']:6.2f}  (sent over {window:.1f} s)"
        )
    print(
        f"median ratio {statistics.median(ratios):.2f} (target ≤ 1.15); all {total} stored in every trial: "
        f"{all(row['stored'] == total for row in rows)}"
    )


if __name__ == "__main__":
    main()
